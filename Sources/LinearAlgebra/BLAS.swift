// OpenBLAS process-wide settings.
import CKernels
import COpenBLAS

/// Process-wide OpenBLAS configuration.
public enum BLAS {
    /// Sets how many threads OpenBLAS uses for one call.
    ///
    /// Eckart runs one forward pass per request on Dispatch; a server with many concurrent
    /// requests wants 1 thread per call so BLAS does not oversubscribe the cores that Dispatch
    /// already keeps busy, while a single CLI call or benchmark wants every core.
    public static func setThreadCount(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    public static var threadCount: Int {
        Int(openblas_get_num_threads())
    }

    /// The kernel family OpenBLAS runs on this CPU ("Haswell", "Zen", "SkylakeX", ...): chosen per
    /// CPU at load, or forced by `OPENBLAS_CORETYPE`. Each family sums in its own order, so results
    /// of the same product differ in the last bits from one family to the next.
    public static var coreName: String {
        openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    }

    /// Which path Eckart's own small-row kernel takes on this CPU ("avx2+fma" or "portable").
    public static var kernelPath: String { String(cString: eckart_kernel_path()) }
}
