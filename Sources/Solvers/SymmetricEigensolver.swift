import Dispatch
import LinearAlgebra

/// A few eigenvalues and eigenvectors of a large symmetric operator by ARPACK's implicitly
/// restarted Lanczos method (`ssaupd`/`sseupd`, `dsaupd`/`dseupd`), as scipy's `eigsh`.
///
/// ```swift
/// let top = try SymmetricEigensolver.compute(laplacian, .init(count: 8, which: .smallestAlgebraic))
/// let interior = try SymmetricEigensolver.shiftInvert(laplacian, sigma: 1.5,
///     solve: { try shifted.solve($0) }, .init(count: 4))
/// ```
///
/// Every call holds ``ARPACKLock`` for the whole reverse-communication loop, so concurrent calls
/// run one after the other. Do not call an ARPACK solver from inside the operator or the `solve`
/// closure: it would deadlock.
public enum SymmetricEigensolver {
    /// Which eigenvalues to find (ARPACK's `WHICH`). In shift-invert mode it refers to the
    /// transformed values `1 / (λ - σ)`, so ``largestMagnitude`` finds the eigenvalues nearest `σ`.
    public enum Which: String, Sendable, CaseIterable {
        /// Largest algebraic (`LA`).
        case largestAlgebraic = "LA"
        /// Smallest algebraic (`SA`).
        case smallestAlgebraic = "SA"
        /// Largest magnitude (`LM`).
        case largestMagnitude = "LM"
        /// Smallest magnitude (`SM`); slow to converge, prefer shift-invert with `σ = 0`.
        case smallestMagnitude = "SM"
        /// Half from each end of the spectrum, one more from the high end when the count is odd (`BE`).
        case bothEnds = "BE"
    }

    /// The parameters of a run.
    public struct Configuration: Sendable, Equatable {
        /// The number of eigenpairs wanted, `nev`: `1 <= count < n`.
        public var count: Int
        /// Which end of the spectrum (default ``Which/largestMagnitude``, as scipy).
        public var which: Which
        /// Lanczos basis size `ncv`; `nil` (default) uses `max(2 count + 1, 20)`, capped at `n`.
        /// Must satisfy `count < ncv <= n`.
        public var subspaceSize: Int?
        /// Relative accuracy of the Ritz values, `||A x - λ x|| <= tol |λ|`; 0 (default) means
        /// machine precision of the scalar type.
        public var tolerance: Double
        /// Maximum restarts; `nil` (default) uses `10 n`, as scipy.
        public var maxIterations: Int?
        /// Seed of the starting vector (default 0).
        public var seed: UInt64
        /// Whether to compute `||A v_i - λ_i v_i||` for the diagnostics (one extra pass; default `true`).
        public var computeResiduals: Bool

        /// A configuration; every parameter but the first has the documented default.
        public init(count: Int, which: Which = .largestMagnitude, subspaceSize: Int? = nil, tolerance: Double = 0,
                    maxIterations: Int? = nil, seed: UInt64 = 0, computeResiduals: Bool = true) {
            self.count = count; self.which = which; self.subspaceSize = subspaceSize; self.tolerance = tolerance
            self.maxIterations = maxIterations; self.seed = seed; self.computeResiduals = computeResiduals
        }
    }

    /// Eigenvalues in ascending order, their orthonormal eigenvectors (`n x converged`), and the
    /// diagnostics. Raises ``SolverError/invalidConfiguration(_:)`` for a non-square operator or
    /// counts outside ARPACK's limits, ``ARPACKError`` for any other ARPACK failure. When ARPACK
    /// reaches `maxIterations` with only some pairs converged, those are returned and
    /// ``EigenDiagnostics/allConverged`` is `false`.
    ///
    /// Cost: about `iterations * (ncv - count)` applications of `op` to one vector, plus
    /// O(n ncv^2) of Lanczos work; one more block application for the residuals.
    public static func compute<Op: LinearOperator>(_ op: Op, _ configuration: Configuration) throws
        -> SymmetricEigenResult<Op.Scalar>
    {
        try validate(rows: op.rows, columns: op.columns, configuration)
        let apply = vectorApply(op)
        return try run(op, configuration, mode: 1, sigma: 0, description: "regular", applyOP: apply)
    }

