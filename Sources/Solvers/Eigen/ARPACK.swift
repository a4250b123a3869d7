import Dispatch
import Foundation
import LinearAlgebra

// The ARPACK binding, in one place (as Arpack.jl's libarpack.jl): the options every ARPACK
// solver takes, the process-wide lock, the reverse-communication loop with the symmetric and
// general drivers, and ARPACK's error codes turned into messages.

/// The settings every ARPACK-based solver shares (``SymmetricEigensolver``,
/// ``GeneralEigensolver``, ``ARPACKSVD``), validated in one place; as KrylovKit's `Lanczos` and
/// `Arnoldi` values.
public struct ARPACKOptions: Sendable, Equatable {
    /// Lanczos/Arnoldi basis size `ncv`; `nil` (default) uses `max(2 nev + 1, 20)` capped at the
    /// problem size. Must satisfy `nev < ncv <= n` (symmetric) or `nev + 2 <= ncv <= n` (general).
    public var subspaceSize: Int?
    /// ARPACK's relative tolerance on the Ritz values, `||A x - λ x|| <= tol |λ|`; 0 (default)
    /// means the machine precision of the scalar type, `Scalar.ulpOfOne` (2^-23 for `Float`),
    /// the value scipy's ARPACK uses for `tol=0`.
    public var tolerance: Double
    /// Maximum restarts; `nil` (default) uses `max(10 n, 100)`, as scipy.
    public var maxIterations: Int?
    /// Seed of the starting vector (default 0). ARPACK's own random start is not reproducible
    /// across calls, so the package always passes a seeded one.
    public var seed: UInt64
    /// Seconds between two calls of the solver's `progress` closure (``ARPACKProgress``; default
    /// 5); 0 calls it after every operator application. The closure is checked after each
    /// application, so a report is late by at most one application.
    public var progressInterval: Double

    /// Options; every parameter has the documented default.
    public init(subspaceSize: Int? = nil, tolerance: Double = 0, maxIterations: Int? = nil, seed: UInt64 = 0,
                progressInterval: Double = 5) {
        self.subspaceSize = subspaceSize; self.tolerance = tolerance; self.maxIterations = maxIterations; self.seed = seed
        self.progressInterval = progressInterval
    }

    /// Checks the options against a problem of size `n` asking for `nev` values (`what` names the
    /// count in messages, e.g. `"count"` or `"rank"`) and returns the basis size and restart
    /// budget to pass to ARPACK. `gap` is ARPACK's minimum `ncv - nev`: 1 for the symmetric
    /// driver, 2 for the general one.
    /// - Throws: ``SolverError/invalidConfiguration(_:)`` naming `solver` and the bad value.
    func resolved(nev: Int, what: String, n: Int, gap: Int, solver: String) throws -> (ncv: Int, maxIterations: Int) {
        if nev < 1 || nev > n - gap {
            throw SolverError.invalidConfiguration("\(solver): \(what) \(nev) must be in 1...\(n - gap) for a problem of size \(n) (ARPACK needs \(gap == 1 ? "NEV < N" : "NCV - NEV >= 2 with NCV <= N"); use the dense LAPACK routines for all of them)")
        }
        let ncv = subspaceSize ?? min(max(2 * nev + 1, 20), n)
        if ncv < nev + gap || ncv > n {
            throw SolverError.invalidConfiguration("\(solver): subspaceSize \(ncv) must satisfy \(what) + \(gap) <= subspaceSize <= \(n) (\(what) \(nev), problem size \(n))")
        }
        if let it = maxIterations, it < 1 {
            throw SolverError.invalidConfiguration("\(solver): maxIterations must be >= 1, got \(it)")
        }
        if !(tolerance >= 0) {
            throw SolverError.invalidConfiguration("\(solver): tolerance must be finite and >= 0, got \(tolerance)")
        }
        if !(progressInterval >= 0) {
            throw SolverError.invalidConfiguration("\(solver): progressInterval must be >= 0 seconds, got \(progressInterval)")
        }
        return (ncv, maxIterations ?? max(10 * n, 100))
    }
}

