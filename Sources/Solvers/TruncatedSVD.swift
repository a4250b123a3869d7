import Dispatch
import LinearAlgebra

/// A rank-`k` truncated singular value decomposition `A ≈ U diag(s) V'`, as every SVD back-end
/// of the package returns it (``RandomizedSVD``, ``BlockKrylovSVD``, ``ARPACKSVD``).
///
/// Conventions, the same for every back-end:
/// - `s` is descending and non-negative;
/// - `u` is `m x k` and `vt` is `k x n`, both with orthonormal columns/rows;
/// - signs are deterministic: in each left singular vector the entry of largest magnitude is
///   positive (the first such entry on ties), and the matching row of `vt` is flipped with it
///   (scikit-learn's `svd_flip` with `u_based_decision=True`).
public struct TruncatedSVD<Scalar: BLASScalar>: Sendable {
    /// Left singular vectors, `m x k`.
    public var u: Matrix<Scalar>
    /// Singular values, descending, `k` of them.
    public var s: [Scalar]
    /// Right singular vectors as rows, `k x n`.
    public var vt: Matrix<Scalar>
    /// How the decomposition was computed and how accurate it is.
    public var diagnostics: SVDDiagnostics

    /// The number of singular triplets returned (`s.count`). Can be below the requested rank only
    /// for ``ARPACKSVD`` when ARPACK converged on fewer triplets; see ``SVDDiagnostics/allConverged``.
    public var rank: Int { s.count }

    /// Creates a result from its parts (no checks, no sign normalisation).
    public init(u: Matrix<Scalar>, s: [Scalar], vt: Matrix<Scalar>, diagnostics: SVDDiagnostics) {
        self.u = u; self.s = s; self.vt = vt; self.diagnostics = diagnostics
    }
}

/// One timed phase of a solver run.
public struct SolverPhase: Sendable, Equatable, CustomStringConvertible {
    /// The phase, e.g. `"range finder"`.
    public var name: String
    /// Wall-clock seconds it took.
    public var seconds: Double
    /// Creates the value from its fields.
    public init(name: String, seconds: Double) { self.name = name; self.seconds = seconds }
    public var description: String { "\(name): \(seconds) s" }
}

/// What a truncated SVD run did and how good its answer is.
public struct SVDDiagnostics: Sendable {
    /// The algorithm, e.g. `"randomized (QR)"`, `"block Krylov"`, `"ARPACK (A'A)"`, `"dense gesdd"`.
    public var method: String
    /// The seed of every random draw (test matrix or starting vector).
    public var seed: UInt64
    /// The rank asked for.
    public var requestedRank: Int
    /// Passes over `A`: applications of `A` or `A'` to a block of vectors (randomized, block
    /// Krylov) or to one vector (ARPACK). The residual check and the norm estimate are not counted.
    public var passes: Int
    /// `||A v_i - s_i u_i|| / s_1` for every triplet (empty when residuals were not requested).
    public var leftResiduals: [Double]
    /// `||A' u_i - s_i v_i|| / s_1` for every triplet (empty when residuals were not requested).
    public var rightResiduals: [Double]
    /// Wall-clock time of each phase, in order.
    public var phases: [SolverPhase]
    /// Whether the dense SVD (LAPACK `gesdd` on the densified operator) was used because the
    /// requested subspace reached `min(m, n)`.
    public var usedDenseSVD: Bool
    /// An a-posteriori estimate of `||A - U diag(s) V'||_2` (power iterations on the residual
    /// operator, as fbpca's `diffsnorm`), when requested.
    public var residualNormEstimate: Double?
    /// ARPACK only: Arnoldi/Lanczos restarts taken (`iparam(3)` on exit).
    public var iterations: Int?
    /// ARPACK only: the number of triplets that converged (`iparam(5)`).
    public var convergedCount: Int?
    /// ARPACK only: seconds of the `"ARPACK"` phase spent applying `A` and `A'` (the rest is
    /// ARPACK's own Lanczos work).
    public var operatorSeconds: Double?