    /// Shift-invert mode (ARPACK mode 3): eigenvalues of `A` nearest `sigma` (with the default
    /// `which`), found as the largest eigenvalues of `(A - σ I)^-1`. Use it for interior
    /// eigenvalues and for the smallest ones (`σ = 0` or just below the spectrum).
    ///
    /// - Parameters:
    ///   - op: the symmetric `A`; used only for the residual diagnostics.
    ///   - sigma: the shift `σ`.
    ///   - solve: returns `X` with `(A - σ I) X = B` for an `n x r` block `B` (e.g. a sparse
    ///     Cholesky or LU solve you factored once beforehand). Errors it throws are passed on.
    ///   - configuration: as for ``compute(_:_:)``; `which` applies to `1 / (λ - σ)`.
    /// - Returns: the eigenvalues of `A` (back-transformed by ARPACK), ascending, and their vectors.
    /// - Throws: as ``compute(_:_:)``, and whatever `solve` throws.
    public static func shiftInvert<Op: LinearOperator>(
        _ op: Op, sigma: Op.Scalar, solve: (Matrix<Op.Scalar>) throws -> Matrix<Op.Scalar>,
        _ configuration: Configuration
    ) throws -> SymmetricEigenResult<Op.Scalar> {
        typealias S = Op.Scalar
        try validate(rows: op.rows, columns: op.columns, configuration)
        let n = op.rows
        let apply: (UnsafePointer<S>, UnsafeMutablePointer<S>) throws -> Void = { x, y in
            let b = Matrix<S>(rows: n, columns: 1, elements: Array(UnsafeBufferPointer(start: x, count: n)))
            let solution = try solve(b)
            guard solution.rows == n, solution.columns == 1 else {
                throw SolverError.invalidConfiguration("SymmetricEigensolver.shiftInvert: solve returned a \(solution.rows) x \(solution.columns) matrix for a \(n) x 1 right-hand side")
            }
            solution.elements.withUnsafeBufferPointer { y.update(from: $0.baseAddress!, count: n) }
        }
        return try run(op, configuration, mode: 3, sigma: sigma, description: "shift-invert (σ = \(sigma))", applyOP: apply)
    }

    static func validate(rows: Int, columns: Int, _ c: Configuration) throws {
        if rows != columns {
            throw SolverError.invalidConfiguration("SymmetricEigensolver: the operator is \(rows) x \(columns); it must be square (and symmetric)")
        }
        let n = rows
        if c.count < 1 || c.count >= n {
            throw SolverError.invalidConfiguration("SymmetricEigensolver: count \(c.count) must be in 1..<n = 1..<\(n) (ARPACK needs NEV < N; use Matrix.symmetricEigen for all eigenpairs)")
        }
        if let ncv = c.subspaceSize, ncv <= c.count || ncv > n {
            throw SolverError.invalidConfiguration("SymmetricEigensolver: subspaceSize \(ncv) must satisfy count < ncv <= n (count \(c.count), n \(n))")
        }
        if let it = c.maxIterations, it < 1 {
            throw SolverError.invalidConfiguration("SymmetricEigensolver: maxIterations must be >= 1, got \(it)")
        }
        if !(c.tolerance >= 0) {
            throw SolverError.invalidConfiguration("SymmetricEigensolver: tolerance must be >= 0, got \(c.tolerance)")
        }
    }

    static func run<Op: LinearOperator>(
        _ op: Op, _ c: Configuration, mode: Int32, sigma: Op.Scalar, description: String,
        applyOP: (UnsafePointer<Op.Scalar>, UnsafeMutablePointer<Op.Scalar>) throws -> Void
    ) throws -> SymmetricEigenResult<Op.Scalar> {
        typealias S = Op.Scalar
        let n = op.rows
        var clock = PhaseClock()
        let ncv = c.subspaceSize ?? min(max(2 * c.count + 1, 20), n)
        let output = try clock.measure("ARPACK") {
            try ARPACKDriver<S>.symmetric(n: n, nev: c.count, which: c.which.rawValue, ncv: ncv,
                                          tolerance: S(c.tolerance), maxIterations: c.maxIterations ?? max(10 * n, 100),
                                          seed: c.seed, mode: mode, sigma: sigma, applyOP: applyOP)
        }
        var result = SymmetricEigenResult(
            values: output.values, vectors: output.vectors,
            diagnostics: EigenDiagnostics(
                mode: description, which: c.which.rawValue, requested: c.count, converged: output.values.count,
                iterations: output.iterations, operatorApplications: output.operatorApplications,
                subspaceSize: ncv, tolerance: c.tolerance, seed: c.seed))
        if c.computeResiduals && !output.values.isEmpty {
            result.diagnostics.residuals = clock.measure("residuals") {
                eigenResiduals(op, values: output.values, imaginary: nil, vectors: output.vectors, imaginaryVectors: nil)
            }
        }
        result.diagnostics.operatorSeconds = output.operatorSeconds
        result.diagnostics.phases = clock.phases
        return result
    }
}