/// What a running ARPACK solve has done so far: what the `progress` closure of
/// ``SymmetricEigensolver``, ``GeneralEigensolver`` and ``ARPACKSVD`` receives every
/// ``ARPACKOptions/progressInterval`` seconds, while ARPACK runs.
///
/// ```swift
/// var c = SymmetricEigensolver.Configuration(count: 64)
/// c.arpack.progressInterval = 10
/// let top = try SymmetricEigensolver.compute(a, c) { print($0) }   // "ARPACK: 12.0 s, 3 restarts, ..."
/// ```
public struct ARPACKProgress: Sendable, Equatable, CustomStringConvertible {
    /// Seconds since ARPACK started.
    public var seconds: Double
    /// Restarts (implicitly restarted Lanczos/Arnoldi iterations) completed so far: the number
    /// of times ARPACK has computed new Ritz values.
    public var iterations: Int
    /// Applications of ARPACK's operator so far (for ``ARPACKSVD`` each is one product with `A`
    /// and one with `A'`; in shift-invert mode each is one solve).
    public var operatorApplications: Int
    /// How many of the wanted Ritz values pass ARPACK's convergence test on its latest
    /// estimates (`bound <= tol max(eps^(2/3), |θ|)`, as `?sconv`/`?nconv`); 0 before the
    /// first restart. ARPACK may adjust the count at the end, so take it as an estimate.
    public var converged: Int
    /// The number of values asked for (`nev`).
    public var requested: Int

    /// A progress report (the solvers make them; public for tests and custom drivers).
    public init(seconds: Double, iterations: Int, operatorApplications: Int, converged: Int, requested: Int) {
        self.seconds = seconds; self.iterations = iterations; self.operatorApplications = operatorApplications
        self.converged = converged; self.requested = requested
    }

    /// `ARPACK: 12.0 s, 3 restarts, 1520 operator applications, 12 of 64 converged`.
    public var description: String {
        let time = (seconds * 10).rounded() / 10
        return "ARPACK: \(time) s, \(iterations) restart\(iterations == 1 ? "" : "s"), \(operatorApplications) operator applications, \(converged) of \(requested) converged"
    }
}

/// Which eigenvalues an ARPACK eigensolver finds (ARPACK's `WHICH`; the raw value is its
/// two-letter code), for ``SymmetricEigensolver`` and ``GeneralEigensolver`` alike. The symmetric solver takes ``largestAlgebraic``, ``smallestAlgebraic``,
/// ``largestMagnitude``, ``smallestMagnitude`` and ``bothEnds``; the general one the magnitude,
/// real-part and imaginary-part rules. For real eigenvalues the largest real part is the largest
/// algebraic value, so each solver also accepts the other's name for that rule (``largestReal``
/// runs `LA` in the symmetric solver, ``largestAlgebraic`` runs `LR` in the general one); the
/// others (``bothEnds`` for the general solver, the imaginary-part rules for the symmetric one)
/// are ``SolverError/invalidConfiguration(_:)``. In shift-invert mode the rule refers to the
/// transformed values `1 / (λ - σ)`, so ``largestMagnitude`` finds the eigenvalues nearest `σ`.
public enum ARPACKWhich: String, Sendable, CaseIterable {
    /// Largest magnitude (`LM`), the default of both solvers (as scipy).
    case largestMagnitude = "LM"
    /// Smallest magnitude (`SM`); slow to converge, prefer shift-invert with `σ = 0`.
    case smallestMagnitude = "SM"
    /// Largest algebraic (`LA`; symmetric).
    case largestAlgebraic = "LA"
    /// Smallest algebraic (`SA`; symmetric).
    case smallestAlgebraic = "SA"
    /// Half from each end of the spectrum, one more from the high end when the count is odd (`BE`; symmetric only).
    case bothEnds = "BE"
    /// Largest real part (`LR`; general).
    case largestReal = "LR"
    /// Smallest real part (`SR`; general).
    case smallestReal = "SR"
    /// Largest imaginary part in magnitude (`LI`; general only).
    case largestImaginary = "LI"
    /// Smallest imaginary part in magnitude (`SI`; general only).
    case smallestImaginary = "SI"

    /// The rules the symmetric (`true`) or the general solver runs under their own codes.
    public static func cases(symmetric: Bool) -> [ARPACKWhich] {
        symmetric ? [.largestAlgebraic, .smallestAlgebraic, .largestMagnitude, .smallestMagnitude, .bothEnds]
                  : [.largestMagnitude, .smallestMagnitude, .largestReal, .smallestReal, .largestImaginary, .smallestImaginary]
    }

    /// ARPACK's code for this rule in the symmetric (`true`) or general driver, or `nil` when
    /// that driver has no such rule.
    public func code(symmetric: Bool) -> String? {
        switch (self, symmetric) {
        case (.largestReal, true): return ARPACKWhich.largestAlgebraic.rawValue
        case (.smallestReal, true): return ARPACKWhich.smallestAlgebraic.rawValue
        case (.largestAlgebraic, false): return ARPACKWhich.largestReal.rawValue
        case (.smallestAlgebraic, false): return ARPACKWhich.smallestReal.rawValue
        case (.largestImaginary, true), (.smallestImaginary, true), (.bothEnds, false): return nil
        default: return rawValue
        }
    }
}