    /// The largest relative residual over all triplets and both sides (0 when none were computed).
    public var maxRelativeResidual: Double {
        max(leftResiduals.max() ?? 0, rightResiduals.max() ?? 0)
    }
    /// Whether every requested triplet was returned (false only for a partial ARPACK result).
    public var allConverged: Bool { (convergedCount ?? requestedRank) >= requestedRank }
    /// Total wall-clock seconds over all phases.
    public var totalSeconds: Double { phases.reduce(0) { $0 + $1.seconds } }

    /// Creates the value from its fields.
    public init(method: String, seed: UInt64, requestedRank: Int, passes: Int = 0,
                leftResiduals: [Double] = [], rightResiduals: [Double] = [], phases: [SolverPhase] = [],
                usedDenseSVD: Bool = false, residualNormEstimate: Double? = nil,
                iterations: Int? = nil, convergedCount: Int? = nil) {
        self.method = method; self.seed = seed; self.requestedRank = requestedRank; self.passes = passes
        self.leftResiduals = leftResiduals; self.rightResiduals = rightResiduals; self.phases = phases
        self.usedDenseSVD = usedDenseSVD; self.residualNormEstimate = residualNormEstimate
        self.iterations = iterations; self.convergedCount = convergedCount
    }
}

/// A problem with a solver's input or configuration (thrown before any work is done), or a
/// numerical breakdown the solver cannot recover from.
public enum SolverError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The configuration does not fit the operator (e.g. rank larger than `min(m, n)`).
    case invalidConfiguration(String)
    /// The operator produced NaN or infinity.
    case nonFinite(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let m): return "invalid solver configuration: \(m)"
        case .nonFinite(let m): return "non-finite values: \(m)"
        }
    }
}

/// Any of the package's truncated SVD back-ends with its configuration, so that callers (and the
/// shared accuracy tests) can choose one by value.
///
/// ```swift
/// let svd = try TruncatedSVDAlgorithm.randomized(.init(rank: 64)).compute(a)
/// ```
public enum TruncatedSVDAlgorithm: Sendable {
    /// Randomized range finder with power iterations (Halko, Martinsson, Tropp 2011).
    case randomized(RandomizedSVD.Configuration)
    /// Randomized block Krylov iteration (Musco and Musco 2015).
    case blockKrylov(BlockKrylovSVD.Configuration)
    /// ARPACK on `A'A` / `AA'` or on the augmented operator (scipy's `svds`).
    case arpack(ARPACKSVD.Configuration)

    /// Runs the back-end on `op`. See each back-end for cost and errors.
    public func compute<Op: LinearOperator>(_ op: Op) throws -> TruncatedSVD<Op.Scalar> {
        switch self {
        case .randomized(let c): return try RandomizedSVD.compute(op, c)
        case .blockKrylov(let c): return try BlockKrylovSVD.compute(op, c)
        case .arpack(let c): return try ARPACKSVD.compute(op, c)
        }
    }
}

// MARK: - Shared machinery

/// Collects phase timings.
struct PhaseClock {
    var phases: [SolverPhase] = []
    mutating func measure<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            let end = DispatchTime.now().uptimeNanoseconds
            phases.append(SolverPhase(name: name, seconds: Double(end &- start) / 1e9))
        }
        return try body()
    }
}

extension TruncatedSVD {
    /// Validates the common arguments of every SVD back-end.
    static func validate<Op: LinearOperator>(_ op: Op, rank: Int, solver: String) throws {
        if op.rows <= 0 || op.columns <= 0 {
            throw SolverError.invalidConfiguration("\(solver): the operator is \(op.rows) x \(op.columns); it must have at least one row and one column")
        }
        if rank < 1 || rank > min(op.rows, op.columns) {
            throw SolverError.invalidConfiguration("\(solver): rank \(rank) must be in 1...min(m, n) = 1...\(min(op.rows, op.columns)) for a \(op.rows) x \(op.columns) operator")
        }
    }

    /// The dense matrix of `op`, built by applying it (or its transpose) to the identity of the
    /// smaller side. Cost: one application to `min(m, n)` vectors.
    static func densify<Op: LinearOperator>(_ op: Op) -> Matrix<Scalar> where Op.Scalar == Scalar {
        if op.columns <= op.rows { return op.apply(Matrix<Scalar>.identity(op.columns)) }
        return op.applyTranspose(Matrix<Scalar>.identity(op.rows)).transposed()
    }

