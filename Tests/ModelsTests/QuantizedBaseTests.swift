// A base quantized at load (`eckart serve --quantize`) runs its forward pass on the blocks. Against
// the same model with float32 weights that are exactly the blocks dequantized:
// - prefill (more rows than `QuantizedMatrix.integerProductRowLimit`) dequantizes tiles and calls
//   sgemm: the same products in another summation order, so within `Tolerance.samePath`-scale error;
// - decode (few rows) rounds the activations to 8 bits per 32-element block and uses integer dots:
//   each activation moves by at most half its block's step, max|x|/254, and the errors of every
//   layer add up. Measured on these random-weight fixtures: 2.7–3.3 % of the largest logit for
//   Q8_0, Q4_0 and Q4_1 alike (the activations dominate, not the weight type); the bound is twice
//   that. A wrong block layout or scale gives errors of the order of the logits themselves.
import FixtureSupport
import Formats
import Foundation
import LinearAlgebra
@testable import Models
import Testing

/// The fixture model with every 2-D weight replaced by dequant(quantize(W)), in float32.
private func dequantizedTwin(of name: String, as type: QuantizationType) throws -> DecoderModel {
    let directory = Fixtures.model(name)
    let file = try SafetensorsFile(contentsOf: directory.appendingPathComponent("model.safetensors"))
    let tensors = try file.tensorNames.sorted().map { tensor -> (String, [Int], [Float]) in
        let m = try file.matrixOrVector(tensor)
        guard m.shape.count == 2, m.shape[1] % type.blockSize == 0 else { return (tensor, m.shape, m.values) }
        let matrix = Matrix(rows: m.shape[0], cols: m.shape[1], storage: m.values)
        return (tensor, m.shape, try QuantizedMatrix.quantize(matrix, as: type).dequantized().storage)
    }
    let twin = try SafetensorsFile(bytes: try SafetensorsWriter.serialize(tensors: tensors))
    guard case .decoder(let model) = try BaseModel.load(config: try ModelConfigFile.load(fromDirectory: directory), tensors: [twin]) else {
        throw ModelError.unsupportedArchitecture(name)
    }
    return model
}

private extension SafetensorsFile {
    func matrixOrVector(_ name: String) throws -> (shape: [Int], values: [Float]) {
        let shape = info(name)!.shape
        return (shape, shape.count == 2 ? try matrix(name).storage : try floats(name))
    }
}

@Test(arguments: ["llama-tiny", "qwen2-tiny"], [QuantizationType.q8_0, .q4_0, .q4_1])
func aQuantizedBaseComputesWithItsDequantizedWeights(model name: String, type: QuantizationType) throws {
    guard case .decoder(let quantized) = try BaseModel.load(directory: Fixtures.model(name), quantization: type) else {
        throw ModelError.unsupportedArchitecture(name)
    }
    #expect(quantized.blocks[0].q.quantization == type && quantized.lmHead.quantization == type)
    let twin = try dequantizedTwin(of: name, as: type)
    let tokens = (0..<40).map { ($0 * 37 + 11) % quantized.config.vocabularySize }

    // Prefill: 40 rows, dequantized tiles and sgemm.
    let prefill = try quantized.logits(tokens: tokens)
    let reference = try twin.logits(tokens: tokens)
    let prefillDifference = prefill.maxAbsDifference(reference)
    #expect(prefillDifference < 1e-4, "\(name) \(type): prefill max |Δlogit| \(prefillDifference)")

    // Decode: one row at a time from the cache, 8-bit activations and integer dots.
    var caches = [quantized.makeCache()]
    var worst: Float = 0
    for (t, token) in tokens.prefix(12).enumerated() {
        let row = try quantized.forward(step: [.init(tokens: [token], overlay: nil, logits: .last)], caches: &caches)[0]
        let expected = reference.rows(t..<(t + 1))
        let scale = expected.storage.map(abs).max()!
        worst = max(worst, row.maxAbsDifference(expected) / scale)
    }
    print("\(name) \(type): prefill max |Δlogit| \(prefillDifference), decode max |Δlogit| / max |logit| \(worst)")
    #expect(worst < 0.06, "\(name) \(type): decode max |Δlogit| is \(worst) of the largest logit")
}
