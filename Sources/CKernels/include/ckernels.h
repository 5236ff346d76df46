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

/// The persistent thread team of Eckart's kernels: `body(context, part, parts)` for each part in
/// 0 ..< parts, with parts ≤ threads, all at once: the caller's thread runs part 0, workers the others.
/// When `threads` ≤ 1 or another caller holds the team, the caller runs `body(context, 0, 1)` alone,
/// so a body must cover the whole job with whatever parts it is given. Workers spin briefly between
/// jobs (a decode step makes hundreds of calls a few microseconds apart), then sleep.
typedef void (*eckart_team_body)(void *context, int part, int parts);
void eckart_team_run(int threads, eckart_team_body body, void *context);

/// `eckart_team_run`, after which the workers sleep at once instead of spinning: for a job followed
/// by OpenBLAS's own threads (a dequantized tile before its sgemm), which spinning workers would
/// take cores from.
void eckart_team_run_then_rest(int threads, eckart_team_body body, void *context);

// ---- GGUF quantized blocks (llama.cpp's layouts, little-endian, exactly as stored on disk) ----

/// Block types by GGUF type id.
enum { ECKART_Q4_0 = 2, ECKART_Q4_1 = 3, ECKART_Q8_0 = 8, ECKART_Q4_K = 12, ECKART_Q5_K = 13, ECKART_Q6_K = 14 };

/// Elements per block (32 or 256) and bytes per block of a type; 0 for an unknown type.
int eckart_quantized_block_elements(int type);
int eckart_quantized_block_bytes(int type);

/// One row of k elements (k a multiple of the block size) from its blocks:
///
///     for (p = 0; p < k; p++) y[p] = value of element p % size of block p / size
///
/// with Q8_0 q·d, Q4_0 (q − 8)·d, Q4_1 q·d + m, Q4_K/Q5_K d·scale_j·q − dmin·min_j (sub-block j of 32),
/// Q6_K d·scale_g·(q − 32) (sub-block g of 16). Each value is rounded once per operation as written
/// (no fused multiply-add).
void eckart_dequantize_row(int type, const void *blocks, float *y, int k);

/// Bytes of one activation row of k elements rounded to 8 bits for products with `type`.
int eckart_activation_row_bytes(int type, int k);

/// x (k floats) to 8-bit blocks for products with `type`: per 32 elements for the 32-element types,
/// per 256 with per-16 sums for the super-block types; d = max|x| / 127 and q = round(x / d), so
/// |x[p] − d·q[p]| ≤ d/2.
void eckart_quantize_activation_row(int type, const float *x, int k, void *out);

/// Activation rows already rounded to 8 bits (m rows of eckart_activation_row_bytes each, at xq)
/// times weight rows [n0, n1) in blocks (row j at w + j·row_bytes), the integer-dot path:
///
///     for (i = 0; i < m; i++) for (j = n0; j < n1; j++) {
///         float s = 0;
///         for (p = 0; p < k; p++) s += xq_i[p] * W[j][p];   // xq_i[p] = d·q of activation p
///         y[i*ldy + j] = s;
///     }
///
/// Summed as integers within a block, so it equals the loop up to float rounding of the per-block
/// terms; against the unrounded x it differs by at most Σ_blocks (d_x/2)·Σ|W[j][p]|.
void eckart_quantized_nt(int type, int m, int n0, int n1, int k, const void *xq, const void *w, long row_bytes,
                         float *y, int ldy);

/// y (m × n, row stride ldy) = x (m × k, stride ldx) · Wᵀ for W (n × k) in blocks: each row of x
/// rounded to 8 bits (eckart_quantize_activation_row), then eckart_quantized_nt over the columns
/// split across `threads` on the team.
void eckart_quantized_nt_parallel(int threads, int type, int m, int n, int k, const float *x, int ldx,
                                  const void *w, long row_bytes, float *y, int ldy);

