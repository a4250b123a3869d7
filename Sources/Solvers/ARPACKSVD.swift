import LinearAlgebra

/// Truncated SVD on ARPACK's symmetric Lanczos solver, as scipy's `svds`: the largest
/// eigenpairs of `A'A` (or `AA'`, whichever is smaller) or of the augmented operator
/// `[[0, A], [A', 0]]`, followed by a Rayleigh-Ritz step (`A V = U S W'`, one block pass) that
/// gives the singular values at full precision and the left vectors. Returns the same
/// ``TruncatedSVD`` as the randomized back-ends.
///
/// ```swift
/// let svd = try ARPACKSVD.compute(a, .init(rank: 64, tolerance: 1e-6))
/// ```
///
/// Cost: each Lanczos step applies `A` and `A'` to one vector (2 passes); ARPACK takes about
/// `iterations * (ncv - k)` steps. When `rank == min(m, n)` the dense SVD is used.
public enum ARPACKSVD {
    /// Which symmetric eigenproblem carries the SVD.
    public enum Mode: String, Sendable, CaseIterable {
        /// `A'A` when `n <= m`, else `AA'` (scipy's default): the smaller problem, eigenvalues
        /// `s_i^2`; small singular values lose relative accuracy (squared condition).
        case normalEquations
        /// `[[0, A], [A', 0]]` of size `m + n`, eigenvalues `±s_i`: no squaring, but a larger
        /// problem whose wanted eigenvalues are less separated, so it needs more steps.
        case augmented
    }

    /// The parameters of a run.
    public struct Configuration: Sendable, Equatable {
        /// The number of singular triplets wanted, `k`, in `1...min(m, n)`.
        public var rank: Int
        /// The eigenproblem (default ``Mode/normalEquations``).
        public var mode: Mode
        /// Lanczos basis size; `nil` (default) uses `max(2k + 1, 20)` capped at the problem size.
        public var subspaceSize: Int?
        /// ARPACK's relative tolerance on the eigenvalues; 0 (default) means machine precision.
        public var tolerance: Double
        /// Maximum restarts; `nil` (default) uses 10 times the problem size.
        public var maxIterations: Int?
        /// Seed of the starting vector (default 0).
        public var seed: UInt64
        /// Whether to compute the per-triplet residuals (two extra passes; default `true`).
        public var computeResiduals: Bool
        /// Power iterations for the a-posteriori estimate of `||A - U S V'||`; 0 (default) skips it.
        public var residualNormEstimateIterations: Int

        /// A configuration; every parameter but the first has the documented default.
        public init(rank: Int, mode: Mode = .normalEquations, subspaceSize: Int? = nil, tolerance: Double = 0,
                    maxIterations: Int? = nil, seed: UInt64 = 0, computeResiduals: Bool = true,
                    residualNormEstimateIterations: Int = 0) {
            self.rank = rank; self.mode = mode; self.subspaceSize = subspaceSize; self.tolerance = tolerance
            self.maxIterations = maxIterations; self.seed = seed; self.computeResiduals = computeResiduals
            self.residualNormEstimateIterations = residualNormEstimateIterations
        }
    }

