import LinearAlgebra

/// Randomized truncated SVD (Halko, Martinsson and Tropp 2011, algorithms 4.4 and 5.1), as
/// scikit-learn's `randomized_svd`.
///
/// With `l = rank + oversamples`: draw a Gaussian `n x l` block `Ω`, form `Y = A Ω`, run `q`
/// power iterations `Y = A (A' Y)` with a normaliser between applications where needed, orthonormalise
/// `Q = qr(Y)`, and finish with the SVD of the small `B = Q'A` (computed as `(A'Q)'`).
///
/// ```swift
/// let svd = try RandomizedSVD.compute(adjacency, .init(rank: 64, seed: 7))
/// print(svd.s, svd.diagnostics.maxRelativeResidual)
/// ```
///
/// Cost: `2q + 2` passes over `A` with `l` vectors, plus O((m + n) l^2) of dense work
/// (QR/LU of the blocks, SVD of `A'Q`), plus two more passes for the residual diagnostics.
/// When `l >= min(m, n)` the operator is densified and LAPACK's `gesdd` is used instead.
///
/// A sparse operator (`CSRRepresentable`: a `CSRMatrix`, or one scaled or transposed) takes a
/// faster path with the same answer: the scalings are folded into one copy of the values, `A' X`
/// gathers over the matrix's transposed index on every thread, every block stays in the
/// kernels' row-major layout (no per-product copies or transpositions), the right residuals
/// reuse the Rayleigh-Ritz product (`A'U = (A'Q) W`, one pass fewer), and each phase reports
/// the bytes it moves (``SolverPhase/gigabytesPerSecond``, ``SolverPhase/floorSeconds``).
public enum RandomizedSVD {
    /// What to do to the block between power-iteration passes, so that the columns do not all
    /// collapse onto the leading singular vector (and, in `Float`, do not overflow).
    public enum Normalizer: String, Sendable, CaseIterable {
        /// Orthonormalise with Cholesky QR (`Y'Y = LL'`, `Y L^-T`): two GEMMs, many times faster
        /// than Householder QR on tall blocks; falls back to Householder QR when the block is too
        /// ill-conditioned for it. The final basis uses two passes (CholeskyQR2). The default
        /// until session 13 (now ``choleskyQRWhenNeeded``, which skips the normalisations this one
        /// makes when the block's measured condition growth shows they change nothing but rounding).
        case choleskyQR
        /// Orthonormalise with Householder QR (most stable, but memory-bound on tall blocks).
        case qr
        /// Replace the block by the permuted lower factor of its LU factorization (scikit-learn's
        /// default; cheaper than QR, nearly as good).
        case lu
        /// No normalisation: fastest, but loses the smaller singular directions to rounding when
        /// there are many power iterations, and may overflow.
        case none
        /// Cholesky QR once per power iteration, after each `A'` product only (and CholeskyQR2 for
        /// the final basis): half the dense work of ``choleskyQR``. Between two normalisations the
        /// block's condition grows by `(s_1 / s_l)^2`, so singular direction `j` is resolved to
        /// about `eps (s_1 / s_j)^2` instead of `eps (s_1 / s_j)`: for spectra that fall by at most
        /// a factor of about 30 (Float) or 10^5 (Double) over the `l` columns. The undirected
        /// spectral embedding's proximity SVD uses it (its spectra fall by 2.5 to 7 over 138).
        case choleskyQRPerIteration
        /// Cholesky QR after every `A'` product (as ``choleskyQRPerIteration``) and after an `A`
        /// product only when the block needs it: each normalisation measures how fast the block's
        /// condition number and norm grow per product, and the one after `A` is skipped while the
        /// condition number reached by the next `A'` product stays at most 100 (`Float`; 10^6 in
        /// `Double`) and the norm far from overflow and underflow; the first product is always
        /// normalised, and the final basis gets CholeskyQR2 (see `NormalizationSchedule`). The
        /// same subspace as ``choleskyQR`` up to rounding (direction `l` resolved to `eps` times
        /// at most that condition number), with `q + 1` normalisations instead of `2q` on a flat
        /// spectrum (`s_1 / s_l` up to about 10) and every one on a steep one. The default.
        ///
        /// (Normalisations are not skipped over longer runs of products: the condition a block
        /// reaches is not predictable from its first products, whose columns mix the whole
        /// spectrum; on slashdot's adjacency, 1 normalisation in 8 raised the residual from 0.0273
        /// to 0.0292 where this rule keeps 0.0273.)
        case choleskyQRWhenNeeded
    }

