// The only place C enters the package: CBLAS and LAPACKE from OpenBLAS, and arpack-ng's C API.
// Debian 12: apt-get install libopenblas-dev liblapacke-dev libarpack2-dev
#ifndef CLINEARALGEBRA_SHIM_H
#define CLINEARALGEBRA_SHIM_H
#include <cblas.h>
#include <lapacke.h>
#include <arpack/arpack.h>

// Software prefetch for the sparse kernels' random gathers and scatters (Swift has no
// intrinsic for it). A hint only: it never faults, whatever the address.
static inline void cla_prefetch_read(const void *address) { __builtin_prefetch(address, 0, 3); }
static inline void cla_prefetch_write(const void *address) { __builtin_prefetch(address, 1, 3); }
#endif
