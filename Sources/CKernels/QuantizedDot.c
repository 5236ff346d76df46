// Weight rows in GGUF blocks against activation rows rounded to 8 bits, summed in integers per block
// (see ckernels.h for the loop). Each weight row is read from memory once and held in L1 while every
// activation row passes over it; its blocks are unpacked to bytes once per activation row.
//
// Per block the integer sum Σ q_w·q_x is exact; the float work is one multiply-add per block (32
// types) or per sub-block scale (K types), as in llama.cpp's vec_dot kernels.
#include "ckernels.h"
#include "quantized_layout.h"
#include <immintrin.h>
#include <stdlib.h>

/* ---- portable: unpack a block's quants to ints, then plain integer sums ---- */

static float dot_32_portable(int type, const uint8_t *w, const activation_block32 *x, int blocks) {
    int bytes = eckart_quantized_block_bytes(type);
    float sum = 0;
    for (int b = 0; b < blocks; b++, w += bytes) {
        int isum = 0;
        if (type == ECKART_Q8_0) {
            const int8_t *q = (const int8_t *)(w + 2);
            for (int l = 0; l < 32; l++) isum += q[l] * x[b].q[l];
            sum += half_at(w) * x[b].d * (float)isum;
        } else {
            const uint8_t *q = w + (type == ECKART_Q4_0 ? 2 : 4);
            for (int l = 0; l < 16; l++) isum += (q[l] & 0x0f) * x[b].q[l] + (q[l] >> 4) * x[b].q[l + 16];
            float d = half_at(w);
            /* Σ (q − 8)·d · x = d·(d_x·Σ q·q_x − 8·s);  Σ (q·d + m) · x = d·d_x·Σ q·q_x + m·s */
            if (type == ECKART_Q4_0) sum += d * (x[b].d * (float)isum - 8 * x[b].s);
            else sum += d * x[b].d * (float)isum + half_at(w + 2) * x[b].s;
        }
    }
    return sum;
}

/* One super-block's 256 quants as unsigned ints (before any offset), its 16 per-16 integer scales, its
   8 per-32 mins (zero for Q6_K), its float multipliers and Q6_K's offset. */
struct unpacked_k { uint8_t q[256]; int scale16[16]; int min32[8]; float d, dmin; int offset; };

static void unpack_k(int type, const uint8_t *b, struct unpacked_k *u) {
    if (type == ECKART_Q6_K) {
        const uint8_t *ql = b, *qh = b + 128;
        for (int e = 0; e < 256; e++) {
            int h = e / 128, r = e % 128, low = ql[64 * h + r % 64];
            low = r < 64 ? low & 0x0f : low >> 4;
            u->q[e] = (uint8_t)(low | (((qh[32 * h + r % 32] >> (2 * (r / 32))) & 3) << 4));
        }
        for (int g = 0; g < 16; g++) u->scale16[g] = ((const int8_t *)(b + 192))[g];
        for (int j = 0; j < 8; j++) u->min32[j] = 0;
        u->d = half_at(b + 208);
        u->dmin = 0;
        u->offset = 32;
        return;
    }
    int five = type == ECKART_Q5_K;
    const uint8_t *qh = b + 16, *qs = b + (five ? 48 : 16);
    for (int j = 0; j < 8; j++) {
        int scale, min;
        scale_and_min_k4(j, b + 4, &scale, &min);
        u->scale16[2 * j] = u->scale16[2 * j + 1] = scale;
        u->min32[j] = min;
        for (int l = 0; l < 32; l++) {
            int v = (j & 1) ? qs[32 * (j / 2) + l] >> 4 : qs[32 * (j / 2) + l] & 0x0f;
            if (five) v |= ((qh[l] >> j) & 1) << 4;
            u->q[32 * j + l] = (uint8_t)v;
        }
    }
    u->d = half_at(b);
    u->dmin = half_at(b + 2);
    u->offset = 0;
}

/* Σ over a super-block of (d·scale_g·(q − offset) − dmin·min_j)·d_x·q_x
   = d·d_x·Σ_g scale_g·(Σ q·q_x − offset·sums_g) − dmin·d_x·Σ_j min_j·(sums_2j + sums_2j+1). */
