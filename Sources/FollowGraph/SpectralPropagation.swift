// Spectral methods for follow-graph embeddings beyond the plain SVD: ProNE's sparse log-proximity
// matrix (Zhang et al., IJCAI 2019) and its spectral propagation, a Gaussian band-pass filter of
// the graph Laplacian applied to a tall embedding block by a Chebyshev expansion (a few SpMMs).
import Foundation
import LinearAlgebra
import RealModule

/// The random-walk transition operator of a graph with self-loops added, `P = (D + I)^-1 (A + I)`,
/// where `D` holds the row sums of `A` (ProNE's propagation matrix). `A` is not copied beyond the
/// one CSR with the diagonal added.
public struct RandomWalkOperator: LinearOperator {
    public typealias Scalar = Float
    /// `A + I` (square).
    public let withLoops: CSRMatrix<Float>
    /// `1 / (row sums of A + 1)`.
    public let inverseDegrees: [Float]

    /// - Precondition: `adjacency` is square with non-negative weights.
    /// - Complexity: O(nnz + n).
    public init(adjacency: CSRMatrix<Float>) {
        precondition(adjacency.rows == adjacency.columns, "RandomWalkOperator: adjacency is \(adjacency.rows) x \(adjacency.columns)")
        let n = adjacency.rows
        var offsets = [Int64](repeating: 0, count: n + 1)
        var columns = [Int32](), values = [Float]()
        columns.reserveCapacity(adjacency.nonzeroCount + n)
        values.reserveCapacity(adjacency.nonzeroCount + n)
        for i in 0..<n {
            var diagonal: Float = 1
            let lo = Int(adjacency.rowOffsets[i]), hi = Int(adjacency.rowOffsets[i + 1])
            for p in lo..<hi where Int(adjacency.columnIndices[p]) == i { diagonal += adjacency.values[p] }
            var placed = false
            for p in lo..<hi where Int(adjacency.columnIndices[p]) != i {
                if !placed && Int(adjacency.columnIndices[p]) > i { columns.append(Int32(i)); values.append(diagonal); placed = true }
                columns.append(adjacency.columnIndices[p]); values.append(adjacency.values[p])
            }
            if !placed { columns.append(Int32(i)); values.append(diagonal) }
            offsets[i + 1] = Int64(columns.count)
        }
        withLoops = CSRMatrix(uncheckedRows: n, columns: n, rowOffsets: offsets, columnIndices: columns, values: values)
        inverseDegrees = withLoops.rowSums().map { $0 > 0 ? 1 / $0 : 0 }
    }

    public var rows: Int { withLoops.rows }
    public var columns: Int { withLoops.columns }
    public func apply(_ x: Matrix<Float>, into y: inout Matrix<Float>) {
        withLoops.apply(x, into: &y)
        y.scaleRows(by: inverseDegrees)
    }
    public func applyTranspose(_ x: Matrix<Float>, into y: inout Matrix<Float>) {
        withLoops.applyTranspose(x.scaledRows(by: inverseDegrees), into: &y)
    }
}

/// The symmetric normalised adjacency with self-loops, `S = (D+I)^-1/2 (A+I) (D+I)^-1/2`, of a
/// ``RandomWalkOperator`` `P = (D+I)^-1 (A+I)` (same eigenvalues, in `(-1, 1]`; symmetric when `A`
/// is). Applied to an embedding block it averages each row with its neighbours' rows (a low-pass
/// filter), one sparse product; nothing is copied.
public struct SymmetricNormalizedAdjacency: LinearOperator {
    public typealias Scalar = Float
    /// `(D+I)^-1/2`.
    public let inverseRootDegrees: [Float]
    /// `A + I`.
    public let withLoops: CSRMatrix<Float>

    /// - Complexity: O(n).
    public init(_ walk: RandomWalkOperator) {
        withLoops = walk.withLoops
        inverseRootDegrees = walk.inverseDegrees.map { $0.squareRoot() }
    }

    public var rows: Int { withLoops.rows }
    public var columns: Int { withLoops.columns }
    public func apply(_ x: Matrix<Float>, into y: inout Matrix<Float>) {
        withLoops.apply(x.scaledRows(by: inverseRootDegrees), into: &y)
        y.scaleRows(by: inverseRootDegrees)
    }
    public func applyTranspose(_ x: Matrix<Float>, into y: inout Matrix<Float>) {
        withLoops.applyTranspose(x.scaledRows(by: inverseRootDegrees), into: &y)
        y.scaleRows(by: inverseRootDegrees)
    }
}

