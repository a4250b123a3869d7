// Batch distance kernels (see include/cneighbors.h). Two versions of each: portable C (the
// compiler vectorises it for the baseline CPU) and AVX2/FMA, compiled for that CPU by a function
// attribute and chosen once at run time with CPUID (and XGETBV: the OS must save the YMM state).
#include "cneighbors.h"
#include <stdatomic.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define CNN_X86 1
#endif

static inline float dot1_portable(const float *q, const float *v, long d) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    long j = 0;
    for (; j + 4 <= d; j += 4) { s0 += q[j] * v[j]; s1 += q[j + 1] * v[j + 1]; s2 += q[j + 2] * v[j + 2]; s3 += q[j + 3] * v[j + 3]; }
    for (; j < d; j++) s0 += q[j] * v[j];
    return (s0 + s1) + (s2 + s3);
}

static inline float l21_portable(const float *q, const float *v, long d) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    long j = 0;
    for (; j + 4 <= d; j += 4) {
        float e0 = q[j] - v[j], e1 = q[j + 1] - v[j + 1], e2 = q[j + 2] - v[j + 2], e3 = q[j + 3] - v[j + 3];
        s0 += e0 * e0; s1 += e1 * e1; s2 += e2 * e2; s3 += e3 * e3;
    }
    for (; j < d; j++) { float e = q[j] - v[j]; s0 += e * e; }
    return (s0 + s1) + (s2 + s3);
}

#ifdef CNN_X86
#define CNN_AVX2 __attribute__((target("avx2,fma")))

CNN_AVX2 static inline float hsum256(__m256 x) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Four accumulators of 8 lanes (32 floats a step), so the FMAs do not wait on each other; then
// 8 at a time; the tail below 8 floats one at a time.
CNN_AVX2 static inline float dot1_avx2(const float *q, const float *v, long d) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    long j = 0;
    for (; j + 32 <= d; j += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + j), _mm256_loadu_ps(v + j), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + j + 8), _mm256_loadu_ps(v + j + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(q + j + 16), _mm256_loadu_ps(v + j + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(q + j + 24), _mm256_loadu_ps(v + j + 24), a3);
    }
    for (; j + 8 <= d; j += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + j), _mm256_loadu_ps(v + j), a0);
    float s = hsum256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; j < d; j++) s += q[j] * v[j];
    return s;
}

CNN_AVX2 static inline float l21_avx2(const float *q, const float *v, long d) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    long j = 0;
    for (; j + 32 <= d; j += 32) {
        __m256 e0 = _mm256_sub_ps(_mm256_loadu_ps(q + j), _mm256_loadu_ps(v + j));
        __m256 e1 = _mm256_sub_ps(_mm256_loadu_ps(q + j + 8), _mm256_loadu_ps(v + j + 8));
        __m256 e2 = _mm256_sub_ps(_mm256_loadu_ps(q + j + 16), _mm256_loadu_ps(v + j + 16));
        __m256 e3 = _mm256_sub_ps(_mm256_loadu_ps(q + j + 24), _mm256_loadu_ps(v + j + 24));
        a0 = _mm256_fmadd_ps(e0, e0, a0); a1 = _mm256_fmadd_ps(e1, e1, a1);
        a2 = _mm256_fmadd_ps(e2, e2, a2); a3 = _mm256_fmadd_ps(e3, e3, a3);
    }
    for (; j + 8 <= d; j += 8) {
        __m256 e = _mm256_sub_ps(_mm256_loadu_ps(q + j), _mm256_loadu_ps(v + j));
        a0 = _mm256_fmadd_ps(e, e, a0);
    }
    float s = hsum256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; j < d; j++) { float e = q[j] - v[j]; s += e * e; }
    return s;
}

CNN_AVX2 static void batch_dot_avx2(const float *q, const float *base, long d, const int32_t *ids, long n, float *out) {
    for (long i = 0; i < n; i++) out[i] = dot1_avx2(q, base + (long)ids[i] * d, d);
}

CNN_AVX2 static void batch_l2_avx2(const float *q, const float *base, long d, const int32_t *ids, long n, float *out) {
    for (long i = 0; i < n; i++) out[i] = l21_avx2(q, base + (long)ids[i] * d, d);
}

static int cpu_has_avx2_fma(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const unsigned osxsave = 1u << 27, avx = 1u << 28, fma = 1u << 12;
    if ((c & osxsave) == 0 || (c & avx) == 0 || (c & fma) == 0) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6u) != 6u) return 0;  // XMM and YMM state saved by the OS
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b & (1u << 5)) != 0;     // AVX2
}
#endif

// -1: not yet detected; 0: portable; 1: AVX2/FMA. Detection is idempotent, so a race between
// two first callers only repeats it.
static atomic_int detected = -1;

int cnn_uses_avx2(void) {
    int v = atomic_load_explicit(&detected, memory_order_relaxed);
    if (v < 0) {
#ifdef CNN_X86
        v = cpu_has_avx2_fma();
#else
        v = 0;
#endif
        atomic_store_explicit(&detected, v, memory_order_relaxed);
    }
    return v;
}

void cnn_batch_dot_using(int avx2, const float *q, const float *base, long d, const int32_t *ids, long n, float *out) {
#ifdef CNN_X86
    if (avx2 && cnn_uses_avx2()) { batch_dot_avx2(q, base, d, ids, n, out); return; }
#endif
    for (long i = 0; i < n; i++) out[i] = dot1_portable(q, base + (long)ids[i] * d, d);
}

void cnn_batch_l2_using(int avx2, const float *q, const float *base, long d, const int32_t *ids, long n, float *out) {
#ifdef CNN_X86
    if (avx2 && cnn_uses_avx2()) { batch_l2_avx2(q, base, d, ids, n, out); return; }
#endif
    for (long i = 0; i < n; i++) out[i] = l21_portable(q, base + (long)ids[i] * d, d);
}

void cnn_batch_dot(const float *q, const float *base, long d, const int32_t *ids, long n, float *out) {
    cnn_batch_dot_using(1, q, base, d, ids, n, out);
}

void cnn_batch_l2(const float *q, const float *base, long d, const int32_t *ids, long n, float *out) {
    cnn_batch_l2_using(1, q, base, d, ids, n, out);
}

float cnn_dot(const float *a, const float *b, long d) {
#ifdef CNN_X86
    if (cnn_uses_avx2()) return dot1_avx2(a, b, d);
#endif
    return dot1_portable(a, b, d);
}

float cnn_l2(const float *a, const float *b, long d) {
#ifdef CNN_X86
    if (cnn_uses_avx2()) return l21_avx2(a, b, d);
#endif
    return l21_portable(a, b, d);
}
