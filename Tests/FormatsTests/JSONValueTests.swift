// Strict JSON: valid documents round-trip, every kind of invalid document gives its own error, integers
// stay exact, and no input makes the parser crash. Reference: RFC 8259.
import Formats
import Foundation
import Testing

// MARK: - Valid documents

@Test("valid documents serialize back to the same compact text", arguments: [
    #"{"a":[1,2.5,-3,true,false,null,"x"],"b":{}}"#,
    #"{"z":1,"a":2,"m":{"y":[],"b":[[]]}}"#,
    #"[]"#,
    #"{}"#,
    #""""#,
    #"0"#,
    #"-1"#,
    #"1.5"#,
    #"null"#,
    #"true"#,
    #""é😀 and \"quotes\" and \\ and \n\t\r\b\f and \u0001\u001f""#,
    #"[9223372036854775807,-9223372036854775808,18446744073709551615]"#,
    #"{"":""}"#,
])
func validDocumentRoundTrips(text: String) throws {
    let value = try JSONValue.parse(text)
    #expect(value.serialized() == text)
    #expect(try JSONValue.parse(value.serialized()) == value)
}

@Test func whitespaceIsAcceptedAroundTokens() throws {
    let value = try JSONValue.parse(" \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" :\nnull } \n")
    #expect(value.serialized() == #"{"a":[1,2],"b":null}"#)
}