static float finish_k(const struct unpacked_k *u, const int *qdot16, const activation_block256 *x) {
    int isum = 0, msum = 0;
    for (int g = 0; g < 16; g++) isum += u->scale16[g] * (qdot16[g] - u->offset * x->sums[g]);
    for (int j = 0; j < 8; j++) msum += u->min32[j] * (x->sums[2 * j] + x->sums[2 * j + 1]);
    return u->d * x->d * (float)isum - u->dmin * x->d * (float)msum;
}

static float dot_k_portable(int type, const uint8_t *w, const activation_block256 *x, int blocks) {
    int bytes = eckart_quantized_block_bytes(type);
    float sum = 0;
    struct unpacked_k u;
    for (int b = 0; b < blocks; b++, w += bytes) {
        unpack_k(type, w, &u);
        int qdot16[16];
        for (int g = 0; g < 16; g++) {
            int s = 0;
            for (int l = 0; l < 16; l++) s += u.q[16 * g + l] * x[b].q[16 * g + l];
            qdot16[g] = s;
        }
        sum += finish_k(&u, qdot16, &x[b]);
    }
    return sum;
}

/* ---- AVX2: 32 quants per register, products by maddubs (unsigned × signed bytes → int16 pairs) ---- */

__attribute__((target("avx2,fma,f16c")))
static inline float hsum_avx2(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Σ of 32 products u[l]·s[l] (u unsigned ≤ 255 where the other is ≤ 127 in size: no int16 overflow
   for the 4-, 5-, 6- and 7-bit quants here) as eight int32 lanes. */
__attribute__((target("avx2,fma,f16c")))
static inline __m256i dot_bytes(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/* Sixteen bytes of nibbles as 32 bytes: low nibbles (elements 0..15), then high (16..31). */
__attribute__((target("avx2,fma,f16c")))
static inline __m256i nibbles_32(const uint8_t *q) {
    __m128i b = _mm_loadu_si128((const __m128i *)q), mask = _mm_set1_epi8(0x0f);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), mask), _mm_and_si128(b, mask));
}

/* One 32-element weight block (at w) times block b of R activation rows, into accumulator slot
   `slot` of each row. */
__attribute__((target("avx2,fma,f16c"), always_inline))
static inline void block_32_avx2(const int type, const uint8_t *w, const activation_block32 *const *x, int b, const int R,
                                 __m256 acc[][2], __m128 *offsets, const int slot) {
    int32_t scales;   /* d, and m for Q4_1 (quant bytes otherwise, unused) */
    memcpy(&scales, w, 4);
    __m128 d = _mm_cvtph_ps(_mm_cvtsi32_si128(scales));
    if (type == ECKART_Q8_0) {
        /* signed × signed: |w| × (x with w's sign) */
        __m256i wq = _mm256_loadu_si256((const __m256i *)(w + 2)), magnitude = _mm256_sign_epi8(wq, wq);
        for (int i = 0; i < R; i++) {
            __m256i products = dot_bytes(magnitude, _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)x[i][b].q), wq));
            __m256 scale = _mm256_broadcastss_ps(_mm_mul_ss(d, _mm_load_ss(&x[i][b].d)));
            acc[i][slot] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(products), scale, acc[i][slot]);
        }
    } else {
        __m256i q = nibbles_32(w + (type == ECKART_Q4_0 ? 2 : 4));
        /* Q4_0: −8·d multiplies s; Q4_1: m does */
        __m128 offset = type == ECKART_Q4_0 ? _mm_mul_ss(d, _mm_set_ss(-8)) : _mm_movehdup_ps(d);
        for (int i = 0; i < R; i++) {
            __m256i products = dot_bytes(q, _mm256_loadu_si256((const __m256i *)x[i][b].q));
            __m256 scale = _mm256_broadcastss_ps(_mm_mul_ss(d, _mm_load_ss(&x[i][b].d)));
            acc[i][slot] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(products), scale, acc[i][slot]);
            offsets[i] = _mm_fmadd_ss(offset, _mm_load_ss(&x[i][b].s), offsets[i]);
        }
    }
}

/* One weight row of 32-element blocks against R activation rows (R = 1 … 4 and the type constants
   after inlining, so the accumulators live in registers): each block is unpacked once and multiplied
   into every row's sums. Even and odd blocks go to separate accumulators, so one row's chain of fused
   multiply-adds does not wait on the previous block's. */
