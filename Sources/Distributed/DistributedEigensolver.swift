import CMPI
import Foundation
import LinearAlgebra
import Solvers

/// Scalars PARPACK's symmetric driver handles (`pssaupd_c`/`psseupd_c`, `pdsaupd_c`/`pdseupd_c`).
public protocol PARPACKScalar: BLASScalar, MPIScalar {
    static func parpackSaupd(_ comm: Int32, _ ido: UnsafeMutablePointer<Int32>, _ bmat: UnsafePointer<CChar>, _ n: Int32,
                             _ which: UnsafePointer<CChar>, _ nev: Int32, _ tol: Self, _ resid: UnsafeMutablePointer<Self>,
                             _ ncv: Int32, _ v: UnsafeMutablePointer<Self>, _ ldv: Int32, _ iparam: UnsafeMutablePointer<Int32>,
                             _ ipntr: UnsafeMutablePointer<Int32>, _ workd: UnsafeMutablePointer<Self>,
                             _ workl: UnsafeMutablePointer<Self>, _ lworkl: Int32, _ info: UnsafeMutablePointer<Int32>)
    static func parpackSeupd(_ comm: Int32, _ rvec: Int32, _ howmny: UnsafePointer<CChar>, _ select: UnsafePointer<Int32>,
                             _ d: UnsafeMutablePointer<Self>, _ z: UnsafeMutablePointer<Self>, _ ldz: Int32, _ sigma: Self,
                             _ bmat: UnsafePointer<CChar>, _ n: Int32, _ which: UnsafePointer<CChar>, _ nev: Int32, _ tol: Self,
                             _ resid: UnsafeMutablePointer<Self>, _ ncv: Int32, _ v: UnsafeMutablePointer<Self>, _ ldv: Int32,
                             _ iparam: UnsafeMutablePointer<Int32>, _ ipntr: UnsafeMutablePointer<Int32>,
                             _ workd: UnsafeMutablePointer<Self>, _ workl: UnsafeMutablePointer<Self>, _ lworkl: Int32,
                             _ info: UnsafeMutablePointer<Int32>)
}

extension Float: PARPACKScalar {
    public static func parpackSaupd(_ comm: Int32, _ ido: UnsafeMutablePointer<Int32>, _ bmat: UnsafePointer<CChar>, _ n: Int32, _ which: UnsafePointer<CChar>, _ nev: Int32, _ tol: Float, _ resid: UnsafeMutablePointer<Float>, _ ncv: Int32, _ v: UnsafeMutablePointer<Float>, _ ldv: Int32, _ iparam: UnsafeMutablePointer<Int32>, _ ipntr: UnsafeMutablePointer<Int32>, _ workd: UnsafeMutablePointer<Float>, _ workl: UnsafeMutablePointer<Float>, _ lworkl: Int32, _ info: UnsafeMutablePointer<Int32>) {
        pssaupd_c(comm, ido, bmat, n, which, nev, tol, resid, ncv, v, ldv, iparam, ipntr, workd, workl, lworkl, info)
    }
    public static func parpackSeupd(_ comm: Int32, _ rvec: Int32, _ howmny: UnsafePointer<CChar>, _ select: UnsafePointer<Int32>, _ d: UnsafeMutablePointer<Float>, _ z: UnsafeMutablePointer<Float>, _ ldz: Int32, _ sigma: Float, _ bmat: UnsafePointer<CChar>, _ n: Int32, _ which: UnsafePointer<CChar>, _ nev: Int32, _ tol: Float, _ resid: UnsafeMutablePointer<Float>, _ ncv: Int32, _ v: UnsafeMutablePointer<Float>, _ ldv: Int32, _ iparam: UnsafeMutablePointer<Int32>, _ ipntr: UnsafeMutablePointer<Int32>, _ workd: UnsafeMutablePointer<Float>, _ workl: UnsafeMutablePointer<Float>, _ lworkl: Int32, _ info: UnsafeMutablePointer<Int32>) {
        psseupd_c(comm, rvec, howmny, select, d, z, ldz, sigma, bmat, n, which, nev, tol, resid, ncv, v, ldv, iparam, ipntr, workd, workl, lworkl, info)
    }
}