extension SymmetricNormalizedAdjacency {
    /// `S x, S^2 x, ..., S^count x`, each returned with its rows scaled to unit length (a zero row
    /// stays zero), as ``EmbeddingScaling/normalizeRows(_:)`` would. The powers are taken on
    /// row-major blocks (one transposition in, one back per returned block, the scalings in one
    /// pass each, the gathers into preallocated blocks) instead of ``apply(_:into:)``'s scaled copy
    /// and layout conversions per product; every element sees the same operations in the same
    /// order, so the blocks are the same to the bit.
    public func unitRowPowers(of x: Matrix<Float>, count: Int) -> [Matrix<Float>] {
        precondition(x.rows == columns && count >= 0, "SymmetricNormalizedAdjacency.unitRowPowers: shape mismatch")
        guard count > 0 else { return [] }
        guard x.rows > 0 && x.columns > 0 else { return Array(repeating: x, count: count) }
        return unitRowPowers(ofRowMajor: x.transposed(), count: count).map { $0.transposed() }
    }

    /// ``unitRowPowers(of:count:)`` on and into row-major blocks: `xt` is the `k x n` transpose of
    /// the `n x k` block, and so is each returned block (no layout conversion on either side).
    func unitRowPowers(ofRowMajor xt: Matrix<Float>, count: Int) -> [Matrix<Float>] {
        let n = xt.columns, k = xt.rows, size = n * k
        precondition(n == columns && count >= 0, "SymmetricNormalizedAdjacency.unitRowPowers: shape mismatch")
        guard count > 0 else { return [] }
        guard size > 0 else { return Array(repeating: xt, count: count) }
        var current = xt.elements                      // row-major: (i, c) at i * k + c
        var scaled = [Float](repeating: 0, count: size), product = [Float](repeating: 0, count: size)
        var blocks: [Matrix<Float>] = []
        let rowsPerChunk = Swift.max(1, 16_384 / k)
        for _ in 0..<count {
            inverseRootDegrees.withUnsafeBufferPointer { r in
                current.withUnsafeBufferPointer { v in
                    scaled.withUnsafeMutableBufferPointer { w in
                        let box = UnsafeSendableBox((v.baseAddress!, w.baseAddress!, r.baseAddress!))
                        Parallel.forEachChunk(count: n, minimumChunk: rowsPerChunk) { range in
                            let (v, w, r) = box.value
                            for i in range { let ri = r[i]; for e in (i * k)..<(i * k + k) { w[e] = v[e] * ri } }
                        }
                    }
                }
                scaled.withUnsafeBufferPointer { w in
                    product.withUnsafeMutableBufferPointer { y in withLoops.multiply(rowMajor: w, columns: k, into: y) }
                }
                product.withUnsafeMutableBufferPointer { y in
                    let box = UnsafeSendableBox((y.baseAddress!, r.baseAddress!))
                    Parallel.forEachChunk(count: n, minimumChunk: rowsPerChunk) { range in
                        let (y, r) = box.value
                        for i in range { let ri = r[i]; for e in (i * k)..<(i * k + k) { y[e] *= ri } }
                    }
                }
            }
            swap(&current, &product)
            var unit = current
            unit.withUnsafeMutableBufferPointer { u in
                let box = UnsafeSendableBox(u.baseAddress!)
                Parallel.forEachChunk(count: n, minimumChunk: rowsPerChunk) { range in
                    let u = box.value
                    for i in range {
                        var norm: Float = 0
                        for e in (i * k)..<(i * k + k) { norm += u[e] * u[e] }
                        let factor: Float = norm > 0 ? 1 / norm.squareRoot() : 0
                        for e in (i * k)..<(i * k + k) { u[e] *= factor }
                    }
                }
            }
            blocks.append(Matrix(rows: k, columns: n, elements: unit))
        }
        return blocks
    }
}