/// The parameters of an ARPACK eigensolver run, shared by ``SymmetricEigensolver`` and
/// ``GeneralEigensolver`` (each names it `Configuration`).
public struct ARPACKEigenConfiguration: Sendable, Equatable {
    /// The number of eigenpairs wanted, `nev`: `1 <= count < n` for the symmetric solver,
    /// `1 <= count <= n - 2` for the general one.
    public var count: Int
    /// Which eigenvalues (default ``ARPACKWhich/largestMagnitude``, as scipy). In shift-invert
    /// mode it refers to the transformed values `1 / (λ - σ)`.
    public var which: ARPACKWhich
    /// Basis size, tolerance, restart budget and seed (see ``ARPACKOptions``; the basis must
    /// satisfy `count < ncv <= n`, or `count + 2 <= ncv <= n` for the general solver).
    public var arpack: ARPACKOptions
    /// Whether to compute the relative residuals `||A x_i - λ_i x_i|| / max |λ|` for the
    /// diagnostics (one extra block application; default `true`).
    public var computeResiduals: Bool

    /// A configuration; every parameter but the first has the documented default (the middle
    /// four are ``ARPACKOptions``'s).
    public init(count: Int, which: ARPACKWhich = .largestMagnitude, subspaceSize: Int? = nil, tolerance: Double = 0,
                maxIterations: Int? = nil, seed: UInt64 = 0, computeResiduals: Bool = true) {
        self.count = count; self.which = which
        self.arpack = ARPACKOptions(subspaceSize: subspaceSize, tolerance: tolerance, maxIterations: maxIterations, seed: seed)
        self.computeResiduals = computeResiduals
    }

    /// Checks the configuration against a `rows x columns` operator (it must be square) and
    /// returns ARPACK's basis size, restart budget and `WHICH` code; `gap` as for
    /// ``ARPACKOptions`` (1: the symmetric solver, 2: the general one).
    func resolved(rows: Int, columns: Int, gap: Int, solver: String) throws -> (ncv: Int, maxIterations: Int, which: String) {
        if rows != columns {
            throw SolverError.invalidConfiguration("\(solver): the operator is \(rows) x \(columns); it must be square\(gap == 1 ? " (and symmetric)" : "")")
        }
        guard let code = which.code(symmetric: gap == 1) else {
            let valid = ARPACKWhich.cases(symmetric: gap == 1).map { ".\($0) (\($0.rawValue))" }.joined(separator: ", ")
            throw SolverError.invalidConfiguration("\(solver): which .\(which) (\(which.rawValue)) is not a rule of this solver; use one of \(valid)")
        }
        let limits = try arpack.resolved(nev: count, what: "count", n: rows, gap: gap, solver: solver)
        return (limits.ncv, limits.maxIterations, code)
    }
}

/// The process-wide ARPACK lock and ARPACK's error messages.
///
/// ARPACK keeps its state in Fortran `SAVE` variables, so two reverse-communication loops must
/// never interleave, even on different threads: every aupd/eupd sequence in the package runs
/// inside ``withLock(_:)``. Do not call an ARPACK solver from inside an operator or a `solve`
/// closure that ARPACK is calling: it would deadlock.
public enum ARPACK {
    private static let lock = NSLock()

    /// Runs `body` while holding the process-wide ARPACK lock.
    public static func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// The ``SolverError/arpack(routine:info:message:)`` for `info` returned by `routine`
    /// (`"saupd"`, `"seupd"`, `"naupd"` or `"neupd"`; the precision letter is added from `Scalar`).
    static func error<Scalar: BLASScalar>(_ routine: String, info: Int32, scalar _: Scalar.Type) -> SolverError {
        let name = (Scalar.self == Float.self ? "s" : "d") + routine
        return .arpack(routine: name, info: info, message: message(routine, info))
    }

