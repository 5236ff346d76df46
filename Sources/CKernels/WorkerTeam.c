// Persistent worker threads for eckart_team_run (see ckernels.h): the one thread team of Eckart's own
// kernels (the small-row sgemm, the quantized products). One job at a time: the caller publishes it by
// bumping `generation`; each worker runs its part and bumps `finished`; the caller runs part 0 itself
// and spins until every worker is done. Workers spin for a while on `generation` before sleeping on a condition variable, as OpenBLAS's do.
#include "ckernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <immintrin.h>

#define MAX_WORKERS 63
#define SPINS 200000   /* about 100 µs of pause instructions before a worker sleeps */

/* A job: `body(context, part, parts)` for each part in 0 ..< parts. */
struct job {
    eckart_team_body body;
    void *context;
    int parts;
    int rest;   /* sleep right after this job instead of spinning for the next */
};

static struct job current;
static atomic_long generation = 0;
static atomic_int finished = 0;
static int workers = 0;
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER;   /* one job at a time */

static void run_part(const struct job *j, int part) {
    if (part < j->parts) j->body(j->context, part, j->parts);
}

/* A worker's part, and the generation it was created at: the first job it runs is the next one,
   even if the thread only starts after that job was published. */
struct start { int part; long seen; };

static void *worker_main(void *arg) {
    struct start start = *(struct start *)arg;
    free(arg);
    int part = start.part;
    long seen = start.seen;
    int spin_limit = SPINS;
    for (;;) {
        long now;
        int spins = 0;
        while ((now = atomic_load_explicit(&generation, memory_order_acquire)) == seen) {
            if (++spins < spin_limit) { _mm_pause(); continue; }
            pthread_mutex_lock(&sleep_lock);
            while ((now = atomic_load(&generation)) == seen) pthread_cond_wait(&wake, &sleep_lock);
            pthread_mutex_unlock(&sleep_lock);
            break;
        }
        seen = now;
        struct job j = current;
        spin_limit = j.rest ? 0 : SPINS;
        run_part(&j, part);   /* a no-op for a part past the job's parts (fewer parts than workers) */
        atomic_fetch_add_explicit(&finished, 1, memory_order_release);
    }
    return 0;
}

static void ensure_workers(int count) {
    while (workers < count && workers < MAX_WORKERS) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        struct start *start = malloc(sizeof *start);
        if (!start) { pthread_attr_destroy(&attributes); break; }
        *start = (struct start){workers + 1, atomic_load(&generation)};
        if (pthread_create(&thread, &attributes, worker_main, start) != 0) {
            free(start);
            pthread_attr_destroy(&attributes);
            break;
        }
        pthread_attr_destroy(&attributes);
        workers++;
    }
}

static void run(int threads, eckart_team_body body, void *context, int rest) {
    if (threads <= 1 || pthread_mutex_trylock(&call_lock) != 0) {
        /* One thread asked for, or another caller holds the team: run it all here. */
        body(context, 0, 1);
        return;
    }
    ensure_workers(threads - 1);
    int parts = workers + 1 < threads ? workers + 1 : threads;
    current = (struct job){body, context, parts, rest};
    atomic_store(&finished, 0);
    pthread_mutex_lock(&sleep_lock);
    atomic_fetch_add_explicit(&generation, 1, memory_order_release);
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&sleep_lock);
    run_part(&current, 0);
    while (atomic_load_explicit(&finished, memory_order_acquire) < workers) _mm_pause();
    pthread_mutex_unlock(&call_lock);
}

void eckart_team_run(int threads, eckart_team_body body, void *context) { run(threads, body, context, 0); }

void eckart_team_run_then_rest(int threads, eckart_team_body body, void *context) { run(threads, body, context, 1); }
