import Foundation
import LinearAlgebra
import Solvers

/// A truncated SVD `A ≈ U diag(s) V'` of a ``DistributedCSR``, each rank holding its rows of
/// `U` (its rows of `A`) and of `V` (its columns of `A`).
public struct DistributedSVD<Scalar: BLASScalar & MPIScalar>: Sendable {
    /// This rank's rows of `U`: `localRows x k`.
    public var u: Matrix<Scalar>
    /// The singular values, descending (the same on every rank).
    public var s: [Scalar]
    /// This rank's columns of `V'`: `k x localColumns` (i.e. its rows of `V`, held row-major).
    public var vt: Matrix<Scalar>
    /// Method, passes, residuals and seed, as the single-process solvers report them.
    public var diagnostics: SolverDiagnostics
}

/// The randomized SVD of Solvers' `RandomizedSVD` (the same configuration, the same test
/// matrix, the same arithmetic up to the order of sums) on a row-partitioned matrix:
///
/// - the Gaussian test matrix comes from the shared seed: rank `p` draws, from column `j`'s
///   stream, the entries of the rows it owns (no communication; a rank draws the streams up to
///   its last row, O(n l) at most);
/// - `A X` and `A' X` are ``DistributedCSR/multiply(_:)`` and ``DistributedCSR/multiplyTranspose(_:)``;
/// - Cholesky QR (and CholeskyQR2 for the final basis) with one `MPI_Allreduce` of the `l x l`
///   Gram matrix per pass; every rank then factors the same Gram matrix;
/// - the Rayleigh-Ritz step: `B = A'Q` (`n x l`, partitioned by columns) is factored by
///   CholeskyQR2, `B = Q_B R`, and every rank computes the SVD of the small `R' = W S Z'`, so that
///   `U = Q W`, `V = Q_B Z` (`B' = Q'A = W S (Q_B Z)'`, the single-process `svd(Q'A)`);
/// - signs as Solvers' `TruncatedSVD.applySignConvention()` (largest-magnitude entry of each
///   column of `U` positive, found with one `MPI_Allgather`);
/// - residuals `||A v_i - s_i u_i|| / s_1` (one more product, not counted in the passes, as in
///   the single-process sparse path) and `||A' u_i - s_i v_i|| / s_1` (from `A'Q`, no
///   product), with one `MPI_Allreduce` of the squared norms.
///
/// A Gram matrix that Cholesky cannot factor (a numerically rank-deficient block, where the
/// single-process code switches to Householder QR) is orthonormalised through its eigen-
/// decomposition instead (SVQB, Stathopoulos and Wu 2002), eigenvalues floored at `eps` of the
/// largest: the same subspace, so the result agrees with the single-process one to rounding
/// in the well-determined directions.
public enum DistributedRandomizedSVD {
    /// Computes the rank-`configuration.rank` SVD of `a`. Collective.
    /// - Parameters:
    ///   - a: this rank's rows of the matrix (row- and column-partitioned, ``DistributedCSR``).
    ///   - c: rank, oversampling, power iterations and seed, as for the single-process run.
    ///   - testMatrixRow: for each of this rank's columns, the row of the global Gaussian test
    ///     matrix it takes (`-1` for a zero row); `nil` means its global column index. The
    ///     follow-graph path numbers only the columns that survive the node selection, as the
    ///     single-process run does.
    ///   - shape: the shape of the matrix the SVD is of, when `a` holds it inside zero rows and
    ///     columns (the node selection of a follow graph); it sets the power-iteration rule
    ///     and the rank limit as the single-process run on the selected matrix. `nil`: `a`'s shape.
    /// - Throws: `SolverError` (Solvers) for a rank outside `1 ... min(m, n) - oversamples`
    ///   (the single-process dense fallback for tiny matrices has no distributed counterpart)
    ///   or non-finite values; LAPACK errors from the small factorizations.
    public static func compute<S: BLASScalar & MPIScalar>(_ a: DistributedCSR<S>, _ c: RandomizedSVD.Configuration,
                                                          testMatrixRow: [Int]? = nil, shape: (rows: Int, columns: Int)? = nil) throws -> DistributedSVD<S> {
        let comm = a.comm
        let m = shape?.rows ?? a.rows, n = shape?.columns ?? a.columns, l = c.rank + c.oversamples
        guard c.rank >= 1, c.oversamples >= 0, l < min(m, n) else {
            throw SolverError.invalidConfiguration("DistributedRandomizedSVD: rank \(c.rank) + oversamples \(c.oversamples) must be below min(m, n) = \(min(m, n))")
        }
        let q = c.resolvedPowerIterations(rows: m, columns: n)
        var phases = [SolverPhase]()
        func measure<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
            let start = Date()
            defer { phases.append(SolverPhase(name: name, seconds: Date().timeIntervalSince(start))) }
            return try comm.counting(name, body)
        }
        let omegaT: Matrix<S> = measure("random test matrix") {
            let rowsWanted = testMatrixRow ?? Array(a.localColumnRange)
            return gaussianRows(rowsWanted, columns: l, seed: c.seed)
        }
        var passes = 0
        let (qt, _) = try measure("range finder") { () throws -> (Matrix<S>, Matrix<S>) in
            var yt = a.multiply(omegaT); passes += 1
            try checkFinite(yt, comm, "A Ω")
            for _ in 0 ..< q {
                yt = try choleskyQRRows(yt, comm, passes: 1).q
                var zt = a.multiplyTranspose(yt); passes += 1
                zt = try choleskyQRRows(zt, comm, passes: 1).q
                yt = a.multiply(zt); passes += 1
                try checkFinite(yt, comm, "a power iteration")
            }
            return try choleskyQRRows(yt, comm, passes: 2)
        }
        let (u, s, vt, w, bt) = try measure("Rayleigh-Ritz") { () throws -> (Matrix<S>, [S], Matrix<S>, Matrix<S>, Matrix<S>) in
            let bt = a.multiplyTranspose(qt); passes += 1       // (A'Q)' = Q'A, l x localColumns
            try checkFinite(bt, comm, "A' Q")
            let (qbt, factor) = try choleskyQRRows(bt, comm, passes: 2)   // B' = F Q_B'
            let small = try factor.svd()                          // F = W S Z'
            let k = min(c.rank, small.s.count)
            let w = small.u.columns(0 ..< k).copy()               // l x k
            let u = Matrix.product(qt, .transpose, w, .none)      // U = Q W, localRows x k
            let zt = Matrix.product(Matrix<S>.identity(small.vt.rows).columns(0 ..< k), .transpose, small.vt, .none)
            let vt = Matrix.product(zt, .none, qbt, .none)        // (Q_B Z)', k x localColumns
            return (u, Array(small.s[0 ..< k]), vt, w, bt)
        }
        var result = DistributedSVD(u: u, s: s, vt: vt, diagnostics: SolverDiagnostics(
            method: "distributed randomized (choleskyQR, q = \(q), p = \(c.oversamples), \(comm.size) ranks)",
            requested: c.rank, converged: s.count, iterations: q, operatorApplications: passes, seed: c.seed))
        if c.computeResiduals && !s.isEmpty {
            // Before the sign convention: flipping u_i and v_i together leaves both norms as they are.
            let (left, right) = measure("residuals") { () -> ([Double], [Double]) in
                var leftBlock = a.multiply(result.vt)                // (A V)', k x localRows
                leftBlock.axpy(-1, Matrix.product(Matrix<S>.diagonal(result.s), .none, result.u, .transpose))
                var rightBlock = Matrix.product(w, .transpose, bt, .none)   // (A'U)' = W' (A'Q)'
                rightBlock.axpy(-1, result.vt.scaledRows(by: result.s))
                var norms = rowSquaredNorms(leftBlock) + rowSquaredNorms(rightBlock)
                comm.allreduceSum(&norms)
                let s1 = Double(result.s[0]) > 0 ? Double(result.s[0]) : 1
                let k = result.s.count
                return (norms[0 ..< k].map { $0.squareRoot() / s1 }, norms[k...].map { $0.squareRoot() / s1 })
            }
            result.diagnostics.leftResiduals = left
            result.diagnostics.rightResiduals = right
            result.diagnostics.relativeResiduals = zip(left, right).map { Swift.max($0, $1) }
        }
        measure("signs") { applySignConvention(&result, a) }
        result.diagnostics.operatorApplications = passes
        result.diagnostics.phases = phases
        result.diagnostics.threads = Parallel.threads
        return result
    }

    /// Squared Euclidean norm of each row of `x`, in `Double`.
    static func rowSquaredNorms<S: BLASScalar>(_ x: Matrix<S>) -> [Double] {
        var out = [Double](repeating: 0, count: x.rows)
        x.withUnsafeBufferPointer { p in
            for j in 0 ..< x.columns { for i in 0 ..< x.rows { let v = Double(p[i + j * x.rows]); out[i] += v * v } }
        }
        return out
    }

    /// Rows `rowsWanted` (global indices, `-1` for zero) of the `n x columns` Gaussian test
    /// matrix of Solvers' `RandomizedSVD` (column `j` from `Xoshiro256.stream(seed:index: j)`),
    /// transposed: `columns x rowsWanted.count`. Draws each stream up to the largest row wanted.
    public static func gaussianRows<S: BLASScalar>(_ rowsWanted: [Int], columns l: Int, seed: UInt64) -> Matrix<S> {
        var out = Matrix<S>(rows: l, columns: rowsWanted.count)
        let last = rowsWanted.max() ?? -1
        guard last >= 0 else { return out }
        let order = rowsWanted.enumerated().filter { $0.element >= 0 }.sorted { $0.element < $1.element }
        for j in 0 ..< l {
            var rng = Xoshiro256.stream(seed: seed, index: UInt64(j))
            var drawn = -1, value: S = 0
            for (position, row) in order {
                while drawn < row { value = S(rng.nextGaussian()); drawn += 1 }
                out.elements[j + position * l] = value
            }
        }
        return out
    }

    /// Throws when any rank's block holds NaN or infinity (every rank throws together).
    static func checkFinite<S: BLASScalar & MPIScalar>(_ m: Matrix<S>, _ comm: Communicator, _ what: String) throws {
        let bad = comm.max(Int32(m.allFinite ? 0 : 1))
        if bad != 0 { throw SolverError.nonFinite("\(what) contains NaN or infinity; check the operator's input") }
    }

    /// Orthonormalises the columns of the distributed tall `Y = yt'` (each rank holds
    /// `l x localRows`) by Cholesky QR, `passes` times, with one allreduce of the `l x l` Gram
    /// matrix per pass. Returns `Q' ` and `F` with `Y' = F Q'` (`F = L_1 L_2 ...`).
    public static func choleskyQRRows<S: BLASScalar & MPIScalar>(_ yt: Matrix<S>, _ comm: Communicator, passes: Int) throws -> (q: Matrix<S>, factor: Matrix<S>) {
        let l = yt.rows
        var qt = yt
        var factor = Matrix<S>.identity(l)
        for _ in 0 ..< passes {
            var gram = Matrix.product(qt, .none, qt, .transpose)
            comm.allreduceSum(&gram)
            var step: Matrix<S>, inverse: Matrix<S>
            if let chol = try? gram.cholesky(), wellConditioned(chol.lower) {
                step = chol.lower
                inverse = try chol.lower.solve(Matrix<S>.identity(l))
            } else {
                // SVQB: G = V Λ V', Q' = Λ^-1/2 V' Y', Y' = (V Λ^1/2) Q'.
                let eigen = try gram.symmetricEigen()
                let largest = Swift.max(eigen.values.last ?? 0, S.leastNormalMagnitude)
                let floor = largest * S.ulpOfOne
                let roots = eigen.values.map { Swift.max($0, floor).squareRoot() }
                step = eigen.vectors
                step.scaleColumns(by: roots)
                var scaled = eigen.vectors
                scaled.scaleColumns(by: roots.map { 1 / $0 })
                inverse = scaled.transposed()
            }
            qt = Matrix.product(inverse, .none, qt, .none)
            factor = Matrix.product(factor, .none, step, .none)
        }
        return (qt, factor)
    }

    /// The single-process rule: Cholesky QR is used when `(min L_ii / max L_ii)^2 >= 20 eps`.
    static func wellConditioned<S: BLASScalar>(_ lower: Matrix<S>) -> Bool {
        let d = (0 ..< lower.rows).map { lower[$0, $0] }
        guard let smallest = d.min(), let largest = d.max(), largest > 0 else { return false }
        return (smallest / largest) * (smallest / largest) >= 20 * S.ulpOfOne
    }

    /// Flips columns of `U` (and rows of `V'`) so that each column's largest-magnitude entry,
    /// over all ranks (the first in global row order on ties), is positive.
    static func applySignConvention<S: BLASScalar & MPIScalar>(_ r: inout DistributedSVD<S>, _ a: DistributedCSR<S>) {
        let k = r.s.count, m = r.u.rows
        // Per column: largest magnitude, its global row, its sign.
        var local = [Double]()
        for j in 0 ..< k {
            var best = -1.0, row = 0, negative = false
            for i in 0 ..< m {
                let x = Double(r.u.elements[i + j * m])
                if abs(x) > best { best = abs(x); row = i; negative = x < 0 }
            }
            local += [best, Double(a.localRowRange.lowerBound + row), negative ? -1 : 1]
        }
        let all = a.comm.allgatherv(local).values
        for j in 0 ..< k {
            var best = -1.0, row = Double.infinity, sign = 1.0
            for p in 0 ..< a.comm.size {
                let at = (p * k + j) * 3
                if all[at] > best || (all[at] == best && all[at + 1] < row) { best = all[at]; row = all[at + 1]; sign = all[at + 2] }
            }
            if sign < 0 {
                for i in 0 ..< m { r.u.elements[i + j * m] = -r.u.elements[i + j * m] }
                for c in 0 ..< r.vt.columns { r.vt.elements[j + c * k] = -r.vt.elements[j + c * k] }
            }
        }
    }
}
