// An encoder batch equals encoding each sequence alone: sequences of different lengths, with and
// without padding, each with its own adapter (none, LoRA, DoRA, LoRA at half weight, merged).
import Adapters
import FixtureSupport
import LinearAlgebra
import Models
import Testing

@Test func anEncoderBatchEqualsOneSequenceAtATime() throws {
    let base = try BaseModel.load(directory: Fixtures.model("bert-tiny"))
    guard case .encoder(let model) = base else { throw ModelError.unsupportedArchitecture("bert-tiny") }
    let lora = try LoRAAdapter(directory: Fixtures.adapter("bert-lora"), model: base)
    let dora = try LoRAAdapter(directory: Fixtures.adapter("bert-dora"), model: base)
    var seeded = SeededMatrices(state: 11)
    let vocabulary = model.config.vocabularySize
    let inputs: [EncoderInput] = [
        EncoderInput(tokens: [5, 9, 14]),
        EncoderInput(tokens: [7, 3, 3, 12, 30, 2, 8], overlay: UnmergedAdapter(lora)),
        EncoderInput(tokens: [4, 11, 6, 1], attentionMask: [1, 1, 1, 0], overlay: UnmergedAdapter(dora)),
        EncoderInput(tokens: [9], overlay: UnmergedAdapter(lora, weight: 0.5)),
        EncoderInput(tokens: seeded.matrix(1, 12).storage.map { Int(($0 + 1) / 2 * Float(vocabulary - 1)) },
                     tokenTypes: Array(repeating: 0, count: 6) + Array(repeating: 1, count: 6), overlay: MergedAdapter(lora, model: base)),
        EncoderInput(tokens: [8, 8, 8], overlay: UnmergedAdapter(lora)),
    ]
    let batch = try model.encode(batch: inputs)
    #expect(batch.count == inputs.count)
    for (i, (input, encoding)) in zip(inputs, batch).enumerated() {
        let alone = try model.encode(tokens: input.tokens, attentionMask: input.attentionMask, tokenTypes: input.tokenTypes,
                                     overlay: input.overlay)
        #expect(encoding.lastHiddenState.shape == alone.lastHiddenState.shape)
        let states = encoding.lastHiddenState.maxAbsDifference(alone.lastHiddenState)
        let embedding = zip(encoding.embedding, alone.embedding).map { abs($0 - $1) }.max()!
        #expect(states < Tolerance.samePath && embedding < Tolerance.samePath, "sequence \(i): \(states), \(embedding)")
    }
    // The adapters change the rows they own, so the comparison above saw them.
    let plain = try model.encode(tokens: inputs[1].tokens)
    #expect(plain.lastHiddenState.maxAbsDifference(batch[1].lastHiddenState) > 1e-3)
}

@Test func aBadSequenceFailsTheBatchByName() throws {
    let base = try BaseModel.load(directory: Fixtures.model("bert-tiny"))
    guard case .encoder(let model) = base else { throw ModelError.unsupportedArchitecture("bert-tiny") }
    #expect(throws: ModelError.self) { try model.encode(batch: [EncoderInput(tokens: [1, 2]), EncoderInput(tokens: [])]) }
    #expect(throws: ModelError.self) { try model.validate(EncoderInput(tokens: [model.config.vocabularySize])) }
}
