// GGUF block layouts (llama.cpp's ggml-common.h), as byte offsets into one block, and the 8-bit
// activation blocks the integer products use. Private to CKernels.
#ifndef ECKART_QUANTIZED_LAYOUT_H
#define ECKART_QUANTIZED_LAYOUT_H
#include <stdint.h>
#include <string.h>

/* 32-element blocks. Q8_0: d (fp16), 32 × int8.  Q4_0: d, 16 bytes of nibbles (low nibble of byte l is
   element l, high nibble element l + 16), value (q − 8)·d.  Q4_1: d, m (fp16), 16 bytes, value q·d + m. */
#define Q8_0_BYTES 34
#define Q4_0_BYTES 18
#define Q4_1_BYTES 20
/* 256-element super-blocks of eight 32-element (Q4_K, Q5_K) or sixteen 16-element (Q6_K) sub-blocks.
   Q4_K: d, dmin (fp16), 12 bytes of 6-bit scales and mins, 128 bytes of nibbles.
   Q5_K: as Q4_K, with 32 bytes of fifth bits (qh) between the scales and the nibbles.
   Q6_K: 128 bytes low nibbles (ql), 64 bytes of 2-bit highs (qh), 16 int8 scales, d (fp16). */
#define Q4_K_BYTES 144
#define Q5_K_BYTES 176
#define Q6_K_BYTES 210

/* A row of activations rounded to 8 bits per 32 elements, for the 32-element weight types:
   x[p] ≈ d · q[p], and s = d · Σ q (what the Q4_0 offset and the Q4_1 minimum multiply). */
typedef struct { float d, s; int8_t q[32]; } activation_block32;
/* The same per 256 elements for the super-block types, with the sum of each 16 quants (sums[g] =
   Σ q[16g .. 16g+15]) for the per-sub-block minimums and offsets. */
typedef struct { float d; int16_t sums[16]; int8_t q[256]; } activation_block256;

/* IEEE binary16 bits to float, exactly (subnormals, infinities and NaN included). */
static inline float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff, bits;
    if (exponent == 0x1f) bits = sign | 0x7f800000u | (mantissa << 13);
    else if (exponent == 0) {
        float f = (float)mantissa * 0x1p-24f;   /* zero or subnormal: exact */
        return sign ? -f : f;
    } else bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline float half_at(const uint8_t *p) { return half_to_float((uint16_t)(p[0] | (p[1] << 8))); }

/* Q4_K / Q5_K sub-block j's 6-bit scale and min from the 12 packed bytes: j < 4 keep theirs in the low
   six bits of bytes j and j + 4; j ≥ 4 take four bits from byte j + 4 and their top two bits from the
   spare top bits of bytes j − 4 (scale) and j (min). */
static inline void scale_and_min_k4(int j, const uint8_t *packed, int *scale, int *min) {
    if (j < 4) {
        *scale = packed[j] & 63;
        *min = packed[j + 4] & 63;
    } else {
        *scale = (packed[j + 4] & 0x0f) | ((packed[j - 4] >> 6) << 4);
        *min = (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4);
    }
}

/* AVX2 + FMA + F16C chosen at run time unless ECKART_PORTABLE_KERNELS=1 (as SmallGEMM.c). */
int eckart_quantized_use_avx2(void);
#endif
