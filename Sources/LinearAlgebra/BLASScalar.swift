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
/// static functions to the single- or double-precision routine. The functions mirror the C
/// interfaces (column-major, 32-bit `blasint`/`lapack_int` sizes) and are not meant to be called
/// directly; use ``Matrix`` and its methods instead. A conforming type supplies only its table
/// of C routines (``BLASRoutines``); the wrappers are written once, below.
///
/// LAPACK wrappers return LAPACK's `info` value; callers turn a nonzero value into a
/// ``LAPACKError``.
public protocol BLASScalar: Real, BinaryFloatingPoint, Sendable, Codable, ElementKernels
where RawSignificand: FixedWidthInteger {
    /// The C routines of this precision (`cblas_s*`, `LAPACKE_s*`, `s*upd_c` for `Float`).
    static var routines: BLASRoutines<Self> { get }
}

/// The BLAS, LAPACKE and ARPACK C routines of one precision, as C function values (their
/// imported signatures). ``BLASScalar``'s static functions call through it.
public struct BLASRoutines<T>: Sendable {
    public typealias Pointer = UnsafePointer<T>?
    public typealias MutablePointer = UnsafeMutablePointer<T>?
    public typealias IntPointer = UnsafeMutablePointer<Int32>?
    public typealias CString = UnsafePointer<CChar>?

    // BLAS level 1, 2, 3.
    public let axpy: @Sendable (Int32, T, Pointer, Int32, MutablePointer, Int32) -> Void
    public let scal: @Sendable (Int32, T, MutablePointer, Int32) -> Void
    public let dot: @Sendable (Int32, Pointer, Int32, Pointer, Int32) -> T
    public let nrm2: @Sendable (Int32, Pointer, Int32) -> T
    public let gemv: @Sendable (CBLAS_ORDER, CBLAS_TRANSPOSE, Int32, Int32, T, Pointer, Int32, Pointer, Int32, T, MutablePointer, Int32) -> Void
    public let gemm: @Sendable (CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, Int32, Int32, Int32, T, Pointer, Int32, Pointer, Int32,
                                T, MutablePointer, Int32) -> Void
    /// `?syrk`: `C = alpha A A' + beta C` (or `A'A`), one triangle of `C`.
    public let syrk: @Sendable (CBLAS_ORDER, CBLAS_UPLO, CBLAS_TRANSPOSE, Int32, Int32, T, Pointer, Int32, T, MutablePointer, Int32) -> Void
    /// `?trmm`: `B = alpha op(A) B` (or `B op(A)`) for a triangular `A`, in place.
    public let trmm: @Sendable (CBLAS_ORDER, CBLAS_SIDE, CBLAS_UPLO, CBLAS_TRANSPOSE, CBLAS_DIAG, Int32, Int32, T, Pointer, Int32,
                                MutablePointer, Int32) -> Void
    // LAPACKE (the first argument is the matrix layout).
    public let geqrf: @Sendable (Int32, Int32, Int32, MutablePointer, Int32, MutablePointer) -> Int32
    public let orgqr: @Sendable (Int32, Int32, Int32, Int32, MutablePointer, Int32, Pointer) -> Int32
    public let getrf: @Sendable (Int32, Int32, Int32, MutablePointer, Int32, IntPointer) -> Int32
    public let gesdd: @Sendable (Int32, CChar, Int32, Int32, MutablePointer, Int32, MutablePointer, MutablePointer, Int32,
                                 MutablePointer, Int32) -> Int32
    public let syevd: @Sendable (Int32, CChar, CChar, Int32, MutablePointer, Int32, MutablePointer) -> Int32
    public let potrf: @Sendable (Int32, CChar, Int32, MutablePointer, Int32) -> Int32
    public let potrs: @Sendable (Int32, CChar, Int32, Int32, Pointer, Int32, MutablePointer, Int32) -> Int32
    public let gesv: @Sendable (Int32, Int32, Int32, MutablePointer, Int32, IntPointer, MutablePointer, Int32) -> Int32
    public let gels: @Sendable (Int32, CChar, Int32, Int32, Int32, MutablePointer, Int32, MutablePointer, Int32) -> Int32
    // ARPACK reverse communication (symmetric `saupd`/`seupd`, general `naupd`/`neupd`); not
    // reentrant: Solvers' driver is the only caller and serialises calls with `ARPACK.withLock`.
    public let saupd: @Sendable (IntPointer, CString, Int32, CString, Int32, T, MutablePointer, Int32, MutablePointer, Int32,
                                 IntPointer, IntPointer, MutablePointer, MutablePointer, Int32, IntPointer) -> Void
    public let seupd: @Sendable (Int32, CString, UnsafePointer<Int32>?, MutablePointer, MutablePointer, Int32, T, CString, Int32,
                                 CString, Int32, T, MutablePointer, Int32, MutablePointer, Int32, IntPointer, IntPointer,
                                 MutablePointer, MutablePointer, Int32, IntPointer) -> Void
    public let naupd: @Sendable (IntPointer, CString, Int32, CString, Int32, T, MutablePointer, Int32, MutablePointer, Int32,
                                 IntPointer, IntPointer, MutablePointer, MutablePointer, Int32, IntPointer) -> Void
    public let neupd: @Sendable (Int32, CString, UnsafePointer<Int32>?, MutablePointer, MutablePointer, MutablePointer, Int32, T, T,
                                 MutablePointer, CString, Int32, CString, Int32, T, MutablePointer, Int32, MutablePointer, Int32,
                                 IntPointer, IntPointer, MutablePointer, MutablePointer, Int32, IntPointer) -> Void
}

