// Which OpenBLAS kernel family and which of Eckart's own kernel paths the suite runs on.
// `.ci/run` reruns the numerical targets with OPENBLAS_CORETYPE set and ECKART_EXPECT_CORETYPE naming
// the family it asked for; OpenBLAS falls back silently where the CPU lacks an instruction set
// (Cooperlake without bf16 runs Haswell), and a rerun on the default kernels would prove nothing,
// so this test fails then. ECKART_PORTABLE_KERNELS=1 must likewise really select the portable path.
import Foundation
import LinearAlgebra
import Testing

@Test func kernelsRunThePathsCIAskedFor() {
    let name = BLAS.coreName
    print("OpenBLAS kernel family: \(name); small-row kernel: \(BLAS.kernelPath)")
    #expect(!name.isEmpty && name != "unknown")
    let environment = ProcessInfo.processInfo.environment
    if let expected = environment["ECKART_EXPECT_CORETYPE"] {
        #expect(name.lowercased() == expected.lowercased(), "asked for \(expected), OpenBLAS runs \(name)")
    }
    if environment["ECKART_PORTABLE_KERNELS"] == "1" {
        #expect(BLAS.kernelPath == "portable")
    }
}
