// AVX2 helpers the float32 kernels share. Private to CKernels; each is compiled for AVX2 + FMA and
// called only on that path.
#ifndef ECKART_AVX2_MATH_H
#define ECKART_AVX2_MATH_H
#include <immintrin.h>

/* The sum of a vector's eight lanes. */
__attribute__((target("avx2,fma")))
static inline float hsum_avx2(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Σ a[p]·b[p] for p < k: sixteen floats at a time in two accumulators, then eight, then the tail. */
__attribute__((target("avx2,fma")))
static inline float dot_avx2(const float *a, const float *b, int k) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int p = 0;
    for (; p + 16 <= k; p += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + p), _mm256_loadu_ps(b + p), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + p + 8), _mm256_loadu_ps(b + p + 8), acc1);
    }
    for (; p + 8 <= k; p += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + p), _mm256_loadu_ps(b + p), acc0);
    float s = hsum_avx2(_mm256_add_ps(acc0, acc1));
    for (; p < k; p++) s += a[p] * b[p];
    return s;
}

#endif