#define ROWS_AT_ONCE 4
__attribute__((target("avx2,fma,f16c"), always_inline))
static inline void dot_32_avx2_rows(const int type, const uint8_t *w, const uint8_t *xq, long x_bytes, int blocks,
                                    float *out, const int R) {
    const int bytes = type == ECKART_Q8_0 ? 34 : type == ECKART_Q4_0 ? 18 : 20;
    __m256 acc[ROWS_AT_ONCE][2];
    __m128 offsets[ROWS_AT_ONCE];   /* the Q4_0 and Q4_1 terms in s, in lane 0 */
    const activation_block32 *x[ROWS_AT_ONCE];
    for (int i = 0; i < R; i++) {
        acc[i][0] = acc[i][1] = _mm256_setzero_ps();
        offsets[i] = _mm_setzero_ps();
        x[i] = (const activation_block32 *)(xq + i * x_bytes);
    }
    int b = 0;
    for (; b + 2 <= blocks; b += 2) {
        block_32_avx2(type, w + b * bytes, x, b, R, acc, offsets, 0);
        block_32_avx2(type, w + (b + 1) * bytes, x, b + 1, R, acc, offsets, 1);
    }
    if (b < blocks) block_32_avx2(type, w + b * bytes, x, b, R, acc, offsets, 0);
    for (int i = 0; i < R; i++) out[i] = hsum_avx2(_mm256_add_ps(acc[i][0], acc[i][1])) + _mm_cvtss_f32(offsets[i]);
}

#define ROWS_CASES(TYPE) \
    switch (rows) { \
    case 1: dot_32_avx2_rows(TYPE, w, xq, x_bytes, blocks, out, 1); break; \
    case 2: dot_32_avx2_rows(TYPE, w, xq, x_bytes, blocks, out, 2); break; \
    case 3: dot_32_avx2_rows(TYPE, w, xq, x_bytes, blocks, out, 3); break; \
    default: dot_32_avx2_rows(TYPE, w, xq, x_bytes, blocks, out, 4); break; \
    }

__attribute__((target("avx2,fma,f16c")))
static void dot_32_avx2(int type, const uint8_t *w, const uint8_t *xq, long x_bytes, int rows, int blocks, float *out) {
    if (type == ECKART_Q8_0) ROWS_CASES(ECKART_Q8_0)
    else if (type == ECKART_Q4_0) ROWS_CASES(ECKART_Q4_0)
    else ROWS_CASES(ECKART_Q4_1)
}

/* The 32 quants of one K-type sub-block pair half: per-16 integer dots, as 16 ints. */
__attribute__((target("avx2,fma,f16c")))
static inline void dot16_pairs(__m256i u, __m256i s, int *out2) {
    __m256i p = dot_bytes(u, s);   /* lanes 0..3: elements 0..15; lanes 4..7: elements 16..31 */
    __m128i lo = _mm256_castsi256_si128(p), hi = _mm256_extracti128_si256(p, 1);
    lo = _mm_hadd_epi32(lo, hi);   /* (0+1, 2+3, 4+5, 6+7) */
    lo = _mm_hadd_epi32(lo, lo);
    out2[0] = _mm_cvtsi128_si32(lo);
    out2[1] = _mm_extract_epi32(lo, 1);
}

