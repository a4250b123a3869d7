@inline(__always) @usableFromInline
func blasInt(_ n: Int, _ what: @autoclosure () -> String = "dimension") -> Int32 {
    precondition(n >= 0 && n <= Int(Int32.max), "\(what()) \(n) does not fit BLAS's 32-bit integers")
    return Int32(truncatingIfNeeded: n)
}

extension Matrix {
    /// General matrix multiply, `C = alpha * op(A) * op(B) + beta * C` (BLAS `?gemm`).
    ///
    /// - Parameters:
    ///   - a: `A`; `op(A)` is `m x k`. A ``Matrix`` or a ``MatrixColumns`` view.
    ///   - transA: whether `op(A)` is `A` or `A'`.
    ///   - b: `B`; `op(B)` is `k x n`.
    ///   - transB: whether `op(B)` is `B` or `B'`.
    ///   - alpha: the product's factor (default 1).
    ///   - beta: `C`'s factor (default 0).
    ///   - c: `C`, `m x n`. When `beta == 0` its contents are ignored (it may hold NaN).
    /// - Precondition: the shapes agree.
    /// - Complexity: 2mnk flops, multithreaded by OpenBLAS (see ``BLAS/threads``).
    public static func gemm<A: DenseMatrixProtocol<Scalar>, B: DenseMatrixProtocol<Scalar>>(
        _ a: A, _ transA: Transpose = .none, _ b: B, _ transB: Transpose = .none,
        alpha: Scalar = 1, beta: Scalar = 0, into c: inout Matrix
    ) {
        let (m, k) = transA == .none ? (a.rows, a.columns) : (a.columns, a.rows)
        let (kb, n) = transB == .none ? (b.rows, b.columns) : (b.columns, b.rows)
        precondition(k == kb, "gemm: op(A) is \(m) x \(k) but op(B) is \(kb) x \(n)")
        precondition(c.rows == m && c.columns == n, "gemm: C is \(c.rows) x \(c.columns), expected \(m) x \(n)")
        if m == 0 || n == 0 { return }
        if k == 0 {
            if beta == 0 { c.fill(0) } else { c.scale(by: beta) }
            return
        }
        a.withUnsafeDense { pa, lda in
            b.withUnsafeDense { pb, ldb in
                c.elements.withUnsafeMutableBufferPointer { pc in
                    Scalar.blasGemm(transA, transB, blasInt(m), blasInt(n), blasInt(k), alpha,
                                    pa, blasInt(lda), pb, blasInt(ldb), beta, pc.baseAddress!, blasInt(Swift.max(m, 1)))
                }
            }
        }
    }

    /// `op(A) * op(B)` as a new matrix (BLAS `?gemm`). See ``gemm(_:_:_:_:alpha:beta:into:)``.
    public static func product<A: DenseMatrixProtocol<Scalar>, B: DenseMatrixProtocol<Scalar>>(
        _ a: A, _ transA: Transpose = .none, _ b: B, _ transB: Transpose = .none, alpha: Scalar = 1
    ) -> Matrix {
        let m = transA == .none ? a.rows : a.columns
        let n = transB == .none ? b.columns : b.rows
        var c = Matrix(rows: m, columns: n)
        gemm(a, transA, b, transB, alpha: alpha, beta: 0, into: &c)
        return c
    }

    /// Matrix product `lhs * rhs` (GEMM).
    public static func * (lhs: Matrix, rhs: Matrix) -> Matrix { product(lhs, .none, rhs, .none) }