    /// ARPACK's words for `info` from `routine` (`"saupd"`, `"seupd"`, `"naupd"` or `"neupd"`,
    /// without precision letter), from arpack-ng's `dsaupd.f`, `dseupd.f`, `dnaupd.f`, `dneupd.f`.
    public static func message(_ routine: String, _ info: Int32) -> String {
        let symmetric = routine.hasPrefix("s")
        switch (routine, info) {
        case (_, 1) where routine.hasSuffix("aupd"):
            return "Maximum number of iterations taken. All possible eigenvalues of OP has been found. IPARAM(5) returns the number of wanted converged Ritz values."
        case ("neupd", 1):
            return "The Schur form computed by LAPACK routine dlahqr could not be reordered by LAPACK routine dtrsen. Re-enter subroutine dneupd with IPARAM(5)=NCV and increase the size of the arrays DR and DI to have dimension at least dimension NCV and allocate at least NCV columns for Z."
        case (_, 2) where routine.hasSuffix("aupd"):
            return "No longer an informational error. Deprecated starting with release 2 of ARPACK."
        case (_, 3) where routine.hasSuffix("aupd"):
            return "No shifts could be applied during a cycle of the Implicitly restarted Arnoldi iteration. One possibility is to increase the size of NCV relative to NEV."
        case (_, -1): return "N must be positive."
        case (_, -2): return "NEV must be positive."
        case (_, -3):
            return symmetric ? "NCV must be greater than NEV and less than or equal to N."
                             : "NCV-NEV >= 2 and less than or equal to N."
        case (_, -4) where routine.hasSuffix("aupd"):
            return "The maximum number of Arnoldi update iterations allowed must be greater than zero."
        case (_, -5):
            return symmetric ? "WHICH must be one of 'LM', 'SM', 'LA', 'SA' or 'BE'."
                             : "WHICH must be one of 'LM', 'SM', 'LR', 'SR', 'LI', 'SI'."
        case (_, -6): return "BMAT must be one of 'I' or 'G'."
        case (_, -7): return "Length of private work array WORKL is not sufficient."
        case ("saupd", -8), ("seupd", -8):
            return "Error return from trid. eigenvalue calculation; Informational error from LAPACK routine dsteqr."
        case ("naupd", -8): return "Error return from LAPACK eigenvalue calculation."
        case ("neupd", -8):
            return "Error return from calculation of a real Schur form. Informational error from LAPACK routine dlahqr."
        case ("neupd", -9):
            return "Error return from calculation of eigenvectors. Informational error from LAPACK routine dtrevc."
        case (_, -9): return "Starting vector is zero."
        case (_, -10): return symmetric ? "IPARAM(7) must be 1,2,3,4,5." : "IPARAM(7) must be 1,2,3,4."
        case (_, -11): return "IPARAM(7) = 1 and BMAT = 'G' are incompatible."
        case ("saupd", -12), ("naupd", -12): return "IPARAM(1) must be equal to 0 or 1."
        case ("seupd", -12): return "NEV and WHICH = 'BE' are incompatible."
        case ("neupd", -12): return "HOWMNY = 'S' not yet implemented."
        case ("saupd", -13): return "NEV and WHICH = 'BE' are incompatible."
        case ("neupd", -13): return "HOWMNY must be one of 'A' or 'P' if RVEC = .true."
        case ("seupd", -14), ("neupd", -14):
            return "\(symmetric ? "DSAUPD" : "DNAUPD") did not find any eigenvalues to sufficient accuracy."
        case ("seupd", -15): return "HOWMNY must be one of 'A' or 'S' if RVEC = .true."
        case ("seupd", -16): return "HOWMNY = 'S' not yet implemented."
        case ("seupd", -17), ("neupd", -15):
            let r = symmetric ? "DSEUPD" : "DNEUPD", a = symmetric ? "DSAUPD" : "DNAUPD"
            return "\(r) got a different count of the number of converged Ritz values than \(a) got. This indicates the user probably made an error in passing data from \(a) to \(r) or that the data was modified before entering \(r)."
        case (_, -9999):
            return "Could not build an Arnoldi factorization. IPARAM(5) returns the size of the current Arnoldi factorization. The user is advised to check that enough workspace and array storage has been allocated."
        default:
            return "Unknown ARPACK error (info = \(info))."
        }
    }
}

extension ARPACK {
    /// What a user can change after ARPACK failed with `info` in `routine` (as for
    /// ``message(_:_:)``, without precision letter): in the terms of ``ARPACKOptions`` and the
    /// solver choice, with the matching `follow-graph-svd` flags in parentheses.
    public static func advice(_ routine: String, _ info: Int32) -> String {
        let randomized = "or use the randomized solver, which always returns (RandomizedSVD; follow-graph-svd --solver randomized)"
        switch (routine, info) {
        case (_, 3) where routine.hasSuffix("aupd"):
            return "give ARPACK a larger subspaceSize (NCV) relative to the number of values wanted, or ask for fewer values (a smaller rank; --dim), \(randomized)."
        case (_, -9999):
            return "the operator has fewer well-separated values than asked for near this basis size: ask for fewer values (a smaller rank; --dim) or give a larger subspaceSize, \(randomized)."
        case (_, 1) where routine.hasSuffix("aupd"):
            return "allow more restarts (a larger maxIterations), a larger subspaceSize or a looser tolerance, \(randomized)."
        case ("seupd", -14), ("neupd", -14):
            return "allow more restarts (a larger maxIterations), a larger subspaceSize or a looser tolerance, \(randomized)."
        case (_, -8), ("neupd", -9), ("neupd", 1):
            return "LAPACK failed inside ARPACK's small dense problem: try another seed or a larger subspaceSize, \(randomized)."
        case (_, -9):
            return "the operator maps ARPACK's start vector to zero: check that the matrix is not zero (an empty or fully filtered graph), or try another seed."
        default:
            return "this configuration should have been rejected before ARPACK ran; please report it with the call that produced it, \(randomized)."
        }
    }
}

