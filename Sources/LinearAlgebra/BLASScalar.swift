import CLinearAlgebra
import RealModule

/// Whether a BLAS routine uses a matrix as stored or its transpose.
public enum Transpose: Sendable {
    case none
    case transpose

    @usableFromInline var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
    @usableFromInline var lapackChar: CChar { CChar(UInt8(ascii: self == .none ? "N" : "T")) }
}

/// A real floating-point type with BLAS, LAPACK and ARPACK routines: `Float` and `Double`.
///
/// Every dense kernel in the package is written once, generically, and dispatches through these
/// static requirements to the single- or double-precision routine. The requirements mirror the
/// C interfaces (column-major, 32-bit `blasint`/`lapack_int` sizes) and are not meant to be
/// called directly; use ``Matrix`` and its methods instead.
///
/// LAPACK wrappers return LAPACK's `info` value; callers turn a nonzero value into a
/// ``LAPACKError``.
public protocol BLASScalar: Real, BinaryFloatingPoint, Sendable, Codable, ElementKernels
where RawSignificand: FixedWidthInteger {
    // MARK: BLAS level 1
    static func blasAxpy(_ n: Int32, _ alpha: Self, _ x: UnsafePointer<Self>, _ incx: Int32,
                         _ y: UnsafeMutablePointer<Self>, _ incy: Int32)
    static func blasScal(_ n: Int32, _ alpha: Self, _ x: UnsafeMutablePointer<Self>, _ incx: Int32)
    static func blasDot(_ n: Int32, _ x: UnsafePointer<Self>, _ incx: Int32,
                        _ y: UnsafePointer<Self>, _ incy: Int32) -> Self
    static func blasNrm2(_ n: Int32, _ x: UnsafePointer<Self>, _ incx: Int32) -> Self

    // MARK: BLAS level 2 and 3 (column-major)
    static func blasGemv(_ trans: Transpose, _ m: Int32, _ n: Int32, _ alpha: Self,
                         _ a: UnsafePointer<Self>, _ lda: Int32,
                         _ x: UnsafePointer<Self>, _ incx: Int32, _ beta: Self,
                         _ y: UnsafeMutablePointer<Self>, _ incy: Int32)
    static func blasGemm(_ transA: Transpose, _ transB: Transpose, _ m: Int32, _ n: Int32, _ k: Int32,
                         _ alpha: Self, _ a: UnsafePointer<Self>, _ lda: Int32,
                         _ b: UnsafePointer<Self>, _ ldb: Int32, _ beta: Self,
                         _ c: UnsafeMutablePointer<Self>, _ ldc: Int32)

    // MARK: LAPACK (column-major, LAPACKE high-level interface; returns info)
    static func lapackGeqrf(_ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Self>, _ lda: Int32,
                            _ tau: UnsafeMutablePointer<Self>) -> Int32
    static func lapackOrgqr(_ m: Int32, _ n: Int32, _ k: Int32, _ a: UnsafeMutablePointer<Self>,
                            _ lda: Int32, _ tau: UnsafePointer<Self>) -> Int32
    static func lapackGetrf(_ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Self>, _ lda: Int32,
                            _ ipiv: UnsafeMutablePointer<Int32>) -> Int32
    static func lapackGesdd(_ jobz: CChar, _ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Self>,
                            _ lda: Int32, _ s: UnsafeMutablePointer<Self>,
                            _ u: UnsafeMutablePointer<Self>, _ ldu: Int32,
                            _ vt: UnsafeMutablePointer<Self>, _ ldvt: Int32) -> Int32
    static func lapackSyevd(_ jobz: CChar, _ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Self>,
                            _ lda: Int32, _ w: UnsafeMutablePointer<Self>) -> Int32
    static func lapackPotrf(_ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Self>,
                            _ lda: Int32) -> Int32
    static func lapackPotrs(_ uplo: CChar, _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Self>,
                            _ lda: Int32, _ b: UnsafeMutablePointer<Self>, _ ldb: Int32) -> Int32
    static func lapackGesv(_ n: Int32, _ nrhs: Int32, _ a: UnsafeMutablePointer<Self>, _ lda: Int32,
                           _ ipiv: UnsafeMutablePointer<Int32>, _ b: UnsafeMutablePointer<Self>,
                           _ ldb: Int32) -> Int32
    static func lapackGels(_ trans: CChar, _ m: Int32, _ n: Int32, _ nrhs: Int32,
                           _ a: UnsafeMutablePointer<Self>, _ lda: Int32,
                           _ b: UnsafeMutablePointer<Self>, _ ldb: Int32) -> Int32

    // MARK: ARPACK reverse communication (arpack-ng C API; not reentrant: Solvers serialises calls with ARPACK.withLock)
    static func arpackSaupd(_ ido: UnsafeMutablePointer<Int32>, _ bmat: UnsafePointer<CChar>, _ n: Int32,
                            _ which: UnsafePointer<CChar>, _ nev: Int32, _ tol: Self,
                            _ resid: UnsafeMutablePointer<Self>, _ ncv: Int32,
                            _ v: UnsafeMutablePointer<Self>, _ ldv: Int32,
                            _ iparam: UnsafeMutablePointer<Int32>, _ ipntr: UnsafeMutablePointer<Int32>,
                            _ workd: UnsafeMutablePointer<Self>, _ workl: UnsafeMutablePointer<Self>,
                            _ lworkl: Int32, _ info: UnsafeMutablePointer<Int32>)
    static func arpackSeupd(_ rvec: Int32, _ howmny: UnsafePointer<CChar>, _ select: UnsafePointer<Int32>,
                            _ d: UnsafeMutablePointer<Self>, _ z: UnsafeMutablePointer<Self>, _ ldz: Int32,
                            _ sigma: Self, _ bmat: UnsafePointer<CChar>, _ n: Int32,
                            _ which: UnsafePointer<CChar>, _ nev: Int32, _ tol: Self,
                            _ resid: UnsafeMutablePointer<Self>, _ ncv: Int32,
                            _ v: UnsafeMutablePointer<Self>, _ ldv: Int32,
                            _ iparam: UnsafeMutablePointer<Int32>, _ ipntr: UnsafeMutablePointer<Int32>,
                            _ workd: UnsafeMutablePointer<Self>, _ workl: UnsafeMutablePointer<Self>,
                            _ lworkl: Int32, _ info: UnsafeMutablePointer<Int32>)
    static func arpackNaupd(_ ido: UnsafeMutablePointer<Int32>, _ bmat: UnsafePointer<CChar>, _ n: Int32,
                            _ which: UnsafePointer<CChar>, _ nev: Int32, _ tol: Self,
                            _ resid: UnsafeMutablePointer<Self>, _ ncv: Int32,
                            _ v: UnsafeMutablePointer<Self>, _ ldv: Int32,
                            _ iparam: UnsafeMutablePointer<Int32>, _ ipntr: UnsafeMutablePointer<Int32>,
                            _ workd: UnsafeMutablePointer<Self>, _ workl: UnsafeMutablePointer<Self>,
                            _ lworkl: Int32, _ info: UnsafeMutablePointer<Int32>)
    static func arpackNeupd(_ rvec: Int32, _ howmny: UnsafePointer<CChar>, _ select: UnsafePointer<Int32>,
                            _ dr: UnsafeMutablePointer<Self>, _ di: UnsafeMutablePointer<Self>,
                            _ z: UnsafeMutablePointer<Self>, _ ldz: Int32,
                            _ sigmar: Self, _ sigmai: Self, _ workev: UnsafeMutablePointer<Self>,
                            _ bmat: UnsafePointer<CChar>, _ n: Int32,
                            _ which: UnsafePointer<CChar>, _ nev: Int32, _ tol: Self,
                            _ resid: UnsafeMutablePointer<Self>, _ ncv: Int32,
                            _ v: UnsafeMutablePointer<Self>, _ ldv: Int32,
                            _ iparam: UnsafeMutablePointer<Int32>, _ ipntr: UnsafeMutablePointer<Int32>,
                            _ workd: UnsafeMutablePointer<Self>, _ workl: UnsafeMutablePointer<Self>,
                            _ lworkl: Int32, _ info: UnsafeMutablePointer<Int32>)
}

