// GGUF blocks to floats, and float activations to the 8-bit blocks the integer products read: see
// ckernels.h for the loops. Layouts follow llama.cpp's ggml-common.h (quantized_layout.h).
//
// Dequantizing is plain C that the compiler vectorizes: it runs once per weight tile in a prefill,
// next to an sgemm that costs far more. No fused multiply-adds, so every value is the exactly rounded
// `d·q − m` the tests' scalar loops compute.
#pragma clang fp contract(off)
#include "ckernels.h"
#include "quantized_layout.h"
#include <math.h>
#include <stdlib.h>

static void q8_0_block(const uint8_t *b, float *y) {
    float d = half_at(b);
    const int8_t *q = (const int8_t *)(b + 2);
    for (int l = 0; l < 32; l++) y[l] = (float)q[l] * d;
}

static void q4_0_block(const uint8_t *b, float *y) {
    float d = half_at(b);
    const uint8_t *q = b + 2;
    for (int l = 0; l < 16; l++) {
        y[l] = (float)((q[l] & 0x0f) - 8) * d;
        y[l + 16] = (float)((q[l] >> 4) - 8) * d;
    }
}

static void q4_1_block(const uint8_t *b, float *y) {
    float d = half_at(b), m = half_at(b + 2);
    const uint8_t *q = b + 4;
    for (int l = 0; l < 16; l++) {
        y[l] = (float)(q[l] & 0x0f) * d + m;
        y[l + 16] = (float)(q[l] >> 4) * d + m;
    }
}

/* Q4_K and Q5_K: sub-block j (elements 32j .. 32j+31) is the low (even j) or high (odd j) nibbles of
   bytes 32·(j/2) .. +31, plus for Q5_K bit j of qh[l] as the fifth bit. */
static void q45_k_block(const uint8_t *b, float *y, int five) {
    float d = half_at(b), dmin = half_at(b + 2);
    const uint8_t *packed = b + 4, *qh = b + 16, *qs = b + (five ? 48 : 16);
    for (int j = 0; j < 8; j++) {
        int scale, min;
        scale_and_min_k4(j, packed, &scale, &min);
        float dj = d * (float)scale, mj = dmin * (float)min;
        const uint8_t *q = qs + 32 * (j / 2);
        for (int l = 0; l < 32; l++) {
            int v = (j & 1) ? q[l] >> 4 : q[l] & 0x0f;
            if (five) v |= ((qh[l] >> j) & 1) << 4;
            y[32 * j + l] = dj * (float)v - mj;
        }
    }
}

/* Q6_K: element e of each 128-half h has its low four bits in ql[64h + (e mod 64)] (low nibble for
   e < 64, high for e ≥ 64) and its top two in qh[32h + (e mod 32)] at bit 2·(e / 32); scale e / 16. */
static void q6_k_block(const uint8_t *b, float *y) {
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *scales = (const int8_t *)(b + 192);
    float d = half_at(b + 208);
    for (int e = 0; e < 256; e++) {
        int h = e / 128, r = e % 128;
        int low = ql[64 * h + r % 64];
        low = r < 64 ? low & 0x0f : low >> 4;
        int high = (qh[32 * h + r % 32] >> (2 * (r / 32))) & 3;
        y[e] = d * (float)scales[e / 16] * (float)((low | (high << 4)) - 32);
    }
}

int eckart_quantized_block_elements(int type) {
    switch (type) {
    case ECKART_Q8_0: case ECKART_Q4_0: case ECKART_Q4_1: return 32;
    case ECKART_Q4_K: case ECKART_Q5_K: case ECKART_Q6_K: return 256;
    default: return 0;
    }
}

int eckart_quantized_block_bytes(int type) {
    switch (type) {
    case ECKART_Q8_0: return Q8_0_BYTES;
    case ECKART_Q4_0: return Q4_0_BYTES;
    case ECKART_Q4_1: return Q4_1_BYTES;
    case ECKART_Q4_K: return Q4_K_BYTES;
    case ECKART_Q5_K: return Q5_K_BYTES;
    case ECKART_Q6_K: return Q6_K_BYTES;
    default: return 0;
    }
}

void eckart_dequantize_row(int type, const void *blocks, float *y, int k) {
    const uint8_t *b = blocks;
    int size = eckart_quantized_block_elements(type), bytes = eckart_quantized_block_bytes(type);
    for (int p = 0; p < k; p += size, b += bytes) {
        switch (type) {
        case ECKART_Q8_0: q8_0_block(b, y + p); break;
        case ECKART_Q4_0: q4_0_block(b, y + p); break;
        case ECKART_Q4_1: q4_1_block(b, y + p); break;
        case ECKART_Q4_K: q45_k_block(b, y + p, 0); break;
        case ECKART_Q5_K: q45_k_block(b, y + p, 1); break;
        case ECKART_Q6_K: q6_k_block(b, y + p); break;
        }
    }
}

/* Round to the nearest of 255 levels −127·d … 127·d with d = max |x| / 127, as llama.cpp's Q8_0 and
   Q8_K reference quantizers do; |x − d·q| ≤ d/2 for every element. */
static float quantize_8bit(const float *x, int count, int8_t *q) {
    float amax = 0;
    for (int l = 0; l < count; l++) amax = fmaxf(amax, fabsf(x[l]));
    float d = amax / 127, inverse = d != 0 ? 1 / d : 0;
    for (int l = 0; l < count; l++) q[l] = (int8_t)lrintf(x[l] * inverse);
    return d;
}

int eckart_activation_row_bytes(int type, int k) {
    return eckart_quantized_block_elements(type) == 32 ? (k / 32) * (int)sizeof(activation_block32)
                                                       : (k / 256) * (int)sizeof(activation_block256);
}

void eckart_quantize_activation_row(int type, const float *x, int k, void *out) {
    if (eckart_quantized_block_elements(type) == 32) {
        activation_block32 *blocks = out;
        for (int b = 0; b < k / 32; b++) {
            blocks[b].d = quantize_8bit(x + 32 * b, 32, blocks[b].q);
            int sum = 0;
            for (int l = 0; l < 32; l++) sum += blocks[b].q[l];
            blocks[b].s = blocks[b].d * (float)sum;
        }
    } else {
        activation_block256 *blocks = out;
        for (int b = 0; b < k / 256; b++) {
            blocks[b].d = quantize_8bit(x + 256 * b, 256, blocks[b].q);
            for (int g = 0; g < 16; g++) {
                int sum = 0;
                for (int l = 0; l < 16; l++) sum += blocks[b].q[16 * g + l];
                blocks[b].sums[g] = (int16_t)sum;
            }
        }
    }
}
