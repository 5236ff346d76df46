// `--quantize q8_0|q4_0|q4_1` on the command line.
import ArgumentParser
import LinearAlgebra

extension QuantizationType: ExpressibleByArgument {
    public init?(argument: String) {
        guard let type = QuantizedMatrix.quantizable.first(where: { $0.name.lowercased() == argument.lowercased() }) else { return nil }
        self = type
    }

    public static var allValueStrings: [String] { QuantizedMatrix.quantizable.map { $0.name.lowercased() } }
}
