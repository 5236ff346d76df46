// The quantized products over the thread team (see ckernels.h): activation rows rounded to 8 bits
// once by the caller, then weight columns split across the team; and the dequantized weight tiles a
// prefill hands to sgemm, split by rows.
#include "ckernels.h"
#include <stdint.h>
#include <stdlib.h>

struct product_job {
    int type, m, n, k, ldy;
    const void *xq, *w;
    long row_bytes;
    float *y;
};

static void product_part(void *context, int part, int parts) {
    const struct product_job *j = context;
    int chunk = (j->n + parts - 1) / parts;
    int n0 = part * chunk, n1 = n0 + chunk < j->n ? n0 + chunk : j->n;
    if (n0 < n1) eckart_quantized_nt(j->type, j->m, n0, n1, j->k, j->xq, j->w, j->row_bytes, j->y, j->ldy);
}

/* The rounded activations of the calling thread, grown as needed and kept: a decode step calls this
   hundreds of times with the same few rows. */
static _Thread_local void *activations;
static _Thread_local size_t activations_capacity;

void eckart_quantized_nt_parallel(int threads, int type, int m, int n, int k, const float *x, int ldx,
                                  const void *w, long row_bytes, float *y, int ldy) {
    size_t row = (size_t)eckart_activation_row_bytes(type, k);
    if (activations_capacity < row * (size_t)m) {
        free(activations);
        activations = malloc(row * (size_t)m);
        if (!activations) abort();
        activations_capacity = row * (size_t)m;
    }
    for (int i = 0; i < m; i++) eckart_quantize_activation_row(type, x + (long)i * ldx, k, (uint8_t *)activations + i * row);
    struct product_job job = {type, m, n, k, ldy, activations, w, row_bytes, y};
    eckart_team_run(threads, product_part, &job);
}

struct dequantize_job {
    int type, rows, k;
    const void *w;
    long row_bytes;
    float *out;
};

static void dequantize_part(void *context, int part, int parts) {
    const struct dequantize_job *j = context;
    int chunk = (j->rows + parts - 1) / parts;
    int r0 = part * chunk, r1 = r0 + chunk < j->rows ? r0 + chunk : j->rows;
    for (int r = r0; r < r1; r++)
        eckart_dequantize_row(j->type, (const uint8_t *)j->w + r * j->row_bytes, j->out + (long)r * j->k, j->k);
}

void eckart_dequantize_rows_parallel(int threads, int type, const void *w, long row_bytes, int rows, int k,
                                     float *out, int then_rest) {
    struct dequantize_job job = {type, rows, k, w, row_bytes, out};
    if (then_rest) eckart_team_run_then_rest(threads, dequantize_part, &job);
    else eckart_team_run(threads, dequantize_part, &job);
}
