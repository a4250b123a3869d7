import LinearAlgebra

// What every SVD back-end does before and after its own iteration: validate the rank, take the
// dense path for subspaces that reach min(m, n), and finish (signs, residuals, norm estimate).

/// What the configuration of every truncated-SVD back-end holds (``RandomizedSVD``,
/// ``BlockKrylovSVD``, ``ARPACKSVD``): the rank and the optional residual work, validated the
/// same way for all.
public protocol SVDConfiguration: Sendable {
    /// The number of singular triplets wanted, `k`, in `1...min(m, n)`.
    var rank: Int { get }
    /// Whether to compute the per-triplet residuals (two extra passes).
    var computeResiduals: Bool { get }
    /// Power iterations for the a-posteriori estimate of `||A - U S V'||`; 0 skips it.
    var residualNormEstimateIterations: Int { get }
    /// The seed of the back-end's random draws, recorded in the diagnostics.
    var seed: UInt64 { get }
}

extension RandomizedSVD.Configuration: SVDConfiguration {}
extension BlockKrylovSVD.Configuration: SVDConfiguration {}
extension ARPACKSVD.Configuration: SVDConfiguration {}

extension TruncatedSVD {
    /// Validates the common arguments of every SVD back-end: the operator's shape, the rank, the
    /// residual-estimate iterations.
    static func validate<Op: LinearOperator>(_ op: Op, _ configuration: some SVDConfiguration, solver: String) throws {
        let rank = configuration.rank, residualNormEstimateIterations = configuration.residualNormEstimateIterations
        if op.rows <= 0 || op.columns <= 0 {
            throw SolverError.invalidConfiguration("\(solver): the operator is \(op.rows) x \(op.columns); it must have at least one row and one column")
        }
        if rank < 1 || rank > min(op.rows, op.columns) {
            throw SolverError.invalidConfiguration("\(solver): rank \(rank) must be in 1...min(m, n) = 1...\(min(op.rows, op.columns)) for a \(op.rows) x \(op.columns) operator")
        }
        if residualNormEstimateIterations < 0 {
            throw SolverError.invalidConfiguration("\(solver): residualNormEstimateIterations must be >= 0, got \(residualNormEstimateIterations)")
        }
    }

    /// The dense answer when the subspace a back-end would build (`width` columns) reaches
    /// `min(m, n)`, where it is exact and cheaper: LAPACK `gesdd` on the densified operator,
    /// finished like every other back-end (signs, residuals, norm estimate); `nil` otherwise, and
    /// the back-end runs its own iteration. Shared by every back-end.
    static func denseAnswer<Op: LinearOperator>(_ op: Op, _ c: some SVDConfiguration, width: Int,
                                                clock: inout PhaseClock) throws -> TruncatedSVD?
    where Op.Scalar == Scalar {
        guard width >= min(op.rows, op.columns) else { return nil }
        let rank = c.rank
        let a = clock.measure("densify") { densify(op) }
        try checkFinite(a, "the densified operator")
        let svd = try clock.measure("dense SVD") { try a.svd() }
        let u = svd.u.columns(0..<rank).copy()
        let s = Array(svd.s[0..<rank])
        var vt = Matrix<Scalar>(rows: rank, columns: a.columns)
        for j in 0..<a.columns { for i in 0..<rank { vt[i, j] = svd.vt[i, j] } }
        var d = SolverDiagnostics(method: "dense gesdd", requested: rank, converged: rank, operatorApplications: 1, seed: c.seed)
        d.usedDenseSVD = true
        return try TruncatedSVD.finish(op, u: u, s: s, vt: vt, diagnostics: d, clock: &clock, c)
    }

