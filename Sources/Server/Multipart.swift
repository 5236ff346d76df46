// multipart/form-data bodies (RFC 7578), as curl -F sends them.
import Foundation
import HTTP

/// One part of a multipart/form-data body.
struct FormPart {
    let name: String
    let filename: String?
    let body: [UInt8]
}

enum MultipartError: Error, CustomStringConvertible {
    case missingBoundary
    /// RFC 2046 §5.1.1: a boundary is 1 to 70 characters.
    case boundaryTooLong(length: Int)
    case malformed(String)

    var description: String {
        switch self {
        case .missingBoundary: "Content-Type multipart/form-data lacks a boundary parameter"
        case .boundaryTooLong(let length):
            "the multipart/form-data boundary is \(length) characters long; at most 70 are allowed (RFC 2046)"
        case .malformed(let why): "malformed multipart/form-data body: \(why)"
        }
    }
}

/// Splits a multipart/form-data body into its parts. Strict: the body must start with the first
/// delimiter, every part needs a `Content-Disposition: form-data; name="..."` header, and the
/// closing delimiter must be present.
func parseMultipart(_ body: [UInt8], contentType: String) throws -> [FormPart] {
    guard let boundary = parameter("boundary", in: contentType), !boundary.isEmpty else {
        throw MultipartError.missingBoundary
    }
    guard boundary.utf8.count <= 70 else { throw MultipartError.boundaryTooLong(length: boundary.utf8.count) }
    let delimiter = Array("--\(boundary)".utf8)
    let separator = Array("\r\n--\(boundary)".utf8)
    guard body.starts(with: delimiter) else { throw MultipartError.malformed("body does not start with the boundary") }
    var position = delimiter.count
    var parts: [FormPart] = []
    while true {
        // After a delimiter: "--" closes the body, CRLF starts a part.
        if body[position...].starts(with: [45, 45]) { return parts }
        guard body[position...].starts(with: [13, 10]) else { throw MultipartError.malformed("expected CRLF after the boundary") }
        position += 2
        guard let headerEnd = find([13, 10, 13, 10], in: body, from: position) else {
            throw MultipartError.malformed("part headers are not terminated")
        }
        let headers = String(decoding: body[position..<headerEnd], as: UTF8.self)
        guard let end = find(separator, in: body, from: headerEnd + 4) else {
            throw MultipartError.malformed("missing closing boundary")
        }
        var name: String? = nil, filename: String? = nil
        for line in headers.split(separator: "\r\n") {
            let pieces = line.split(separator: ":", maxSplits: 1)
            guard pieces.count == 2 else { throw MultipartError.malformed("bad part header line \(line)") }
            if pieces[0].trimmingCharacters(in: .whitespaces).lowercased() == "content-disposition" {
                let value = String(pieces[1])
                guard value.trimmingCharacters(in: .whitespaces).lowercased().hasPrefix("form-data") else {
                    throw MultipartError.malformed("part disposition is not form-data")
                }
                name = parameter("name", in: value)
                filename = parameter("filename", in: value)
            }
        }
        guard let name else { throw MultipartError.malformed("a part lacks Content-Disposition with a name") }
        parts.append(FormPart(name: name, filename: filename, body: Array(body[(headerEnd + 4)..<end])))
        position = end + separator.count
        guard position < body.count else { throw MultipartError.malformed("body ends inside a delimiter") }
    }
}

/// The public face of the multipart parser, for callers outside the server (the fuzz harness).
public enum MultipartForm {
    /// The parts of a multipart/form-data `body` as (name, filename, bytes), in order; throws
    /// `MultipartError`'s description as the error for a malformed body.
    public static func parse(_ body: [UInt8], contentType: String) throws -> [(name: String, filename: String?, body: [UInt8])] {
        try parseMultipart(body, contentType: contentType).map { ($0.name, $0.filename, $0.body) }
    }
}

/// The value of `name=value` or `name="value"` in a header parameter list.
func parameter(_ name: String, in header: String) -> String? {
    for piece in header.split(separator: ";").dropFirst() {
        let pair = piece.split(separator: "=", maxSplits: 1)
        guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
        var value = pair[1].trimmingCharacters(in: .whitespaces)
        if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 {
            value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
        }
        return value
    }
    return nil
}

/// The first index of `needle` in `haystack` at or after `start`.
func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
    guard let first = needle.first, haystack.count >= needle.count else { return nil }
    var i = start
    let last = haystack.count - needle.count
    while i <= last {
        if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
        i += 1
    }
    return nil
}
