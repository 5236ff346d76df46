// Post-processors (`tokenizers/src/processors/`): what `addSpecialTokens: true` adds around the
// ids of a single sequence. TemplateProcessing's `single` template is honored; `pair` is parsed but
// unused (the public API encodes one text). BertProcessing / RobertaProcessing are the fixed
// templates `cls $A sep`. ByteLevel only adjusts offsets, which Eckart does not return, so it
// leaves ids unchanged.

/// Adds special tokens around one encoded sequence.
struct PostProcessor: Sendable {
    /// Each element is either a run of fixed ids or nil for "the sequence".
    private(set) var template: [[Int]?] = [nil]

    init() {}

    init(_ json: JSONReader) throws {
        switch try json.type() {
        case "TemplateProcessing":
            let specials = try Self.specialTokens(json.required("special_tokens"))
            template = try json.required("single").array().map { item in
                if let special = item.optional("SpecialToken") {
                    let name = try special.required("id").string()
                    guard let ids = specials[name] else {
                        throw TokenizerError.missingToken(file: json.file, path: special.path, token: name)
                    }
                    return ids
                }
                if let sequence = item.optional("Sequence") {
                    let name = try sequence.required("id").string()
                    guard name == "A" else { throw sequence.unsupported(option: "id", value: name) }
                    return nil
                }
                throw item.invalid("{\"SpecialToken\": ...} or {\"Sequence\": ...}")
            }
        case "BertProcessing", "RobertaProcessing":
            // "sep": ["[SEP]", 102], "cls": ["[CLS]", 101]
            let cls = try json.required("cls").array(), sep = try json.required("sep").array()
            guard cls.count == 2, sep.count == 2 else { throw json.invalid("cls and sep as [token, id]") }
            template = [[try cls[1].int()], nil, [try sep[1].int()]]
        case "ByteLevel":
            template = [nil]
        case "Sequence":
            for processor in try json.required("processors").array() {
                let step = try PostProcessor(processor)
                if step.template != [nil] {
                    guard template == [nil] else { throw processor.unsupported(option: "second template", value: "in Sequence") }
                    template = step.template
                }
            }
        case let other:
            throw json.unsupported(other)
        }
    }

    /// `ids` with the template's special tokens around them.
    func process(_ ids: [Int]) -> [Int] {
        template.flatMap { $0 ?? ids }
    }

    /// `{"[CLS]": {"id": "[CLS]", "ids": [101], "tokens": ["[CLS]"]}, ...}` as name -> ids.
    private static func specialTokens(_ json: JSONReader) throws -> [String: [Int]] {
        var result: [String: [Int]] = [:]
        for (name, value) in try json.members() {
            result[name] = try value.required("ids").array().map { try $0.int() }
        }
        return result
    }
}
