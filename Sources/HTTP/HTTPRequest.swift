// A fully received request: request line, header fields and de-framed body
// (RFC 9112 §3). Produced by `RequestParser`; knows nothing of sockets.

/// HTTP protocol version from the request line.
public struct HTTPVersion: Sendable, Hashable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }
    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)
    public var description: String { "HTTP/\(major).\(minor)" }
}

/// One `name=value` pair of the query string, percent-decoded (`+` is a space).
public struct QueryItem: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

public struct HTTPRequest: Sendable, Hashable {
    public var method: String
    /// The request-target exactly as sent (origin-form, or absolute-form reduced to its path).
    public var target: String
    /// The path of the target, still percent-encoded (so `%2F` does not split segments).
    public var path: String
    public var queryItems: [QueryItem]
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    /// The body after de-chunking; empty when the request had none.
    public var body: [UInt8]
    /// Values captured by `{name}` segments; filled in by `Router`.
    public var pathParameters: [String: String] = [:]

    public init(
        method: String, target: String, version: HTTPVersion = .http1_1,
        headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []
    ) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        let (path, query) = Self.split(target: target)
        self.path = path
        self.queryItems = query
    }

    /// First query value for `name`.
    public func query(_ name: String) -> String? {
        queryItems.first { $0.name == name }?.value
    }

    /// Path segments, each percent-decoded; empty segments are dropped.
    public var pathSegments: [String] {
        path.split(separator: "/").map { PercentDecoding.decode(Substring($0), plusIsSpace: false) }
    }

    /// Whether the connection may carry another request after this one:
    /// HTTP/1.1 unless `Connection: close`. HTTP/1.0 always closes (we do not
    /// implement the 1.0 keep-alive extension).
    public var keepAlive: Bool {
        version == .http1_1 && !headers.tokens(for: "connection").contains("close")
    }

    /// The body decoded as UTF-8.
    public var bodyString: String { String(decoding: body, as: UTF8.self) }

    static func split(target: String) -> (String, [QueryItem]) {
        var pathPart = Substring(target)
        var queryPart: Substring = ""
        if let q = target.firstIndex(of: "?") {
            pathPart = target[..<q]
            queryPart = target[target.index(after: q)...]
        }
        let items = queryPart.split(separator: "&").map { pair -> QueryItem in
            if let eq = pair.firstIndex(of: "=") {
                return QueryItem(
                    name: PercentDecoding.decode(pair[..<eq], plusIsSpace: true),
                    value: PercentDecoding.decode(pair[pair.index(after: eq)...], plusIsSpace: true))
            }
            return QueryItem(name: PercentDecoding.decode(pair, plusIsSpace: true), value: "")
        }
        return (String(pathPart), items)
    }
}

/// Percent-decoding for paths and query strings. Malformed escapes are kept literally.
enum PercentDecoding {
    static func decode(_ s: Substring, plusIsSpace: Bool) -> String {
        let bytes = Array(s.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "%"), i + 2 < bytes.count,
               let h = hex(bytes[i + 1]), let l = hex(bytes[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(plusIsSpace && c == UInt8(ascii: "+") ? UInt8(ascii: " ") : c)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
