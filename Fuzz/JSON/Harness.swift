// Parses the input; whatever parses must serialize and parse back to the same value.
import Formats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let value = try? JSONValue.parse(bytes) else { return 0 }
    let again = try! JSONValue.parse(value.serializedBytes())
    precondition(again == value, "round trip changed \(value.serialized()) into \(again.serialized())")
    return 0
}
