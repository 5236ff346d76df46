// The one tolerance policy of the test suite, per dtype and comparison.
//
// Rule: bit-equality only where the same code runs on the same data (a cache round trip, one
// seeded run twice, a zero update added to the same product). Anything computed along a different
// BLAS call shape, kernel family or thread split is compared within a bound below: Debian's
// OpenBLAS picks its kernels per CPU (Haswell/Zen AVX2, SkylakeX/Cooperlake AVX-512, ...) and per
// shape, and each sums in its own order. `.ci/run` reruns the numerical targets under other
// `OPENBLAS_CORETYPE`s so a bit-exact assertion across kernels cannot slip back in.

/// Maximum absolute differences the tests accept. Logits pass through zero, so relative error means
/// nothing there; every comparison is a max-abs over all elements, after the shapes are checked.
public enum Tolerance {
    /// Eckart fp32 vs transformers + peft fp32. Both compute the same formulas in float32, but sum
    /// in different orders (OpenBLAS vs MKL-DNN/ATen kernels); with O(1..10) activations and
    /// reductions of O(100) terms, reordering moves results by ~1e-6. 1e-4 leaves room for that
    /// and still fails on any real error (a wrong scale, mask, or rotation moves logits by ≥1e-2).
    public static let reference: Float = 1e-4
    /// Two Eckart paths that differ only in association or GEMM shape, e.g. merged `(W + sBA)x` vs
    /// unmerged `Wx + s·B(Ax)`, KV-cache decode vs full recompute, or the head on one row vs on all
    /// rows. Measured: 5.7e-6 between a 1-row and a 6-row lm_head on Cooperlake (0 on Haswell).
    public static let samePath: Float = 2e-5
    /// Relative Frobenius error ‖X − Y‖_F / ‖Y‖_F between two low-rank updates `s·B·A` whose factors
    /// came from QR and SVD (LAPACK) on different kernels. The factors themselves are defined only up
    /// to sign (and rotation for repeated singular values), so they are never compared. Measured on
    /// the rank-2 truncation fixture: 3.6e-6 on Cooperlake, at most 9.9e-7 on Sandybridge, Nehalem
    /// and Prescott, 0 on Haswell/Zen (where it was made); a wrong rank or scale gives O(1).
    public static let factorization: Float = 1e-4
    /// A greedy choice is a near-tie when the token the reference chose is within this many logits of
    /// Eckart's best: both logit vectors may sit `reference` away from the exact values, and Eckart's
    /// cached decode another `samePath` from its own full pass, so an argmax may flip within twice
    /// their sum and nowhere else. The generation fixtures' smallest margin is 3.0e-3, 12 times this.
    public static let greedyNearTie: Float = 2 * (reference + samePath)
    /// A decode step on a quantized base rounds its activations to 8 bits per block before the
    /// integer dot products (as llama.cpp does), so its logits differ from the same weights with float
    /// activations by far more than float rounding. Measured on SmolLM2-135M Q4_1 over the fixture's
    /// 113 positions: the gap between the best and second-best logit moved by at most 0.53 (mean 0.12);
    /// mean KL 0.0043 nats (max 0.026); the same top token at 109 of 113 positions. A greedy choice
    /// is a near-tie within twice that gap, and the distributions must stay within twice those KLs.
    public static let int8ActivationNearTie: Float = 1.06
    public static let int8ActivationMeanKL = 0.0086
    public static let int8ActivationMaxKL = 0.052
}
