// Opens the input as a GGUF file: every metadata key through the typed accessors, every tensor's
// bytes (and floats, for the float types); then the tokenizer and chat template built from the
// metadata, and the decoder loaded from it (from a scratch file: the loader maps files).
import ChatTemplates
import Formats
import Foundation
import Models
import Tokenizers

private let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-fuzz-\(getpid()).gguf")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let file = try? GGUFFile(bytes: bytes) else { return 0 }
    for key in file.metadataKeys {
        _ = try? file.string(key)
        _ = try? file.int(key)
        _ = try? file.double(key)
        _ = try? file.stringArray(key)
        _ = try? file.intArray(key)
        _ = try? file.doubleArray(key)
    }
    for name in file.tensorNames {
        _ = file.withTensorBytes(name) { $0.reduce(0, &+) }
        _ = file.floats(name)
    }
    if let tokenizer = try? Tokenizer(gguf: file) {
        _ = tokenizer.decode(tokenizer.encode("Hello, world! <|im_start|>"))
    }
    _ = try? ChatTemplate.load(gguf: file)
    if (try? Data(bytes).write(to: scratch)) != nil {
        _ = try? BaseModel.load(path: scratch)
    }
    return 0
}
