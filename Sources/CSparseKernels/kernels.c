// The AVX version of the wide Float gather (see include/csparsekernels.h). One pass over a row's
// nonzeros per panel of up to 12 eight-lane accumulators (96 columns), so a block of 74 columns
// (rank 64 plus 10 oversamples) is one panel: each gathered row of X is loaded once, as ten
// 256-bit loads, where the portable Swift kernel (128-bit SSE2 vectors) walks the row twice in
// 19 loads. The last vector of a width that is not a multiple of 8 is a window over the last 8
// columns (the lanes already done are not stored). Products and sums are rounded separately, in
// the order of the nonzeros: the same bits as the portable kernel.
#include "csparsekernels.h"
#include <stdatomic.h>

#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define CSK_X86 1
#define CSK_AVX __attribute__((target("avx")))
#define CSK_INLINE inline __attribute__((always_inline))

// Nonzeros summed in float32 before a row's sum moves into double (see csparsekernels.h).
#define CSK_SEGMENT 128

// `acc[j] += values[p] * X[indices[p], panel columns]` for the nonzeros `p0 ..< p1` of one row.
CSK_AVX static CSK_INLINE void accumulate(const int NV, __m256 *acc, const int32_t *indices, const float *values,
                                          long p0, long p1, long end, const float *x, long k, long c0, long last,
                                          long span, long lastByte, long distance) {
    for (long p = p0; p < p1; p++) {
        if (distance > 0 && p + distance < end) {
            const char *f = (const char *)(x + (long)indices[p + distance] * k + c0);
            for (long b = 0; b < span; b += 64) _mm_prefetch(f + b, _MM_HINT_T0);
            _mm_prefetch(f + (lastByte - c0 * 4), _MM_HINT_T0);
        }
        const __m256 s = _mm256_set1_ps(values[p]);
        const float *xr = x + (long)indices[p] * k;
        for (int j = 0; j < NV - 1; j++) acc[j] = _mm256_add_ps(acc[j], _mm256_mul_ps(s, _mm256_loadu_ps(xr + c0 + 8 * j)));
        acc[NV - 1] = _mm256_add_ps(acc[NV - 1], _mm256_mul_ps(s, _mm256_loadu_ps(xr + last)));
    }
}

// One panel of `NV` vectors: columns c0, c0 + 8, ..., and the last vector at column `last`
// (c0 + 8 (NV - 1), or k - 8 for a window whose first `skip` lanes were already stored).
CSK_AVX static CSK_INLINE void panel(const int NV, const int64_t *offsets, const int32_t *indices, const float *values,
                                     long lo, long hi, long end, const float *x, long k, long c0, long last, int skip,
                                     float *y, long yrs, long ycs, const csk_epilogue_f32 *e, long distance) {
    const long lastByte = (last + 8) * 4 - 1;        // the panel's last byte, from the row's start
    const long span = (last + 8 - c0) * 4;           // bytes of a row the panel reads
    for (long r = lo; r < hi; r++) {
        __m256 acc[12];
        for (int j = 0; j < NV; j++) acc[j] = _mm256_setzero_ps();
        const long p0 = (long)offsets[r], p1 = (long)offsets[r + 1];
        if (p1 - p0 <= CSK_SEGMENT) {
            accumulate(NV, acc, indices, values, p0, p1, end, x, k, c0, last, span, lastByte, distance);
        } else {
            // A long row: float32 sums of CSK_SEGMENT nonzeros each, added up in double.
            __m256d total[24];
            for (int j = 0; j < 2 * NV; j++) total[j] = _mm256_setzero_pd();
            for (long s0 = p0; s0 < p1; s0 += CSK_SEGMENT) {
                const long s1 = s0 + CSK_SEGMENT < p1 ? s0 + CSK_SEGMENT : p1;
                accumulate(NV, acc, indices, values, s0, s1, end, x, k, c0, last, span, lastByte, distance);
                for (int j = 0; j < NV; j++) {
                    total[2 * j] = _mm256_add_pd(total[2 * j], _mm256_cvtps_pd(_mm256_castps256_ps128(acc[j])));
                    total[2 * j + 1] = _mm256_add_pd(total[2 * j + 1], _mm256_cvtps_pd(_mm256_extractf128_ps(acc[j], 1)));
                    acc[j] = _mm256_setzero_ps();
                }
            }
            for (int j = 0; j < NV; j++)
                acc[j] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(total[2 * j])), _mm256_cvtpd_ps(total[2 * j + 1]), 1);
        }
        for (int j = 0; j < NV; j++) {
            const long c = j == NV - 1 ? last : c0 + 8 * j;
            __m256 v = acc[j];
            if (e) {
                v = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(e->alpha), v),
                                  _mm256_mul_ps(_mm256_set1_ps(e->beta), _mm256_loadu_ps(x + r * k + c)));
                if (e->z) v = _mm256_sub_ps(v, _mm256_loadu_ps(e->z + r * k + c));
            }
            float *yr = y + r * yrs + c * ycs;
            const int first = j == NV - 1 ? skip : 0;
            if (ycs == 1 && first == 0) {
                _mm256_storeu_ps(yr, v);
            } else {
                float lanes[8];
                _mm256_storeu_ps(lanes, v);
                for (int l = first; l < 8; l++) yr[l * ycs] = lanes[l];
            }
        }
    }
}