__attribute__((target("avx2,fma,f16c")))
static float dot_k_avx2(int type, const uint8_t *w, const activation_block256 *x, int blocks) {
    int bytes = eckart_quantized_block_bytes(type);
    float sum = 0;
    __m256i low4 = _mm256_set1_epi8(0x0f);
    for (int b = 0; b < blocks; b++, w += bytes) {
        const int8_t *xq = x[b].q;
        int qdot16[16];
        struct unpacked_k u;   /* scales, mins and multipliers only; the quants stay in registers */
        if (type == ECKART_Q6_K) {
            const uint8_t *ql = w, *qh = w + 128;
            for (int h = 0; h < 2; h++) {
                __m256i l0 = _mm256_loadu_si256((const __m256i *)(ql + 64 * h));
                __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 64 * h + 32));
                __m256i hb = _mm256_loadu_si256((const __m256i *)(qh + 32 * h)), three = _mm256_set1_epi8(3);
                __m256i parts[4] = {
                    _mm256_and_si256(l0, low4), _mm256_and_si256(l1, low4),
                    _mm256_and_si256(_mm256_srli_epi16(l0, 4), low4), _mm256_and_si256(_mm256_srli_epi16(l1, 4), low4)};
                for (int c = 0; c < 4; c++) {
                    __m256i high = _mm256_and_si256(_mm256_srli_epi16(hb, 2 * c), three);
                    __m256i q = _mm256_or_si256(parts[c], _mm256_slli_epi16(high, 4));
                    dot16_pairs(q, _mm256_loadu_si256((const __m256i *)(xq + 128 * h + 32 * c)), qdot16 + 8 * h + 2 * c);
                }
            }
            for (int g = 0; g < 16; g++) u.scale16[g] = ((const int8_t *)(w + 192))[g];
            for (int j = 0; j < 8; j++) u.min32[j] = 0;
            u.d = _cvtsh_ss((unsigned short)(w[208] | (w[209] << 8)));
            u.dmin = 0;
            u.offset = 32;
        } else {
            int five = type == ECKART_Q5_K;
            const uint8_t *qs = w + (five ? 48 : 16);
            __m256i hb = five ? _mm256_loadu_si256((const __m256i *)(w + 16)) : _mm256_setzero_si256();
            __m256i one = _mm256_set1_epi8(1);
            for (int c = 0; c < 4; c++) {
                __m256i bytes32 = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
                __m256i lo = _mm256_and_si256(bytes32, low4), hi = _mm256_and_si256(_mm256_srli_epi16(bytes32, 4), low4);
                if (five) {
                    lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * c), one), 4));
                    hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * c + 1), one), 4));
                }
                dot16_pairs(lo, _mm256_loadu_si256((const __m256i *)(xq + 64 * c)), qdot16 + 4 * c);
                dot16_pairs(hi, _mm256_loadu_si256((const __m256i *)(xq + 64 * c + 32)), qdot16 + 4 * c + 2);
            }
            for (int j = 0; j < 8; j++) {
                int scale, min;
                scale_and_min_k4(j, w + 4, &scale, &min);
                u.scale16[2 * j] = u.scale16[2 * j + 1] = scale;
                u.min32[j] = min;
            }
            u.d = _cvtsh_ss((unsigned short)(w[0] | (w[1] << 8)));
            u.dmin = _cvtsh_ss((unsigned short)(w[2] | (w[3] << 8)));
            u.offset = 0;
        }
        sum += finish_k(&u, qdot16, &x[b]);
    }
    return sum;
}

int eckart_quantized_use_avx2(void) {
    static int cached = -1;
    if (cached < 0) {
        const char *forced = getenv("ECKART_PORTABLE_KERNELS");
        __builtin_cpu_init();
        cached = !(forced && forced[0] == '1') && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                 __builtin_cpu_supports("f16c");
    }
    return cached;
}

void eckart_quantized_nt(int type, int m, int n0, int n1, int k, const void *xq, const void *w, long row_bytes,
                         float *y, int ldy) {
    int blocks32 = type == ECKART_Q8_0 || type == ECKART_Q4_0 || type == ECKART_Q4_1;
    int blocks = k / (blocks32 ? 32 : 256);
    long x_bytes = eckart_activation_row_bytes(type, k);
    int avx2 = eckart_quantized_use_avx2();
    for (int j = n0; j < n1; j++) {
        const uint8_t *wj = (const uint8_t *)w + (long)j * row_bytes;
        if (avx2 && blocks32) {
            for (int i0 = 0; i0 < m; i0 += ROWS_AT_ONCE) {
                int rows = m - i0 < ROWS_AT_ONCE ? m - i0 : ROWS_AT_ONCE;
                float s[ROWS_AT_ONCE];
                dot_32_avx2(type, wj, (const uint8_t *)xq + i0 * x_bytes, x_bytes, rows, blocks, s);
                for (int i = 0; i < rows; i++) y[(long)(i0 + i) * ldy + j] = s[i];
            }
            continue;
        }
        for (int i = 0; i < m; i++) {
            const void *xi = (const uint8_t *)xq + i * x_bytes;
            float s = blocks32 ? dot_32_portable(type, wj, xi, blocks)
                               : (avx2 ? dot_k_avx2 : dot_k_portable)(type, wj, xi, blocks);
            y[(long)i * ldy + j] = s;
        }
    }
}
