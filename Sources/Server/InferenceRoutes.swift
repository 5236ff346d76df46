// Inference routes: /infer, and the tokenizer exposed as /tokenize and /detokenize.
import Formats
import HTTP
import Models
import Tokenizers

extension Routes {
    func installInferenceRoutes(_ routes: RouteRegistrar) {
        routes.add("POST", "/infer") { request in
            let body = try JSONBody(request)
            let inference = try InferRequest(body, encoder: { if case .encoder = model { true } else { false } }(),
                                             tokenizer: tokenizer)
            return json(try service.infer(inference, tokenizer: tokenizer))
        }
        routes.add("POST", "/tokenize") { request in
            let body = try JSONBody(request)
            try body.allowOnly(["text", "add_special_tokens"])
            guard let text = try body.string("text") else { throw HTTPError.badRequest("field text is required", code: "invalid_field") }
            let ids = try requireTokenizer(tokenizer).encode(text, addSpecialTokens: try body.bool("add_special_tokens") ?? true)
            return json(.object(["tokens": .array(ids.map { .number(JSONNumber($0)) })]))
        }
        routes.add("POST", "/detokenize") { request in
            let body = try JSONBody(request)
            try body.allowOnly(["tokens", "skip_special_tokens"])
            guard let ids = try body.ints("tokens") else { throw HTTPError.badRequest("field tokens is required", code: "invalid_field") }
            let tokenizer = try requireTokenizer(tokenizer)
            if let bad = ids.first(where: { tokenizer.token(of: $0) == nil }) {
                throw HTTPError.badRequest("token id \(bad) is not in the vocabulary", code: "invalid_field")
            }
            return json(.object(["text": .string(tokenizer.decode(ids, skipSpecialTokens: try body.bool("skip_special_tokens") ?? true))]))
        }
    }
}
