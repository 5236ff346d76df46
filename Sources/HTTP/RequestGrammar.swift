// The RFC 9112 grammar pieces the parser needs, as pure functions over one line:
// request line (§3), field line (§5), Content-Length (RFC 9110 §8.6) and
// chunk-size line (§7.1). Each throws the `RequestParseError` for its rule.

enum RequestGrammar {

    static let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
    static let sp = UInt8(ascii: " "), htab = UInt8(ascii: "\t")


    /// `method SP request-target SP HTTP-version`, single spaces only.
    static func parseRequestLine(_ line: ArraySlice<UInt8>) throws -> (method: String, target: String, version: HTTPVersion) {
        let text = String(decoding: line, as: UTF8.self)
        let parts = line.split(separator: Self.sp, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw RequestParseError.invalidRequestLine(text) }
        let (m, t, v) = (parts[0], parts[1], parts[2])
        guard !m.isEmpty, m.allSatisfy(Self.isTokenChar) else { throw RequestParseError.invalidMethod(String(decoding: m, as: UTF8.self)) }
        guard !t.isEmpty, t.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw RequestParseError.invalidTarget(String(decoding: t, as: UTF8.self))
        }
        let version = try parseVersion(v, line: text)
        let method = String(decoding: m, as: UTF8.self)
        return (method, try originForm(String(decoding: t, as: UTF8.self), method: method), version)
    }

    static func parseVersion(_ v: ArraySlice<UInt8>, line: String) throws -> HTTPVersion {
        let b = Array(v)
        guard b.count == 8, b.starts(with: Array("HTTP/".utf8)), b[6] == UInt8(ascii: "."),
              let major = digit(b[5]), let minor = digit(b[7]) else {
            throw RequestParseError.invalidRequestLine(line)
        }
        let version = HTTPVersion(major: major, minor: minor)
        guard version == .http1_1 || version == .http1_0 else {
            throw RequestParseError.unsupportedVersion(String(decoding: b, as: UTF8.self))
        }
        return version
    }

    /// Accepts origin-form (`/p?q`), asterisk-form for OPTIONS, and absolute-form
    /// (`http://host/p`, reduced to its path as RFC 9112 §3.2.2 requires servers to accept;
    /// its authority must be well formed, RFC 3986 §3.2).
    static func originForm(_ t: String, method: String) throws -> String {
        if t.hasPrefix("/") { return t }
        if t == "*" && method == "OPTIONS" { return t }
        let lower = t.lowercased()
        for scheme in ["http://", "https://"] where lower.hasPrefix(scheme) {
            let rest = t.dropFirst(scheme.count)
            let cut = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            guard isValidAuthority(rest[..<cut]) else { throw RequestParseError.invalidTarget(t) }
            let tail = String(rest[cut...])
            if tail.isEmpty { return "/" }
            return tail.hasPrefix("?") ? "/" + tail : tail
        }
        throw RequestParseError.invalidTarget(t)
    }

    /// `host [":" port]` of an http(s) URI: a non-empty host (RFC 9110 §4.2.1), either an IP literal
    /// `[` hex digits, `:` and `.` `]` or a reg-name / IPv4 address of unreserved, sub-delims and
    /// pct-encoded characters; a port of digits. Userinfo (`@`) is refused (RFC 9110 §4.2.4).
    static func isValidAuthority(_ authority: Substring) -> Bool {
        var host = authority
        var port: Substring = ""
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return false }
            let literal = authority[authority.index(after: authority.startIndex)..<close]
            guard !literal.isEmpty, literal.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
            let after = authority[authority.index(after: close)...]
            guard after.isEmpty || after.hasPrefix(":") else { return false }
            host = authority[...close]
            port = after.dropFirst()
        } else {
            if let colon = authority.lastIndex(of: ":") {
                host = authority[..<colon]
                port = authority[authority.index(after: colon)...]
            }
            let allowed = "-._~!$&'()*+,;=%"
            guard !host.isEmpty, host.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || allowed.contains($0) }) else {
                return false
            }
        }
        return port.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// `field-name ":" OWS field-value OWS`; a leading SP/HT is obs-fold.
    static func parseField(_ line: ArraySlice<UInt8>) throws -> HTTPField {
        guard let first = line.first else { throw RequestParseError.invalidHeaderName("") }
        if first == Self.sp || first == Self.htab { throw RequestParseError.obsoleteLineFolding }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw RequestParseError.invalidHeaderName(String(decoding: line, as: UTF8.self))
        }
        let name = line[line.startIndex..<colon]
        guard !name.isEmpty, name.allSatisfy(Self.isTokenChar) else {
            throw RequestParseError.invalidHeaderName(String(decoding: name, as: UTF8.self))
        }
        let nameString = String(decoding: name, as: UTF8.self)
        var value = line[(colon + 1)...]
        while let f = value.first, f == Self.sp || f == Self.htab { value = value.dropFirst() }
        while let l = value.last, l == Self.sp || l == Self.htab { value = value.dropLast() }
        // field-vchar / obs-text / SP / HTAB only; this also rejects a bare CR.
        guard value.allSatisfy({ $0 == Self.htab || ($0 >= 0x20 && $0 != 0x7F) }) else {
            throw RequestParseError.controlCharacter(field: nameString)
        }
        return HTTPField(name: nameString, value: String(decoding: value, as: UTF8.self))
    }

    /// Every Content-Length value (each may itself be a list) must be the same decimal.
    static func parseContentLength(_ values: [String]) throws -> Int {
        let items = values.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
            .map { $0.trimmingASCIIWhitespace() }
        var result: Int?
        for item in items {
            guard !item.isEmpty, item.utf8.allSatisfy({ digit($0) != nil }) else {
                throw RequestParseError.invalidContentLength(values.joined(separator: ", "))
            }
            var n = 0
            for c in item.utf8 {
                let (m, o1) = n.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(digit(c) ?? 0)
                if o1 || o2 { throw RequestParseError.invalidContentLength(item) }
                n = s
            }
            if let r = result, r != n { throw RequestParseError.conflictingContentLength(values) }
            result = n
        }
        guard let result else { throw RequestParseError.invalidContentLength("") }
        return result
    }

    /// `chunk-size [BWS ; chunk-ext]`: hex digits, extensions ignored.
    static func parseChunkSize(_ line: ArraySlice<UInt8>) throws -> Int {
        let text = String(decoding: line, as: UTF8.self)
        var size = 0
        var digits = 0
        var i = line.startIndex
        while i < line.endIndex, let h = PercentDecoding.hex(line[i]) {
            let (m, o1) = size.multipliedReportingOverflow(by: 16)
            let (s, o2) = m.addingReportingOverflow(Int(h))
            if o1 || o2 { throw RequestParseError.invalidChunkSize(text) }
            size = s
            digits += 1
            i += 1
        }
        guard digits > 0 else { throw RequestParseError.invalidChunkSize(text) }
        var rest = line[i...]
        while let f = rest.first, f == Self.sp || f == Self.htab { rest = rest.dropFirst() }
        if let f = rest.first {
            guard f == UInt8(ascii: ";") else { throw RequestParseError.invalidChunkSize(text) }
            guard rest.allSatisfy({ $0 == Self.htab || ($0 >= 0x20 && $0 != 0x7F) }) else {
                throw RequestParseError.controlCharacter(field: "chunk extension")
            }
        }
        return size
    }

    // MARK: Character classes

    static func digit(_ c: UInt8) -> Int? {
        (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) ? Int(c - UInt8(ascii: "0")) : nil
    }

    /// RFC 9110 §5.6.2 tchar.
    static func isTokenChar(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(c)
        }
    }
}