@usableFromInline let lapackColMajor = LAPACK_COL_MAJOR

extension Float: BLASScalar {
    public static let routines = BLASRoutines<Float>(
        axpy: cblas_saxpy, scal: cblas_sscal, dot: cblas_sdot, nrm2: cblas_snrm2, gemv: cblas_sgemv, gemm: cblas_sgemm, syrk: cblas_ssyrk, trmm: cblas_strmm,
        geqrf: LAPACKE_sgeqrf, orgqr: LAPACKE_sorgqr, getrf: LAPACKE_sgetrf, gesdd: LAPACKE_sgesdd, syevd: LAPACKE_ssyevd,
        potrf: LAPACKE_spotrf, potrs: LAPACKE_spotrs, gesv: LAPACKE_sgesv, gels: LAPACKE_sgels,
        saupd: ssaupd_c, seupd: sseupd_c, naupd: snaupd_c, neupd: sneupd_c)
}

extension Double: BLASScalar {
    public static let routines = BLASRoutines<Double>(
        axpy: cblas_daxpy, scal: cblas_dscal, dot: cblas_ddot, nrm2: cblas_dnrm2, gemv: cblas_dgemv, gemm: cblas_dgemm, syrk: cblas_dsyrk, trmm: cblas_dtrmm,
        geqrf: LAPACKE_dgeqrf, orgqr: LAPACKE_dorgqr, getrf: LAPACKE_dgetrf, gesdd: LAPACKE_dgesdd, syevd: LAPACKE_dsyevd,
        potrf: LAPACKE_dpotrf, potrs: LAPACKE_dpotrs, gesv: LAPACKE_dgesv, gels: LAPACKE_dgels,
        saupd: dsaupd_c, seupd: dseupd_c, naupd: dnaupd_c, neupd: dneupd_c)
}

extension BLASScalar {
    // MARK: BLAS level 1
    @inlinable public static func blasAxpy(_ n: Int32, _ alpha: Self, _ x: UnsafePointer<Self>, _ incx: Int32,
                                           _ y: UnsafeMutablePointer<Self>, _ incy: Int32) {
        routines.axpy(n, alpha, x, incx, y, incy)
    }
    @inlinable public static func blasScal(_ n: Int32, _ alpha: Self, _ x: UnsafeMutablePointer<Self>, _ incx: Int32) {
        routines.scal(n, alpha, x, incx)
    }
    @inlinable public static func blasDot(_ n: Int32, _ x: UnsafePointer<Self>, _ incx: Int32,
                                          _ y: UnsafePointer<Self>, _ incy: Int32) -> Self {
        routines.dot(n, x, incx, y, incy)
    }
    @inlinable public static func blasNrm2(_ n: Int32, _ x: UnsafePointer<Self>, _ incx: Int32) -> Self {
        routines.nrm2(n, x, incx)
    }