    /// Applies the sign convention, computes the residual diagnostics (unless `residualsDone`:
    /// the back-end made them itself) and the optional norm estimate that `c` asks for, and
    /// packages the result.
    static func finish<Op: LinearOperator>(
        _ op: Op, u: Matrix<Scalar>, s: [Scalar], vt: Matrix<Scalar>, diagnostics: SolverDiagnostics,
        clock: inout PhaseClock, _ c: some SVDConfiguration, residualsDone: Bool = false
    ) throws -> TruncatedSVD<Scalar> where Op.Scalar == Scalar {
        let computeResiduals = c.computeResiduals && !residualsDone, normEstimateIterations = c.residualNormEstimateIterations
        var result = TruncatedSVD(u: u, s: s, vt: vt, diagnostics: diagnostics)
        result.diagnostics.converged = s.count
        result.applySignConvention()
        if computeResiduals && !s.isEmpty {
            let (left, right) = clock.measure("residuals") { result.relativeResiduals(op) }
            result.diagnostics.leftResiduals = left
            result.diagnostics.rightResiduals = right
            result.diagnostics.relativeResiduals = zip(left, right).map { max($0, $1) }
        }
        if normEstimateIterations > 0 {
            let estimate = clock.measure("residual norm estimate") {
                result.estimateResidualNorm(op, iterations: normEstimateIterations, seed: diagnostics.seed ?? 0)
            }
            result.diagnostics.residualNormEstimate = estimate
        }
        result.diagnostics.phases = clock.phases
        return result
    }

    /// `||A v_i - s_i u_i|| / s_1` and `||A' u_i - s_i v_i|| / s_1` for every triplet, accumulated
    /// in `Double`. Cost: one application of `A` and one of `A'` to `k` vectors.
    /// - Precondition: `op` has the shape the decomposition was computed for.
    public func relativeResiduals<Op: LinearOperator>(_ op: Op) -> (left: [Double], right: [Double])
    where Op.Scalar == Scalar {
        precondition(op.rows == u.rows && op.columns == vt.columns,
                     "relativeResiduals: operator is \(op.rows) x \(op.columns), decomposition is \(u.rows) x \(vt.columns)")
        let k = s.count
        if k == 0 { return ([], []) }
        let v = vt.transposed()
        let av = op.apply(v)           // m x k
        let atu = op.applyTranspose(u) // n x k
        let s1 = Double(s[0]) > 0 ? Double(s[0]) : 1
        // R = A V - U diag(s), column norms by BLAS (scal, axpy, nrm2): specialized work even
        // when this generic code itself runs unspecialized.
        func columnResiduals(_ image: Matrix<Scalar>, _ vectors: Matrix<Scalar>) -> [Double] {
            var scaled = vectors
            scaled.scaleColumns(by: s)
            var difference = image
            difference.axpy(-1, scaled)
            return difference.columnNorms().map { Double($0) / s1 }
        }
        return (columnResiduals(av, u), columnResiduals(atu, v))
    }

    /// An estimate of the spectral norm `||A - U diag(s) V'||_2` by `iterations` power iterations
    /// on the residual operator (as fbpca's `diffsnorm`): a lower bound that approaches the norm
    /// as the iterations grow. Cost: `iterations` applications of `A` and of `A'` to one vector,
    /// plus O((m + n) k) each.
    /// - Precondition: `iterations >= 1`; `op` has the decomposition's shape.
    public func estimateResidualNorm<Op: LinearOperator>(_ op: Op, iterations: Int = 20, seed: UInt64 = 0) -> Double
    where Op.Scalar == Scalar {
        precondition(iterations >= 1, "estimateResidualNorm: iterations must be at least 1")
        precondition(op.rows == u.rows && op.columns == vt.columns, "estimateResidualNorm: shape mismatch")
        let k = s.count
        let sMatrix = Matrix<Scalar>.diagonal(s)
        var x = Matrix<Scalar>.gaussian(rows: op.columns, columns: 1, seed: seed &+ 0x5EED)
        var estimate = 0.0
        for _ in 0..<iterations {
            let nx = x.frobeniusNorm
            if nx == 0 { return estimate }
            x.scale(by: 1 / nx)
            // y = (A - U S V') x
            var y = op.apply(x)
            if k > 0 { y -= u * (sMatrix * (vt * x)) }
            estimate = Double(y.frobeniusNorm)
            if estimate == 0 { return 0 }
            // x = (A - U S V')' y
            x = op.applyTranspose(y)
            if k > 0 { x -= Matrix.product(vt, .transpose, sMatrix * Matrix.product(u, .transpose, y)) }
        }
        return estimate
    }
}

