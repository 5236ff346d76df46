// Float32 weights held in panels of 16 output rows, and their product with activation rows (see
// ckernels.h for the layout and the loop). The AVX2 path is the broadcast form of a GEMM micro-kernel:
// up to six activation rows times one panel, 6 × 16 results in twelve vector accumulators; each step
// of k loads two vectors of the panel (contiguous, so the weight streams from memory once) and
// broadcasts one activation per row. No packed copy is made at product time: the weight was laid out
// this way when it was loaded.
#include "ckernels.h"
#include "cpu_features.h"
#include <immintrin.h>
#include <string.h>

#define PANEL 16
#define ROW_CHUNK 48   /* activation rows kept in cache while the panels pass over them */
#define PANEL_SPIN_ROWS 16

void eckart_pack_panels(int n, int k, const float *w, int ldw, float *panels) {
    int count = (n + PANEL - 1) / PANEL;
    for (int b = 0; b < count; b++) {
        float *panel = panels + (long)b * k * PANEL;
        for (int c = 0; c < PANEL; c++) {
            int j = b * PANEL + c;
            if (j < n) {
                const float *row = w + (long)j * ldw;
                for (int p = 0; p < k; p++) panel[(long)p * PANEL + c] = row[p];
            } else {
                for (int p = 0; p < k; p++) panel[(long)p * PANEL + c] = 0.0f;
            }
        }
    }
}

void eckart_unpack_panel_row(int k, const float *panels, int j, float *out) {
    const float *panel = panels + (long)(j / PANEL) * k * PANEL + j % PANEL;
    for (int p = 0; p < k; p++) out[p] = panel[(long)p * PANEL];
}

static void rows_portable(int r, int k, const float *x, int ldx, const float *panel, float *y, int ldy, int cols) {
    for (int i = 0; i < r; i++) {
        const float *xi = x + (long)i * ldx;
        for (int c = 0; c < cols; c++) {
            float s = 0.0f;
            for (int p = 0; p < k; p++) s += xi[p] * panel[(long)p * PANEL + c];
            y[(long)i * ldy + c] = s;
        }
    }
}

/* R rows of x times one panel: y (R × 16, stride ldy). */
#define MICRO(R)                                                                                     \
    __attribute__((target("avx2,fma")))                                                              \
    static void micro##R(int k, const float *x, int ldx, const float *panel, float *y, int ldy) {   \
        __m256 lo[R], hi[R];                                                                         \
        for (int i = 0; i < R; i++) lo[i] = hi[i] = _mm256_setzero_ps();                             \
        for (int p = 0; p < k; p++) {                                                                \
            __m256 w0 = _mm256_loadu_ps(panel + (long)p * PANEL);                                    \
            __m256 w1 = _mm256_loadu_ps(panel + (long)p * PANEL + 8);                                \
            for (int i = 0; i < R; i++) {                                                            \
                __m256 xi = _mm256_broadcast_ss(x + (long)i * ldx + p);                              \
                lo[i] = _mm256_fmadd_ps(xi, w0, lo[i]);                                              \
                hi[i] = _mm256_fmadd_ps(xi, w1, hi[i]);                                              \
            }                                                                                        \
        }                                                                                            \
        for (int i = 0; i < R; i++) {                                                                \
            _mm256_storeu_ps(y + (long)i * ldy, lo[i]);                                              \
            _mm256_storeu_ps(y + (long)i * ldy + 8, hi[i]);                                          \
        }                                                                                            \
    }
MICRO(1) MICRO(2) MICRO(3) MICRO(4) MICRO(5) MICRO(6)

typedef void (*micro_kernel)(int, const float *, int, const float *, float *, int);
static const micro_kernel micro[7] = {0, micro1, micro2, micro3, micro4, micro5, micro6};

/* Rows to take next out of `left`: sixes, but 7 or 8 as fours (6 + 1 or 6 + 2 leaves a slow tail). */
static int next_rows(int left) { return left >= 9 || left == 6 ? 6 : left >= 7 ? 4 : left; }

static void panels_range(int m, int b0, int b1, int n, int k, const float *x, int ldx, const float *panels,
                         float *y, int ldy, int avx2) {
    float tail[6 * PANEL];
    for (int i0 = 0; i0 < m; i0 += ROW_CHUNK) {
        int i1 = i0 + ROW_CHUNK < m ? i0 + ROW_CHUNK : m;
        for (int b = b0; b < b1; b++) {
            const float *panel = panels + (long)b * k * PANEL;
            int cols = n - b * PANEL < PANEL ? n - b * PANEL : PANEL;
            for (int i = i0; i < i1;) {
                int r = next_rows(i1 - i);
                float *out = y + (long)i * ldy + b * PANEL;
                if (!avx2) {
                    rows_portable(r, k, x + (long)i * ldx, ldx, panel, out, ldy, cols);
                } else if (cols == PANEL) {
                    micro[r](k, x + (long)i * ldx, ldx, panel, out, ldy);
                } else {
                    micro[r](k, x + (long)i * ldx, ldx, panel, tail, PANEL);
                    for (int t = 0; t < r; t++) memcpy(out + (long)t * ldy, tail + t * PANEL, sizeof(float) * cols);
                }
                i += r;
            }
        }
    }
}

void eckart_panels_nt(int m, int b0, int b1, int n, int k, const float *x, int ldx, const float *panels,
                      float *y, int ldy) {
    panels_range(m, b0, b1, n, k, x, ldx, panels, y, ldy, eckart_float_kernels_use_avx2());
}

struct panels_job {
    int m, n, k, ldx, ldy;
    const float *x, *panels;
    float *y;
};

static void panels_part(void *context, int part, int parts) {
    const struct panels_job *j = context;
    int count = (j->n + PANEL - 1) / PANEL;
    int b0 = (int)((long)count * part / parts), b1 = (int)((long)count * (part + 1) / parts);
    if (b0 < b1) eckart_panels_nt(j->m, b0, b1, j->n, j->k, j->x, j->ldx, j->panels, j->y, j->ldy);
}

void eckart_panels_nt_parallel(int threads, int m, int n, int k, const float *x, int ldx, const float *panels,
                               float *y, int ldy) {
    struct panels_job job = {m, n, k, ldx, ldy, x, panels, y};
    /* Many rows (a prompt) come with attention on OpenBLAS's threads between products, which
       spinning workers would take cores from; a few rows (decode steps) come back to back. */
    if (m > PANEL_SPIN_ROWS) eckart_team_run_then_rest(threads, panels_part, &job);
    else eckart_team_run(threads, panels_part, &job);
}
