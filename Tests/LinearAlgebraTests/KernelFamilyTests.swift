// Which OpenBLAS kernel family the suite runs on. `.ci/run` reruns the numerical targets with
// OPENBLAS_CORETYPE set and ECKART_EXPECT_CORETYPE naming the family it asked for; OpenBLAS falls
// back silently where the CPU lacks an instruction set (Cooperlake without bf16 runs Haswell), and
// a rerun on the default kernels would prove nothing, so this test fails then.
import Foundation
import LinearAlgebra
import Testing

@Test func openBLASRunsTheKernelFamilyCIAskedFor() {
    let name = BLAS.coreName
    print("OpenBLAS kernel family: \(name)")
    #expect(!name.isEmpty && name != "unknown")
    if let expected = ProcessInfo.processInfo.environment["ECKART_EXPECT_CORETYPE"] {
        #expect(name.lowercased() == expected.lowercased(), "asked for \(expected), OpenBLAS runs \(name)")
    }
}