/// Rows [0, rows) of W in blocks to floats (out: rows × k, row-major), split across `threads`;
/// with `then_rest` the team's workers sleep right after (eckart_team_run_then_rest).
void eckart_dequantize_rows_parallel(int threads, int type, const void *w, long row_bytes, int rows, int k,
                                     float *out, int then_rest);
/// Attention for a decode step: one query row for each of `sequences` sequences, each over its own
/// cached keys and values (rows of kv_heads·head_dim floats), positions [lower[s], upper[s]) visible.
/// With group = heads / kv_heads and query head h reading KV head h / group:
///
///     for (s = 0; s < sequences; s++) for (h = 0; h < heads; h++) {
///         for (j = lower[s]; j < upper[s]; j++)
///             score[j] = scale * Σ_i queries[s][h*d + i] * keys[s][j*kv_heads*d + (h/group)*d + i];
///         p = softmax(score[lower[s] ..< upper[s]])                // max subtracted first
///         out[s][h*d + i] = Σ_j p[j] * values[s][j*kv_heads*d + (h/group)*d + i]   for i < d
///     }
///
/// (d = head_dim.) queries[s] and out[s] hold heads·d floats; keys[s] and values[s] hold upper[s]
/// rows of kv_heads·d. The (sequence, KV head) pairs are split across `threads` on the team. Needs
/// upper[s] > lower[s] for every sequence.
void eckart_decode_attention(int threads, int sequences, int heads, int kv_heads, int head_dim, float scale,
                             const float *const *queries, const float *const *keys, const float *const *values,
                             const int *lower, const int *upper, float *const *out);
// ---- Float32 weights in panels of 16 rows ----

/// W (n × k, row stride ldw) into panels of 16 rows, each stored transposed: panel b holds rows
/// 16b ..< 16b + 16 (zeros past n), element (p, c) = W[16b + c][p] at panels[(b·k + p)·16 + c].
/// `panels` holds ceil(n / 16)·16·k floats.
void eckart_pack_panels(int n, int k, const float *w, int ldw, float *panels);

/// Row j of the packed W (k floats) into out.
void eckart_unpack_panel_row(int k, const float *panels, int j, float *out);

/// Activation rows times a packed weight, over the panels [b0, b1) (columns 16·b0 ..< min(16·b1, n)):
///
///     for (i = 0; i < m; i++) for (j = 16*b0; j < min(16*b1, n); j++) {
///         float s = 0;
///         for (p = 0; p < k; p++) s += x[i*ldx + p] * W[j][p];   // W[j][p] = panels[((j/16)·k + p)·16 + j%16]
///         y[i*ldy + j] = s;
///     }
///
/// Each output sums over p in order (fused multiply-adds on the AVX2 path).
void eckart_panels_nt(int m, int b0, int b1, int n, int k, const float *x, int ldx, const float *panels,
                      float *y, int ldy);

/// `eckart_panels_nt` over all n columns, the panels split across `threads` on the team.
void eckart_panels_nt_parallel(int threads, int m, int n, int k, const float *x, int ldx, const float *panels,
                               float *y, int ldy);
/// SwiGLU's gate, in place:
///
///     for (i = 0; i < count; i++) gate[i] = gate[i] / (1 + expf(-gate[i])) * up[i];
///
/// with exp on the AVX2 path within 2 ulp of expf (inputs clamped to [-87.3, 88.3] first, where
/// silu is already 0 or x to float precision).
void eckart_silu_gate(long count, float *gate, const float *up);

/// BERT's GELU (the erf form), in place:
///
///     for (i = 0; i < count; i++) x[i] = 0.5f * x[i] * (1 + erff(x[i] / sqrt(2)));
///
/// on the AVX2 path with erfc from a fit of fractional error below 1.2e-7 (relative to the result
/// on both tails, where 1 + erf is near 0 or 2).
void eckart_gelu(long count, float *x);
#endif
