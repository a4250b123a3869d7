import Foundation
import LinearAlgebra

// Alternating least squares matrix factorization (Hu, Koren and Volinsky 2008; Zhou et al. 2008).
//
// Layout: every factor matrix is stored with one entity per *column* of a `factors x count`
// column-major buffer, so each user's (item's) vector is contiguous. A block of consecutive users
// is then a contiguous `factors x block` matrix that GEMM reads in place.

/// Settings for ``ALS/fit(_:configuration:)``. Every field has a documented default.
public struct ALSConfiguration: Sendable, Equatable {
    /// What the matrix entries mean.
    public enum Feedback: String, Sendable, Equatable {
        /// Implicit feedback (Hu, Koren and Volinsky 2008): every user-item pair is an
        /// observation with preference `p = 1` where the entry `r > 0` and `p = 0` elsewhere,
        /// weighted by confidence `c = 1 + alpha * r` (`c = 1` for pairs not stored).
        /// Objective: `sum over all (u, i) of c_ui (p_ui - x_u . y_i)^2 + lambda (|X|^2 + |Y|^2)`.
        case implicit
        /// Explicit ratings: only stored entries are observations. Objective with weighted-lambda
        /// regularisation (Zhou et al. 2008): `sum over stored (u, i) of (r_ui - x_u . y_i)^2
        /// + lambda (sum_u n_u |x_u|^2 + sum_i n_i |y_i|^2)`, `n` counting stored entries.
        case explicit
    }

    /// How each row's `factors x factors` least-squares system is solved.
    public enum Solver: String, Sendable, Equatable {
        /// A few conjugate-gradient steps warm-started from the previous factors (Takacs,
        /// Pilaszy and Tikk 2011). Cost per row and step: O(f^2 + f nnz_row), no f x f matrix
        /// formed per row.
        case conjugateGradient = "cg"
        /// The exact solution by Cholesky factorization of the row's normal matrix. Cost per
        /// row: O(f^2 nnz_row + f^3).
        case cholesky
    }

    /// Number of latent factors `f` (default 64). Must be positive.
    public var factors: Int
    /// Regularisation weight `lambda` (default 0.01). Must be finite and `>= 0`; with 0 a row
    /// whose system is singular makes the Cholesky solver throw.
    public var regularization: Float
    /// Confidence slope `alpha` of implicit feedback (default 1, so `c = 1 + r`). Ignored for
    /// explicit feedback. Must be finite and `>= 0`.
    public var alpha: Float
    /// Number of alternating sweeps (default 15); each sweep solves all users, then all items.
    public var iterations: Int
    /// Implicit (default) or explicit feedback.
    public var feedback: Feedback
    /// Per-row solver (default conjugate gradient).
    public var solver: Solver
    /// Conjugate-gradient steps per row and sweep (default 3). Must be positive.
    public var cgSteps: Int
    /// Seed of the initial factors (uniform in `[0, 0.01)`); the fit is reproducible for a seed.
    public var seed: UInt64
    /// When true, the objective is evaluated after every sweep (costs about one CG step per
    /// row more) and reported in ``SolverDiagnostics/objective``.
    public var computeLoss: Bool
    /// Threads for the per-row loops and the Gram products; nil means `Parallel.threads`.
    public var threads: Int?

    /// A configuration with the given settings (all defaulted; see each property).
    public init(factors: Int = 64, regularization: Float = 0.01, alpha: Float = 1,
                iterations: Int = 15, feedback: Feedback = .implicit,
                solver: Solver = .conjugateGradient, cgSteps: Int = 3, seed: UInt64 = 0,
                computeLoss: Bool = false, threads: Int? = nil) {
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.feedback = feedback
        self.solver = solver
        self.cgSteps = cgSteps
        self.seed = seed
        self.computeLoss = computeLoss
        self.threads = threads
    }

    /// Throws ``SolverError/invalidConfiguration(_:)`` naming the first setting out of range.
    func validate() throws {
        func bad(_ message: String) -> SolverError { .invalidConfiguration("ALS: \(message)") }
        guard factors > 0 else { throw bad("factors must be positive, got \(factors)") }
        guard regularization.isFinite, regularization >= 0 else {
            throw bad("regularization must be finite and >= 0, got \(regularization)")
        }
        guard alpha.isFinite, alpha >= 0 else { throw bad("alpha must be finite and >= 0, got \(alpha)") }
        guard iterations >= 0 else { throw bad("iterations must be >= 0, got \(iterations)") }
        guard cgSteps > 0 else { throw bad("cgSteps must be positive, got \(cgSteps)") }
        if let t = threads, t < 1 { throw bad("threads must be positive, got \(t)") }
    }