extension Double: PARPACKScalar {
    public static func parpackSaupd(_ comm: Int32, _ ido: UnsafeMutablePointer<Int32>, _ bmat: UnsafePointer<CChar>, _ n: Int32, _ which: UnsafePointer<CChar>, _ nev: Int32, _ tol: Double, _ resid: UnsafeMutablePointer<Double>, _ ncv: Int32, _ v: UnsafeMutablePointer<Double>, _ ldv: Int32, _ iparam: UnsafeMutablePointer<Int32>, _ ipntr: UnsafeMutablePointer<Int32>, _ workd: UnsafeMutablePointer<Double>, _ workl: UnsafeMutablePointer<Double>, _ lworkl: Int32, _ info: UnsafeMutablePointer<Int32>) {
        pdsaupd_c(comm, ido, bmat, n, which, nev, tol, resid, ncv, v, ldv, iparam, ipntr, workd, workl, lworkl, info)
    }
    public static func parpackSeupd(_ comm: Int32, _ rvec: Int32, _ howmny: UnsafePointer<CChar>, _ select: UnsafePointer<Int32>, _ d: UnsafeMutablePointer<Double>, _ z: UnsafeMutablePointer<Double>, _ ldz: Int32, _ sigma: Double, _ bmat: UnsafePointer<CChar>, _ n: Int32, _ which: UnsafePointer<CChar>, _ nev: Int32, _ tol: Double, _ resid: UnsafeMutablePointer<Double>, _ ncv: Int32, _ v: UnsafeMutablePointer<Double>, _ ldv: Int32, _ iparam: UnsafeMutablePointer<Int32>, _ ipntr: UnsafeMutablePointer<Int32>, _ workd: UnsafeMutablePointer<Double>, _ workl: UnsafeMutablePointer<Double>, _ lworkl: Int32, _ info: UnsafeMutablePointer<Int32>) {
        pdseupd_c(comm, rvec, howmny, select, d, z, ldz, sigma, bmat, n, which, nev, tol, resid, ncv, v, ldv, iparam, ipntr, workd, workl, lworkl, info)
    }
}

/// Eigenpairs of a symmetric ``DistributedCSR`` by PARPACK's implicitly restarted Lanczos
/// (`p?saupd`/`p?seupd`): ARPACK's algorithm with the vectors partitioned like the matrix rows
/// and its inner products reduced over the communicator.
public enum DistributedEigensolver {
    /// Eigenvalues (ascending, the same on every rank) and this rank's rows of the eigenvectors.
    public struct Result<S: BLASScalar>: Sendable {
        public var values: [S]
        public var vectors: Matrix<S>
        /// How the run went, as Solvers' `SymmetricEigenResult` says it: PARPACK's restarts and
        /// operator applications, requested and converged counts, the relative residuals
        /// `||A x - λ x|| / max |λ|` (one distributed product of the returned vectors), the seed,
        /// the subspace size, tolerance and rule, one `Lanczos` phase (the same on every rank).
        public var diagnostics: SolverDiagnostics
    }