    /// The dense-SVD answer for small problems: densify, `gesdd`, truncate.
    static func dense<Op: LinearOperator>(_ op: Op, rank: Int, clock: inout PhaseClock)
        throws -> (u: Matrix<Scalar>, s: [Scalar], vt: Matrix<Scalar>) where Op.Scalar == Scalar
    {
        let a = clock.measure("densify") { densify(op) }
        try checkFinite(a, "the densified operator")
        let svd = try clock.measure("dense SVD") { try a.svd() }
        let u = svd.u.columns(0..<rank).copy()
        let s = Array(svd.s[0..<rank])
        var vt = Matrix<Scalar>(rows: rank, columns: a.columns)
        for j in 0..<a.columns { for i in 0..<rank { vt[i, j] = svd.vt[i, j] } }
        return (u, s, vt)
    }

    /// The Rayleigh-Ritz step shared by the subspace methods: given an orthonormal basis `q`
    /// (`m x l`) of an approximate range of `A`, computes `B = Q'A` through `A'Q` (one pass),
    /// its SVD, and the leading `rank` triplets `U = Q W`, `s`, `V'`.
    static func rayleighRitz<Op: LinearOperator>(_ op: Op, basis q: Matrix<Scalar>, rank: Int)
        throws -> (u: Matrix<Scalar>, s: [Scalar], vt: Matrix<Scalar>) where Op.Scalar == Scalar
    {
        let bt = op.applyTranspose(q)                  // n x l = (Q'A)'
        try checkFinite(bt, "A' Q")
        let small = try bt.svd()                         // A'Q = X S Y'  =>  Q'A = Y S X'
        let k = min(rank, small.s.count)
        // U = Q Y(:, 0..<k), where Y = small.vt'
        let yt = small.vt                                // l x l (thin: min(n, l) x l)
        var y = Matrix<Scalar>(rows: yt.columns, columns: k)
        for j in 0..<k { for i in 0..<yt.columns { y[i, j] = yt[j, i] } }
        let u = q * y
        let vt = small.u.columns(0..<k).copy().transposed()
        return (u, Array(small.s[0..<k]), vt)
    }

    /// Applies the sign convention, computes the residual diagnostics and the optional norm
    /// estimate, and packages the result.
    static func finish<Op: LinearOperator>(
        _ op: Op, u: Matrix<Scalar>, s: [Scalar], vt: Matrix<Scalar>, diagnostics: SVDDiagnostics,
        clock: inout PhaseClock, computeResiduals: Bool, normEstimateIterations: Int
    ) throws -> TruncatedSVD<Scalar> where Op.Scalar == Scalar {
        var result = TruncatedSVD(u: u, s: s, vt: vt, diagnostics: diagnostics)
        result.applySignConvention()
        if computeResiduals && !s.isEmpty {
            let (left, right) = clock.measure("residuals") { result.relativeResiduals(op) }
            result.diagnostics.leftResiduals = left
            result.diagnostics.rightResiduals = right
        }
        if normEstimateIterations > 0 {
            let estimate = clock.measure("residual norm estimate") {
                result.estimateResidualNorm(op, iterations: normEstimateIterations, seed: diagnostics.seed)
            }
            result.diagnostics.residualNormEstimate = estimate
        }
        result.diagnostics.phases = clock.phases
        return result
    }