    /// The threads the fit uses: ``threads``, or `Parallel.threads` when that is nil.
    public var resolvedThreads: Int { threads ?? Parallel.threads }
}

extension SolverError {
    /// An ``invalidInput(_:)`` error of ALS (the message is prefixed with `ALS:`).
    static func als(_ message: String) -> SolverError { .invalidInput("ALS: \(message)") }
}

/// A fitted ALS factorization `R ~ X' Y` of a users x items matrix, with the training matrix
/// kept for recommendation (to exclude seen items), fold-in and refits.
///
/// Factors are stored one entity per column: ``userFactors`` is `factors x users` and
/// ``itemFactors`` is `factors x items`, so the predicted score of `(u, i)` is the dot product of
/// column `u` of ``userFactors`` and column `i` of ``itemFactors``.
public struct ALSModel: Sendable {
    /// The configuration the model was fitted with.
    public let configuration: ALSConfiguration
    /// `factors x users`; column `u` is user `u`'s vector.
    public internal(set) var userFactors: Matrix<Float>
    /// `factors x items`; column `i` is item `i`'s vector.
    public internal(set) var itemFactors: Matrix<Float>
    /// The training matrix (users x items).
    public internal(set) var interactions: CSRMatrix<Float>
    /// The training matrix transposed (items x users).
    public internal(set) var itemUsers: CSRMatrix<Float>
    /// How the fit went: sweeps, passes, seed, threads, one phase per sweep (user and item
    /// solves and the Gram products; loss evaluation excluded) with the same figures in
    /// ``SolverDiagnostics/iterationSeconds``, and, when ``ALSConfiguration/computeLoss`` was
    /// set, the objective after each sweep in ``SolverDiagnostics/objective``.
    public internal(set) var diagnostics: SolverDiagnostics
    /// `Y Y'` (`factors x factors`) for the current item factors, cached for fold-in.
    var itemGram: [Float]

    /// Number of users (rows of the training matrix).
    public var userCount: Int { interactions.rows }
    /// Number of items (columns of the training matrix).
    public var itemCount: Int { interactions.columns }
    /// Number of factors.
    public var factors: Int { configuration.factors }

    /// User `u`'s factor vector. - Precondition: `0 <= u < userCount`.
    public func userVector(_ u: Int) -> [Float] {
        precondition(u >= 0 && u < userCount, "ALSModel.userVector: user \(u) out of 0..<\(userCount)")
        let f = factors
        return Array(userFactors.elements[(u * f)..<((u + 1) * f)])
    }

    /// Item `i`'s factor vector. - Precondition: `0 <= i < itemCount`.
    public func itemVector(_ i: Int) -> [Float] {
        precondition(i >= 0 && i < itemCount, "ALSModel.itemVector: item \(i) out of 0..<\(itemCount)")
        let f = factors
        return Array(itemFactors.elements[(i * f)..<((i + 1) * f)])
    }

    /// The objective of the current factors on the training matrix (the quantity in
    /// ``SolverDiagnostics/objective``). Cost: O(f nnz + f^2 (users + items)), parallel.
    public func loss() -> Double {
        ALSEngine.loss(interactions: interactions, itemUsers: itemUsers,
                       users: userFactors.elements, items: itemFactors.elements,
                       configuration: configuration, threads: configuration.resolvedThreads)
    }
}