// MARK: - The reverse-communication drivers

/// The ARPACK answer before packaging.
struct ARPACKOutput<S: BLASScalar> {
    var values: [S]
    var imaginary: [S]
    var vectors: Matrix<S>
    var imaginaryVectors: Matrix<S>?
    var iterations: Int
    var operatorApplications: Int
    /// Seconds spent inside `applyOP` (the rest of the ARPACK phase is ARPACK's own work).
    var operatorSeconds: Double = 0
}


/// A closure applying `op` to one vector stored at a raw pointer (what ARPACK hands out). A
/// sparse operator (`CSRRepresentable`) runs the SpMV kernel on the pointers themselves: no
/// allocation, no copy.
func vectorApply<Op: LinearOperator>(_ op: Op) -> (UnsafePointer<Op.Scalar>, UnsafeMutablePointer<Op.Scalar>) throws -> Void {
    if let sparse = op as? any CSRRepresentable<Op.Scalar> {
        let a = sparse.csrMatrix()
        return { x, y in a.multiply(x, into: y) }
    }
    let n = op.columns, m = op.rows
    return { x, y in
        let xm = Matrix<Op.Scalar>(rows: n, columns: 1, elements: Array(UnsafeBufferPointer(start: x, count: n)))
        var ym = Matrix<Op.Scalar>(rows: m, columns: 1)
        op.apply(xm, into: &ym)
        ym.elements.withUnsafeBufferPointer { y.update(from: $0.baseAddress!, count: m) }
    }
}

/// `||A x_i - λ_i x_i||` for real or complex pairs, accumulated in `Double`. Cost: one block

enum ARPACKDriver<S: BLASScalar> {
    static func cString(_ s: String) -> [CChar] { s.utf8.map { CChar(bitPattern: $0) } + [0] }

    /// A seeded, normalised Gaussian starting vector (ARPACK's own random start is not reproducible
    /// across calls because its seed lives in a SAVE variable).
    static func startVector(_ n: Int, seed: UInt64) -> [S] {
        var rng = Xoshiro256(seed: seed)
        var v = [S](repeating: 0, count: n)
        v.withUnsafeMutableBufferPointer { rng.fillGaussian($0) }
        return v
    }

    /// ARPACK's reverse-communication loop, shared by every driver: `step` makes one `?saupd` or
    /// `?naupd` call and returns its `ido` with the 0-based offsets of `x` and `y` in `workd`
    /// (`ipntr(1) - 1`, `ipntr(2) - 1`). Applies `y = OP x` for `ido = -1, 1` and `y = B x = x`
    /// for `ido = 2` (standard problems only); returns when ARPACK asks for nothing more, with the
    /// nanoseconds spent in `applyOP`. Throws ``SolverError/nonFinite(_:)`` as soon as `OP x`
    /// holds NaN or infinity (one O(n) check per application). `applied` is called after each
    /// application with the clock's uptime in nanoseconds.
    static func reverseCommunication(n: Int, workd: UnsafeMutablePointer<S>,
                                     applyOP: (UnsafePointer<S>, UnsafeMutablePointer<S>) throws -> Void,
                                     applied: (UInt64) -> Void = { _ in },
                                     step: () -> (ido: Int32, x: Int, y: Int)) throws -> UInt64 {
        var nanoseconds: UInt64 = 0
        while true {
            let (ido, x, y) = step()
            if ido == -1 || ido == 1 {
                let start = DispatchTime.now().uptimeNanoseconds
                try applyOP(workd + x, workd + y)
                let end = DispatchTime.now().uptimeNanoseconds
                nanoseconds &+= end &- start
                // NaN or infinity would make ARPACK iterate to its restart budget and return
                // garbage: stop at the first application that produces one.
                if !S.kernelAllFinite(workd + y, count: n) {
                    throw SolverError.nonFinite("the operator applied to ARPACK's vector \(ido == -1 ? "(initial)" : "(Lanczos/Arnoldi step)") contains NaN or infinity; check the operator's input")
                }
                applied(end)
            } else if ido == 2 {
                (workd + y).update(from: workd + x, count: n)
            } else {
                return nanoseconds
            }
        }
    }

