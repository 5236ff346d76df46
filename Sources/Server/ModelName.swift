// The name a served model goes by, in `/model`, `/v1/models` and the default adapter store's path.
import Foundation

public enum ModelName {
    /// The name of the model in `directory`: its last path component, whatever the trailing slashes
    /// (`models/foo/` is `foo`); for a Hugging Face cache snapshot
    /// (`…/models--ORG--NAME/snapshots/COMMIT`) the repository's `NAME`, not the commit hash; for
    /// `.` or `..` the name of the directory they denote.
    public static func resolve(directory: String) -> String {
        let components = URL(fileURLWithPath: directory).standardizedFileURL.pathComponents.filter { $0 != "/" }
        guard let last = components.last else { return "model" }
        if components.count >= 3, components[components.count - 2] == "snapshots" {
            let repository = components[components.count - 3].components(separatedBy: "--")
            if repository.count >= 3, repository[0] == "models" { return repository.dropFirst(2).joined(separator: "--") }
        }
        // A GGUF file is named without its extension: models/x/SmolLM2-135M-Instruct.Q4_1.gguf → SmolLM2-135M-Instruct.Q4_1.
        if last.lowercased().hasSuffix(".gguf"), last.count > 5 { return String(last.dropLast(5)) }
        return last
    }

    /// Whether `name` can name a directory of the adapter store (and a `/v1/models` entry):
    /// 1 to 128 characters, not `.` or `..`, no `/` and no control characters.
    public static func isValid(_ name: String) -> Bool {
        (1...128).contains(name.count) && name != "." && name != ".." && !name.contains("/")
            && !name.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}