/// The answer of ``SymmetricEigensolver``.
public struct SymmetricEigenResult<Scalar: BLASScalar>: Sendable {
    /// The converged eigenvalues, ascending (as LAPACK and scipy return them).
    public var values: [Scalar]
    /// Orthonormal eigenvectors as columns, `n x values.count`, in the order of `values`.
    public var vectors: Matrix<Scalar>
    /// How the run went.
    public var diagnostics: EigenDiagnostics
}

/// What an ARPACK eigensolver run did and how accurate its answer is.
public struct EigenDiagnostics: Sendable {
    /// `"regular"` or the spectral transformation, e.g. `"shift-invert (σ = 1.5)"`.
    public var mode: String
    /// ARPACK's `WHICH` code.
    public var which: String
    /// Eigenpairs asked for (`nev`).
    public var requested: Int
    /// Eigenpairs returned (ARPACK's converged count, at most `requested`).
    public var converged: Int
    /// Restarts taken (`iparam(3)` on exit).
    public var iterations: Int
    /// Applications of the operator (or of the shift-invert solve) to one vector (`iparam(9)`).
    public var operatorApplications: Int
    /// Lanczos/Arnoldi basis size `ncv`.
    public var subspaceSize: Int
    /// The requested relative tolerance (0: machine precision).
    public var tolerance: Double
    /// Seed of the starting vector.
    public var seed: UInt64
    /// `||A x_i - λ_i x_i||` for every returned pair (complex norm for the general solver);
    /// empty when residuals were not requested.
    public var residuals: [Double] = []
    /// Wall-clock time of each phase.
    public var phases: [SolverPhase] = []
    /// Seconds of the `"ARPACK"` phase spent applying the operator (or the shift-invert solve);
    /// the rest is ARPACK's own Lanczos/Arnoldi work (reorthogonalisation, restarts).
    public var operatorSeconds: Double = 0

    /// Whether all requested pairs converged.
    public var allConverged: Bool { converged >= requested }
    /// The largest residual (0 when none were computed).
    public var maxResidual: Double { residuals.max() ?? 0 }
}

// MARK: - The ARPACK reverse-communication drivers

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

/// A closure applying `op` to one vector stored at a raw pointer (what ARPACK hands out).
func vectorApply<Op: LinearOperator>(_ op: Op) -> (UnsafePointer<Op.Scalar>, UnsafeMutablePointer<Op.Scalar>) throws -> Void {
    let n = op.columns, m = op.rows
    return { x, y in
        let xm = Matrix<Op.Scalar>(rows: n, columns: 1, elements: Array(UnsafeBufferPointer(start: x, count: n)))
        var ym = Matrix<Op.Scalar>(rows: m, columns: 1)
        op.apply(xm, into: &ym)
        ym.elements.withUnsafeBufferPointer { y.update(from: $0.baseAddress!, count: m) }
    }
}

