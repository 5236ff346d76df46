// `eckart serve` settings from the environment, for containers and Kubernetes (a ConfigMap or Secret
// turned into env vars): ECKART_<FLAG>, the flag's name upper-cased with '-' as '_', stands for
// --<flag> when the command line does not give that flag. ECKART_MODEL=/models/m is --model /models/m,
// ECKART_MAX_NUM_SEQS=8 is --max-num-seqs 8, ECKART_LORA_MODULES="a=/x b=/y" is --lora-modules a=/x b=/y
// (split on whitespace). The command line wins, so `docker run image --port 9000` still works.
//
// The flags are read from ServeCommand itself (its property names, as ArgumentParser derives the
// flag names), so an option added there is reachable from the environment without touching this file.
import ArgumentParser
import Foundation

enum ServeEnvironment {
    static let prefix = "ECKART_"

    /// `arguments` (without the executable's name) with `--flag value` appended for every
    /// ECKART_<FLAG> in `environment` that names a serve option absent from the command line.
    /// Arguments of other subcommands are returned unchanged.
    static func arguments(_ arguments: [String], environment: [String: String]) -> [String] {
        guard arguments.first == "serve", !arguments.contains("--help"), !arguments.contains("-h") else { return arguments }
        var result = arguments
        for (flag, isFlag) in serveFlags().sorted(by: { $0.key < $1.key }) {
            let name = prefix + flag.uppercased().replacingOccurrences(of: "-", with: "_")
            guard let value = environment[name], !value.isEmpty else { continue }
            if arguments.contains(where: { $0 == "--\(flag)" || $0.hasPrefix("--\(flag)=") }) { continue }
            if isFlag {
                if ["1", "true", "yes"].contains(value.lowercased()) { result.append("--\(flag)") }
            } else if flag == "lora-modules" {
                result.append("--\(flag)")
                result += value.split(whereSeparator: \.isWhitespace).map(String.init)
            } else {
                result += ["--\(flag)", value]
            }
        }
        return result
    }

    /// ServeCommand's long option names (kebab-case, as ArgumentParser names them by default) and
    /// whether each is a flag (takes no value).
    static func serveFlags() -> [String: Bool] {
        // A parsed instance to reflect on; --model is its only required option.
        guard let command = try? ServeCommand.parse(["--model", "."]) else { return [:] }
        var flags: [String: Bool] = [:]
        for child in Mirror(reflecting: command).children {
            guard let label = child.label, label.hasPrefix("_") else { continue }
            let isFlag = String(describing: type(of: child.value)).hasPrefix("Flag<")
            flags[kebabCase(String(label.dropFirst()))] = isFlag
        }
        return flags
    }

    /// `servedModelName` → `served-model-name`, `maxJsonMb` → `max-json-mb`.
    static func kebabCase(_ name: String) -> String {
        var out = ""
        for character in name {
            if character.isUppercase {
                out += "-" + character.lowercased()
            } else {
                out.append(character)
            }
        }
        return out
    }
}