/// ProNE's band-pass filter of the graph Laplacian `L = I - P`,
/// `g(L) = exp(-theta ((L - mu I)^2 / 2 - I))`, a Gaussian in the eigenvalues of `L` centred at
/// `mu`, as an operator. It is applied by the Chebyshev expansion of `exp(-theta x)` in
/// `X = (L - mu I)^2 / 2 - I`, whose coefficients are modified Bessel functions,
/// `exp(-theta x) = I_0(theta) + 2 sum_k (-1)^k I_k(theta) T_k(x)`; `I_k(theta)` falls like
/// `(theta/2)^k / k!`, so the series is cut where a coefficient drops below `1e-6` of `I_0`
/// (6 terms for `theta = 0.5`), each term costing two products of `P` with the block.
///
/// `P`'s eigenvalues lie in `[-1, 1]`, so `L`'s lie in `[0, 2]` and the filter is evaluated where
/// its expansion converges. `applyTranspose` applies the same polynomial in `P'`.
public struct ChebyshevBandPass<Base: LinearOperator>: LinearOperator where Base.Scalar == Float {
    public typealias Scalar = Float
    /// `P`, square.
    public let base: Base
    /// Centre of the pass band in the spectrum of `L` (ProNE: 0.2).
    public let mu: Float
    /// Width parameter (ProNE: 0.5; larger is narrower).
    public let theta: Float
    /// The expansion's coefficients `c_k` (`c_0 = I_0(theta)`, `c_k = 2 (-1)^k I_k(theta)`).
    public let coefficients: [Double]

    /// - Parameters:
    ///   - base: the random-walk operator `P` (square).
    ///   - mu: centre of the pass band in the spectrum of `L = I - P`.
    ///   - theta: width parameter (positive; larger is narrower).
    ///   - maxTerms: upper bound on the number of Chebyshev terms (default 10, ProNE's step count).
    /// - Precondition: `base` is square, `theta > 0`.
    public init(_ base: Base, mu: Float = 0.2, theta: Float = 0.5, maxTerms: Int = 10) {
        precondition(base.rows == base.columns, "ChebyshevBandPass: operator is \(base.rows) x \(base.columns)")
        precondition(theta > 0 && maxTerms >= 2, "ChebyshevBandPass: theta must be positive and maxTerms >= 2")
        self.base = base; self.mu = mu; self.theta = theta
        let i0 = Self.besselI(0, Double(theta))
        var c = [i0]
        for k in 1..<maxTerms {
            let ik = Self.besselI(k, Double(theta))
            if ik < 1e-6 * i0 { break }
            c.append(2 * ik * (k % 2 == 0 ? 1 : -1))
        }
        coefficients = c
    }

    public var rows: Int { base.rows }
    public var columns: Int { base.columns }

    /// Modified Bessel function of the first kind, `I_k(x) = sum_m (x/2)^(2m+k) / (m! (m+k)!)`.
    public static func besselI(_ k: Int, _ x: Double) -> Double {
        var term = 1.0
        for j in 1...max(1, k) where k > 0 { term *= (x / 2) / Double(j) }
        var sum = 0.0, m = 0
        while true {
            sum += term
            m += 1
            term *= (x / 2) * (x / 2) / (Double(m) * Double(m + k))
            if term < 1e-17 * sum || m > 200 { return sum }
        }
    }

    public func apply(_ x: Matrix<Float>, into y: inout Matrix<Float>) {
        if let walk = base as? RandomWalkOperator, x.rows > 0, x.columns > 0 {
            evaluateRowMajor(walk, x, into: &y)
        } else {
            evaluate(base, x, into: &y)
        }
    }
    public func applyTranspose(_ x: Matrix<Float>, into y: inout Matrix<Float>) { evaluate(base.transposedOperator, x, into: &y) }

    /// `sum_k c_k T_k(X) x` by the three-term recurrence `T_k = 2 X T_(k-1) - T_(k-2)`.
    func evaluate<Op: LinearOperator>(_ p: Op, _ x: Matrix<Float>, into y: inout Matrix<Float>) where Op.Scalar == Float {
        precondition(x.rows == columns && y.rows == rows && y.columns == x.columns, "ChebyshevBandPass: shape mismatch")
        var scratch = Matrix<Float>(rows: x.rows, columns: x.columns)
        // M v = (L - mu I) v = (1 - mu) v - P v.
        func shifted(_ v: Matrix<Float>) -> Matrix<Float> {
            p.apply(v, into: &scratch)
            var out = v
            out.scale(by: 1 - mu)
            out.axpy(-1, scratch)
            return out
        }
        // X v = M^2 v / 2 - v.
        func recurrenceStep(_ v: Matrix<Float>) -> Matrix<Float> {
            var out = shifted(shifted(v))
            out.scale(by: 0.5)
            out.axpy(-1, v)
            return out
        }
        var previous = x
        y = x
        y.scale(by: Float(coefficients[0]))
        guard coefficients.count > 1 else { return }
        var current = recurrenceStep(x)
        y.axpy(Float(coefficients[1]), current)
        for k in 2..<coefficients.count {
            var next = recurrenceStep(current)
            next.scale(by: 2)
            next.axpy(-1, previous)
            y.axpy(Float(coefficients[k]), next)
            previous = current
            current = next
        }
    }
}