    // MARK: BLAS level 2 and 3 (column-major)
    @inlinable public static func blasGemv(_ trans: Transpose, _ m: Int32, _ n: Int32, _ alpha: Self,
                                           _ a: UnsafePointer<Self>, _ lda: Int32,
                                           _ x: UnsafePointer<Self>, _ incx: Int32, _ beta: Self,
                                           _ y: UnsafeMutablePointer<Self>, _ incy: Int32) {
        routines.gemv(CblasColMajor, trans.cblas, m, n, alpha, a, lda, x, incx, beta, y, incy)
    }
    @inlinable public static func blasGemm(_ transA: Transpose, _ transB: Transpose, _ m: Int32, _ n: Int32, _ k: Int32,
                                           _ alpha: Self, _ a: UnsafePointer<Self>, _ lda: Int32,
                                           _ b: UnsafePointer<Self>, _ ldb: Int32, _ beta: Self,
                                           _ c: UnsafeMutablePointer<Self>, _ ldc: Int32) {
        routines.gemm(CblasColMajor, transA.cblas, transB.cblas, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }
    /// `C = alpha op(A) op(A)' + beta C` for the `n x n` `C` (`op(A)` is `n x k`: `A` itself for
    /// `.none`, else `A'`), computing only the lower triangle (column-major, as `blasGemm`).
    @inlinable public static func blasSyrkLower(_ trans: Transpose, _ n: Int32, _ k: Int32, _ alpha: Self,
                                                _ a: UnsafePointer<Self>, _ lda: Int32, _ beta: Self,
                                                _ c: UnsafeMutablePointer<Self>, _ ldc: Int32) {
        routines.syrk(CblasColMajor, CblasLower, trans.cblas, n, k, alpha, a, lda, beta, c, ldc)
    }
    /// `B = alpha L B` in place for the lower triangle `L` of the `m x m` `a` (its strict upper
    /// triangle is not read) and the `m x n` `B` (column-major, as `blasGemm`).
    @inlinable public static func blasTrmmLowerLeft(_ m: Int32, _ n: Int32, _ alpha: Self, _ a: UnsafePointer<Self>, _ lda: Int32,
                                                    _ b: UnsafeMutablePointer<Self>, _ ldb: Int32) {
        routines.trmm(CblasColMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, m, n, alpha, a, lda, b, ldb)
    }

    // MARK: LAPACK (column-major, LAPACKE high-level interface; returns info)
    public static func lapackGeqrf(_ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Self>, _ lda: Int32,
                                   _ tau: UnsafeMutablePointer<Self>) -> Int32 {
        routines.geqrf(lapackColMajor, m, n, a, lda, tau)
    }
    public static func lapackOrgqr(_ m: Int32, _ n: Int32, _ k: Int32, _ a: UnsafeMutablePointer<Self>,
                                   _ lda: Int32, _ tau: UnsafePointer<Self>) -> Int32 {
        routines.orgqr(lapackColMajor, m, n, k, a, lda, tau)
    }
    public static func lapackGetrf(_ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Self>, _ lda: Int32,
                                   _ ipiv: UnsafeMutablePointer<Int32>) -> Int32 {
        routines.getrf(lapackColMajor, m, n, a, lda, ipiv)
    }
    public static func lapackGesdd(_ jobz: CChar, _ m: Int32, _ n: Int32, _ a: UnsafeMutablePointer<Self>,
                                   _ lda: Int32, _ s: UnsafeMutablePointer<Self>,
                                   _ u: UnsafeMutablePointer<Self>, _ ldu: Int32,
                                   _ vt: UnsafeMutablePointer<Self>, _ ldvt: Int32) -> Int32 {
        routines.gesdd(lapackColMajor, jobz, m, n, a, lda, s, u, ldu, vt, ldvt)
    }
    public static func lapackSyevd(_ jobz: CChar, _ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Self>,
                                   _ lda: Int32, _ w: UnsafeMutablePointer<Self>) -> Int32 {
        routines.syevd(lapackColMajor, jobz, uplo, n, a, lda, w)
    }
    public static func lapackPotrf(_ uplo: CChar, _ n: Int32, _ a: UnsafeMutablePointer<Self>, _ lda: Int32) -> Int32 {
        routines.potrf(lapackColMajor, uplo, n, a, lda)
    }
    public static func lapackPotrs(_ uplo: CChar, _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Self>,
                                   _ lda: Int32, _ b: UnsafeMutablePointer<Self>, _ ldb: Int32) -> Int32 {
        routines.potrs(lapackColMajor, uplo, n, nrhs, a, lda, b, ldb)
    }
    public static func lapackGesv(_ n: Int32, _ nrhs: Int32, _ a: UnsafeMutablePointer<Self>, _ lda: Int32,
                                  _ ipiv: UnsafeMutablePointer<Int32>, _ b: UnsafeMutablePointer<Self>,
                                  _ ldb: Int32) -> Int32 {
        routines.gesv(lapackColMajor, n, nrhs, a, lda, ipiv, b, ldb)
    }
    public static func lapackGels(_ trans: CChar, _ m: Int32, _ n: Int32, _ nrhs: Int32,
                                  _ a: UnsafeMutablePointer<Self>, _ lda: Int32,
                                  _ b: UnsafeMutablePointer<Self>, _ ldb: Int32) -> Int32 {
        routines.gels(lapackColMajor, trans, m, n, nrhs, a, lda, b, ldb)
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
