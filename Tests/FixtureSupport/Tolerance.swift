// The one tolerance policy of the test suite, per dtype and comparison.

/// Maximum absolute differences the tests accept. Logits pass through zero, so relative error means
/// nothing there; every comparison is a max-abs over all elements, after the shapes are checked.
public enum Tolerance {
    /// Eckart fp32 vs transformers + peft fp32. Both compute the same formulas in float32, but sum
    /// in different orders (OpenBLAS vs MKL-DNN/ATen kernels); with O(1..10) activations and
    /// reductions of O(100) terms, reordering moves results by ~1e-6. 1e-4 leaves room for that
    /// and still fails on any real error (a wrong scale, mask, or rotation moves logits by ≥1e-2).
    public static let reference: Float = 1e-4
    /// Two Eckart paths that differ only in association, e.g. merged `(W + sBA)x` vs unmerged
    /// `Wx + s·B(Ax)`, or KV-cache decode vs full recompute.
    public static let samePath: Float = 2e-5
}
