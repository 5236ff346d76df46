// A batched step equals running each sequence alone: base, LoRA, DoRA, rsLoRA with patterns and
// merged rows in one batch, prompts of different lengths, decode steps mixed with a prefill that
// joins mid-flight in two chunks, and a sequence that leaves early.
import Adapters
import FixtureSupport
import LinearAlgebra
import Models
import Testing

@Test func batchedStepsEqualOneSequenceAtATime() throws {
    let base = try BaseModel.load(directory: Fixtures.model("qwen2-tiny"))
    guard case .decoder(let model) = base else { throw ModelError.unsupportedArchitecture("qwen2-tiny") }
    let lora = try LoRAAdapter(directory: Fixtures.adapter("qwen2-lora"), model: base)
    let dora = try LoRAAdapter(directory: Fixtures.adapter("qwen2-dora"), model: base)
    let layers = try LoRAAdapter(directory: Fixtures.adapter("qwen2-layers"), model: base)
    let overlays: [(any LinearOverlay)?] = [
        nil, UnmergedAdapter(lora), UnmergedAdapter(lora), UnmergedAdapter(dora), MergedAdapter(lora, model: base),
        UnmergedAdapter(layers), UnmergedAdapter(lora, weight: 0.5), nil,
    ]
    var seeded = SeededMatrices(state: 3)
    // Full token streams: the prompt then the tokens decoded one by one (fixed here, as if sampled).
    let lengths = [5, 3, 1, 7, 4, 6, 2, 9]
    let streams = lengths.map { count in seeded.matrix(1, count + 3).storage.map { Int(($0 + 1) * 127.9) } }
    // Sequence 7 joins at step 2 with its 9-token prompt in two chunks (5 then 4); sequence 2 leaves after step 2.
    var caches = overlays.map { _ in model.makeCache() }
    var consumed = [Int](repeating: 0, count: overlays.count)
    let plan: [[(sequence: Int, count: Int)]] = [
        [(0, 5), (1, 3), (2, 1), (3, 7), (4, 4), (5, 6), (6, 2)],
        [(0, 1), (1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 5)],
        [(0, 1), (1, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 4)],
    ]
    for (s, entries) in plan.enumerated() {
        let step = entries.map { e in
            DecoderModel.StepSequence(tokens: Array(streams[e.sequence][consumed[e.sequence]..<(consumed[e.sequence] + e.count)]),
                                      overlay: overlays[e.sequence], logits: e.sequence == 7 ? .all : .last)
        }
        var stepCaches = entries.map { caches[$0.sequence] }
        let logits = try model.forward(step: step, caches: &stepCaches)
        for (e, (cache, rows)) in zip(entries, zip(stepCaches, logits)) {
            caches[e.sequence] = cache
            consumed[e.sequence] += e.count
            // Alone: one full pass over everything this sequence has seen so far.
            let alone = try model.logits(tokens: Array(streams[e.sequence][..<consumed[e.sequence]]), overlay: overlays[e.sequence])
            let expected = e.sequence == 7 ? alone.rows((consumed[7] - e.count)..<consumed[7]) : alone.rows((alone.rows - 1)..<alone.rows)
            #expect(rows.shape == expected.shape, "step \(s) sequence \(e.sequence)")
            let difference = rows.maxAbsDifference(expected)
            #expect(difference < Tolerance.samePath, "step \(s) sequence \(e.sequence): max |Δlogit| \(difference)")
            #expect(cache.length == consumed[e.sequence])
        }
    }
}

@Test func scaledAdapterScalesItsDelta() throws {
    // weight 0.5 on an adapter equals the adapter with every scale halved: checked against merging
    // the halved update by hand.
    let base = try BaseModel.load(directory: Fixtures.model("qwen2-tiny"))
    guard case .decoder(let model) = base else { throw ModelError.unsupportedArchitecture("qwen2-tiny") }
    let lora = try LoRAAdapter(directory: Fixtures.adapter("qwen2-lora"), model: base)
    let halved = LoRAAdapter(config: lora.config, updates: lora.updates.mapValues { LoRAUpdate(a: $0.a, b: $0.b, scale: $0.scale / 2, doraRowScale: nil) },
                             moduleNames: lora.moduleNames, moduleIndices: lora.moduleIndices, modelModuleCount: lora.modelModuleCount)
    let tokens = [5, 9, 200, 31]
    let scaled = try model.logits(tokens: tokens, overlay: UnmergedAdapter(lora, weight: 0.5))
    let reference = try model.logits(tokens: tokens, overlay: MergedAdapter(halved, model: base))
    #expect(scaled.maxAbsDifference(reference) < Tolerance.samePath)
    #expect(scaled.maxAbsDifference(try model.logits(tokens: tokens, overlay: UnmergedAdapter(lora))) > 1e-3)
}

@Test func aReusedWorkspaceGivesTheSameLogitsAndStopsGrowing() throws {
    // The engine passes one ForwardWorkspace to every step: its buffers must not leak one step's
    // activations into the next (logits equal a fresh pass's exactly: same kernels, same shapes),
    // and once a prefill has sized them, decode steps allocate no activation storage.
    let base = try BaseModel.load(directory: Fixtures.model("qwen2-tiny"))
    guard case .decoder(let model) = base else { throw ModelError.unsupportedArchitecture("qwen2-tiny") }
    let lora = try LoRAAdapter(directory: Fixtures.adapter("qwen2-lora"), model: base)
    let overlays: [(any LinearOverlay)?] = [nil, UnmergedAdapter(lora), MergedAdapter(lora, model: base)]
    var seeded = SeededMatrices(state: 5)
    let workspace = ForwardWorkspace()
    var reused = overlays.map { _ in model.makeCache() }, fresh = reused
    var capacities: [Int] = []
    for counts in [[5, 3, 7], [1, 1, 1], [1, 1, 1], [2, 1, 1], [1, 1, 1]] {
        let step = zip(counts, overlays).map { count, overlay in
            DecoderModel.StepSequence(tokens: seeded.matrix(1, count).storage.map { Int(($0 + 1) * 127.9) }, overlay: overlay, logits: .last)
        }
        let withWorkspace = try model.forward(step: step, caches: &reused, workspace: workspace)
        let without = try model.forward(step: step, caches: &fresh)
        #expect(withWorkspace == without, "steps of \(counts) tokens")
        capacities.append(workspace.capacity)
    }
    #expect(capacities.allSatisfy { $0 == capacities[0] } && capacities[0] > 0, "\(capacities)")
}
