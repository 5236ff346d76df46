// Several adapters on one request, each with its own weight, run unmerged as the sum of their
// scaled deltas:
//
//     y[t] = W·x[t] + b + Σ_a weight_a · scale_a · B_a·(A_a·x[t])
//
// as `peft`'s weighted adapter combination at inference (`add_weighted_adapter` with
// combination_type "linear" sums the scaled products the same way, without merging them).
import LinearAlgebra
import Models

/// Adapters composed by weight. DoRA adapters are not composable: each rescales the rows of its own
/// merged weight, which has no meaning for a sum.
public struct ComposedAdapter: LinearOverlay {
    public let parts: [(adapter: LoRAAdapter, weight: Float)]
    private let changes: [ModuleChange?]

    public enum CompositionError: Error, Equatable, CustomStringConvertible {
        case empty
        case dora(String)
        case differentBases

        public var description: String {
            switch self {
            case .empty: "a composition needs at least one adapter"
            case .dora(let id): "adapter \(id) is DoRA, whose row rescaling cannot be summed with other adapters; use it alone"
            case .differentBases: "the adapters were validated against different base models"
            }
        }
    }

    /// `parts` as (id, adapter, weight); ids name the adapters in errors.
    public init(_ parts: [(id: String, adapter: LoRAAdapter, weight: Float)]) throws {
        guard let first = parts.first else { throw CompositionError.empty }
        if parts.count > 1, let dora = parts.first(where: { $0.adapter.isDoRA }) { throw CompositionError.dora(dora.id) }
        guard parts.allSatisfy({ $0.adapter.modelModuleCount == first.adapter.modelModuleCount }) else {
            throw CompositionError.differentBases
        }
        var deltas = [[LowRankDelta]](repeating: [], count: first.adapter.modelModuleCount)
        for part in parts {
            for (name, index) in zip(part.adapter.moduleNames, part.adapter.moduleIndices) {
                deltas[index].append(part.adapter.updates[name]!.delta(weight: part.weight))
            }
        }
        self.changes = deltas.map { $0.isEmpty ? nil : .delta($0) }
        self.parts = parts.map { ($0.adapter, $0.weight) }
    }

    public func change(ofModule index: Int) -> ModuleChange? { changes[index] }

    public var batchKey: AnyHashable {
        AnyHashable(ComposedKey(adapters: parts.map { ObjectIdentifier($0.adapter) }, weights: parts.map(\.weight)))
    }
}

private struct ComposedKey: Hashable {
    let adapters: [ObjectIdentifier]
    let weights: [Float]
}
