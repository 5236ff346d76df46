// Elementwise activations over a whole activation matrix (see ckernels.h for the loops): SwiGLU's
// gate silu(gate) ⊙ up, and BERT's erf GELU. The AVX2 path evaluates exp eight lanes at a time as
// Cephes' expf does: x = n·ln2 + r with |r| ≤ ln2/2, a degree-6 polynomial for e^r, then the
// exponent n put into the float's bits, within 2 ulp of expf. GELU takes erfc from the Chebyshev
// fit of Numerical Recipes' erfcc (fractional error below 1.2e-7), so that it is accurate relative
// to the result on both tails.
#include "ckernels.h"
#include "cpu_features.h"
#include <immintrin.h>
#include <math.h>

static float silu(float x) { return x / (1.0f + expf(-x)); }

__attribute__((target("avx2,fma")))
static __m256 exp_avx2(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

__attribute__((target("avx2,fma")))
static void silu_gate_avx2(long count, float *gate, const float *up) {
    long i = 0;
    const __m256 one = _mm256_set1_ps(1.0f);
    for (; i + 8 <= count; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i);
        __m256 e = exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), g));
        __m256 s = _mm256_div_ps(g, _mm256_add_ps(one, e));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(s, _mm256_loadu_ps(up + i)));
    }
    for (; i < count; i++) gate[i] = silu(gate[i]) * up[i];
}

void eckart_silu_gate(long count, float *gate, const float *up) {
    if (eckart_float_kernels_use_avx2()) {
        silu_gate_avx2(count, gate, up);
        return;
    }
    for (long i = 0; i < count; i++) gate[i] = silu(gate[i]) * up[i];
}

static float gelu(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }

/* erfc(z) for z ≥ 0: t·exp(−z² + P(t)) with t = 1 / (1 + z/2). */
__attribute__((target("avx2,fma")))
static __m256 erfc_nonnegative_avx2(__m256 z) {
    __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(_mm256_set1_ps(0.5f), z, _mm256_set1_ps(1.0f)));
    static const float c[10] = {-1.26551223f, 1.00002368f, 0.37409196f, 0.09678418f, -0.18628806f,
                                0.27886807f, -1.13520398f, 1.48851587f, -0.82215223f, 0.17087277f};
    __m256 p = _mm256_set1_ps(c[9]);
    for (int i = 8; i >= 0; i--) p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(c[i]));
    return _mm256_mul_ps(t, exp_avx2(_mm256_fnmadd_ps(z, z, p)));
}

__attribute__((target("avx2,fma")))
static void gelu_avx2(long count, float *x) {
    long i = 0;
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    const __m256 sign = _mm256_set1_ps(-0.0f), rsqrt2 = _mm256_set1_ps(0.70710678118654752f);
    for (; i + 8 <= count; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 c = erfc_nonnegative_avx2(_mm256_mul_ps(_mm256_andnot_ps(sign, v), rsqrt2));
        // x ≥ 0: x·(1 − c/2); x < 0: x·c/2, since 1 + erf(x/√2) = 2 − erfc(|x|/√2) or erfc(|x|/√2).
        __m256 negative = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
        __m256 factor = _mm256_blendv_ps(_mm256_fnmadd_ps(half, c, one), _mm256_mul_ps(half, c), negative);
        _mm256_storeu_ps(x + i, _mm256_mul_ps(v, factor));
    }
    for (; i < count; i++) x[i] = gelu(x[i]);
}

void eckart_gelu(long count, float *x) {
    if (eckart_float_kernels_use_avx2()) {
        gelu_avx2(count, x);
        return;
    }
    for (long i = 0; i < count; i++) x[i] = gelu(x[i]);
}
