// The wide Float gather of the sparse products (`Y = A X`, one dense row of `X` per nonzero), in C
// so that a 256-bit AVX version can be chosen at run time: Swift library targets compile for
// baseline x86-64 (SSE2, 128-bit vectors) and may not raise the target CPU. See
// LinearAlgebra's SparseKernels.swift, whose portable kernel gives the same bits.
#ifndef CSPARSEKERNELS_H
#define CSPARSEKERNELS_H
#include <stdint.h>

/// Rows `lo ..< hi` of `Y = A X` for the compressed rows (`offsets`, `indices`, `values`) of `A`
/// and the row-major `X` (leading dimension `k`, `k >= 8`): `Y[r, c] = sum_p values[p] *
/// X[indices[p], c]`, each column summed in the order of `p`, each product rounded before it is
/// added (no fused multiply-add), so the result is the same to the bit as any other kernel that
/// sums in that order. A row of more than 128 nonzeros is summed in float32 segments of 128,
/// the segments' sums added in double and the total rounded to float once (a hub's row of
/// 100,000 alike terms summed straight in float32 came out 6e-4 to 1.2e-3 off; see
/// SparseKernels.swift). `Y[r, c]` is stored at `y[r * yRowStride + c * yColumnStride]`.
/// With `epilogue` (square `A` only) each element is finished as
/// `alpha * Y[r, c] + beta * X[r, c]`, then `- Z[r, c]` when `z` is not null (`Z` row-major,
/// leading dimension `k`).
/// Dense rows are prefetched `distance` nonzeros ahead (0: none), never past `offsets[hi]`.
/// Returns 1 when it ran, 0 when the CPU (or the OS) lacks AVX: then nothing was written and the
/// caller runs its own kernel.
typedef struct {
    float alpha;
    float beta;
    const float *z;
} csk_epilogue_f32;

int csk_gather_f32(const int64_t *offsets, const int32_t *indices, const float *values,
                   long lo, long hi, const float *x, long k,
                   float *y, long yRowStride, long yColumnStride,
                   const csk_epilogue_f32 *epilogue, long distance);

/// 1 when `csk_gather_f32` runs (the CPU and the OS support AVX), 0 otherwise.
int csk_uses_avx(void);

#endif
