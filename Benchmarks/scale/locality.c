// Does a node reordering make the randomized SVD's sparse products faster? (issue 11)
//
// Reads an edge list ("src<TAB>dst" integer ids, '#' comments), builds the CSR of A and of A'
// under a node order, and reports for both products with a 74-column row-major Float block
// (k = 64 plus 10 oversamples, as follow-graph-svd): the best of 6 timed passes, interleaved
// with the same passes in the input order, and (with --simulate MB) the share of dense-row cache
// lines that miss in a simulated 16-way LRU cache of MB megabytes (load-independent, for a
// shared machine). The kernel is the project's gather: one output row at a time, prefetching
// the dense row of the nonzero 8 entries ahead, rows split over threads by nonzeros.
//
//   gcc -O3 -march=native -fopenmp Benchmarks/scale/locality.c -o /tmp/locality
//   OMP_NUM_THREADS=2 /tmp/locality EDGES ORDER [--simulate MB]
//
// ORDER: id (input order), degree (rows by out-degree, columns by in-degree, descending), or
// lpN (N rounds of label propagation on the symmetrised graph, in node order, ties to the
// smallest label; nodes then grouped by label, in id order within a label). O(edges) a round.
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define K 74

typedef struct { int n; long nnz; long *off; int *idx; float *val; } csr;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static int cmpi(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

// The CSR of the edges (src -> dst) with rows renumbered by rp and columns by cp, rows sorted.
static csr build(int n, long m, const int *src, const int *dst, const int *rp, const int *cp) {
    csr a = { n, m, calloc(n + 1, 8), malloc(4 * m), malloc(4 * m) };
    for (long e = 0; e < m; e++) a.off[rp[src[e]] + 1]++;
    for (int i = 0; i < n; i++) a.off[i + 1] += a.off[i];
    long *pos = malloc(8 * (size_t)n);
    memcpy(pos, a.off, 8 * (size_t)n);
    for (long e = 0; e < m; e++) { long p = pos[rp[src[e]]]++; a.idx[p] = cp[dst[e]]; a.val[p] = 1.0f / (1 + e % 7); }
    free(pos);
    for (int r = 0; r < n; r++) qsort(a.idx + a.off[r], a.off[r + 1] - a.off[r], 4, cmpi);
    return a;
}

// y = A x for row-major n x K blocks.
static void gather(const csr *a, const float *x, float *y) {
#pragma omp parallel
    {
        int t = omp_get_thread_num(), T = omp_get_num_threads();
        long lo = a->nnz * t / T, hi = a->nnz * (t + 1) / T;
        int r0 = 0, r1 = a->n, l, h;
        for (l = 0, h = a->n; l < h;) { int md = (l + h) / 2; if (a->off[md] < lo) l = md + 1; else h = md; }
        r0 = l;
        for (l = 0, h = a->n; l < h;) { int md = (l + h) / 2; if (a->off[md] < hi) l = md + 1; else h = md; }
        if (t < T - 1) r1 = l;
        for (int r = r0; r < r1; r++) {
            float acc[K] = { 0 };
            for (long p = a->off[r]; p < a->off[r + 1]; p++) {
                if (p + 8 < a->nnz) {
                    const char *f = (const char *)(x + (long)a->idx[p + 8] * K);
                    for (int line = 0; line < 5; line++) __builtin_prefetch(f + 64 * line);
                }
                const float *xr = x + (long)a->idx[p] * K;
                float s = a->val[p];
                for (int c = 0; c < K; c++) acc[c] += s * xr[c];
            }
            memcpy(y + (long)r * K, acc, sizeof acc);
        }
    }
}

// Share of the dense-row lines a gather over `a` touches that miss in a 16-way LRU cache of mb MB.
static double simulate(const csr *a, int mb) {
    long lines = (long)mb * 1024 * 1024 / 64, ways = 16, sets = lines / ways, misses = 0, accesses = 0;
    unsigned long *tag = malloc(8 * lines);
    unsigned *age = calloc(lines, 4), clock = 0;
    memset(tag, 0xff, 8 * lines);
    for (int r = 0; r < a->n; r++)
        for (long p = a->off[r]; p < a->off[r + 1]; p++) {
            long first = (long)a->idx[p] * K * 4;
            for (long line = first / 64; line <= (first + K * 4 - 1) / 64; line++) {
                long set = (long)((line * 0x9E3779B97F4A7C15UL >> 20) % sets);
                unsigned long *tg = tag + set * ways;
                unsigned *ag = age + set * ways;
                int hit = -1, oldest = 0;
                accesses++; clock++;
                for (int w = 0; w < ways; w++) {
                    if (tg[w] == (unsigned long)line) { hit = w; break; }
                    if (ag[w] < ag[oldest]) oldest = w;
                }
                if (hit < 0) { misses++; tg[oldest] = line; ag[oldest] = clock; } else ag[hit] = clock;
            }
        }
    free(tag); free(age);
    return (double)misses / accesses;
}

// perm[i] = position of node i after a counting sort by key descending (stable in id).
static void byKeyDescending(int n, const int *key, int *perm) {
    int mx = 0;
    for (int i = 0; i < n; i++) if (key[i] > mx) mx = key[i];
    long *count = calloc(mx + 2, 8);
    for (int i = 0; i < n; i++) count[mx - key[i] + 1]++;
    for (int i = 0; i <= mx; i++) count[i + 1] += count[i];
    for (int i = 0; i < n; i++) perm[i] = count[mx - key[i]]++;
    free(count);
}

static void labelPropagationOrder(int n, long m, const int *src, const int *dst, int rounds, int *perm) {
    long *uo = calloc(n + 1, 8), *pos = malloc(8 * (size_t)n);
    for (long e = 0; e < m; e++) { uo[src[e] + 1]++; uo[dst[e] + 1]++; }
    for (int i = 0; i < n; i++) uo[i + 1] += uo[i];
    int *adj = malloc(8 * m), *label = malloc(4 * (size_t)n), *count = calloc(n, 4), *seen = malloc(4 * (size_t)n);
    memcpy(pos, uo, 8 * (size_t)n);
    for (long e = 0; e < m; e++) { adj[pos[src[e]]++] = dst[e]; adj[pos[dst[e]]++] = src[e]; }
    for (int i = 0; i < n; i++) label[i] = i;
    for (int round = 0; round < rounds; round++) {
        long changed = 0;
        for (int v = 0; v < n; v++) {
            int distinct = 0, best = label[v], bestCount = 0;
            for (long p = uo[v]; p < uo[v + 1]; p++) {
                int l = label[adj[p]];
                if (count[l]++ == 0) seen[distinct++] = l;
                if (count[l] > bestCount || (count[l] == bestCount && l < best)) { bestCount = count[l]; best = l; }
            }
            for (int q = 0; q < distinct; q++) count[seen[q]] = 0;
            if (best != label[v]) { label[v] = best; changed++; }
        }
        fprintf(stderr, "label propagation round %d: %ld labels changed\n", round + 1, changed);
    }
    long *start = calloc(n + 1, 8), labels = 0, largest = 0;
    for (int i = 0; i < n; i++) start[label[i] + 1]++;
    for (int i = 0; i < n; i++) { if (start[i + 1]) labels++; if (start[i + 1] > largest) largest = start[i + 1]; }
    fprintf(stderr, "%ld labels, the largest %ld nodes\n", labels, largest);
    for (int i = 0; i < n; i++) start[i + 1] += start[i];
    for (int i = 0; i < n; i++) perm[i] = start[label[i]]++;
    free(uo); free(pos); free(adj); free(label); free(count); free(seen); free(start);
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s EDGES id|degree|lpN [--simulate MB]\n", argv[0]); return 2; }
    FILE *f = fopen(argv[1], "r");
    if (!f) { perror(argv[1]); return 1; }
    long cap = 1 << 20, m = 0, lineNumber = 0;
    int *src = malloc(4 * cap), *dst = malloc(4 * cap), n = 0;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        lineNumber++;
        if (line[0] == '#' || line[0] == '\n') continue;
        int a, b;
        if (sscanf(line, "%d %d", &a, &b) != 2 || a < 0 || b < 0) { fprintf(stderr, "%s:%ld: not two node ids\n", argv[1], lineNumber); return 1; }
        if (m == cap) { cap *= 2; src = realloc(src, 4 * cap); dst = realloc(dst, 4 * cap); }
        src[m] = a; dst[m] = b; m++;
        if (a >= n) n = a + 1;
        if (b >= n) n = b + 1;
    }
    fclose(f);
    int *outDegree = calloc(n, 4), *inDegree = calloc(n, 4), *rp = malloc(4 * (size_t)n), *cp = malloc(4 * (size_t)n), *id = malloc(4 * (size_t)n);
    for (long e = 0; e < m; e++) { outDegree[src[e]]++; inDegree[dst[e]]++; }
    for (int i = 0; i < n; i++) id[i] = i;
    double t0 = now();
    if (!strcmp(argv[2], "id")) { memcpy(rp, id, 4 * (size_t)n); memcpy(cp, id, 4 * (size_t)n); }
    else if (!strcmp(argv[2], "degree")) { byKeyDescending(n, outDegree, rp); byKeyDescending(n, inDegree, cp); }
    else if (!strncmp(argv[2], "lp", 2) && atoi(argv[2] + 2) > 0) { labelPropagationOrder(n, m, src, dst, atoi(argv[2] + 2), rp); memcpy(cp, rp, 4 * (size_t)n); }
    else { fprintf(stderr, "unknown order %s\n", argv[2]); return 2; }
    printf("%s: %d nodes, %ld edges, order computed in %.2f s (1 thread)\n", argv[2], n, m, now() - t0);
    csr a = build(n, m, src, dst, rp, cp), at = build(n, m, dst, src, cp, rp);
    if (argc >= 5 && !strcmp(argv[3], "--simulate")) {
        int mb = atoi(argv[4]);
        printf("simulated %d MB cache, missing lines: A X %.1f%%, A' X %.1f%%\n", mb, 100 * simulate(&a, mb), 100 * simulate(&at, mb));
        return 0;
    }
    csr b = build(n, m, src, dst, id, id), bt = build(n, m, dst, src, id, id);
    float *x = malloc(4L * n * K), *y = malloc(4L * n * K);
    for (long i = 0; i < (long)n * K; i++) { x[i] = (i % 13) * 0.1f; y[i] = 0; }
    double best[4] = { 1e9, 1e9, 1e9, 1e9 };
    const csr *ops[4] = { &a, &at, &b, &bt };
    for (int rep = 0; rep < 6; rep++)
        for (int o = 0; o < 4; o++) {
            double s = now();
            gather(ops[o], o % 2 ? y : x, o % 2 ? x : y);
            double t = now() - s;
            if (t < best[o]) best[o] = t;
        }
    printf("best of 6 passes, %d threads: A X %.3f s (input order %.3f s), A' X %.3f s (input order %.3f s)\n",
           omp_get_max_threads(), best[0], best[2], best[1], best[3]);
    return 0;
}