    /// The parameters of a run.
    public struct Configuration: Sendable, Equatable {
        /// The number of singular triplets wanted, `k`. Must be in `1...min(m, n)`.
        public var rank: Int
        /// Extra columns of the random block, `p` (default 10).
        public var oversamples: Int
        /// Power iterations `q`; `nil` (default) chooses as scikit-learn does: 7 when
        /// `rank < 0.1 min(m, n)`, else 4.
        public var powerIterations: Int?
        /// The normaliser between passes (default ``Normalizer/choleskyQRWhenNeeded``).
        public var normalizer: Normalizer
        /// Seed of the Gaussian test matrix (default 0).
        public var seed: UInt64
        /// Whether to compute the per-triplet residuals of ``SolverDiagnostics`` (two extra passes;
        /// default `true`).
        public var computeResiduals: Bool
        /// Power iterations for the a-posteriori estimate of `||A - U S V'||`; 0 (default) skips it.
        public var residualNormEstimateIterations: Int
        /// For an operator whose columns are renumbered (`CSRMatrix/permuted(rowOrder:columnOrder:)`):
        /// row `j` of the Gaussian test matrix is row `testMatrixRowOrder[j]` of the `seed`'s
        /// draw, so the permuted operator gets the same `Ω` as the original, permuted with it,
        /// and the same answer up to rounding. `nil` (default): the draw as it is.
        /// Must be a permutation of `0..<n` for an `m x n` operator.
        public var testMatrixRowOrder: [Int32]?

        /// A configuration; every parameter but the first has the documented default.
        public init(rank: Int, oversamples: Int = 10, powerIterations: Int? = nil,
                    normalizer: Normalizer = .choleskyQRWhenNeeded, seed: UInt64 = 0, computeResiduals: Bool = true,
                    residualNormEstimateIterations: Int = 0) {
            self.rank = rank; self.oversamples = oversamples; self.powerIterations = powerIterations
            self.normalizer = normalizer; self.seed = seed; self.computeResiduals = computeResiduals
            self.residualNormEstimateIterations = residualNormEstimateIterations
        }

        /// The power iterations used for an `m x n` operator (the explicit value, or the default rule).
        public func resolvedPowerIterations(rows m: Int, columns n: Int) -> Int {
            if let q = powerIterations { return q }
            return Double(rank) < 0.1 * Double(min(m, n)) ? 7 : 4
        }
    }