CSK_AVX static void gather_avx(const int64_t *offsets, const int32_t *indices, const float *values,
                               long lo, long hi, const float *x, long k, float *y, long yrs, long ycs,
                               const csk_epilogue_f32 *e, long distance) {
    const long end = (long)offsets[hi];
    const long vectors = (k + 7) / 8;               // the last one a window when k % 8 != 0
    const long panels = (vectors + 11) / 12;
    long done = 0;                                   // vectors handled by earlier panels
    for (long q = 0; q < panels; q++) {
        const long nv = (vectors - done) / (panels - q);   // near-equal panels
        const long c0 = 8 * done;
        const int lastIsWindow = done + nv == vectors && k % 8 != 0;
        const long last = lastIsWindow ? k - 8 : c0 + 8 * (nv - 1);
        const int skip = lastIsWindow ? (int)(8 - k % 8) : 0;
        switch (nv) {
        case 1: panel(1, offsets, indices, values, lo, hi, end, x, k, c0, last, skip, y, yrs, ycs, e, distance); break;
        case 2: panel(2, offsets, indices, values, lo, hi, end, x, k, c0, last, skip, y, yrs, ycs, e, distance); break;
        case 3: panel(3, offsets, indices, values, lo, hi, end, x, k, c0, last, skip, y, yrs, ycs, e, distance); break;
        case 4: panel(4, offsets, indices, values, lo, hi, end, x, k, c0, last, skip, y, yrs, ycs, e, distance); break;
        case 5: panel(5, offsets, indices, values, lo, hi, end, x, k, c0, last, skip, y, yrs, ycs, e, distance); break;
        case 6: panel(6, offsets, indices, values, lo, hi, end, x, k, c0, last, skip, y, yrs, ycs, e, distance); break;
        case 7: panel(7, offsets, indices, values, lo, hi, end, x, k, c0, last, skip, y, yrs, ycs, e, distance); break;
        case 8: panel(8, offsets, indices, values, lo, hi, end, x, k, c0, last, skip, y, yrs, ycs, e, distance); break;
        case 9: panel(9, offsets, indices, values, lo, hi, end, x, k, c0, last, skip, y, yrs, ycs, e, distance); break;
        case 10: panel(10, offsets, indices, values, lo, hi, end, x, k, c0, last, skip, y, yrs, ycs, e, distance); break;
        case 11: panel(11, offsets, indices, values, lo, hi, end, x, k, c0, last, skip, y, yrs, ycs, e, distance); break;
        default: panel(12, offsets, indices, values, lo, hi, end, x, k, c0, last, skip, y, yrs, ycs, e, distance); break;
        }
        done += nv;
    }
}

static int cpu_has_avx(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const unsigned osxsave = 1u << 27, avx = 1u << 28;
    if ((c & osxsave) == 0 || (c & avx) == 0) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 6u) == 6u;   // XMM and YMM state saved by the OS
}
#endif

// -1: not yet detected; 0: no AVX; 1: AVX. Detection is idempotent, so a race between two first
// callers only repeats it.
static atomic_int detected = -1;

int csk_uses_avx(void) {
    int v = atomic_load_explicit(&detected, memory_order_relaxed);
    if (v < 0) {
#ifdef CSK_X86
        v = cpu_has_avx();
#else
        v = 0;
#endif
        atomic_store_explicit(&detected, v, memory_order_relaxed);
    }
    return v;
}

int csk_gather_f32(const int64_t *offsets, const int32_t *indices, const float *values,
                   long lo, long hi, const float *x, long k,
                   float *y, long yRowStride, long yColumnStride,
                   const csk_epilogue_f32 *epilogue, long distance) {
#ifdef CSK_X86
    if (k >= 8 && csk_uses_avx()) {
        if (hi > lo) gather_avx(offsets, indices, values, lo, hi, x, k, y, yRowStride, yColumnStride, epilogue, distance);
        return 1;
    }
#endif
    (void)offsets; (void)indices; (void)values; (void)lo; (void)hi; (void)x; (void)k;
    (void)y; (void)yRowStride; (void)yColumnStride; (void)epilogue; (void)distance;
    return 0;
}
