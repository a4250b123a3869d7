import Dispatch
import LinearAlgebra

/// One timed phase of a solver run.
public struct SolverPhase: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The phase, e.g. `"range finder"`.
    public var name: String
    /// Wall-clock seconds it took.
    public var seconds: Double
    /// The bytes the phase must move through memory at least (sparse index arrays, each dense
    /// block read and written once), where the solver models them; `nil` elsewhere.
    public var bytes: Double?
    /// Creates the value from its fields.
    public init(name: String, seconds: Double, bytes: Double? = nil) { self.name = name; self.seconds = seconds; self.bytes = bytes }

    /// `bytes / seconds` in GB/s, when the bytes are known.
    public var gigabytesPerSecond: Double? { bytes.map { $0 / max(seconds, 1e-12) / 1e9 } }
    /// The bandwidth floor of the phase: `bytes` at `MemoryTraffic.streamTriadBytesPerSecond`.
    public var floorSeconds: Double? { bytes.map { $0 / MemoryTraffic.streamTriadBytesPerSecond } }

    public var description: String {
        guard let bytes, let rate = gigabytesPerSecond, let floor = floorSeconds else { return "\(name): \(seconds) s" }
        return "\(name): \(seconds) s, \(bytes / 1e9) GB at \(rate) GB/s (floor \(floor) s, \(seconds / max(floor, 1e-12))x)"
    }
}

/// What an iterative solver did and how good its answer is: the one convergence record every
/// result of the package carries (``TruncatedSVD``, ``SymmetricEigenResult``,
/// ``GeneralEigenResult``, ``ALSModel``, and Evaluation's logistic regression), as KrylovKit's
/// `ConvergenceInfo` is for every problem there.
///
/// The common fields mean the same for every solver; the optional fields at the end are the
/// extras of one problem and are `nil` elsewhere.
///
/// | solver | `requested` / `converged` | `iterations` | `operatorApplications` |
/// |---|---|---|---|
/// | randomized / block Krylov SVD | rank / triplets returned | power or Krylov iterations | block passes over `A` or `A'` |
/// | ARPACK SVD and eigensolvers | `nev` / pairs ARPACK converged | restarts (`iparam(3)`) | single-vector applications |
/// | ALS | 1 / 1 (a fixed number of sweeps) | sweeps | passes over the interactions (2 per sweep) |
/// | logistic regression | 1 / 1 if the gradient tolerance was met | L-BFGS iterations | objective and gradient evaluations |
public struct SolverDiagnostics: Sendable, Equatable, Codable {
    /// The algorithm, e.g. `"randomized (choleskyQR, q = 7, p = 10)"`, `"ARPACK (A'A)"`, `"ALS (cg, implicit)"`.
    public var method: String
    /// The number of answers asked for (singular triplets, eigenpairs; 1 for a single fit).
    public var requested: Int
    /// The number of answers that met the solver's stopping rule (at most `requested`).
    public var converged: Int
    /// Outer iterations taken (see the table above).
    public var iterations: Int
    /// Applications of the operator (see the table above). Residual checks are not counted.
    public var operatorApplications: Int
    /// A relative residual per answer: `max(||A v - s u||, ||A' u - s v||) / s_1` for an SVD,
    /// `||A x - λ x|| / max |λ|` for eigenpairs, the final gradient norm over the initial one for
    /// logistic regression; empty when residuals were not computed (or for ALS).
    public var relativeResiduals: [Double]
    /// The seed of every random draw (test matrix, starting vector, initial factors); `nil` for
    /// deterministic solvers.
    public var seed: UInt64?
    /// Wall-clock time of each phase, in order.
    public var phases: [SolverPhase]
    /// The threads our own parallel loops used (`Parallel.threads` or the configuration's).
    public var threads: Int

    // MARK: Problem-specific extras

    /// SVD: `||A v_i - s_i u_i|| / s_1` per triplet (when residuals were computed).
    public var leftResiduals: [Double]?
    /// SVD: `||A' u_i - s_i v_i|| / s_1` per triplet (when residuals were computed).
    public var rightResiduals: [Double]?
    /// SVD: an a-posteriori estimate of `||A - U diag(s) V'||_2` (power iterations on the
    /// residual operator, as fbpca's `diffsnorm`), when requested.
    public var residualNormEstimate: Double?
    /// SVD: whether LAPACK's dense `gesdd` on the densified operator was used because the
    /// requested subspace reached `min(m, n)`.
    public var usedDenseSVD: Bool
    /// ARPACK: seconds of the `"ARPACK"` phase spent applying the operator (or the shift-invert
    /// solve); the rest is ARPACK's own Lanczos/Arnoldi work.
    public var operatorSeconds: Double?
    /// ARPACK: the Lanczos/Arnoldi basis size `ncv`.
    public var subspaceSize: Int?
    /// ARPACK: the requested relative tolerance (0: machine precision).
    public var tolerance: Double?
    /// ARPACK: the `WHICH` code, e.g. `"LA"`.
    public var which: String?
    /// The objective after each iteration (ALS with `computeLoss`, the last value for logistic
    /// regression).
    public var objective: [Double]?
    /// Wall-clock seconds of each iteration (ALS sweeps).
    public var iterationSeconds: [Double]?

    /// Creates the value; the extras default to `nil`.
    public init(method: String, requested: Int, converged: Int, iterations: Int = 0, operatorApplications: Int = 0,
                relativeResiduals: [Double] = [], seed: UInt64? = nil, phases: [SolverPhase] = [],
                threads: Int = Parallel.threads) {
        self.method = method; self.requested = requested; self.converged = converged
        self.iterations = iterations; self.operatorApplications = operatorApplications
        self.relativeResiduals = relativeResiduals; self.seed = seed; self.phases = phases; self.threads = threads
        self.usedDenseSVD = false
    }

    /// Whether every requested answer converged.
    public var allConverged: Bool { converged >= requested }
    /// When not every requested answer converged: how many did, and what to change (more
    /// iterations, a larger basis, a looser tolerance, or the randomized solver); nil otherwise.
    /// Tools print it as a warning.
    public var convergenceWarning: String? {
        if allConverged { return nil }
        var knobs = "allow more iterations (maxIterations, now \(iterations) used)"
        if let ncv = subspaceSize { knobs += ", a larger subspaceSize (now \(ncv))" }
        if let tol = tolerance { knobs += ", a looser tolerance (now \(tol == 0 ? "machine precision" : "\(tol)"))" }
        return "\(method): only \(converged) of the \(requested) requested values converged. What to change: \(knobs), ask for fewer values (a smaller rank; --dim), or use the randomized solver, which always returns (RandomizedSVD; follow-graph-svd --solver randomized)."
    }
    /// The largest relative residual (0 when none were computed).
    public var maxRelativeResidual: Double { relativeResiduals.max() ?? 0 }
    /// Total wall-clock seconds over all phases.
    public var totalSeconds: Double { phases.reduce(0) { $0 + $1.seconds } }
    /// The seconds of the phase called `name` (summed if it occurs more than once), or nil.
    public func seconds(of name: String) -> Double? {
        let matching = phases.filter { $0.name == name }
        return matching.isEmpty ? nil : matching.reduce(0) { $0 + $1.seconds }
    }
}

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