    /// Computes the rank-`k` truncated SVD of `op`.
    ///
    /// - Parameters:
    ///   - op: the `m x n` operator `A`.
    ///   - configuration: see ``Configuration``.
    /// - Returns: `U` (`m x k`), `s` (descending), `V'` (`k x n`) with the sign convention of
    ///   ``TruncatedSVD``, and diagnostics (residuals, passes, phase times, seed).
    /// - Throws: ``SolverError/invalidConfiguration(_:)`` for a rank outside `1...min(m, n)`, a
    ///   negative oversampling or power-iteration count; ``SolverError/nonFinite(_:)`` when the
    ///   operator produces NaN or infinity; `LAPACKError` when a factorization fails.
    public static func compute<Op: LinearOperator>(_ op: Op, _ configuration: Configuration) throws
        -> TruncatedSVD<Op.Scalar>
    {
        typealias S = Op.Scalar
        let c = configuration
        try TruncatedSVD<S>.validate(op, c, solver: "RandomizedSVD")
        if c.oversamples < 0 { throw SolverError.invalidConfiguration("RandomizedSVD: oversamples must be >= 0, got \(c.oversamples)") }
        if let q = c.powerIterations, q < 0 { throw SolverError.invalidConfiguration("RandomizedSVD: powerIterations must be >= 0, got \(q)") }
        let m = op.rows, n = op.columns
        if let order = c.testMatrixRowOrder, !isPermutation(order, of: n) {
            throw SolverError.invalidConfiguration("RandomizedSVD: testMatrixRowOrder must be a permutation of 0..<\(n) (the operator's columns), got \(order.count) entries")
        }
        let l = c.rank + c.oversamples
        let q = c.resolvedPowerIterations(rows: m, columns: n)
        var clock = PhaseClock()

        if let dense = try TruncatedSVD<S>.denseAnswer(op, c, width: l, clock: &clock) { return dense }

        if let sparse = op as? any CSRRepresentable<S> {
            // A sparse matrix (possibly scaled or transposed): blocks stay in the kernels' layout.
            let a = clock.measure("sparse form") { sparse.csrMatrix() }
            return try computeSparse(a, c, powerIterations: q, clock: &clock)
        }
        let omega: Matrix<S> = clock.measure("random test matrix") {
            let draw: Matrix<S> = parallelGaussian(rows: n, columns: l, seed: c.seed)
            return c.testMatrixRowOrder.map { draw.gatheringRows($0) } ?? draw
        }
        var passes = 0
        var schedule = NormalizationSchedule(S.self, testMatrixRows: n)
        let basis: Matrix<S> = try clock.measure("range finder") {
            var y = op.apply(omega); passes += 1
            try checkFinite(y, "A Ω")
            for _ in 0..<q {
                y = try normalize(y, c.normalizer, schedule: &schedule)
                var z = op.applyTranspose(y); passes += 1
                z = try normalize(z, c.normalizer, afterTranspose: true, schedule: &schedule)
                y = op.apply(z); passes += 1
                try checkFinite(y, "a power iteration")
            }
            // The basis for Rayleigh-Ritz must be orthonormal to rounding: Householder for .qr,
            // CholeskyQR2 (with its Householder fallback) otherwise.
            return c.normalizer == .qr ? try y.orthonormalized() : try choleskyOrthonormalized(y, passes: 2)
        }
        let (u, s, vt) = try clock.measure("Rayleigh-Ritz") {
            try rayleighRitz(op, basis: basis, rank: c.rank)
        }
        passes += 1
        let d = SolverDiagnostics(method: methodDescription(c, powerIterations: q, schedule: schedule),
                                  requested: c.rank, converged: s.count, iterations: q, operatorApplications: passes, seed: c.seed)
        return try TruncatedSVD.finish(op, u: u, s: s, vt: vt, diagnostics: d, clock: &clock, c)
    }

    /// The diagnostics' method, e.g. `randomized (choleskyQR, q = 7, p = 10)`; with
    /// ``Normalizer/choleskyQRWhenNeeded`` also how many of the `2q` blocks between products were
    /// normalised: `randomized (choleskyQRWhenNeeded, 2 of 14 normalised, q = 7, p = 10)`.
    static func methodDescription(_ c: Configuration, powerIterations q: Int, schedule: NormalizationSchedule) -> String {
        let counted = c.normalizer == .choleskyQRWhenNeeded ? ", \(schedule.normalizations) of \(2 * q) normalised" : ""
        return "randomized (\(c.normalizer.rawValue)\(counted), q = \(q), p = \(c.oversamples))"
    }

    /// Applies a normaliser to a block.
    /// `afterTranspose`: the block is an `A'` product (``Normalizer/choleskyQRPerIteration``
    /// normalises those only).
    /// `schedule`: the products so far (``Normalizer/choleskyQRWhenNeeded`` decides by it).
    static func normalize<S: BLASScalar>(_ y: Matrix<S>, _ normalizer: Normalizer, afterTranspose: Bool = false,
                                         schedule: inout NormalizationSchedule) throws -> Matrix<S> {
        schedule.recordProduct()
        switch normalizer {
        case .choleskyQRWhenNeeded:
            guard schedule.mustNormalize(afterTranspose: afterTranspose) else { return y }
            let (basis, measure) = try choleskyOrthonormalizedMeasuring(y, passes: 1, measure: true)
            schedule.recordNormalization(measure)
            return basis
        case .choleskyQR: return try choleskyOrthonormalized(y, passes: 1)
        case .choleskyQRPerIteration: return afterTranspose ? try choleskyOrthonormalized(y, passes: 1) : y
        case .qr: return try y.orthonormalized()
        case .lu: return try y.lu().permutedLower
        case .none: return y
        }
    }
}
