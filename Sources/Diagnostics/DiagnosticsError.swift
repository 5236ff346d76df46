// Errors of the Diagnostics target.

/// Why a spectrum could not be computed.
public enum DiagnosticsError: Error, Equatable, CustomStringConvertible {
    /// A DoRA module's base weight is not in the base model, so W' − W cannot be formed.
    case missingBaseWeight(module: String)
    /// The base weight's shape does not match the update's [out, in].
    case baseWeightShape(module: String, expected: [Int], actual: [Int])

    public var description: String {
        switch self {
        case .missingBaseWeight(let module):
            "DoRA module \(module) has no base weight in the model"
        case .baseWeightShape(let module, let expected, let actual):
            "base weight of \(module) is \(actual), the update is \(expected)"
        }
    }
}
