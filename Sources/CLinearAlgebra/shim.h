// The only place C enters the package: CBLAS and LAPACKE from OpenBLAS, and arpack-ng's C API.
// Debian 12: apt-get install libopenblas-dev liblapacke-dev libarpack2-dev
#ifndef CLINEARALGEBRA_SHIM_H
#define CLINEARALGEBRA_SHIM_H
#include <cblas.h>
#include <lapacke.h>
#include <arpack/arpack.h>
#endif