@usableFromInline let lapackColMajor = LAPACK_COL_MAJOR

extension Float: BLASScalar {
    @inlinable public static func blasAxpy(_ n: Int32, _ alpha: Float, _ x: UnsafePointer<Float>, _ incx: Int32, _ y: UnsafeMutablePointer<Float>, _ incy: Int32) {
        cblas_saxpy(n, alpha, x, incx, y, incy)
    }
    @inlinable public static func blasScal(_ n: Int32, _ alpha: Float, _ x: UnsafeMutablePointer<Float>, _ incx: Int32) {
        cblas_sscal(n, alpha, x, incx)
    }
    @inlinable public static func blasDot(_ n: Int32, _ x: UnsafePointer<Float>, _ incx: Int32, _ y: UnsafePointer<Float>, _ incy: Int32) -> Float {
        cblas_sdot(n, x, incx, y, incy)
    }
    @inlinable public static func blasNrm2(_ n: Int32, _ x: UnsafePointer<Float>, _ incx: Int32) -> Float {
        cblas_snrm2(n, x, incx)
    }
    @inlinable public static func blasGemv(_ trans: Transpose, _ m: Int32, _ n: Int32, _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int32, _ x: UnsafePointer<Float>, _ incx: Int32, _ beta: Float, _ y: UnsafeMutablePointer<Float>, _ incy: Int32) {
        cblas_sgemv(CblasColMajor, trans.cblas, m, n, alpha, a, lda, x, incx, beta, y, incy)
    }
    @inlinable public static func blasGemm(_ transA: Transpose, _ transB: Transpose, _ m: Int32, _ n: Int32, _ k: Int32, _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int32, _ b: UnsafePointer<Float>, _ ldb: Int32, _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int32) {
        cblas_sgemm(CblasColMajor, transA.cblas, transB.cblas, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }
    public static func lapackGeqrf(_ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Float>, _ lda: Int32, _ tau: UnsafeMutablePointer<Float>) -> Int32 {
        LAPACKE_sgeqrf(lapackColMajor, m, n, a, lda, tau)
    }
    public static func lapackOrgqr(_ m: Int32, _ n: Int32, _ k: Int32, _ a: UnsafeMutablePointer<Float>, _ lda: Int32, _ tau: UnsafePointer<Float>) -> Int32 {
        LAPACKE_sorgqr(lapackColMajor, m, n, k, a, lda, tau)
    }
    public static func lapackGetrf(_ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Float>, _ lda: Int32, _ ipiv: UnsafeMutablePointer<Int32>) -> Int32 {
        LAPACKE_sgetrf(lapackColMajor, m, n, a, lda, ipiv)
    }
    public static func lapackGesdd(_ jobz: CChar, _ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Float>, _ lda: Int32, _ s: UnsafeMutablePointer<Float>, _ u: UnsafeMutablePointer<Float>, _ ldu: Int32, _ vt: UnsafeMutablePointer<Float>, _ ldvt: Int32) -> Int32 {
        LAPACKE_sgesdd(lapackColMajor, jobz, m, n, a, lda, s, u, ldu, vt, ldvt)
    }
    public static func lapackSyevd(_ jobz: CChar, _ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Float>, _ lda: Int32, _ w: UnsafeMutablePointer<Float>) -> Int32 {
        LAPACKE_ssyevd(lapackColMajor, jobz, uplo, n, a, lda, w)
    }
    public static func lapackPotrf(_ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Float>, _ lda: Int32) -> Int32 {
        LAPACKE_spotrf(lapackColMajor, uplo, n, a, lda)
    }
    public static func lapackPotrs(_ uplo: CChar, _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Float>, _ lda: Int32, _ b: UnsafeMutablePointer<Float>, _ ldb: Int32) -> Int32 {
        LAPACKE_spotrs(lapackColMajor, uplo, n, nrhs, a, lda, b, ldb)
    }
    public static func lapackGesv(_ n: Int32, _ nrhs: Int32, _ a: UnsafeMutablePointer<Float>, _ lda: Int32, _ ipiv: UnsafeMutablePointer<Int32>, _ b: UnsafeMutablePointer<Float>, _ ldb: Int32) -> Int32 {
        LAPACKE_sgesv(lapackColMajor, n, nrhs, a, lda, ipiv, b, ldb)
    }
    public static func lapackGels(_ trans: CChar, _ m: Int32, _ n: Int32, _ nrhs: Int32, _ a: UnsafeMutablePointer<Float>, _ lda: Int32, _ b: UnsafeMutablePointer<Float>, _ ldb: Int32) -> Int32 {
        LAPACKE_sgels(lapackColMajor, trans, m, n, nrhs, a, lda, b, ldb)
    }
    public static func arpackSaupd(_ ido: UnsafeMutablePointer<Int32>, _ bmat: UnsafePointer<CChar>, _ n: Int32, _ which: UnsafePointer<CChar>, _ nev: Int32, _ tol: Float, _ resid: UnsafeMutablePointer<Float>, _ ncv: Int32, _ v: UnsafeMutablePointer<Float>, _ ldv: Int32, _ iparam: UnsafeMutablePointer<Int32>, _ ipntr: UnsafeMutablePointer<Int32>, _ workd: UnsafeMutablePointer<Float>, _ workl: UnsafeMutablePointer<Float>, _ lworkl: Int32, _ info: UnsafeMutablePointer<Int32>) {
        ssaupd_c(ido, bmat, n, which, nev, tol, resid, ncv, v, ldv, iparam, ipntr, workd, workl, lworkl, info)
    }
    public static func arpackSeupd(_ rvec: Int32, _ howmny: UnsafePointer<CChar>, _ select: UnsafePointer<Int32>, _ d: UnsafeMutablePointer<Float>, _ z: UnsafeMutablePointer<Float>, _ ldz: Int32, _ sigma: Float, _ bmat: UnsafePointer<CChar>, _ n: Int32, _ which: UnsafePointer<CChar>, _ nev: Int32, _ tol: Float, _ resid: UnsafeMutablePointer<Float>, _ ncv: Int32, _ v: UnsafeMutablePointer<Float>, _ ldv: Int32, _ iparam: UnsafeMutablePointer<Int32>, _ ipntr: UnsafeMutablePointer<Int32>, _ workd: UnsafeMutablePointer<Float>, _ workl: UnsafeMutablePointer<Float>, _ lworkl: Int32, _ info: UnsafeMutablePointer<Int32>) {
        sseupd_c(rvec, howmny, select, d, z, ldz, sigma, bmat, n, which, nev, tol, resid, ncv, v, ldv, iparam, ipntr, workd, workl, lworkl, info)
    }
    public static func arpackNaupd(_ ido: UnsafeMutablePointer<Int32>, _ bmat: UnsafePointer<CChar>, _ n: Int32, _ which: UnsafePointer<CChar>, _ nev: Int32, _ tol: Float, _ resid: UnsafeMutablePointer<Float>, _ ncv: Int32, _ v: UnsafeMutablePointer<Float>, _ ldv: Int32, _ iparam: UnsafeMutablePointer<Int32>, _ ipntr: UnsafeMutablePointer<Int32>, _ workd: UnsafeMutablePointer<Float>, _ workl: UnsafeMutablePointer<Float>, _ lworkl: Int32, _ info: UnsafeMutablePointer<Int32>) {
        snaupd_c(ido, bmat, n, which, nev, tol, resid, ncv, v, ldv, iparam, ipntr, workd, workl, lworkl, info)
    }
    public static func arpackNeupd(_ rvec: Int32, _ howmny: UnsafePointer<CChar>, _ select: UnsafePointer<Int32>, _ dr: UnsafeMutablePointer<Float>, _ di: UnsafeMutablePointer<Float>, _ z: UnsafeMutablePointer<Float>, _ ldz: Int32, _ sigmar: Float, _ sigmai: Float, _ workev: UnsafeMutablePointer<Float>, _ bmat: UnsafePointer<CChar>, _ n: Int32, _ which: UnsafePointer<CChar>, _ nev: Int32, _ tol: Float, _ resid: UnsafeMutablePointer<Float>, _ ncv: Int32, _ v: UnsafeMutablePointer<Float>, _ ldv: Int32, _ iparam: UnsafeMutablePointer<Int32>, _ ipntr: UnsafeMutablePointer<Int32>, _ workd: UnsafeMutablePointer<Float>, _ workl: UnsafeMutablePointer<Float>, _ lworkl: Int32, _ info: UnsafeMutablePointer<Int32>) {
        sneupd_c(rvec, howmny, select, dr, di, z, ldz, sigmar, sigmai, workev, bmat, n, which, nev, tol, resid, ncv, v, ldv, iparam, ipntr, workd, workl, lworkl, info)
    }
}

extension Double: BLASScalar {
    @inlinable public static func blasAxpy(_ n: Int32, _ alpha: Double, _ x: UnsafePointer<Double>, _ incx: Int32, _ y: UnsafeMutablePointer<Double>, _ incy: Int32) {
        cblas_daxpy(n, alpha, x, incx, y, incy)
    }
    @inlinable public static func blasScal(_ n: Int32, _ alpha: Double, _ x: UnsafeMutablePointer<Double>, _ incx: Int32) {
        cblas_dscal(n, alpha, x, incx)
    }
    @inlinable public static func blasDot(_ n: Int32, _ x: UnsafePointer<Double>, _ incx: Int32, _ y: UnsafePointer<Double>, _ incy: Int32) -> Double {
        cblas_ddot(n, x, incx, y, incy)
    }
    @inlinable public static func blasNrm2(_ n: Int32, _ x: UnsafePointer<Double>, _ incx: Int32) -> Double {
        cblas_dnrm2(n, x, incx)
    }
    @inlinable public static func blasGemv(_ trans: Transpose, _ m: Int32, _ n: Int32, _ alpha: Double, _ a: UnsafePointer<Double>, _ lda: Int32, _ x: UnsafePointer<Double>, _ incx: Int32, _ beta: Double, _ y: UnsafeMutablePointer<Double>, _ incy: Int32) {
        cblas_dgemv(CblasColMajor, trans.cblas, m, n, alpha, a, lda, x, incx, beta, y, incy)
    }
    @inlinable public static func blasGemm(_ transA: Transpose, _ transB: Transpose, _ m: Int32, _ n: Int32, _ k: Int32, _ alpha: Double, _ a: UnsafePointer<Double>, _ lda: Int32, _ b: UnsafePointer<Double>, _ ldb: Int32, _ beta: Double, _ c: UnsafeMutablePointer<Double>, _ ldc: Int32) {
        cblas_dgemm(CblasColMajor, transA.cblas, transB.cblas, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }
    public static func lapackGeqrf(_ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32, _ tau: UnsafeMutablePointer<Double>) -> Int32 {
        LAPACKE_dgeqrf(lapackColMajor, m, n, a, lda, tau)
    }
    public static func lapackOrgqr(_ m: Int32, _ n: Int32, _ k: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32, _ tau: UnsafePointer<Double>) -> Int32 {
        LAPACKE_dorgqr(lapackColMajor, m, n, k, a, lda, tau)
    }
    public static func lapackGetrf(_ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32, _ ipiv: UnsafeMutablePointer<Int32>) -> Int32 {
        LAPACKE_dgetrf(lapackColMajor, m, n, a, lda, ipiv)
    }
    public static func lapackGesdd(_ jobz: CChar, _ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32, _ s: UnsafeMutablePointer<Double>, _ u: UnsafeMutablePointer<Double>, _ ldu: Int32, _ vt: UnsafeMutablePointer<Double>, _ ldvt: Int32) -> Int32 {
        LAPACKE_dgesdd(lapackColMajor, jobz, m, n, a, lda, s, u, ldu, vt, ldvt)
    }
    public static func lapackSyevd(_ jobz: CChar, _ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32, _ w: UnsafeMutablePointer<Double>) -> Int32 {
        LAPACKE_dsyevd(lapackColMajor, jobz, uplo, n, a, lda, w)
    }
    public static func lapackPotrf(_ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32) -> Int32 {
        LAPACKE_dpotrf(lapackColMajor, uplo, n, a, lda)
    }
    public static func lapackPotrs(_ uplo: CChar, _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Double>, _ lda: Int32, _ b: UnsafeMutablePointer<Double>, _ ldb: Int32) -> Int32 {
        LAPACKE_dpotrs(lapackColMajor, uplo, n, nrhs, a, lda, b, ldb)
    }
    public static func lapackGesv(_ n: Int32, _ nrhs: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32, _ ipiv: UnsafeMutablePointer<Int32>, _ b: UnsafeMutablePointer<Double>, _ ldb: Int32) -> Int32 {
        LAPACKE_dgesv(lapackColMajor, n, nrhs, a, lda, ipiv, b, ldb)
    }
    public static func lapackGels(_ trans: CChar, _ m: Int32, _ n: Int32, _ nrhs: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32, _ b: UnsafeMutablePointer<Double>, _ ldb: Int32) -> Int32 {
        LAPACKE_dgels(lapackColMajor, trans, m, n, nrhs, a, lda, b, ldb)
    }
    public static func arpackSaupd(_ ido: UnsafeMutablePointer<Int32>, _ bmat: UnsafePointer<CChar>, _ n: Int32, _ which: UnsafePointer<CChar>, _ nev: Int32, _ tol: Double, _ resid: UnsafeMutablePointer<Double>, _ ncv: Int32, _ v: UnsafeMutablePointer<Double>, _ ldv: Int32, _ iparam: UnsafeMutablePointer<Int32>, _ ipntr: UnsafeMutablePointer<Int32>, _ workd: UnsafeMutablePointer<Double>, _ workl: UnsafeMutablePointer<Double>, _ lworkl: Int32, _ info: UnsafeMutablePointer<Int32>) {
        dsaupd_c(ido, bmat, n, which, nev, tol, resid, ncv, v, ldv, iparam, ipntr, workd, workl, lworkl, info)
    }
    public static func arpackSeupd(_ rvec: Int32, _ howmny: UnsafePointer<CChar>, _ select: UnsafePointer<Int32>, _ d: UnsafeMutablePointer<Double>, _ z: UnsafeMutablePointer<Double>, _ ldz: Int32, _ sigma: Double, _ bmat: UnsafePointer<CChar>, _ n: Int32, _ which: UnsafePointer<CChar>, _ nev: Int32, _ tol: Double, _ resid: UnsafeMutablePointer<Double>, _ ncv: Int32, _ v: UnsafeMutablePointer<Double>, _ ldv: Int32, _ iparam: UnsafeMutablePointer<Int32>, _ ipntr: UnsafeMutablePointer<Int32>, _ workd: UnsafeMutablePointer<Double>, _ workl: UnsafeMutablePointer<Double>, _ lworkl: Int32, _ info: UnsafeMutablePointer<Int32>) {
        dseupd_c(rvec, howmny, select, d, z, ldz, sigma, bmat, n, which, nev, tol, resid, ncv, v, ldv, iparam, ipntr, workd, workl, lworkl, info)
    }
    public static func arpackNaupd(_ ido: UnsafeMutablePointer<Int32>, _ bmat: UnsafePointer<CChar>, _ n: Int32, _ which: UnsafePointer<CChar>, _ nev: Int32, _ tol: Double, _ resid: UnsafeMutablePointer<Double>, _ ncv: Int32, _ v: UnsafeMutablePointer<Double>, _ ldv: Int32, _ iparam: UnsafeMutablePointer<Int32>, _ ipntr: UnsafeMutablePointer<Int32>, _ workd: UnsafeMutablePointer<Double>, _ workl: UnsafeMutablePointer<Double>, _ lworkl: Int32, _ info: UnsafeMutablePointer<Int32>) {
        dnaupd_c(ido, bmat, n, which, nev, tol, resid, ncv, v, ldv, iparam, ipntr, workd, workl, lworkl, info)
    }
    public static func arpackNeupd(_ rvec: Int32, _ howmny: UnsafePointer<CChar>, _ select: UnsafePointer<Int32>, _ dr: UnsafeMutablePointer<Double>, _ di: UnsafeMutablePointer<Double>, _ z: UnsafeMutablePointer<Double>, _ ldz: Int32, _ sigmar: Double, _ sigmai: Double, _ workev: UnsafeMutablePointer<Double>, _ bmat: UnsafePointer<CChar>, _ n: Int32, _ which: UnsafePointer<CChar>, _ nev: Int32, _ tol: Double, _ resid: UnsafeMutablePointer<Double>, _ ncv: Int32, _ v: UnsafeMutablePointer<Double>, _ ldv: Int32, _ iparam: UnsafeMutablePointer<Int32>, _ ipntr: UnsafeMutablePointer<Int32>, _ workd: UnsafeMutablePointer<Double>, _ workl: UnsafeMutablePointer<Double>, _ lworkl: Int32, _ info: UnsafeMutablePointer<Int32>) {
        dneupd_c(rvec, howmny, select, dr, di, z, ldz, sigmar, sigmai, workev, bmat, n, which, nev, tol, resid, ncv, v, ldv, iparam, ipntr, workd, workl, lworkl, info)
    }
}

/// Process-wide controls of the BLAS library.
public enum BLAS {
    /// The number of threads OpenBLAS uses for one call. Set it to 1 inside a loop that is
    /// itself parallel: nested parallelism is many times slower.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// Runs `body` with OpenBLAS limited to `count` threads, then restores the previous setting.
    public static func withThreads<R>(_ count: Int, _ body: () throws -> R) rethrows -> R {
        let previous = threads
        threads = count
        defer { threads = previous }
        return try body()
    }
}

extension BLAS {
    /// The CPU kernel family OpenBLAS chose when it loaded (e.g. `"Haswell"`, `"SkylakeX"`, `"Zen"`).
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// OpenBLAS's build configuration string.
    public static var configuration: String { String(cString: openblas_get_config()) }
}
