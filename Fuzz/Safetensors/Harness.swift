// Opens the input as a safetensors file and reads every tensor it declares.
import Formats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let file = try? SafetensorsFile(bytes: bytes) else { return 0 }
    for name in file.tensorNames {
        _ = try? file.rawBytes(name)
        _ = try? file.floats(name)
    }
    return 0
}