    /// Matrix-vector product `y = alpha * op(A) x + beta * y` (BLAS `?gemv`).
    /// - Precondition: `x.count` is the column count of `op(A)`, `y.count` its row count.
    /// - Complexity: 2 * rows * columns flops.
    public func gemv(_ trans: Transpose = .none, _ x: [Scalar], alpha: Scalar = 1, beta: Scalar = 0,
                     into y: inout [Scalar]) {
        let (m, n) = trans == .none ? (rows, columns) : (columns, rows)
        precondition(x.count == n && y.count == m, "gemv: op(A) is \(m) x \(n), x has \(x.count), y has \(y.count)")
        if m == 0 { return }
        if n == 0 { for i in 0..<m { y[i] = beta == 0 ? 0 : beta * y[i] }; return }
        elements.withUnsafeBufferPointer { pa in
            x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    Scalar.blasGemv(trans, blasInt(rows), blasInt(columns), alpha, pa.baseAddress!, blasInt(Swift.max(rows, 1)),
                                    px.baseAddress!, 1, beta, py.baseAddress!, 1)
                }
            }
        }
    }

    /// `op(A) x` as a new vector (BLAS `?gemv`).
    public func multiply(_ x: [Scalar], _ trans: Transpose = .none) -> [Scalar] {
        var y = [Scalar](repeating: 0, count: trans == .none ? rows : columns)
        gemv(trans, x, into: &y)
        return y
    }

    /// `self += alpha * x` (BLAS `?axpy` over all elements).
    /// - Precondition: same shape.
    public mutating func axpy(_ alpha: Scalar, _ x: Matrix) {
        precondition(x.rows == rows && x.columns == columns, "axpy: shapes \(x.rows) x \(x.columns) and \(rows) x \(columns) differ")
        let count = elements.count
        if count == 0 { return }
        x.elements.withUnsafeBufferPointer { px in
            elements.withUnsafeMutableBufferPointer { py in
                var offset = 0
                while offset < count { // chunks keep each call within 32-bit counts
                    let len = Swift.min(count - offset, Int(Int32.max))
                    Scalar.blasAxpy(Int32(len), alpha, px.baseAddress! + offset, 1, py.baseAddress! + offset, 1)
                    offset += len
                }
            }
        }
    }

    /// Multiplies every element by `alpha` (BLAS `?scal`).
    public mutating func scale(by alpha: Scalar) {
        let count = elements.count
        if count == 0 { return }
        elements.withUnsafeMutableBufferPointer { p in
            var offset = 0
            while offset < count {
                let len = Swift.min(count - offset, Int(Int32.max))
                Scalar.blasScal(Int32(len), alpha, p.baseAddress! + offset, 1)
                offset += len
            }
        }
    }

    /// Sets every element to `value`.
    public mutating func fill(_ value: Scalar) {
        let count = elements.count
        if count == 0 { return }
        elements.withUnsafeMutableBufferPointer { Scalar.kernelFill($0.baseAddress!, count: count, value: value) }
    }

    /// Whether every element is finite (no NaN, no infinity). Cost: O(rows * columns).
    public var allFinite: Bool {
        let count = elements.count
        if count == 0 { return true }
        return elements.withUnsafeBufferPointer { Scalar.kernelAllFinite($0.baseAddress!, count: count) }
    }

    /// `diag(d) * self` as a new matrix, in one pass (no copy-then-scale).
    public func scaledRows(by d: [Scalar]) -> Matrix {
        precondition(d.count == rows, "scaledRows: \(d.count) factors for \(rows) rows")
        var result = Matrix(rows: rows, columns: columns)
        let m = rows
        if m == 0 { return result }
        d.withUnsafeBufferPointer { pd in
            elements.withUnsafeBufferPointer { px in
                result.elements.withUnsafeMutableBufferPointer { py in
                    for j in 0..<columns {
                        Scalar.kernelMultiply(px.baseAddress! + j * m, pd.baseAddress!, into: py.baseAddress! + j * m, count: m)
                    }
                }
            }
        }
        return result
    }

    /// The Gram matrix of the rows, `X X'` (`rows x rows`, symmetric), by one SYRK: half the
    /// flops of the GEMM `X X'`, the upper triangle mirrored from the lower. For a row-major
    /// `n x k` block held as its `k x n` transpose this is the block's `k x k` Gram matrix.
    /// Cost: rows^2 * columns flops.
    public func gramOfRows() -> Matrix {
        let l = rows, m = columns
        var gram = Matrix(rows: l, columns: l)
        if l == 0 { return gram }
        withUnsafeBufferPointer { px in
            gram.withUnsafeMutableBufferPointer { pg in
                Scalar.blasSyrkLower(.none, blasInt(l), blasInt(m), 1, px.baseAddress!, blasInt(l), 0, pg.baseAddress!, blasInt(l))
                for j in 1..<Swift.max(l, 1) { for i in 0..<j { pg[i + j * l] = pg[j + i * l] } }
            }
        }
        return gram
    }

    /// The Frobenius inner product `sum_ij self_ij * other_ij` (BLAS `?dot`), accumulated in chunks.
    public func dot(_ other: Matrix) -> Scalar {
        precondition(other.rows == rows && other.columns == columns, "dot: shapes differ")
        let count = elements.count
        if count == 0 { return 0 }
        return elements.withUnsafeBufferPointer { px in
            other.elements.withUnsafeBufferPointer { py in
                var sum: Scalar = 0
                var offset = 0
                while offset < count {
                    let len = Swift.min(count - offset, Int(Int32.max))
                    sum += Scalar.blasDot(Int32(len), px.baseAddress! + offset, 1, py.baseAddress! + offset, 1)
                    offset += len
                }
                return sum
            }
        }
    }

    /// The Frobenius norm `sqrt(sum_ij a_ij^2)`, computed without overflow (BLAS `?nrm2` per column).
    public var frobeniusNorm: Scalar {
        if elements.isEmpty { return 0 }
        return elements.withUnsafeBufferPointer { p in
            var scale: Scalar = 0
            var norms = [Scalar](repeating: 0, count: columns)
            for j in 0..<columns {
                norms[j] = Scalar.blasNrm2(blasInt(rows), p.baseAddress! + j * rows, 1)
                scale = Swift.max(scale, norms[j])
            }
            if scale == 0 { return 0 }
            var sum: Scalar = 0
            for v in norms { let r = v / scale; sum += r * r }
            return scale * sum.squareRoot()
        }
    }

    /// The Euclidean norm of each column (BLAS `?nrm2`).
    public func columnNorms() -> [Scalar] {
        if rows == 0 { return [Scalar](repeating: 0, count: columns) }
        return elements.withUnsafeBufferPointer { p in
            (0..<columns).map { Scalar.blasNrm2(blasInt(rows), p.baseAddress! + $0 * rows, 1) }
        }
    }

    /// The largest absolute element (the max norm).
    public var maxAbs: Scalar {
        let count = elements.count
        if count == 0 { return 0 }
        return elements.withUnsafeBufferPointer { Scalar.kernelMaxAbs($0.baseAddress!, count: count) }
    }

    /// Element-wise sum. - Precondition: same shape.
    public static func + (lhs: Matrix, rhs: Matrix) -> Matrix { var r = lhs; r.axpy(1, rhs); return r }
    /// Element-wise difference. - Precondition: same shape.
    public static func - (lhs: Matrix, rhs: Matrix) -> Matrix { var r = lhs; r.axpy(-1, rhs); return r }
    /// Scalar multiple.
    public static func * (lhs: Scalar, rhs: Matrix) -> Matrix { var r = rhs; r.scale(by: lhs); return r }
    /// In-place sum.
    public static func += (lhs: inout Matrix, rhs: Matrix) { lhs.axpy(1, rhs) }
    /// In-place difference.
    public static func -= (lhs: inout Matrix, rhs: Matrix) { lhs.axpy(-1, rhs) }

    /// Scales row `i` by `d[i]`: `diag(d) * self`. Cost: O(rows * columns).
    public mutating func scaleRows(by d: [Scalar]) {
        precondition(d.count == rows, "scaleRows: \(d.count) factors for \(rows) rows")
        let m = rows
        if m == 0 { return }
        d.withUnsafeBufferPointer { pd in
            elements.withUnsafeMutableBufferPointer { p in
                for j in 0..<columns { Scalar.kernelMultiply(pd.baseAddress!, into: p.baseAddress! + j * m, count: m) }
            }
        }
    }

    /// Scales column `j` by `d[j]`: `self * diag(d)`. Cost: O(rows * columns).
    public mutating func scaleColumns(by d: [Scalar]) {
        precondition(d.count == columns, "scaleColumns: \(d.count) factors for \(columns) columns")
        if rows == 0 { return }
        // A large block's columns are split over the threads. (OpenBLAS's `?scal` took 0.5 s for
        // the 1M x 64 factor of follow-graph-svd, on one thread; this loop is memory-bound.)
        let threads = rows * columns >= 1 << 22 ? Parallel.threads : 1
        let m = rows
        elements.withUnsafeMutableBufferPointer { p in
            let box = UnsafeSendableBox(p.baseAddress!)
            Parallel.forEachChunk(count: columns, threads: threads) { range in
                for j in range { Scalar.kernelScale(box.value + j * m, count: m, by: d[j]) }
            }
        }
    }

    /// The matrix converted to another precision.
    public func converted<T: BLASScalar>(to _: T.Type = T.self) -> Matrix<T> {
        Matrix<T>(rows: rows, columns: columns, elements: elements.map { T($0) })
    }
}