@Test func escapesDecode() throws {
    let value = try JSONValue.parse(#""\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC\ud83d\ude00\u0000""#)
    #expect(value.stringValue == "\"\\/\u{8}\u{C}\n\r\tAé€😀\u{0}")
    // Serialization escapes only what it must (and '/' is not escaped).
    #expect(value.serialized() == #""\"\\/\b\f\n\r\tAé€😀\u0000""#)
}

@Test func objectsKeepDocumentOrderAndLookUpByKey() throws {
    let value = try JSONValue.parse(#"{"z":1,"a":2,"m":3}"#)
    let object = try #require(value.objectValue)
    #expect(object.keys == ["z", "a", "m"])
    #expect(value["a"]?.intValue == 2)
    #expect(value["missing"] == nil)
    #expect(value[0] == nil)
    // Larger objects switch to a hashed index; lookups still work and order is kept.
    let big = try JSONValue.parse("{" + (0..<50).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}")
    #expect(big.objectValue?.keys == (0..<50).map { "k\($0)" })
    #expect(big["k37"]?.intValue == 37)
}

@Test func keysCompareByBytesNotCanonicalEquivalence() throws {
    // "é" precomposed and decomposed are different keys in JSON (and in Python); not duplicates.
    let value = try JSONValue.parse("{\"\u{E9}\":1,\"e\u{301}\":2}")
    #expect(value["\u{E9}"]?.intValue == 1)
    #expect(value["e\u{301}"]?.intValue == 2)
    #expect(JSONValue.string("\u{E9}") != JSONValue.string("e\u{301}"))
}

@Test func objectEditing() {
    var object: JSONObject = ["a": 1, "b": 2]
    object["c"] = "x"
    object["a"] = true
    #expect(object.keys == ["a", "b", "c"])
    object["b"] = nil
    #expect(object.keys == ["a", "c"])
    #expect(JSONValue.object(object).serialized() == #"{"a":true,"c":"x"}"#)
    // Equality ignores member order.
    let reordered: JSONObject = ["c": "x", "a": true]
    #expect(object == reordered)
}

@Test func accessorsReturnNilForOtherTypes() throws {
    let value = try JSONValue.parse(#"[1,"s",true,null,{},[]]"#)
    #expect(value[0]?.intValue == 1 && value[0]?.stringValue == nil)
    #expect(value[1]?.stringValue == "s" && value[1]?.intValue == nil)
    #expect(value[2]?.boolValue == true)
    #expect(value[3]?.isNull == true)
    #expect(value[4]?.objectValue?.isEmpty == true)
    #expect(value[5]?.arrayValue?.isEmpty == true)
    #expect(value[6] == nil)
    #expect(value.arrayValue?.map(\.typeName) == ["number", "string", "boolean", "null", "object", "array"])
}

// MARK: - Numbers

@Test func integersAreExact() throws {
    let max = try #require(try JSONValue.parse("9223372036854775807").numberValue)
    #expect(max.int64Value == Int64.max && max.isInteger)
    #expect(try JSONValue.parse("-9223372036854775808").numberValue?.int64Value == Int64.min)
    // 2^53 + 1 is not representable as a Double; it must survive exactly.
    #expect(try JSONValue.parse("9007199254740993").intValue == 9_007_199_254_740_993)
    #expect(try JSONValue.parse("-9007199254740993").intValue == -9_007_199_254_740_993)
    let umax = try #require(try JSONValue.parse("18446744073709551615").numberValue)
    #expect(umax.uint64Value == UInt64.max && umax.int64Value == nil && umax.isInteger)
    #expect(umax.description == "18446744073709551615")
    // Beyond UInt64: a Double, no longer an exact integer.
    let huge = try #require(try JSONValue.parse("18446744073709551616").numberValue)
    #expect(!huge.isInteger && huge.doubleValue == 18_446_744_073_709_551_616.0)
    #expect(try JSONValue.parse("-9223372036854775809").numberValue?.isInteger == false)
}

@Test func numberForms() throws {
    #expect(try JSONValue.parse("1e2").intValue == 100)
    #expect(try JSONValue.parse("1e2").numberValue?.isInteger == false)
    #expect(try JSONValue.parse("2.0").intValue == 2)
    #expect(try JSONValue.parse("2.5").intValue == nil)
    #expect(try JSONValue.parse("1E+2").doubleValue == 100)
    #expect(try JSONValue.parse("-1.5e-3").doubleValue == -0.0015)
    #expect(try JSONValue.parse("0.1").doubleValue == 0.1)
    #expect(try JSONValue.parse("1e-400").doubleValue == 0)
    let negativeZero = try #require(try JSONValue.parse("-0").doubleValue)
    #expect(negativeZero == 0 && negativeZero.sign == .minus)
    #expect(try JSONValue.parse("-0").intValue == 0)
    // Mixed forms compare by value.
    #expect(try JSONValue.parse("1") == JSONValue.parse("1.0"))
    #expect(JSONNumber(Double.nan).description == "null")
    // Float32 values keep their own shortest representation and compare by value.
    #expect(JSONValue.array([.number(JSONNumber(Float(0.1))), .number(JSONNumber(Float(-2.5e-8))), .number(JSONNumber(Float.nan))]).serialized() == "[0.1,-2.5e-08,null]")
    #expect(JSONNumber(Float(0.5)) == 0.5 && JSONNumber(Float(3)) == 3 && JSONNumber(Float(3)).intValue == 3)
    #expect(JSONNumber(Float(0.1)) != 0.1)
    #expect(JSONValue.array([.number(JSONNumber(Double.infinity)), 1e-7, 1e20]).serialized() == "[null,1e-07,1e+20]")
}

// MARK: - Invalid documents

/// One invalid document and the error it must produce.
struct InvalidJSONCase: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let kind: String
    let offset: Int

    init(_ name: String, _ text: String, _ kind: String, at offset: Int) {
        self.init(name, Array(text.utf8), kind, at: offset)
    }

    init(_ name: String, _ bytes: [UInt8], _ kind: String, at offset: Int) {
        self.name = name
        self.bytes = bytes
        self.kind = kind
        self.offset = offset
    }

    var testDescription: String { name }
}

/// The case name of a JSONError, for table comparisons.
func jsonErrorKind(_ error: JSONError) -> String {
    switch error {
    case .unexpectedEndOfInput: return "unexpectedEndOfInput"
    case .unexpectedCharacter: return "unexpectedCharacter"
    case .trailingComma: return "trailingComma"
    case .leadingZero: return "leadingZero"
    case .numberOutOfRange: return "numberOutOfRange"
    case .invalidEscape: return "invalidEscape"
    case .invalidUnicodeEscape: return "invalidUnicodeEscape"
    case .loneSurrogate: return "loneSurrogate"
    case .controlCharacterInString: return "controlCharacterInString"
    case .invalidUTF8: return "invalidUTF8"
    case .duplicateKey: return "duplicateKey"
    case .depthLimitExceeded: return "depthLimitExceeded"
    case .trailingData: return "trailingData"
    }
}

let invalidJSONDocuments: [InvalidJSONCase] = [
    // Duplicates
    .init("duplicate key", #"{"a":1,"b":2,"a":3}"#, "duplicateKey", at: 13),
    .init("duplicate key nested", #"{"x":{"k":1,"k":1}}"#, "duplicateKey", at: 12),
    // Trailing commas
    .init("trailing comma in array", "[1,2,]", "trailingComma", at: 4),
    .init("trailing comma in object", #"{"a":1,}"#, "trailingComma", at: 6),
    .init("trailing comma with space", "[1, ]", "trailingComma", at: 2),
    // Numbers
    .init("leading zero", "01", "leadingZero", at: 0),
    .init("negative leading zero", "[-012]", "leadingZero", at: 1),
    .init("leading zero with fraction", "00.5", "leadingZero", at: 0),
    .init("bare minus", "-", "unexpectedEndOfInput", at: 1),
    .init("minus letter", "-x", "unexpectedCharacter", at: 1),
    .init("missing fraction digits", "1.", "unexpectedEndOfInput", at: 2),
    .init("fraction then exponent", "1.e5", "unexpectedCharacter", at: 2),
    .init("missing exponent digits", "1e", "unexpectedEndOfInput", at: 2),
    .init("exponent sign only", "1e+", "unexpectedEndOfInput", at: 3),
    .init("leading dot", ".5", "unexpectedCharacter", at: 0),
    .init("leading plus", "+1", "unexpectedCharacter", at: 0),
    .init("hex", "0x10", "trailingData", at: 1),
    .init("NaN", "NaN", "unexpectedCharacter", at: 0),
    .init("Infinity", "Infinity", "unexpectedCharacter", at: 0),
    .init("-Infinity", "-Infinity", "unexpectedCharacter", at: 1),
    .init("overflowing exponent", "[1e400]", "numberOutOfRange", at: 1),
    .init("overflowing negative", "-1e400", "numberOutOfRange", at: 0),
    // Strings
    .init("lone high surrogate", #""\ud800""#, "loneSurrogate", at: 1),
    .init("lone low surrogate", #""a\udc00""#, "loneSurrogate", at: 2),
    .init("high surrogate then non-surrogate", #""\ud800\u0041""#, "loneSurrogate", at: 1),
    .init("high surrogate then text", #""\ud800x""#, "loneSurrogate", at: 1),
    .init("two high surrogates", #""\ud800\ud800\udc00""#, "loneSurrogate", at: 1),
    .init("raw control character", "\"a\u{1}b\"", "controlCharacterInString", at: 2),
    .init("raw newline in string", "\"a\nb\"", "controlCharacterInString", at: 2),
    .init("raw tab in string", "\"\t\"", "controlCharacterInString", at: 1),
    .init("invalid escape", #""\x""#, "invalidEscape", at: 1),
    .init("escaped single quote", #""\'""#, "invalidEscape", at: 1),
    .init("short unicode escape", #""\u12G4""#, "invalidUnicodeEscape", at: 1),
    .init("single quotes", "{'a':1}", "unexpectedCharacter", at: 1),
    .init("unquoted key", "{a:1}", "unexpectedCharacter", at: 1),
    .init("number key", "{1:1}", "unexpectedCharacter", at: 1),
    // Comments and stray tokens
    .init("line comment", "// c\n1", "unexpectedCharacter", at: 0),
    .init("block comment", "[1 /* c */]", "unexpectedCharacter", at: 3),
    .init("missing comma", "[1 2]", "unexpectedCharacter", at: 3),
    .init("missing colon", #"{"a" 1}"#, "unexpectedCharacter", at: 5),
    .init("missing member comma", #"{"a":1 "b":2}"#, "unexpectedCharacter", at: 7),
    .init("leading comma", "[,1]", "unexpectedCharacter", at: 1),
    .init("empty member", "{,}", "unexpectedCharacter", at: 1),
    .init("bad literal", "nulx", "unexpectedCharacter", at: 3),
    .init("capital literal", "True", "unexpectedCharacter", at: 0),
    .init("byte order mark", [0xEF, 0xBB, 0xBF, 0x7B, 0x7D], "unexpectedCharacter", at: 0),
    // Trailing data
    .init("garbage after object", "{} x", "trailingData", at: 3),
    .init("two values", "1 2", "trailingData", at: 2),
    .init("extra bracket", "[1]]", "trailingData", at: 3),
    .init("NUL after value", [0x31, 0x00], "trailingData", at: 1),
    // Truncation
    .init("empty input", "", "unexpectedEndOfInput", at: 0),
    .init("only whitespace", "  \n", "unexpectedEndOfInput", at: 3),
    .init("truncated object", #"{"a":"#, "unexpectedEndOfInput", at: 5),
    .init("truncated key", #"{"a"#, "unexpectedEndOfInput", at: 3),
    .init("truncated after key", #"{"a""#, "unexpectedEndOfInput", at: 4),
    .init("truncated array", "[1,2", "unexpectedEndOfInput", at: 4),
    .init("truncated after comma", "[1,", "unexpectedEndOfInput", at: 3),
    .init("unterminated string", #""abc"#, "unexpectedEndOfInput", at: 4),
    .init("truncated literal", "tru", "unexpectedEndOfInput", at: 3),
    .init("truncated escape", #""\"#, "unexpectedEndOfInput", at: 2),
    .init("truncated unicode escape", #""\u12"#, "unexpectedEndOfInput", at: 5),
    .init("truncated surrogate pair", #""\ud83d\"#, "unexpectedEndOfInput", at: 8),
    // UTF-8
    .init("invalid byte in string", [0x22, 0xFF, 0x22], "invalidUTF8", at: 1),
    .init("invalid byte outside string", [0xFF], "invalidUTF8", at: 0),
    .init("overlong slash", [0x22, 0xC0, 0xAF, 0x22], "invalidUTF8", at: 1),
    .init("overlong three-byte", [0x22, 0xE0, 0x80, 0xAF, 0x22], "invalidUTF8", at: 1),
    .init("encoded surrogate", [0x22, 0xED, 0xA0, 0x80, 0x22], "invalidUTF8", at: 1),
    .init("above U+10FFFF", [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], "invalidUTF8", at: 1),
    .init("truncated sequence", [0x22, 0xE2, 0x82, 0x22], "invalidUTF8", at: 1),
    .init("lone continuation byte", [0x22, 0x80, 0x22], "invalidUTF8", at: 1),
    .init("sequence cut by end of input", [0x22, 0xE2, 0x82], "invalidUTF8", at: 1),
    .init("invalid byte after escape", [0x22, 0x5C, 0xFF, 0x22], "invalidUTF8", at: 2),
    // Depth
    .init("129 nested arrays", String(repeating: "[", count: 129) + String(repeating: "]", count: 129),
          "depthLimitExceeded", at: 128),
    .init("129 nested objects", String(repeating: #"{"a":"#, count: 129) + "1" + String(repeating: "}", count: 129),
          "depthLimitExceeded", at: 640),
    .init("deeply nested garbage", String(repeating: "[", count: 100_000), "depthLimitExceeded", at: 128),
]

@Test("invalid documents give their specific error", arguments: invalidJSONDocuments)
func invalidDocumentIsRejected(_ document: InvalidJSONCase) {
    do {
        let value = try JSONValue.parse(document.bytes)
        Issue.record("parsed as \(value.serialized())")
    } catch let error as JSONError {
        #expect(jsonErrorKind(error) == document.kind, "\(error)")
        #expect(error.offset == document.offset, "\(error)")
    } catch {
        Issue.record("unexpected error type \(error)")
    }
}

@Test func errorsCarryTheirContext() throws {
    #expect(throws: JSONError.duplicateKey("a", offset: 7)) { try JSONValue.parse(#"{"a":1,"a":2}"#) }
    #expect(throws: JSONError.loneSurrogate(offset: 1, codeUnit: 0xD800)) { try JSONValue.parse(#""\uD800""#) }
    #expect(throws: JSONError.controlCharacterInString(offset: 1, byte: 0x0A)) { try JSONValue.parse("\"\n\"") }
    #expect(throws: JSONError.depthLimitExceeded(offset: 2, limit: 2)) { try JSONValue.parse("[[[1]]]", maxDepth: 2) }
    #expect(try JSONValue.parse("[[1]]", maxDepth: 2) == [[1]])
    #expect(try JSONValue.parse(String(repeating: "[", count: 128) + String(repeating: "]", count: 128)) != .null)

    do {
        _ = try JSONValue.parse("[1 x]")
        Issue.record("accepted")
    } catch let error as JSONError {
        guard case .unexpectedCharacter(3, "x", _) = error else {
            Issue.record("wrong error \(error)")
            return
        }
        #expect(error.description.contains("unexpected 'x' at byte 3"))
    }
    #expect(JSONError.duplicateKey("ke\"y", offset: 4).description == #"invalid JSON: duplicate key "ke\"y" at byte 4"#)
    #expect(JSONError.controlCharacterInString(offset: 1, byte: 0x0A).description.contains("U+000A"))
}

@Test func dataAndBufferInputs() throws {
    let text = #"{"a":[1,2]}"#
    #expect(try JSONValue.parse(Data(text.utf8)) == JSONValue.parse(text))
    let bytes = Array(text.utf8)
    let fromBuffer = try bytes.withUnsafeBytes { try JSONValue.parse($0) }
    #expect(fromBuffer == ["a": [1, 2]])
    // A slice of a larger buffer: the parser must not look past its end.
    let sliced = try bytes.withUnsafeBytes { try JSONValue.parse(UnsafeRawBufferPointer(rebasing: $0[5..<10])) }
    #expect(sliced == [1, 2])
}

// MARK: - Robustness

/// SplitMix64, for reproducible random inputs.
struct FormatsTestRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

@Test func arbitraryBytesNeverCrash() {
    var random = FormatsTestRandom(state: 42)
    let seeds = [
        #"{"a":[1,-2.5e3,true,null,"x\u00e9\ud83d\ude00"],"b":{"c":""}}"#,
        #"[0,1e5,"\\\"",[],{}]"#,
    ].map { Array($0.utf8) }
    let alphabet = Array(#"{}[]":,\-+.0123456789eEtrufalsn x"#.utf8) + [0x00, 0x0A, 0x80, 0xC3, 0xA9, 0xED, 0xF0, 0xFF]
    var parsed = 0
    for round in 0..<20_000 {
        var bytes: [UInt8]
        if round % 2 == 0 {
            // Random mutations of valid documents.
            bytes = seeds[random.below(seeds.count)]
            for _ in 0..<(1 + random.below(4)) {
                let position = random.below(bytes.count + 1)
                switch random.below(3) {
                case 0: bytes.insert(alphabet[random.below(alphabet.count)], at: position)
                case 1: if position < bytes.count { bytes.remove(at: position) }
                default: if position < bytes.count { bytes[position] = UInt8(truncatingIfNeeded: random.next()) }
                }
            }
        } else {
            bytes = (0..<random.below(24)).map { _ in alphabet[random.below(alphabet.count)] }
        }
        do {
            let value = try JSONValue.parse(bytes)
            // Whatever parses must re-parse to the same value.
            #expect(try JSONValue.parse(value.serialized()) == value)
            parsed += 1
        } catch let error as JSONError {
            #expect(error.offset >= 0 && error.offset <= bytes.count)
        } catch {
            Issue.record("unexpected error type \(error)")
        }
    }
    #expect(parsed > 0)
}