    /// `count` eigenpairs of the symmetric `a` (`which`: ARPACK's `LA`, `SA`, `LM`, `SM`, `BE`),
    /// with the parameters and start vector of Solvers' `SymmetricEigensolver` (the same seeded
    /// Gaussian `resid`, each rank its rows of it), so the two agree to rounding. Collective.
    /// - Throws: `SolverError` (Solvers) for a non-square matrix, different row and column
    ///   partitions, counts outside ARPACK's limits, or an ARPACK error code (with its message).
    public static func symmetric<S: PARPACKScalar>(_ a: DistributedCSR<S>, count nev: Int, which: ARPACKWhich = .largestAlgebraic,
                                                   subspaceSize: Int? = nil, tolerance: Double = 0, maxIterations: Int? = nil,
                                                   seed: UInt64 = 0) throws -> Result<S> {
        guard a.rows == a.columns, a.rowPartition == a.columnPartition else {
            throw SolverError.invalidConfiguration("DistributedEigensolver: the matrix must be square with equal row and column partitions")
        }
        guard let whichCode = which.code(symmetric: true) else {
            throw SolverError.invalidConfiguration("DistributedEigensolver: which .\(which) (\(which.rawValue)) is not a rule of the symmetric solver")
        }
        let n = a.rows
        let ncv = subspaceSize ?? min(n, max(2 * nev + 1, 20))
        guard nev >= 1, nev < n, ncv > nev, ncv <= n else {
            throw SolverError.invalidConfiguration("DistributedEigensolver: need 1 <= count < ncv <= n (count \(nev), ncv \(ncv), n \(n))")
        }
        let local = a.localRowRange.count
        let fcomm = cmpi_comm_c2f(a.comm.comm)
        let lworkl = ncv * (ncv + 8)
        let tol = tolerance > 0 ? S(tolerance) : S.ulpOfOne
        var resid = [S](repeating: 0, count: max(local, 1))
        // The single-process start vector: Gaussian values from Xoshiro256(seed), in order.
        var rng = Xoshiro256(seed: seed)
        for i in 0 ..< a.localRowRange.upperBound {
            let value = S(rng.nextGaussian())
            if i >= a.localRowRange.lowerBound { resid[i - a.localRowRange.lowerBound] = value }
        }
        var v = [S](repeating: 0, count: max(local, 1) * ncv)
        var workd = [S](repeating: 0, count: 3 * max(local, 1))
        var workl = [S](repeating: 0, count: lworkl)
        var iparam = [Int32](repeating: 0, count: 11), ipntr = [Int32](repeating: 0, count: 14)
        iparam[0] = 1; iparam[2] = Int32(clamping: maxIterations ?? max(300, 10 * n)); iparam[3] = 1; iparam[6] = 1
        var ido: Int32 = 0, info: Int32 = 1
        let start = Date()
        let bmat = cString("I"), whichC = cString(whichCode), howmny = cString("A")
        let n32 = Int32(local), ldv = Int32(max(local, 1))
        while true {
            S.parpackSaupd(fcomm, &ido, bmat, n32, whichC, Int32(nev), tol, &resid, Int32(ncv), &v, ldv, &iparam, &ipntr,
                           &workd, &workl, Int32(lworkl), &info)
            if ido == -1 || ido == 1 {
                let x = Int(ipntr[0] - 1), y = Int(ipntr[1] - 1)
                let block = Matrix(rows: 1, columns: local, elements: Array(workd[x ..< x + local]))
                let product = a.comm.counting("PARPACK A x") { a.multiply(block) }
                workd.replaceSubrange(y ..< y + local, with: product.elements)
            } else {
                break
            }
        }
        if info != 0 && info != 1 {
            throw SolverError.arpack(routine: "p?saupd", info: info, message: ARPACK.message("saupd", info))
        }
        let converged = Int(iparam[4])
        var select = [Int32](repeating: 0, count: ncv)
        var d = [S](repeating: 0, count: nev)
        var z = [S](repeating: 0, count: max(local, 1) * nev)
        var einfo: Int32 = 0
        S.parpackSeupd(fcomm, 1, howmny, &select, &d, &z, ldv, 0, bmat, n32, whichC, Int32(nev), tol, &resid, Int32(ncv), &v, ldv,
                       &iparam, &ipntr, &workd, &workl, Int32(lworkl), &einfo)
        if einfo != 0 { throw SolverError.arpack(routine: "p?seupd", info: einfo, message: ARPACK.message("seupd", einfo)) }
        let count = min(converged, nev)
        let order = (0 ..< count).sorted { d[$0] < d[$1] }
        var vectors = Matrix<S>(rows: local, columns: count)
        for (j, source) in order.enumerated() {
            for i in 0 ..< local { vectors.elements[i + j * local] = z[i + source * Int(ldv)] }
        }
        let values = order.map { d[$0] }
        let lanczosSeconds = a.comm.max(Date().timeIntervalSince(start))
        var diagnostics = SolverDiagnostics(
            method: "PARPACK Lanczos (\(a.comm.size) ranks)", requested: nev, converged: count, iterations: Int(iparam[2]),
            operatorApplications: Int(iparam[8]), seed: seed, phases: [SolverPhase(name: "Lanczos", seconds: lanczosSeconds)])
        diagnostics.relativeResiduals = relativeResiduals(a, values: values, vectors: vectors)
        diagnostics.subspaceSize = ncv
        diagnostics.tolerance = tolerance
        diagnostics.which = whichCode
        return Result(values: values, vectors: vectors, diagnostics: diagnostics)
    }

    /// `||A x_j - λ_j x_j|| / max_j |λ_j|` of the eigenpairs whose vectors' rows this rank holds,
    /// accumulated in `Double` and summed over the ranks. Collective: one product with the block.
    static func relativeResiduals<S: PARPACKScalar>(_ a: DistributedCSR<S>, values: [S], vectors: Matrix<S>) -> [Double] {
        let ax = a.multiply(vectors.transposed())           // count x local rows
        var squares = [Double](repeating: 0, count: values.count)
        for j in 0 ..< values.count {
            for i in 0 ..< vectors.rows {
                let r = Double(ax[j, i]) - Double(values[j]) * Double(vectors[i, j])
                squares[j] += r * r
            }
        }
        a.comm.allreduceSum(&squares)
        let scale = values.map { abs(Double($0)) }.max() ?? 1
        return squares.map { $0.squareRoot() / (scale > 0 ? scale : 1) }
    }

    static func cString(_ s: String) -> [CChar] { s.utf8.map { CChar(bitPattern: $0) } + [0] }
}