    /// ARPACK's arrays for one aupd/eupd sequence, allocated once and freed with the value (no
    /// nested `withUnsafe...` closures): the start vector `resid` (seeded, see
    /// ``startVector(_:seed:)``), the basis `v` (`n x ncv`), `workd`, `workl`, `iparam`, `ipntr`,
    /// and the reverse-communication flags. `iparam` holds exact shifts, the restart budget, block
    /// size 1 and `mode`; `info = 1` tells ARPACK to start from `resid`.
    final class Workspace {
        let general: Bool, n: Int, nev: Int, ncv: Int, lworkl: Int
        let resid: UnsafeMutablePointer<S>, v: UnsafeMutablePointer<S>
        let workd: UnsafeMutablePointer<S>, workl: UnsafeMutablePointer<S>
        let iparam: UnsafeMutablePointer<Int32>, ipntr: UnsafeMutablePointer<Int32>
        let bmat: [CChar], which: [CChar], howmny: [CChar]
        var ido: Int32 = 0, info: Int32 = 1

        init(general: Bool, n: Int, nev: Int, ncv: Int, lworkl: Int, which: String, seed: UInt64, maxIterations: Int, mode: Int32) {
            self.general = general; self.n = n; self.nev = nev; self.ncv = ncv; self.lworkl = lworkl
            func zeros<T: Numeric>(_ count: Int) -> UnsafeMutablePointer<T> {
                let p = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
                p.initialize(repeating: 0, count: max(count, 1))
                return p
            }
            resid = zeros(n); v = zeros(n * ncv); workd = zeros(3 * n); workl = zeros(lworkl)
            iparam = zeros(11); ipntr = zeros(14)
            bmat = cString("I"); self.which = cString(which); howmny = cString("A")
            let start = ARPACKDriver.startVector(n, seed: seed)
            let residual = resid
            start.withUnsafeBufferPointer { residual.update(from: $0.baseAddress!, count: n) }
            iparam[0] = 1                                   // exact shifts
            iparam[2] = Int32(clamping: maxIterations)
            iparam[3] = 1                                   // block size (must be 1)
            iparam[6] = mode
        }

        deinit {
            for p in [resid, v, workd, workl] { p.deallocate() }
            iparam.deallocate(); ipntr.deallocate()
        }

        /// Runs the reverse-communication loop with `call` making one aupd call; throws ARPACK's
        /// error for `routine` unless it ends with `info` 0 or 1. Calls `progress` every
        /// `progressInterval` seconds (checked after each operator application).
        func iterate(_ routine: String, tolerance: S, progressInterval: Double, progress: (ARPACKProgress) -> Void,
                     applyOP: (UnsafePointer<S>, UnsafeMutablePointer<S>) throws -> Void,
                     call: (Workspace) -> Void) throws -> (iterations: Int, applications: Int, operatorSeconds: Double, converged: Int) {
            let start = DispatchTime.now().uptimeNanoseconds
            let interval = UInt64(Swift.min(Swift.max(progressInterval, 0), 1e9) * 1e9)
            var lastReport = start, applications = 0, restarts = 0
            var ritz = [S](repeating: 0, count: ncv)      // ARPACK's Ritz values at the last application
            let nanoseconds = try reverseCommunication(n: n, workd: workd, applyOP: applyOP, applied: { now in
                applications += 1
                if ritzValuesChanged(since: &ritz) { restarts += 1 }
                guard now &- lastReport >= interval else { return }
                lastReport = now
                progress(ARPACKProgress(seconds: Double(now &- start) / 1e9, iterations: restarts,
                                               operatorApplications: applications,
                                               converged: restarts == 0 ? 0 : convergedEstimate(tolerance: tolerance),
                                               requested: nev))
            }) {
                call(self)
                return (ido, Int(ipntr[0] - 1), Int(ipntr[1] - 1))
            }
            if info != 0 && info != 1 { throw ARPACK.error(routine, info: info, scalar: S.self) }
            return (Int(iparam[2]), Int(iparam[8]), Double(nanoseconds) / 1e9, Int(iparam[4]))
        }