    /// Flips signs so that the largest-magnitude entry of each column of `u` is positive, and
    /// flips the matching row of `vt`. Cost: O((m + n) k).
    public mutating func applySignConvention() {
        let m = u.rows, n = vt.columns, k = s.count
        var flip = [Bool](repeating: false, count: k)
        u.elements.withUnsafeMutableBufferPointer { pu in
            for j in 0..<k {
                let column = pu.baseAddress! + j * m
                var best: Scalar = -1
                var negative = false
                for i in 0..<m {
                    let x: Scalar = column[i]
                    if abs(x) > best { best = abs(x); negative = x < 0 }
                }
                if negative {
                    flip[j] = true
                    for i in 0..<m { column[i] = -column[i] }
                }
            }
        }
        if !flip.contains(true) { return }
        vt.elements.withUnsafeMutableBufferPointer { pv in
            for c in 0..<n {
                let column = pv.baseAddress! + c * k
                for j in 0..<k where flip[j] { column[j] = -column[j] }
            }
        }
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

/// Throws ``SolverError/nonFinite(_:)`` when `m` holds NaN or infinity. Cost: O(elements).
func checkFinite<Scalar: BLASScalar>(_ m: Matrix<Scalar>, _ what: @autoclosure () -> String) throws {
    // `allFinite` runs a specialized loop even from this generic (unspecialized) code.
    if !m.allFinite { throw SolverError.nonFinite("\(what()) contains NaN or infinity; check the operator's input") }
}

/// A Gaussian `rows x columns` test matrix whose column `j` comes from the stream
/// `Xoshiro256.stream(seed:index: j)`, drawn in parallel: the same seed gives the same matrix
/// whatever the thread count. Cost: O(rows * columns).
func parallelGaussian<Scalar: BLASScalar>(rows: Int, columns: Int, seed: UInt64) -> Matrix<Scalar> {
    var g = Matrix<Scalar>(rows: rows, columns: columns)
    if rows == 0 || columns == 0 { return g }
    g.elements.withUnsafeMutableBufferPointer { p in
        let box = UnsafeSendableBox(p.baseAddress!)
        Parallel.forEachChunk(count: columns) { range in
            for j in range {
                var rng = Xoshiro256.stream(seed: seed, index: UInt64(j))
                rng.fillGaussian(UnsafeMutableBufferPointer(start: box.value + j * rows, count: rows))
            }
        }
    }
    return g
}

/// An orthonormal basis of the columns of the tall `y` (`m x l`, `m >= l`) by Cholesky QR:
/// `Y'Y = L L'`, `Q = Y L^-T`, repeated `passes` times (two passes, "CholeskyQR2", give
/// orthogonality to rounding when `cond(Y) < eps^-1/2`). Falls back to Householder QR
/// (``Matrix/orthonormalized()``) when the Gram matrix is not numerically positive definite or
/// its Cholesky factor shows `cond(Y)^2 > 1 / (20 eps)`.
///
/// Cost: two GEMMs with `2 m l^2` flops each per pass, against Householder QR's `4 m l^2`
/// memory-bound level-2 flops: for `m = 10^6`, `l = 74` in `Float` on this machine about 0.2 s
/// against 2.6 s.
func choleskyOrthonormalized<S: BLASScalar>(_ y: Matrix<S>, passes: Int = 2) throws -> Matrix<S> {
    let l = y.columns
    if l == 0 || y.rows < l { return try y.orthonormalized() }
    var q = y
    for _ in 0..<passes {
        let gram = Matrix.product(q, .transpose, q)
        guard let factor = try? gram.cholesky() else { return try y.orthonormalized() }
        let diagonal = (0..<l).map { factor.lower[$0, $0] }
        let smallest = diagonal.min()!, largest = diagonal.max()!
        if !(largest > 0) || !((smallest / largest) * (smallest / largest) >= 20 * S.ulpOfOne) {
            return try y.orthonormalized()
        }
        let inverse = try factor.lower.solve(Matrix<S>.identity(l))   // L^-1
        q = Matrix.product(q, .none, inverse, .transpose)
    }
    return q
}

extension TruncatedSVD {
    /// The exact answer for a subspace that reaches `min(m, n)`: LAPACK `gesdd` on the densified
    /// operator, finished like every other back-end (signs, residuals, norm estimate). Shared by the
    /// randomized and block Krylov solvers.
    static func denseFallback<Op: LinearOperator>(_ op: Op, rank: Int, seed: UInt64, clock: inout PhaseClock,
                                                  computeResiduals: Bool, normEstimateIterations: Int) throws -> TruncatedSVD
    where Op.Scalar == Scalar {
        let (u, s, vt) = try TruncatedSVD<Scalar>.dense(op, rank: rank, clock: &clock)
        let d = SVDDiagnostics(method: "dense gesdd", seed: seed, requestedRank: rank, passes: 1, usedDenseSVD: true)
        return try TruncatedSVD.finish(op, u: u, s: s, vt: vt, diagnostics: d, clock: &clock,
                                       computeResiduals: computeResiduals, normEstimateIterations: normEstimateIterations)
    }
}
