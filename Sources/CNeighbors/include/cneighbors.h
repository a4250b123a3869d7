// Distance kernels for the Neighbors module's graph search: one query against a gathered batch of
// base rows, in C so that an AVX2/FMA version can be chosen at run time (Swift library targets
// compile for baseline x86-64 and may not raise the target CPU).
#ifndef CNEIGHBORS_H
#define CNEIGHBORS_H
#include <stdint.h>

/// out[i] = sum_j q[j] * base[ids[i] * d + j], for i < n.
void cnn_batch_dot(const float *q, const float *base, long d, const int32_t *ids, long n, float *out);
/// out[i] = sum_j (q[j] - base[ids[i] * d + j])^2, for i < n.
void cnn_batch_l2(const float *q, const float *base, long d, const int32_t *ids, long n, float *out);
/// The dot product and the squared Euclidean distance of two rows of `d` floats.
float cnn_dot(const float *a, const float *b, long d);
float cnn_l2(const float *a, const float *b, long d);
/// 1 when the AVX2/FMA kernels are in use (the CPU and the OS support them), 0 for the portable ones.
int cnn_uses_avx2(void);
/// The same kernels with the version chosen by the caller (tests): `avx2` 0 runs the portable
/// one, 1 the AVX2/FMA one where `cnn_uses_avx2()` says it is available (the portable one otherwise).
void cnn_batch_dot_using(int avx2, const float *q, const float *base, long d, const int32_t *ids, long n, float *out);
void cnn_batch_l2_using(int avx2, const float *q, const float *base, long d, const int32_t *ids, long n, float *out);

#endif