/// Alternating least squares on a sparse users x items matrix.
///
/// ```swift
/// let model = try ALS.fit(userItems, configuration: .init(factors: 64, iterations: 15))
/// let top = try model.recommend(user: 7, count: 10)          // unseen items, best first (ScoredIndex)
/// let similar = try model.similarItems(to: 3, count: 10)
/// ```
public enum ALS {
    /// Fits user and item factors to `interactions` (users x items) by alternating least squares.
    ///
    /// Each sweep solves every user's regularised least-squares problem with the item factors
    /// fixed, then every item's with the user factors fixed. Implicit feedback uses the
    /// `Y'Y` precomputation, so one sweep costs O(f^2 nnz + f^3 (users + items)) with Cholesky
    /// and O(cgSteps (f^2 (users + items) + f nnz)) with conjugate gradient. Rows run in
    /// parallel (`configuration.threads`) with single-threaded BLAS inside the loop; the Gram
    /// products between the loops use multithreaded BLAS.
    ///
    /// - Parameters:
    ///   - interactions: users x items; implicit feedback needs non-negative finite values
    ///     (stored zeros count as unobserved), explicit feedback finite ratings.
    ///   - configuration: see ``ALSConfiguration``.
    /// - Returns: the model, with its diagnostics (per-sweep timings and, on request, losses).
    /// - Throws: ``SolverError/invalidConfiguration(_:)`` for an invalid configuration;
    ///   ``SolverError/invalidInput(_:)`` for an empty matrix (no rows, no columns or no stored
    ///   entries) or a negative or non-finite value (the message names its row and column);
    ///   ``SolverError/notPositiveDefinite(_:)`` for a row system that is not positive definite
    ///   (Cholesky with zero regularisation).
    public static func fit(_ interactions: CSRMatrix<Float>,
                           configuration: ALSConfiguration = ALSConfiguration()) throws -> ALSModel {
        try configuration.validate()
        try validateInteractions(interactions, feedback: configuration.feedback)
        let itemUsers = interactions.transposed()
        let f = configuration.factors
        let threads = configuration.resolvedThreads
        var users = initialFactors(count: interactions.rows, factors: f, seed: configuration.seed, stream: 0)
        var items = initialFactors(count: interactions.columns, factors: f, seed: configuration.seed, stream: 1)
        if configuration.feedback == .explicit {
            // Rows with no ratings have no data term: their vector is defined as zero.
            zeroEmptyRows(&users, interactions, f)
            zeroEmptyRows(&items, itemUsers, f)
        }
        var losses: [Double] = []
        var clock = PhaseClock()
        for sweep in 0..<configuration.iterations {
            try clock.measure("sweep \(sweep + 1)") {
                try ALSEngine.solveAll(rows: interactions, target: &users, fixed: items,
                                       configuration: configuration, threads: threads)
                try ALSEngine.solveAll(rows: itemUsers, target: &items, fixed: users,
                                       configuration: configuration, threads: threads)
            }
            // Divergence stops the fit rather than returning garbage factors.
            if let bad = users.firstIndex(where: { !$0.isFinite }) ?? items.firstIndex(where: { !$0.isFinite }).map({ -1 - $0 }) {
                throw SolverError.als("diverged in sweep \(sweep + 1): a \(bad >= 0 ? "user" : "item") factor became non-finite; lower alpha, raise the regularization or rescale the values")
            }
            if configuration.computeLoss {
                let loss = ALSEngine.loss(interactions: interactions, itemUsers: itemUsers, users: users,
                                          items: items, configuration: configuration, threads: threads)
                guard loss.isFinite else { throw SolverError.als("diverged in sweep \(sweep + 1): the loss is \(loss)") }
                losses.append(loss)
            }
        }
        let gram = ALSEngine.parallelGram(items, count: interactions.columns, factors: f, threads: threads)
        let c = configuration
        var diagnostics = SolverDiagnostics(
            method: "ALS (\(c.solver.rawValue), \(c.feedback.rawValue), f = \(f))", requested: 1, converged: 1,
            iterations: c.iterations, operatorApplications: 2 * c.iterations, seed: c.seed, phases: clock.phases,
            threads: threads)
        diagnostics.iterationSeconds = clock.phases.map(\.seconds)
        if c.computeLoss { diagnostics.objective = losses }
        return ALSModel(configuration: configuration,
                        userFactors: Matrix(rows: f, columns: interactions.rows, elements: users),
                        itemFactors: Matrix(rows: f, columns: interactions.columns, elements: items),
                        interactions: interactions, itemUsers: itemUsers, diagnostics: diagnostics, itemGram: gram)
    }

    /// The largest value whose square (and confidence products) stay finite in float32.
    static let maximumValue: Float = 1e18

