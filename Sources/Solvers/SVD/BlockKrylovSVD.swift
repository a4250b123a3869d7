import LinearAlgebra

/// Randomized block Krylov SVD (Musco and Musco 2015, "Randomized Block Krylov Methods for
/// Stronger and Faster Approximate Singular Value Decomposition").
///
/// Where ``RandomizedSVD`` keeps only the last block of its power iterations, this method keeps
/// every pass's block: with `Y_0 = A Ω` it builds an orthonormal basis of the Krylov space
/// `[Y_0, (AA') Y_0, ..., (AA')^q Y_0]` (block Gram-Schmidt, done twice, then QR of each new
/// block, and a final QR of the whole basis; every QR is CholeskyQR2 with a Householder fallback)
/// and finishes with Rayleigh-Ritz on that basis. For slowly decaying spectra it reaches
/// a given accuracy with far fewer passes than the plain power method.
///
/// Cost: `2q + 2` passes over `A` (the last with `b(q + 1)` vectors, the others with `b`),
/// plus O(m (b (q + 1))^2) of orthogonalisation and an SVD of an `n x b(q + 1)` matrix.
/// When `b(q + 1) >= min(m, n)` the operator is densified and LAPACK's `gesdd` is used.
public enum BlockKrylovSVD {
    /// The parameters of a run.
    public struct Configuration: Sendable, Equatable {
        /// The number of singular triplets wanted, `k`. Must be in `1...min(m, n)`.
        public var rank: Int
        /// Columns per Krylov block, `b`; `nil` (default) uses `rank`, as in the paper.
        public var blockSize: Int?
        /// Krylov iterations `q` (default 4): the basis has `b (q + 1)` columns.
        public var iterations: Int
        /// Seed of the Gaussian starting block (default 0).
        public var seed: UInt64
        /// Whether to compute the per-triplet residuals (two extra passes; default `true`).
        public var computeResiduals: Bool
        /// Power iterations for the a-posteriori estimate of `||A - U S V'||`; 0 (default) skips it.
        public var residualNormEstimateIterations: Int

        /// A configuration; every parameter but the first has the documented default.
        public init(rank: Int, blockSize: Int? = nil, iterations: Int = 4, seed: UInt64 = 0,
                    computeResiduals: Bool = true, residualNormEstimateIterations: Int = 0) {
            self.rank = rank; self.blockSize = blockSize; self.iterations = iterations; self.seed = seed
            self.computeResiduals = computeResiduals
            self.residualNormEstimateIterations = residualNormEstimateIterations
        }
    }

    /// Computes the rank-`k` truncated SVD of `op`.
    ///
    /// - Returns: the same ``TruncatedSVD`` as ``RandomizedSVD/compute(_:_:)``.
    /// - Throws: ``SolverError/invalidConfiguration(_:)`` for a rank outside `1...min(m, n)`, a
    ///   block size below `rank` or negative iterations; ``SolverError/nonFinite(_:)`` when the
    ///   operator produces NaN or infinity; `LAPACKError` when a factorization fails.
    public static func compute<Op: LinearOperator>(_ op: Op, _ configuration: Configuration) throws
        -> TruncatedSVD<Op.Scalar>
    {
        typealias S = Op.Scalar
        let c = configuration
        try TruncatedSVD<S>.validate(op, c, solver: "BlockKrylovSVD")
        let b = c.blockSize ?? c.rank
        if b < c.rank { throw SolverError.invalidConfiguration("BlockKrylovSVD: blockSize \(b) is below rank \(c.rank)") }
        if c.iterations < 0 { throw SolverError.invalidConfiguration("BlockKrylovSVD: iterations must be >= 0, got \(c.iterations)") }
        let m = op.rows, n = op.columns
        let width = b * (c.iterations + 1)
        var clock = PhaseClock()

        if let dense = try TruncatedSVD<S>.denseAnswer(op, c, width: width, clock: &clock) { return dense }

        let omega: Matrix<S> = clock.measure("random test matrix") { parallelGaussian(rows: n, columns: b, seed: c.seed) }
        var passes = 0
        let basis: Matrix<S> = try clock.measure("Krylov basis") {
            var krylov = Matrix<S>(rows: m, columns: width)
            var block = op.apply(omega); passes += 1
            try checkFinite(block, "A Ω")
            block = try choleskyOrthonormalized(block)
            krylov.setColumns(startingAt: 0, from: block)
            for i in stride(from: 1, through: c.iterations, by: 1) {
                let z = try choleskyOrthonormalized(op.applyTranspose(block)); passes += 1
                var y = op.apply(z); passes += 1
                try checkFinite(y, "Krylov block \(i)")
                let previous = krylov.columns(0..<(i * b))
                for _ in 0..<2 {   // block classical Gram-Schmidt, twice is enough
                    let coefficients = Matrix.product(previous, .transpose, y)
                    Matrix.gemm(previous, .none, coefficients, .none, alpha: -1, beta: 1, into: &y)
                }
                block = try choleskyOrthonormalized(y)
                krylov.setColumns(startingAt: i * b, from: block)
            }
            // A block that was (nearly) inside the span of the earlier ones normalises to noise
            // that is not orthogonal to them; one more QR of the whole basis (CholeskyQR2, falling
            // back to Householder QR when the basis is ill-conditioned) makes it orthonormal.
            return try choleskyOrthonormalized(krylov)
        }
        let (u, s, vt) = try clock.measure("Rayleigh-Ritz") {
            try rayleighRitz(op, basis: basis, rank: c.rank)
        }
        passes += 1
        let d = SolverDiagnostics(method: "block Krylov (b = \(b), q = \(c.iterations))", requested: c.rank,
                                  converged: s.count, iterations: c.iterations, operatorApplications: passes, seed: c.seed)
        return try TruncatedSVD.finish(op, u: u, s: s, vt: vt, diagnostics: d, clock: &clock, c)
    }
}
