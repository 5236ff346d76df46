// Attention for decode steps: one query row per sequence, many sequences in one call (see
// ckernels.h for the loop it computes). A work item is one (sequence, KV head) pair: the query heads
// that share that KV head read each cached key and value row once, while it is in cache. Items are
// split across the team in contiguous runs; each part keeps its scores in its own scratch.
#include "ckernels.h"
#include "avx2_math.h"
#include "cpu_features.h"
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>

static float dot_portable(const float *a, const float *b, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void axpy_portable(float alpha, const float *x, float *y, int n) {
    for (int i = 0; i < n; i++) y[i] += alpha * x[i];
}

__attribute__((target("avx2,fma")))
static void axpy_avx2(float alpha, const float *x, float *y, int n) {
    __m256 a = _mm256_set1_ps(alpha);
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += alpha * x[i];
}

/* One call's arguments, for its parts. */
struct decode_attention {
    int sequences, heads, kv_heads, head_dim;
    float scale;
    const float *const *queries, *const *keys, *const *values;
    const int *lower, *upper;
    float *const *out;
};

/// The query heads of one (sequence, KV head) item: scores, softmax, weighted sum of values.
static void attend_item(const struct decode_attention *a, int s, int kv, float *scores, int avx2) {
    int group = a->heads / a->kv_heads, d = a->head_dim, width = a->kv_heads * d;
    int lower = a->lower[s], upper = a->upper[s], count = upper - lower;
    const float *q = a->queries[s] + (long)kv * group * d;
    const float *keys = a->keys[s] + (long)kv * d, *values = a->values[s] + (long)kv * d;
    float *out = a->out[s] + (long)kv * group * d;
    for (int g = 0; g < group; g++) {
        float *row = scores + (long)g * count;
        const float *qg = q + (long)g * d;
        float maximum = -INFINITY;
        for (int j = 0; j < count; j++) {
            const float *key = keys + (long)(lower + j) * width;
            row[j] = a->scale * (avx2 ? dot_avx2(qg, key, d) : dot_portable(qg, key, d));
            if (row[j] > maximum) maximum = row[j];
        }
        float sum = 0.0f;
        for (int j = 0; j < count; j++) {
            row[j] = expf(row[j] - maximum);
            sum += row[j];
        }
        float inverse = 1.0f / sum;
        for (int j = 0; j < count; j++) row[j] *= inverse;
        float *o = out + (long)g * d;
        for (int i = 0; i < d; i++) o[i] = 0.0f;
    }
    for (int j = 0; j < count; j++) {
        const float *value = values + (long)(lower + j) * width;
        for (int g = 0; g < group; g++) {
            float p = scores[(long)g * count + j];
            if (avx2) axpy_avx2(p, value, out + (long)g * d, d);
            else axpy_portable(p, value, out + (long)g * d, d);
        }
    }
}

static void attention_part(void *context, int part, int parts) {
    const struct decode_attention *a = context;
    long items = (long)a->sequences * a->kv_heads;
    long first = items * part / parts, last = items * (part + 1) / parts;
    if (first >= last) return;
    int longest = 0;
    for (long item = first; item < last; item++) {
        int s = (int)(item / a->kv_heads), count = a->upper[s] - a->lower[s];
        if (count > longest) longest = count;
    }
    float *scores = malloc(sizeof(float) * (size_t)longest * (size_t)(a->heads / a->kv_heads));
    if (!scores) abort();
    int avx2 = eckart_float_kernels_use_avx2();
    for (long item = first; item < last; item++) attend_item(a, (int)(item / a->kv_heads), (int)(item % a->kv_heads), scores, avx2);
    free(scores);
}

void eckart_decode_attention(int threads, int sequences, int heads, int kv_heads, int head_dim, float scale,
                             const float *const *queries, const float *const *keys, const float *const *values,
                             const int *lower, const int *upper, float *const *out) {
    struct decode_attention job = {sequences, heads, kv_heads, head_dim, scale, queries, keys, values, lower, upper, out};
    eckart_team_run(threads, attention_part, &job);
}