    /// Computes the rank-`k` truncated SVD of `op`.
    ///
    /// - Returns: `U`, `s`, `V'` with the sign convention of ``TruncatedSVD``. When ARPACK stops
    ///   at `maxIterations` with only some triplets converged, those are returned (fewer than
    ///   `rank`) and ``SVDDiagnostics/allConverged`` is `false`.
    /// - Throws: ``SolverError/invalidConfiguration(_:)`` for a rank outside `1...min(m, n)` or a
    ///   bad basis size; ``ARPACKError`` for ARPACK failures; ``LAPACKError`` when the final SVD fails.
    public static func compute<Op: LinearOperator>(_ op: Op, _ configuration: Configuration) throws
        -> TruncatedSVD<Op.Scalar>
    {
        typealias S = Op.Scalar
        let c = configuration
        try TruncatedSVD<S>.validate(op, rank: c.rank, solver: "ARPACKSVD")
        if c.residualNormEstimateIterations < 0 { throw SolverError.invalidConfiguration("ARPACKSVD: residualNormEstimateIterations must be >= 0") }
        let m = op.rows, n = op.columns
        var clock = PhaseClock()
        if c.rank == min(m, n) {
            let (u, s, vt) = try TruncatedSVD<S>.dense(op, rank: c.rank, clock: &clock)
            let d = SVDDiagnostics(method: "dense gesdd", seed: c.seed, requestedRank: c.rank, passes: 1, usedDenseSVD: true)
            return try TruncatedSVD.finish(op, u: u, s: s, vt: vt, diagnostics: d, clock: &clock,
                                           computeResiduals: c.computeResiduals,
                                           normEstimateIterations: c.residualNormEstimateIterations)
        }

        let dimension: Int
        let apply: (UnsafePointer<S>, UnsafeMutablePointer<S>) throws -> Void
        let rightSide = n <= m     // normal equations: eigenvectors of A'A (right) or AA' (left)
        switch c.mode {
        case .normalEquations:
            dimension = min(m, n)
            let inner = rightSide ? m : n
            apply = { x, y in
                let xm = Matrix<S>(rows: dimension, columns: 1, elements: Array(UnsafeBufferPointer(start: x, count: dimension)))
                var t = Matrix<S>(rows: inner, columns: 1), ym = Matrix<S>(rows: dimension, columns: 1)
                if rightSide { op.apply(xm, into: &t); op.applyTranspose(t, into: &ym) }
                else { op.applyTranspose(xm, into: &t); op.apply(t, into: &ym) }
                ym.elements.withUnsafeBufferPointer { y.update(from: $0.baseAddress!, count: dimension) }
            }
        case .augmented:
            dimension = m + n
            apply = { x, y in
                // [y_top; y_bottom] = [A x_bottom; A' x_top]
                let top = Matrix<S>(rows: m, columns: 1, elements: Array(UnsafeBufferPointer(start: x, count: m)))
                let bottom = Matrix<S>(rows: n, columns: 1, elements: Array(UnsafeBufferPointer(start: x + m, count: n)))
                var yt = Matrix<S>(rows: m, columns: 1), yb = Matrix<S>(rows: n, columns: 1)
                op.apply(bottom, into: &yt); op.applyTranspose(top, into: &yb)
                yt.elements.withUnsafeBufferPointer { y.update(from: $0.baseAddress!, count: m) }
                yb.elements.withUnsafeBufferPointer { (y + m).update(from: $0.baseAddress!, count: n) }
            }
        }
        let ncv = c.subspaceSize ?? min(max(2 * c.rank + 1, 20), dimension)
        if ncv <= c.rank || ncv > dimension {
            throw SolverError.invalidConfiguration("ARPACKSVD: subspaceSize \(ncv) must satisfy rank < ncv <= \(dimension) (the eigenproblem's size)")
        }
        if let it = c.maxIterations, it < 1 { throw SolverError.invalidConfiguration("ARPACKSVD: maxIterations must be >= 1, got \(it)") }
        if !(c.tolerance >= 0) { throw SolverError.invalidConfiguration("ARPACKSVD: tolerance must be >= 0, got \(c.tolerance)") }

        let out = try clock.measure("ARPACK") {
            try ARPACKDriver<S>.symmetric(n: dimension, nev: c.rank, which: "LA", ncv: ncv, tolerance: S(c.tolerance),
                                          maxIterations: c.maxIterations ?? max(10 * dimension, 100), seed: c.seed,
                                          mode: 1, sigma: 0, applyOP: apply)
        }
        let found = out.values.count
        let (u, s, vt): (Matrix<S>, [S], Matrix<S>) = try clock.measure("Rayleigh-Ritz") {
            if found == 0 { return (Matrix(rows: m, columns: 0), [], Matrix(rows: 0, columns: n)) }
            // Eigenvalues are ascending: take them largest first.
            var basisLeft: Matrix<S>? = nil, basisRight: Matrix<S>? = nil
            switch c.mode {
            case .normalEquations:
                var b = Matrix<S>(rows: dimension, columns: found)
                for j in 0..<found { b.setColumn(j, out.vectors.column(found - 1 - j)) }
                if rightSide { basisRight = b } else { basisLeft = b }
            case .augmented:
                var b = Matrix<S>(rows: n, columns: found)
                for j in 0..<found { b.setColumn(j, Array(out.vectors.column(found - 1 - j)[m..<(m + n)])) }
                basisRight = try b.orthonormalized()
            }
            if let left = basisLeft {
                return try TruncatedSVD<S>.rayleighRitz(op, basis: left, rank: found)
            }
            let t = try TruncatedSVD<S>.rayleighRitz(op.transposedOperator, basis: basisRight!, rank: found)
            return (t.vt.transposed(), t.s, t.u.transposed())
        }
        var d = SVDDiagnostics(method: c.mode == .normalEquations ? (rightSide ? "ARPACK (A'A)" : "ARPACK (AA')") : "ARPACK (augmented)",
                               seed: c.seed, requestedRank: c.rank, passes: 2 * out.operatorApplications + 1,
                               iterations: out.iterations, convergedCount: found)
        d.operatorSeconds = out.operatorSeconds
        return try TruncatedSVD.finish(op, u: u, s: s, vt: vt, diagnostics: d, clock: &clock,
                                       computeResiduals: c.computeResiduals,
                                       normEstimateIterations: c.residualNormEstimateIterations)
    }
}