        /// The 0-based offsets in `workl` of ARPACK's Ritz values (real parts), their imaginary
        /// parts (general driver only) and their error bounds, from `ipntr` (`?saupd`: IPNTR(6),
        /// IPNTR(7); `?naupd`: IPNTR(6), IPNTR(7), IPNTR(8)); `nil` before ARPACK has set them.
        var ritzOffsets: (values: Int, imaginary: Int?, bounds: Int)? {
            let values = Int(ipntr[5]) - 1, second = Int(ipntr[6]) - 1
            let bounds = general ? Int(ipntr[7]) - 1 : second
            guard values >= 0, bounds >= 0, second >= 0,
                  Swift.max(values, bounds, second) + ncv <= lworkl else { return nil }
            return (values, general ? second : nil, bounds)
        }

        /// Whether ARPACK's Ritz values differ from `previous` (and are not all zero: none
        /// computed yet); updates `previous`. They change once per restart.
        func ritzValuesChanged(since previous: inout [S]) -> Bool {
            guard let offsets = ritzOffsets else { return false }
            let current = UnsafeBufferPointer(start: workl + offsets.values, count: ncv)
            guard !current.elementsEqual(previous), current.contains(where: { $0 != 0 }) else { return false }
            previous = Array(current)
            return true
        }

        /// The wanted Ritz values (the last `nev` of ARPACK's sorted `ncv`) whose error bound
        /// passes ARPACK's test, `bound <= tol max(eps^(2/3), |θ|)` (`?sconv`, `?nconv`; `eps`
        /// is LAPACK's `?lamch('E')`, half the ulp of one).
        func convergedEstimate(tolerance: S) -> Int {
            guard let offsets = ritzOffsets else { return 0 }
            let eps23 = S.pow(S.ulpOfOne / 2, S(2) / 3)
            var count = 0
            for i in Swift.max(ncv - nev, 0)..<ncv {
                var magnitude = Swift.abs(workl[offsets.values + i])
                if let imaginary = offsets.imaginary {
                    let im = workl[imaginary + i]
                    magnitude = (magnitude * magnitude + im * im).squareRoot()
                }
                if workl[offsets.bounds + i] <= tolerance * Swift.max(eps23, magnitude) { count += 1 }
            }
            return count
        }

    }

    /// What ``symmetric(n:nev:which:ncv:maxIterations:options:mode:sigma:progress:applyOP:)`` and
    /// ``general(n:nev:which:ncv:maxIterations:options:progress:applyOP:)`` share: the tolerance,
    /// the workspace, the lock, the aupd loop with its progress reports, and the empty answer
    /// when nothing converged (the eupd call would fail with -14). `extract` makes the eupd call
    /// and fills in the values and vectors of `output`, which holds the counts.
    static func solve(general: Bool, n: Int, nev: Int, which: String, ncv: Int, maxIterations: Int,
                      options: ARPACKOptions, mode: Int32, progress: (ARPACKProgress) -> Void,
                      applyOP: (UnsafePointer<S>, UnsafeMutablePointer<S>) throws -> Void,
                      extract: (Workspace, _ tolerance: S, inout ARPACKOutput<S>) throws -> Void) throws -> ARPACKOutput<S> {
        // Tolerance 0 is the scalar's machine epsilon (2^-23 for Float), as scipy's ARPACK reads it;
        // Fortran ARPACK's own default (LAPACK `?lamch("E")`) is half that.
        let tolerance = options.tolerance > 0 ? S(options.tolerance) : S.ulpOfOne
        let w = Workspace(general: general, n: n, nev: nev, ncv: ncv,
                          lworkl: general ? 3 * ncv * ncv + 6 * ncv : ncv * (ncv + 8), which: which,
                          seed: options.seed, maxIterations: maxIterations, mode: mode)
        let aupd = general ? S.routines.naupd : S.routines.saupd
        return try ARPACK.withLock {
            let run = try w.iterate(general ? "naupd" : "saupd", tolerance: tolerance, progressInterval: options.progressInterval,
                                    progress: progress, applyOP: applyOP) { w in
                aupd(&w.ido, w.bmat, Int32(n), w.which, Int32(nev), tolerance, w.resid, Int32(ncv), w.v, Int32(n),
                     w.iparam, w.ipntr, w.workd, w.workl, Int32(w.lworkl), &w.info)
            }
            var output = ARPACKOutput<S>(values: [], imaginary: [], vectors: Matrix(rows: n, columns: 0),
                                         imaginaryVectors: general ? Matrix(rows: n, columns: 0) : nil,
                                         iterations: run.iterations, operatorApplications: run.applications,
                                         operatorSeconds: run.operatorSeconds)
            if run.converged > 0 { try extract(w, tolerance, &output) }
            return output
        }
    }

