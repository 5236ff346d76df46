// y = alpha · x · wᵀ + beta · y for a few rows of x: see ckernels.h for the loop it computes.
// The AVX2 path holds a 2 × 4 tile of dot products (two rows of x against four rows of w) in eight
// vector accumulators, eight floats of k at a time; the four weight rows stay in cache while every
// row of x passes over them, so the weight streams from memory once.
#include "ckernels.h"
#include "avx2_math.h"
#include "cpu_features.h"
#include <immintrin.h>
#include <stdlib.h>

static inline float finish(float alpha, float s, float beta, const float *y) {
    return beta == 0.0f ? alpha * s : alpha * s + beta * *y;
}

static void small_portable(int m, int n0, int n1, int k, float alpha, const float *x, int ldx,
                           const float *w, int ldw, float beta, float *y, int ldy) {
    for (int i = 0; i < m; i++) {
        const float *xi = x + (long)i * ldx;
        for (int j = n0; j < n1; j++) {
            const float *wj = w + (long)j * ldw;
            float s = 0.0f;
            for (int p = 0; p < k; p++) s += xi[p] * wj[p];
            float *yij = y + (long)i * ldy + j;
            *yij = finish(alpha, s, beta, yij);
        }
    }
}

__attribute__((target("avx2,fma")))
static void small_avx2(int m, int n0, int n1, int k, float alpha, const float *x, int ldx,
                       const float *w, int ldw, float beta, float *y, int ldy) {
    int k8 = k & ~7;
    int j = n0;
    for (; j + 4 <= n1; j += 4) {
        const float *w0 = w + (long)j * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
        int i = 0;
        for (; i + 2 <= m; i += 2) {
            const float *xa = x + (long)i * ldx, *xb = xa + ldx;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int p = 0; p < k8; p += 8) {
                __m256 va = _mm256_loadu_ps(xa + p), vb = _mm256_loadu_ps(xb + p);
                __m256 v0 = _mm256_loadu_ps(w0 + p), v1 = _mm256_loadu_ps(w1 + p);
                __m256 v2 = _mm256_loadu_ps(w2 + p), v3 = _mm256_loadu_ps(w3 + p);
                a0 = _mm256_fmadd_ps(va, v0, a0); a1 = _mm256_fmadd_ps(va, v1, a1);
                a2 = _mm256_fmadd_ps(va, v2, a2); a3 = _mm256_fmadd_ps(va, v3, a3);
                b0 = _mm256_fmadd_ps(vb, v0, b0); b1 = _mm256_fmadd_ps(vb, v1, b1);
                b2 = _mm256_fmadd_ps(vb, v2, b2); b3 = _mm256_fmadd_ps(vb, v3, b3);
            }
            float sa[4] = {hsum_avx2(a0), hsum_avx2(a1), hsum_avx2(a2), hsum_avx2(a3)};
            float sb[4] = {hsum_avx2(b0), hsum_avx2(b1), hsum_avx2(b2), hsum_avx2(b3)};
            const float *ws[4] = {w0, w1, w2, w3};
            for (int p = k8; p < k; p++) {
                for (int c = 0; c < 4; c++) { sa[c] += xa[p] * ws[c][p]; sb[c] += xb[p] * ws[c][p]; }
            }
            float *ya = y + (long)i * ldy + j, *yb = ya + ldy;
            for (int c = 0; c < 4; c++) { ya[c] = finish(alpha, sa[c], beta, ya + c); yb[c] = finish(alpha, sb[c], beta, yb + c); }
        }
        for (; i < m; i++) {
            const float *xa = x + (long)i * ldx;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            for (int p = 0; p < k8; p += 8) {
                __m256 va = _mm256_loadu_ps(xa + p);
                a0 = _mm256_fmadd_ps(va, _mm256_loadu_ps(w0 + p), a0);
                a1 = _mm256_fmadd_ps(va, _mm256_loadu_ps(w1 + p), a1);
                a2 = _mm256_fmadd_ps(va, _mm256_loadu_ps(w2 + p), a2);
                a3 = _mm256_fmadd_ps(va, _mm256_loadu_ps(w3 + p), a3);
            }
            float sa[4] = {hsum_avx2(a0), hsum_avx2(a1), hsum_avx2(a2), hsum_avx2(a3)};
            const float *ws[4] = {w0, w1, w2, w3};
            for (int p = k8; p < k; p++) for (int c = 0; c < 4; c++) sa[c] += xa[p] * ws[c][p];
            float *ya = y + (long)i * ldy + j;
            for (int c = 0; c < 4; c++) ya[c] = finish(alpha, sa[c], beta, ya + c);
        }
    }
    for (; j < n1; j++) {
        const float *wj = w + (long)j * ldw;
        for (int i = 0; i < m; i++) {
            float *yij = y + (long)i * ldy + j;
            *yij = finish(alpha, dot_avx2(x + (long)i * ldx, wj, k), beta, yij);
        }
    }
}

// ECKART_PORTABLE_KERNELS=1 forces the portable path, so that a machine with AVX2 can test what a
// machine without it runs (CI does).
static int has_avx2_fma(void) {
    static int cached = -1;
    if (cached < 0) {
        const char *forced = getenv("ECKART_PORTABLE_KERNELS");
        __builtin_cpu_init();
        cached = !(forced && forced[0] == '1') && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached;
}

void eckart_sgemm_nt_small(int m, int n0, int n1, int k, float alpha, const float *x, int ldx,
                           const float *w, int ldw, float beta, float *y, int ldy) {
    if (has_avx2_fma()) small_avx2(m, n0, n1, k, alpha, x, ldx, w, ldw, beta, y, ldy);
    else small_portable(m, n0, n1, k, alpha, x, ldx, w, ldw, beta, y, ldy);
}

const char *eckart_kernel_path(void) { return has_avx2_fma() ? "avx2+fma" : "portable"; }

int eckart_float_kernels_use_avx2(void) { return has_avx2_fma(); }

/* eckart_sgemm_nt_small_parallel: the columns in `parts` contiguous ranges, each a multiple of four
   (the AVX2 tile's width) but the last. */
struct small_job {
    int m, n, k, ldx, ldw, ldy;
    float alpha, beta;
    const float *x, *w;
    float *y;
};

static void small_part(void *context, int part, int parts) {
    const struct small_job *j = context;
    int chunk = ((j->n + parts - 1) / parts + 3) & ~3;
    int n0 = part * chunk, n1 = n0 + chunk < j->n ? n0 + chunk : j->n;
    if (n0 < n1) eckart_sgemm_nt_small(j->m, n0, n1, j->k, j->alpha, j->x, j->ldx, j->w, j->ldw, j->beta, j->y, j->ldy);
}

void eckart_sgemm_nt_small_parallel(int threads, int m, int n, int k, float alpha, const float *x, int ldx,
                                    const float *w, int ldw, float beta, float *y, int ldy) {
    struct small_job job = {m, n, k, ldx, ldw, ldy, alpha, beta, x, w, y};
    eckart_team_run(threads, small_part, &job);
}
