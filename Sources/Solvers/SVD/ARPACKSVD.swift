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
        /// Basis size, tolerance, restart budget and seed (see ``ARPACKOptions``; the basis must
        /// satisfy `rank < ncv <=` the eigenproblem's size).
        public var arpack: ARPACKOptions
        /// Whether to compute the per-triplet residuals (two extra passes; default `true`).
        public var computeResiduals: Bool
        /// Power iterations for the a-posteriori estimate of `||A - U S V'||`; 0 (default) skips it.
        public var residualNormEstimateIterations: Int
        /// The seed of the starting vector, ``ARPACKOptions/seed`` (``SVDConfiguration``'s view of it).
        public var seed: UInt64 { arpack.seed }

        /// A configuration; every parameter but the first has the documented default (`subspaceSize`,
        /// `tolerance`, `maxIterations` and `seed` are ``ARPACKOptions``'s).
        public init(rank: Int, mode: Mode = .normalEquations, subspaceSize: Int? = nil, tolerance: Double = 0,
                    maxIterations: Int? = nil, seed: UInt64 = 0, computeResiduals: Bool = true,
                    residualNormEstimateIterations: Int = 0) {
            self.rank = rank; self.mode = mode
            self.arpack = ARPACKOptions(subspaceSize: subspaceSize, tolerance: tolerance, maxIterations: maxIterations, seed: seed)
            self.computeResiduals = computeResiduals
            self.residualNormEstimateIterations = residualNormEstimateIterations
        }
    }

    /// Computes the rank-`k` truncated SVD of `op`.
    ///
    /// - Parameters:
    ///   - op: the `m x n` operator `A`.
    ///   - configuration: rank, eigenproblem, ARPACK options and residual diagnostics.
    ///   - progress: receives an ``ARPACKProgress`` every ``ARPACKOptions/progressInterval``
    ///     seconds while ARPACK runs (each of its operator applications is one product with `A`
    ///     and one with `A'`); it must not call an ARPACK solver.
    /// - Returns: `U`, `s`, `V'` with the sign convention of ``TruncatedSVD``. When ARPACK stops
    ///   at `maxIterations` with only some triplets converged, those are returned (fewer than
    ///   `rank`) and ``SolverDiagnostics/allConverged`` is `false`.
    /// - Throws: ``SolverError/invalidConfiguration(_:)`` for a rank outside `1...min(m, n)` or a
    ///   bad basis size; ``SolverError/arpack(routine:info:message:)`` for ARPACK failures; `LAPACKError` when the final SVD fails.
    public static func compute<Op: LinearOperator>(_ op: Op, _ configuration: Configuration,
                                                   progress: (ARPACKProgress) -> Void = { _ in }) throws
        -> TruncatedSVD<Op.Scalar>
    {
        typealias S = Op.Scalar
        let c = configuration
        try TruncatedSVD<S>.validate(op, c, solver: "ARPACKSVD")
        let m = op.rows, n = op.columns
        var clock = PhaseClock()
        if let dense = try TruncatedSVD<S>.denseAnswer(op, c, width: c.rank, clock: &clock) { return dense }

        let dimension: Int
        let apply: (UnsafePointer<S>, UnsafeMutablePointer<S>) throws -> Void
        let rightSide = n <= m     // normal equations: eigenvectors of A'A (right) or AA' (left)
        // A sparse operator runs the SpMV kernels on ARPACK's own vectors (no allocation or copy
        // per step; A' x gathers over the transposed index).
        let sparse = (op as? any CSRRepresentable<S>).map { $0.csrMatrix() }
        sparse?.buildTransposeIndex()
        let buffer = UnsafeMutablePointer<S>.allocate(capacity: max(m, n))
        defer { buffer.deallocate() }
        let scratch = UnsafeSendableBox(buffer)
        switch c.mode {
        case .normalEquations where sparse != nil:
            dimension = min(m, n)
            let a = sparse!
            apply = { x, y in
                if rightSide { a.multiply(x, into: scratch.value); a.multiplyTranspose(UnsafePointer(scratch.value), into: y) }
                else { a.multiplyTranspose(x, into: scratch.value); a.multiply(UnsafePointer(scratch.value), into: y) }
            }
        case .augmented where sparse != nil:
            dimension = m + n
            let a = sparse!
            apply = { x, y in a.multiply(x + m, into: y); a.multiplyTranspose(x, into: y + m) }
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
        let (ncv, maxIterations) = try c.arpack.resolved(nev: c.rank, what: "rank", n: dimension, gap: 1, solver: "ARPACKSVD")

        let out = try clock.measure("ARPACK") {
            try ARPACKDriver<S>.symmetric(n: dimension, nev: c.rank, which: "LA", ncv: ncv, maxIterations: maxIterations,
                                          options: c.arpack, mode: 1, sigma: 0, progress: progress, applyOP: apply)
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
                return try rayleighRitz(op, basis: left, rank: found)
            }
            let t = try rayleighRitz(op.transposedOperator, basis: basisRight!, rank: found)
            return (t.vt.transposed(), t.s, t.u.transposed())
        }
        let method = c.mode == .normalEquations ? (rightSide ? "ARPACK (A'A)" : "ARPACK (AA')") : "ARPACK (augmented)"
        var d = SolverDiagnostics(arpack: out, method: method, requested: c.rank, returned: found, which: "LA",
                                  subspaceSize: ncv, options: c.arpack)
        d.operatorApplications = 2 * out.operatorApplications + 1
        return try TruncatedSVD.finish(op, u: u, s: s, vt: vt, diagnostics: d, clock: &clock, c)
    }
}
