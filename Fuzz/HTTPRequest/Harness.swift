// Feeds the input to the request parser whole, then in two pieces split at a point the first byte
// chooses: a pure state machine must emit the same events either way.
import HTTP

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let limits = ParserLimits(maxHeaderBytes: 2048, maxHeaderCount: 32, maxBodyBytes: 16 * 1024)
    var whole = RequestParser(limits: limits)
    let expected = whole.feed(bytes)
    let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    var pieces = RequestParser(limits: limits)
    let events = pieces.feed(bytes[..<split]) + pieces.feed(bytes[split...])
    precondition(events == expected, "split feed at \(split) gave \(events), whole feed \(expected)")
    return 0
}
