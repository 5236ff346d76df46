// Server-sent events framing (text/event-stream): the headers that start a stream and one
// `event:`/`data:` block per event, as the WHATWG HTML "server-sent events" section defines.
import Formats
import HTTP

enum ServerSentEvents {
    /// Headers for an event stream that proxies must not buffer or cache.
    static let headers: HTTPHeaders = ["Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache",
                                       "X-Accel-Buffering": "no"]

    /// One event: an optional `event:` name and one `data:` line (JSON has no raw newlines).
    static func event(_ data: String, name: String? = nil) -> [UInt8] {
        var out = ""
        if let name { out += "event: \(name)\n" }
        out += "data: \(data)\n\n"
        return Array(out.utf8)
    }

    static func event(_ value: JSONValue, name: String? = nil) -> [UInt8] {
        event(String(decoding: value.serializedBytes(), as: UTF8.self), name: name)
    }
}