extension ChebyshevBandPass {
    /// ``evaluate(_:_:into:)`` for the random walk `P = (D+I)^-1 (A+I)` with every block kept
    /// row-major: the input is transposed once and the sum once back, the products gather into
    /// preallocated blocks (`CSRMatrix.multiply(rowMajor:)`, no layout copy per product), and the
    /// element-wise work of each recurrence step (the shift, `X v = M^2 v / 2 - v`, the three-term
    /// update and the sum's `c_k T_k` term) is one parallel pass after each product, in place of
    /// about eight BLAS passes over fresh `n x k` blocks. Each element sees the same operations in
    /// the same order as in the generic path (the sum's `+= c_k T_k` as a fused multiply-add, as
    /// OpenBLAS's `saxpy` computes it), so the two agree to rounding (a test checks them).
    func evaluateRowMajor(_ walk: RandomWalkOperator, _ x: Matrix<Float>, into y: inout Matrix<Float>) {
        precondition(x.rows == columns && y.rows == rows && y.columns == x.columns, "ChebyshevBandPass: shape mismatch")
        y = filter(walk, rowMajor: x.transposed()).transposed()
    }

    /// The filter on a row-major block and into one: `xt` is the `k x n` transpose of the `n x k`
    /// block `x` (element (i, c) at `i * k + c` of its elements), and so is the result, `g(L) x`
    /// held transposed. The arithmetic of ``evaluateRowMajor(_:_:into:)`` without its two
    /// transpositions.
    func filter(_ walk: RandomWalkOperator, rowMajor xt: Matrix<Float>) -> Matrix<Float> {
        let n = xt.columns, k = xt.rows, count = n * k
        precondition(n == columns, "ChebyshevBandPass: shape mismatch")
        guard count > 0 else { return xt }
        let shift = 1 - mu
        let c = coefficients.map { Float($0) }
        let buffers = (0..<5).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: count) }
        defer { buffers.forEach { $0.deallocate() } }
        let gathered = buffers[0], shifted = buffers[1]
        var previous = buffers[2], current = buffers[3], spare = buffers[4]
        let rowsPerChunk = Swift.max(1, 16_384 / k)
        func gather(_ v: UnsafeMutablePointer<Float>) {
            walk.withLoops.multiply(rowMajor: UnsafeBufferPointer(start: v, count: count), columns: k,
                                    into: UnsafeMutableBufferPointer(start: gathered, count: count))
        }
        // The sum, written whole: its first term, then one update per step.
        return Matrix(rows: k, columns: n) { sumBuffer in
            let sum = sumBuffer.baseAddress!
            walk.inverseDegrees.withUnsafeBufferPointer { degrees in
                let d = degrees.baseAddress!
                // out = X v (or 2 X v - p), sum += coefficient * out.
                func step(_ v: UnsafeMutablePointer<Float>, minus p: UnsafeMutablePointer<Float>?, into out: UnsafeMutablePointer<Float>,
                          coefficient: Float) {
                    gather(v)
                    let first = UnsafeSendableBox((v, gathered, shifted, d))
                    Parallel.forEachChunk(count: n, minimumChunk: rowsPerChunk) { range in
                        let (v, t, w, d) = first.value
                        for i in range {
                            let di = d[i]
                            for e in (i * k)..<(i * k + k) { w[e] = v[e] * shift - t[e] * di }
                        }
                    }
                    gather(shifted)
                    let second = UnsafeSendableBox((v, gathered, shifted, d, p, out, sum))
                    Parallel.forEachChunk(count: n, minimumChunk: rowsPerChunk) { range in
                        let (v, t, w, d, p, out, sum) = second.value
                        for i in range {
                            let di = d[i]
                            for e in (i * k)..<(i * k + k) {
                                var o = (w[e] * shift - t[e] * di) * 0.5 - v[e]
                                if let p { o = o * 2 - p[e] }
                                out[e] = o
                                sum[e] = sum[e].addingProduct(coefficient, o)
                            }
                        }
                    }
                }
                xt.elements.withUnsafeBufferPointer { x in
                    let initial = UnsafeSendableBox((x.baseAddress!, previous, sum, c[0]))
                    Parallel.forEachChunk(count: n, minimumChunk: rowsPerChunk) { range in
                        let (x, v, sum, c0) = initial.value
                        for e in (range.lowerBound * k)..<(range.upperBound * k) { v[e] = x[e]; sum[e] = x[e] * c0 }
                    }
                }
                guard c.count > 1 else { return }
                step(previous, minus: nil, into: current, coefficient: c[1])
                for term in 2..<c.count {
                    step(current, minus: previous, into: spare, coefficient: c[term])
                    (previous, current, spare) = (current, spare, previous)
                }
            }
        }
    }
}