    /// Throws unless the matrix is non-empty with values valid for `feedback`.
    static func validateInteractions(_ m: CSRMatrix<Float>, feedback: ALSConfiguration.Feedback) throws {
        guard m.rows > 0, m.columns > 0 else {
            throw SolverError.als("the interaction matrix is empty (\(m.rows) x \(m.columns))")
        }
        guard m.nonzeroCount > 0 else {
            throw SolverError.als("the \(m.rows) x \(m.columns) interaction matrix has no stored entries")
        }
        let bad: Int? = m.values.withUnsafeBufferPointer { v in
            for p in 0..<v.count {
                let x = v[p]
                if !x.isFinite || abs(x) > maximumValue || (feedback == .implicit && x < 0) { return p }
            }
            return nil
        }
        if let p = bad {
            let row = m.rowOffsets.withUnsafeBufferPointer { off -> Int in
                var lo = 0, hi = m.rows
                while hi - lo > 1 {
                    let mid = (lo + hi) / 2
                    if off[mid] <= Int64(p) { lo = mid } else { hi = mid }
                }
                return lo
            }
            let value = m.values[p], column = Int(m.columnIndices[p])
            if !value.isFinite {
                throw SolverError.als("the value at (row \(row), column \(column)) is \(value); values must be finite")
            }
            if abs(value) > maximumValue {
                throw SolverError.als("the value at (row \(row), column \(column)) is \(value); values above \(maximumValue) overflow float32 products: rescale them")
            }
            throw SolverError.als("implicit feedback needs non-negative values, but (row \(row), column \(column)) is \(value)")
        }
    }

    /// `factors x count` uniform `[0, 0.01)` values, reproducible per (seed, stream) and
    /// independent of the thread count.
    static func initialFactors(count: Int, factors: Int, seed: UInt64, stream: UInt64) -> [Float] {
        var out = [Float](repeating: 0, count: count * factors)
        let block = 4096
        let blocks = (count + block - 1) / block
        out.withUnsafeMutableBufferPointer { buf in
            let box = UnsafeSendableBox(buf.baseAddress!)
            Parallel.forEachChunk(count: blocks) { range in
                for b in range {
                    var rng = Xoshiro256.stream(seed: seed &+ stream &* 0x9E37_79B9_7F4A_7C15, index: UInt64(b))
                    let lo = b * block * factors, hi = min(count, (b + 1) * block) * factors
                    for k in lo..<hi { box.value[k] = Float(rng.nextUniform() * 0.01) }
                }
            }
        }
        return out
    }

    static func zeroEmptyRows(_ factors: inout [Float], _ m: CSRMatrix<Float>, _ f: Int) {
        for r in 0..<m.rows where m.rowOffsets[r] == m.rowOffsets[r + 1] {
            for k in 0..<f { factors[r * f + k] = 0 }
        }
    }
}

extension ALS {
    /// The memory ``fit(_:configuration:)`` holds beyond its input, estimated from the sizes
    /// before anything is allocated: the transposed matrix (offsets, indices, values), both factor
    /// matrices, each thread's row workspaces (a `factors x factors` system and gathered blocks),
    /// and the final tables (ids and vectors, about 48 bytes an id). Check it with
    /// `MemoryBudget.check(_:)` (LinearAlgebra) before fitting.
    public static func memoryBudget(users: Int, items: Int, nonzeros: Int,
                                    configuration c: ALSConfiguration) -> MemoryBudget {
        let f = c.factors, threads = c.resolvedThreads
        let transpose = 8 * (items + 1) + 8 * nonzeros
        let factors = 4 * f * (users + items)
        let workspaces = threads * 4 * (3 * f * f + f * ALSEngine.gatherChunk + 2 * ALSEngine.gatherLimit * f)
        let write = factors + 48 * (users + items)
        return MemoryBudget(
            phases: [
                .init(name: "fit", bytes: transpose + factors + workspaces,
                      detail: "\(nonzeros) interactions transposed, \(users) + \(items) factor rows of \(f) floats, \(threads) thread workspaces"),
                .init(name: "write", bytes: transpose + factors + write, detail: "users and items tables of \(f) columns"),
            ],
            blasBuffers: BLAS.unreservedBufferBytes(threads: threads),
            advice: "fewer factors (--factors, now \(f)) or fewer threads (--threads, now \(threads))")
    }
}
