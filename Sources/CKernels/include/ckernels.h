// Eckart's own compute kernels in C, where Swift's SIMD types fall short: x86-64 vector code chosen
// at run time (AVX2 + FMA where the CPU has them, portable C elsewhere), so one binary runs on any
// x86-64 CPU. Each function is documented as the plain loop it computes; the tests check it.
#ifndef ECKART_CKERNELS_H
#define ECKART_CKERNELS_H

/// A few rows of activations times a weight stored as PyTorch stores it, over output columns
/// [n0, n1) (callers split the columns across threads):
///
///     for (i = 0; i < m; i++) for (j = n0; j < n1; j++) {
///         float s = 0;
///         for (p = 0; p < k; p++) s += x[i*ldx + p] * w[j*ldw + p];
///         y[i*ldy + j] = alpha * s + (beta == 0 ? 0 : beta * y[i*ldy + j]);
///     }
///
/// Made for small m (decode steps): each weight row is read from memory once for all m rows,
/// with no packed copy of the weight, which is what sgemm spends most of a small product on.
void eckart_sgemm_nt_small(int m, int n0, int n1, int k, float alpha,
                           const float *x, int ldx, const float *w, int ldw,
                           float beta, float *y, int ldy);

/// Which path `eckart_sgemm_nt_small` runs on this CPU: "avx2+fma" or "portable".
const char *eckart_kernel_path(void);


/// `eckart_sgemm_nt_small` over all n columns, split into `threads` contiguous column ranges run at
/// once: the caller's thread takes the first, persistent workers the others. Workers spin briefly
/// between calls (a decode step makes hundreds of these calls a few microseconds apart, and waking a
/// sleeping thread for each costs more than the product), then sleep.
void eckart_sgemm_nt_small_parallel(int threads, int m, int n, int k, float alpha,
                                    const float *x, int ldx, const float *w, int ldw,
                                    float beta, float *y, int ldy);
#endif