    /// One `?saupd` loop and `?seupd` call, under ``ARPACK/withLock(_:)``. Values ascending.
    static func symmetric(n: Int, nev: Int, which: String, ncv: Int, maxIterations: Int, options: ARPACKOptions,
                          mode: Int32, sigma: S, progress: (ARPACKProgress) -> Void,
                          applyOP: (UnsafePointer<S>, UnsafeMutablePointer<S>) throws -> Void) throws -> ARPACKOutput<S> {
        try solve(general: false, n: n, nev: nev, which: which, ncv: ncv, maxIterations: maxIterations, options: options,
                  mode: mode, progress: progress, applyOP: applyOP) { w, tolerance, output in
            var select = [Int32](repeating: 0, count: ncv)
            var d = [S](repeating: 0, count: nev)
            var z = Matrix<S>(rows: n, columns: nev)
            var info: Int32 = 0
            z.withUnsafeMutableBufferPointer { pz in
                S.routines.seupd(1, w.howmny, &select, &d, pz.baseAddress!, Int32(n), sigma, w.bmat, Int32(n), w.which,
                                 Int32(nev), tolerance, w.resid, Int32(ncv), w.v, Int32(n), w.iparam, w.ipntr, w.workd,
                                 w.workl, Int32(w.lworkl), &info)
            }
            if info != 0 { throw ARPACK.error("seupd", info: info, scalar: S.self) }
            let nconv = min(Int(w.iparam[4]), nev)
            // Sort ascending and keep the converged ones.
            let order = (0..<nconv).sorted { d[$0] < d[$1] }
            var vectors = Matrix<S>(rows: n, columns: nconv)
            for (j, src) in order.enumerated() {
                vectors.elements.replaceSubrange((j * n)..<((j + 1) * n), with: z.elements[(src * n)..<((src + 1) * n)])
            }
            output.values = order.map { d[$0] }
            output.vectors = vectors
        }
    }

    /// One `?naupd` loop and `?neupd` call, under ``ARPACK/withLock(_:)``. Values in ARPACK's order
    /// (conjugate pairs adjacent, positive imaginary part first).
    static func general(n: Int, nev: Int, which: String, ncv: Int, maxIterations: Int, options: ARPACKOptions,
                        progress: (ARPACKProgress) -> Void,
                        applyOP: (UnsafePointer<S>, UnsafeMutablePointer<S>) throws -> Void) throws -> ARPACKOutput<S> {
        try solve(general: true, n: n, nev: nev, which: which, ncv: ncv, maxIterations: maxIterations, options: options,
                  mode: 1, progress: progress, applyOP: applyOP) { w, tolerance, output in
            var select = [Int32](repeating: 0, count: ncv)
            var dr = [S](repeating: 0, count: nev + 1)
            var di = [S](repeating: 0, count: nev + 1)
            var workev = [S](repeating: 0, count: 3 * ncv)
            var z = Matrix<S>(rows: n, columns: nev + 1)
            var info: Int32 = 0
            z.withUnsafeMutableBufferPointer { pz in
                S.routines.neupd(1, w.howmny, &select, &dr, &di, pz.baseAddress!, Int32(n), 0, 0, &workev, w.bmat, Int32(n),
                                 w.which, Int32(nev), tolerance, w.resid, Int32(ncv), w.v, Int32(n), w.iparam, w.ipntr,
                                 w.workd, w.workl, Int32(w.lworkl), &info)
            }
            if info != 0 { throw ARPACK.error("neupd", info: info, scalar: S.self) }
            let nconv = min(Int(w.iparam[4]), nev + 1)
            // Unpack: a real value owns column j; a conjugate pair (di[j] != 0) shares columns
            // j (real part) and j + 1 (imaginary part): x_j = z_j + i z_{j+1}, x_{j+1} = conj(x_j).
            var re = Matrix<S>(rows: n, columns: nconv), im = Matrix<S>(rows: n, columns: nconv)
            var j = 0
            while j < nconv {
                let zr = z.column(j)
                if di[j] == 0 {
                    re.setColumn(j, zr); j += 1; continue
                }
                let zi = j + 1 < nev + 1 ? z.column(j + 1) : [S](repeating: 0, count: n)
                re.setColumn(j, zr); im.setColumn(j, zi)
                if j + 1 < nconv { re.setColumn(j + 1, zr); im.setColumn(j + 1, zi.map { -$0 }) }
                j += 2
            }
            output.values = Array(dr[0..<nconv]); output.imaginary = Array(di[0..<nconv])
            output.vectors = re; output.imaginaryVectors = im
        }
    }
}
