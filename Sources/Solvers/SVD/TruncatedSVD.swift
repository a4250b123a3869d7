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
    public var diagnostics: SolverDiagnostics

    /// The number of singular triplets returned (`s.count`). Can be below the requested rank only
    /// for ``ARPACKSVD`` when ARPACK converged on fewer triplets; see ``SolverDiagnostics/allConverged``.
    public var rank: Int { s.count }

    /// Creates a result from its parts (no checks, no sign normalisation).
    public init(u: Matrix<Scalar>, s: [Scalar], vt: Matrix<Scalar>, diagnostics: SolverDiagnostics) {
        self.u = u; self.s = s; self.vt = vt; self.diagnostics = diagnostics
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

extension TruncatedSVD {
    /// Flips signs so that the largest-magnitude entry of each column of `u` is positive, and
    /// flips the matching row of `vt`. Cost: O((m + n) k).
    public mutating func applySignConvention() {
        let m = u.rows, n = vt.columns, k = s.count
        // Concrete scans for Float and Double: this generic code runs unspecialised when called
        // from another module, where an element loop costs a witness call per element. The
        // flips of `u` are BLAS scal calls on its columns; `vt` is flipped one column (k
        // contiguous elements) at a time, times the signs, in one pass over the block split over
        // the threads (a scal per flipped row, a stride-k vector, read the whole block once per
        // row: 1 s for a 64 x 1M block).
        let flip: [Bool] = u.elements.withUnsafeBufferPointer { pu in
            (0..<k).map { j in largestMagnitudeIsNegative(pu.baseAddress! + j * m, count: m) }
        }
        if !flip.contains(true) { return }
        u.elements.withUnsafeMutableBufferPointer { pu in
            for j in 0..<k where flip[j] { Scalar.blasScal(Int32(m), -1, pu.baseAddress! + j * m, 1) }
        }
        if n == 0 { return }
        let signs: [Scalar] = flip.map { $0 ? -1 : 1 }
        let threads = n * k >= 1 << 22 ? Parallel.threads : 1
        vt.elements.withUnsafeMutableBufferPointer { pv in
            signs.withUnsafeBufferPointer { ps in
                let box = UnsafeSendableBox((pv.baseAddress!, ps.baseAddress!))
                Parallel.forEachChunk(count: n, threads: threads, minimumChunk: 4096) { range in
                    let (v, signs) = box.value
                    for c in range { Scalar.kernelMultiply(signs, into: v + c * k, count: k) }
                }
            }
        }
    }
}

/// Whether the entry of largest magnitude among `count` elements (the first on ties) is negative.
func largestMagnitudeIsNegative<Scalar: BLASScalar>(_ p: UnsafePointer<Scalar>, count: Int) -> Bool {
    if Scalar.self == Float.self {
        return p.withMemoryRebound(to: Float.self, capacity: count) { largestMagnitudeIsNegative(float: $0, count: count) }
    }
    if Scalar.self == Double.self {
        return p.withMemoryRebound(to: Double.self, capacity: count) { largestMagnitudeIsNegative(double: $0, count: count) }
    }
    var best: Scalar = -1, negative = false
    for i in 0..<count where abs(p[i]) > best { best = abs(p[i]); negative = p[i] < 0 }
    return negative
}

private func largestMagnitudeIsNegative(float p: UnsafePointer<Float>, count: Int) -> Bool {
    var best: Float = -1, negative = false
    for i in 0..<count where abs(p[i]) > best { best = abs(p[i]); negative = p[i] < 0 }
    return negative
}

private func largestMagnitudeIsNegative(double p: UnsafePointer<Double>, count: Int) -> Bool {
    var best: Double = -1, negative = false
    for i in 0..<count where abs(p[i]) > best { best = abs(p[i]); negative = p[i] < 0 }
    return negative
}