/// `||A x_i - λ_i x_i||` for real or complex pairs, accumulated in `Double`. Cost: one block
/// application of `A` (two for complex vectors).
func eigenResiduals<Op: LinearOperator>(_ op: Op, values: [Op.Scalar], imaginary: [Op.Scalar]?,
                                        vectors: Matrix<Op.Scalar>, imaginaryVectors: Matrix<Op.Scalar>?) -> [Double] {
    let n = vectors.rows
    let ax = op.apply(vectors)
    let ay = imaginaryVectors.map { op.apply($0) }
    return (0..<values.count).map { j in
        let lr = Double(values[j]), li = Double(imaginary?[j] ?? 0)
        var sum = 0.0
        for i in 0..<n {
            let xr = Double(vectors.elements[i + j * n])
            let xi = imaginaryVectors.map { Double($0.elements[i + j * n]) } ?? 0
            let axr = Double(ax.elements[i + j * n])
            let axi = ay.map { Double($0.elements[i + j * n]) } ?? 0
            // A (xr + i xi) - (lr + i li)(xr + i xi)
            let re = axr - (lr * xr - li * xi)
            let im = axi - (lr * xi + li * xr)
            sum += re * re + im * im
        }
        return sum.squareRoot()
    }
}

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
    /// nanoseconds spent in `applyOP`.
    static func reverseCommunication(n: Int, workd: UnsafeMutablePointer<S>,
                                     applyOP: (UnsafePointer<S>, UnsafeMutablePointer<S>) throws -> Void,
                                     step: () -> (ido: Int32, x: Int, y: Int)) throws -> UInt64 {
        var nanoseconds: UInt64 = 0
        while true {
            let (ido, x, y) = step()
            if ido == -1 || ido == 1 {
                let start = DispatchTime.now().uptimeNanoseconds
                try applyOP(workd + x, workd + y)
                nanoseconds &+= DispatchTime.now().uptimeNanoseconds &- start
            } else if ido == 2 {
                (workd + y).update(from: workd + x, count: n)
            } else {
                return nanoseconds
            }
        }
    }

    /// One `?saupd` loop and `?seupd` call, under ``ARPACKLock``. Values ascending.
    static func symmetric(n: Int, nev: Int, which: String, ncv: Int, tolerance: S, maxIterations: Int,
                          seed: UInt64, mode: Int32, sigma: S,
                          applyOP: (UnsafePointer<S>, UnsafeMutablePointer<S>) throws -> Void) throws -> ARPACKOutput<S> {
        let lworkl = ncv * (ncv + 8)
        var resid = startVector(n, seed: seed)
        var v = [S](repeating: 0, count: n * ncv)
        var workd = [S](repeating: 0, count: 3 * n)
        var workl = [S](repeating: 0, count: lworkl)
        var iparam = [Int32](repeating: 0, count: 11)
        var ipntr = [Int32](repeating: 0, count: 14)
        iparam[0] = 1                                   // exact shifts
        iparam[2] = Int32(clamping: maxIterations)
        iparam[3] = 1                                   // block size (must be 1)
        iparam[6] = mode
        let bmat = cString("I"), whichC = cString(which), howmny = cString("A")
        let n32 = Int32(n), nev32 = Int32(nev), ncv32 = Int32(ncv), lworkl32 = Int32(lworkl)
        var ido: Int32 = 0, info: Int32 = 1             // info = 1: use resid as the start vector

        return try ARPACKLock.withLock {
            try resid.withUnsafeMutableBufferPointer { pr in
            try v.withUnsafeMutableBufferPointer { pv in
            try workd.withUnsafeMutableBufferPointer { pd in
            try workl.withUnsafeMutableBufferPointer { pl in
                let operatorNanoseconds = try reverseCommunication(n: n, workd: pd.baseAddress!, applyOP: applyOP) {
                    S.arpackSaupd(&ido, bmat, n32, whichC, nev32, tolerance, pr.baseAddress!, ncv32, pv.baseAddress!, n32,
                                  &iparam, &ipntr, pd.baseAddress!, pl.baseAddress!, lworkl32, &info)
                    return (ido, Int(ipntr[0] - 1), Int(ipntr[1] - 1))
                }
                if info != 0 && info != 1 { throw ARPACKError.from("saupd", info: info, scalar: S.self) }
                let iterations = Int(iparam[2]), applications = Int(iparam[8])
                let operatorSeconds = Double(operatorNanoseconds) / 1e9
                if iparam[4] == 0 {                 // nothing converged: dseupd would fail with -14
                    return ARPACKOutput(values: [], imaginary: [], vectors: Matrix(rows: n, columns: 0),
                                        imaginaryVectors: nil, iterations: iterations, operatorApplications: applications, operatorSeconds: operatorSeconds)
                }
                var select = [Int32](repeating: 0, count: ncv)
                var d = [S](repeating: 0, count: nev)
                var z = Matrix<S>(rows: n, columns: nev)
                var info2: Int32 = 0
                z.withUnsafeMutableBufferPointer { pz in
                    S.arpackSeupd(1, howmny, &select, &d, pz.baseAddress!, n32, sigma, bmat, n32, whichC, nev32, tolerance,
                                  pr.baseAddress!, ncv32, pv.baseAddress!, n32, &iparam, &ipntr, pd.baseAddress!,
                                  pl.baseAddress!, lworkl32, &info2)
                }
                if info2 != 0 { throw ARPACKError.from("seupd", info: info2, scalar: S.self) }
                let nconv = min(Int(iparam[4]), nev)
                // Sort ascending and keep the converged ones.
                let order = (0..<nconv).sorted { d[$0] < d[$1] }
                var vectors = Matrix<S>(rows: n, columns: nconv)
                for (j, src) in order.enumerated() {
                    vectors.elements.replaceSubrange((j * n)..<((j + 1) * n), with: z.elements[(src * n)..<((src + 1) * n)])
                }
                return ARPACKOutput(values: order.map { d[$0] }, imaginary: [], vectors: vectors, imaginaryVectors: nil,
                                    iterations: iterations, operatorApplications: applications, operatorSeconds: operatorSeconds)
            }}}}
        }
    }

    /// One `?naupd` loop and `?neupd` call, under ``ARPACKLock``. Values in ARPACK's order
    /// (conjugate pairs adjacent, positive imaginary part first).
    static func general(n: Int, nev: Int, which: String, ncv: Int, tolerance: S, maxIterations: Int,
                        seed: UInt64, applyOP: (UnsafePointer<S>, UnsafeMutablePointer<S>) throws -> Void) throws -> ARPACKOutput<S> {
        let lworkl = 3 * ncv * ncv + 6 * ncv
        var resid = startVector(n, seed: seed)
        var v = [S](repeating: 0, count: n * ncv)
        var workd = [S](repeating: 0, count: 3 * n)
        var workl = [S](repeating: 0, count: lworkl)
        var iparam = [Int32](repeating: 0, count: 11)
        var ipntr = [Int32](repeating: 0, count: 14)
        iparam[0] = 1
        iparam[2] = Int32(clamping: maxIterations)
        iparam[3] = 1
        iparam[6] = 1
        let bmat = cString("I"), whichC = cString(which), howmny = cString("A")
        let n32 = Int32(n), nev32 = Int32(nev), ncv32 = Int32(ncv), lworkl32 = Int32(lworkl)
        var ido: Int32 = 0, info: Int32 = 1

        return try ARPACKLock.withLock {
            try resid.withUnsafeMutableBufferPointer { pr in
            try v.withUnsafeMutableBufferPointer { pv in
            try workd.withUnsafeMutableBufferPointer { pd in
            try workl.withUnsafeMutableBufferPointer { pl in
                let operatorNanoseconds = try reverseCommunication(n: n, workd: pd.baseAddress!, applyOP: applyOP) {
                    S.arpackNaupd(&ido, bmat, n32, whichC, nev32, tolerance, pr.baseAddress!, ncv32, pv.baseAddress!, n32,
                                  &iparam, &ipntr, pd.baseAddress!, pl.baseAddress!, lworkl32, &info)
                    return (ido, Int(ipntr[0] - 1), Int(ipntr[1] - 1))
                }
                if info != 0 && info != 1 { throw ARPACKError.from("naupd", info: info, scalar: S.self) }
                let iterations = Int(iparam[2]), applications = Int(iparam[8])
                let operatorSeconds = Double(operatorNanoseconds) / 1e9
                if iparam[4] == 0 {
                    return ARPACKOutput(values: [], imaginary: [], vectors: Matrix(rows: n, columns: 0),
                                        imaginaryVectors: Matrix(rows: n, columns: 0), iterations: iterations,
                                        operatorApplications: applications, operatorSeconds: operatorSeconds)
                }
                var select = [Int32](repeating: 0, count: ncv)
                var dr = [S](repeating: 0, count: nev + 1)
                var di = [S](repeating: 0, count: nev + 1)
                var workev = [S](repeating: 0, count: 3 * ncv)
                var z = Matrix<S>(rows: n, columns: nev + 1)
                var info2: Int32 = 0
                z.withUnsafeMutableBufferPointer { pz in
                    S.arpackNeupd(1, howmny, &select, &dr, &di, pz.baseAddress!, n32, 0, 0, &workev, bmat, n32, whichC,
                                  nev32, tolerance, pr.baseAddress!, ncv32, pv.baseAddress!, n32, &iparam, &ipntr,
                                  pd.baseAddress!, pl.baseAddress!, lworkl32, &info2)
                }
                if info2 != 0 { throw ARPACKError.from("neupd", info: info2, scalar: S.self) }
                let nconv = min(Int(iparam[4]), nev + 1)
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
                return ARPACKOutput(values: Array(dr[0..<nconv]), imaginary: Array(di[0..<nconv]), vectors: re,
                                    imaginaryVectors: im, iterations: iterations, operatorApplications: applications, operatorSeconds: operatorSeconds)
            }}}}
        }
    }
}