/// ProNE's sparse proximity matrix: for every edge `(i, j)` of a graph with adjacency `A` (row sums
/// `d`), `M_ij = log(A_ij / d_i) - log(A_ij n_j)`, where `n_j` is the negative-sampling
/// distribution `(sum_i A_ij / d_i)^0.75`, normalised to sum 1. It is the sparse part of the
/// shifted PMI matrix that skip-gram with negative sampling factorises (one step of the walk), kept
/// only where edges are, so it costs O(nnz) to build and as much as `A` to apply.
public enum ProximityMatrix {
    /// - Parameters:
    ///   - a: the adjacency: square, non-negative weights.
    ///   - exponent: the negative-sampling exponent (0.75, as word2vec and ProNE).
    /// - Complexity: O(nnz + n).
    public static func prone(adjacency a: CSRMatrix<Float>, exponent: Float = 0.75) -> CSRMatrix<Float> {
        let rowSums = a.rowSums()
        let inverse = rowSums.map { $0 > 0 ? 1 / $0 : 0 }
        let walk = a.scaledRows(by: inverse)
        var negative = walk.columnSums().map { Float.pow(Swift.max($0, 0), exponent) }
        let total = negative.reduce(0, +)
        if total > 0 { negative = negative.map { $0 / total } }
        var values = [Float](repeating: 0, count: a.nonzeroCount)
        for i in 0..<a.rows {
            for p in Int(a.rowOffsets[i])..<Int(a.rowOffsets[i + 1]) {
                let w = a.values[p], j = Int(a.columnIndices[p])
                let transition = w * inverse[i], noise = w * negative[j]
                // As ProNE: a non-positive entry contributes log 1 = 0.
                values[p] = (transition > 0 ? Float.log(transition) : 0) - (noise > 0 ? Float.log(noise) : 0)
            }
        }
        return CSRMatrix(uncheckedRows: a.rows, columns: a.columns, rowOffsets: a.rowOffsets,
                         columnIndices: a.columnIndices, values: values)
    }
}

/// Row-wise helpers on embedding blocks.
public enum EmbeddingScaling {
    /// Divides every non-zero row by its Euclidean norm.
    public static func normalizeRows(_ x: inout Matrix<Float>) {
        let m = x.rows
        var norms = [Float](repeating: 0, count: m)
        x.withUnsafeBufferPointer { b in
            for j in 0..<x.columns { for i in 0..<m { norms[i] += b[i + j * m] * b[i + j * m] } }
        }
        x.scaleRows(by: norms.map { $0 > 0 ? 1 / $0.squareRoot() : 0 })
    }

    /// Scales the whole block (one factor, so cosines and directions are unchanged) so that its
    /// entries have unit root-mean-square: rows then have squared norm `columns` on average, the
    /// scale at which raw vectors suit default-regularised linear models.
    public static func unitRMS(_ x: inout Matrix<Float>) {
        let count = x.rows * x.columns
        guard count > 0 else { return }
        var sum = 0.0
        x.withUnsafeBufferPointer { b in for v in b { sum += Double(v) * Double(v) } }
        guard sum > 0 else { return }
        x.scale(by: Float((Double(count) / sum).squareRoot()))
    }
}
