/// The thin QR factorization `A = Q R` of an `m x n` matrix: `Q` is `m x min(m, n)` with
/// orthonormal columns, `R` is `min(m, n) x n` upper triangular.
public struct QRDecomposition<Scalar: BLASScalar>: Sendable {
    public let q: Matrix<Scalar>
    public let r: Matrix<Scalar>
}

/// The singular value decomposition `A = U diag(s) Vt`, singular values descending.
public struct SVDDecomposition<Scalar: BLASScalar>: Sendable {
    /// Left singular vectors, `m x p` (thin: `p = min(m, n)`; full: `p = m`).
    public let u: Matrix<Scalar>
    /// Singular values, descending, `min(m, n)` of them.
    public let s: [Scalar]
    /// Right singular vectors as rows, `p x n` (thin: `p = min(m, n)`; full: `p = n`).
    public let vt: Matrix<Scalar>
}

/// The eigendecomposition `A = V diag(values) V'` of a symmetric matrix, eigenvalues ascending.
public struct SymmetricEigenDecomposition<Scalar: BLASScalar>: Sendable {
    /// Eigenvalues in ascending order.
    public let values: [Scalar]
    /// Orthonormal eigenvectors as columns, in the order of `values`.
    public let vectors: Matrix<Scalar>
}

/// A Cholesky factor `A = L L'` of a symmetric positive definite matrix.
public struct CholeskyFactor<Scalar: BLASScalar>: Sendable {
    /// The lower triangular factor `L` (the strict upper triangle is zero).
    public let lower: Matrix<Scalar>

    /// Solves `A X = B` with the factor (LAPACK `?potrs`). Cost: O(n^2 * columns of B).
    /// - Precondition: `b.rows == n`.
    public func solve(_ b: Matrix<Scalar>) throws -> Matrix<Scalar> {
        let n = lower.rows
        precondition(b.rows == n, "Cholesky solve: B has \(b.rows) rows, the factor is \(n) x \(n)")
        var x = b
        if n == 0 || b.columns == 0 { return x }
        let info = lower.elements.withUnsafeBufferPointer { pl in
            x.elements.withUnsafeMutableBufferPointer { px in
                Scalar.lapackPotrs(CChar(UInt8(ascii: "L")), blasInt(n), blasInt(b.columns), pl.baseAddress!, blasInt(n),
                                   px.baseAddress!, blasInt(n))
            }
        }
        try checkLAPACK("potrs", info, Scalar.self)
        return x
    }
}

/// An LU factorization with partial pivoting, `A = P L U`, of an `m x n` matrix.
public struct LUDecomposition<Scalar: BLASScalar>: Sendable {
    /// `P L`: the unit lower trapezoidal factor (`m x min(m, n)`) with its rows permuted back,
    /// so that `A = (P L) U`. This is the normaliser randomized SVD uses between power passes.
    public let permutedLower: Matrix<Scalar>
    /// The upper trapezoidal factor, `min(m, n) x n`.
    public let upper: Matrix<Scalar>
}

extension Matrix {
    /// The thin QR factorization (LAPACK `?geqrf` then `?orgqr`).
    /// - Complexity: O(m n^2) for `m >= n`.
    /// - Throws: ``LAPACKError`` when LAPACK reports an illegal argument (e.g. NaN input).
    public func qr() throws -> QRDecomposition<Scalar> {
        let m = rows, n = columns, p = Swift.min(m, n)
        if p == 0 { return QRDecomposition(q: Matrix(rows: m, columns: 0), r: Matrix(rows: 0, columns: n)) }
        var a = self
        var tau = [Scalar](repeating: 0, count: p)
        var info = a.elements.withUnsafeMutableBufferPointer { pa in
            Scalar.lapackGeqrf(blasInt(m), blasInt(n), pa.baseAddress!, blasInt(m), &tau)
        }
        try checkLAPACK("geqrf", info, Scalar.self)
        var r = Matrix(rows: p, columns: n)
        for j in 0..<n { for i in 0...Swift.min(j, p - 1) { r.elements[i + j * p] = a.elements[i + j * m] } }
        var q = Matrix(rows: m, columns: p, elements: Array(a.elements[0..<(m * p)]))
        info = q.elements.withUnsafeMutableBufferPointer { pq in
            Scalar.lapackOrgqr(blasInt(m), blasInt(p), blasInt(p), pq.baseAddress!, blasInt(m), tau)
        }
        try checkLAPACK("orgqr", info, Scalar.self)
        return QRDecomposition(q: q, r: r)
    }

    /// Only the orthonormal factor `Q` of the thin QR factorization; cheaper than ``qr()``
    /// when `R` is not needed (the range finder of randomized SVD).
    public func orthonormalized() throws -> Matrix {
        let m = rows, n = columns, p = Swift.min(m, n)
        if p == 0 { return Matrix(rows: m, columns: 0) }
        var a = self
        var tau = [Scalar](repeating: 0, count: p)
        var info = a.elements.withUnsafeMutableBufferPointer { pa in
            Scalar.lapackGeqrf(blasInt(m), blasInt(n), pa.baseAddress!, blasInt(m), &tau)
        }
        try checkLAPACK("geqrf", info, Scalar.self)
        if n > p { a = Matrix(rows: m, columns: p, elements: Array(a.elements[0..<(m * p)])) }
        info = a.elements.withUnsafeMutableBufferPointer { pa in
            Scalar.lapackOrgqr(blasInt(m), blasInt(p), blasInt(p), pa.baseAddress!, blasInt(m), tau)
        }
        try checkLAPACK("orgqr", info, Scalar.self)
        return a
    }

    /// The singular value decomposition by divide and conquer (LAPACK `?gesdd`).
    /// - Parameter full: `false` (default) for the thin SVD, `true` for square `U` and `Vt`.
    /// - Complexity: O(m n min(m, n)).
    /// - Throws: ``LAPACKError`` when the iteration fails to converge or the input holds NaN.
    public func svd(full: Bool = false) throws -> SVDDecomposition<Scalar> {
        let m = rows, n = columns, p = Swift.min(m, n)
        let uCols = full ? m : p, vtRows = full ? n : p
        var u = Matrix(rows: m, columns: uCols)
        var vt = Matrix(rows: vtRows, columns: n)
        var s = [Scalar](repeating: 0, count: p)
        if p == 0 {
            if full { u = Matrix.identity(m); vt = Matrix.identity(n) }
            return SVDDecomposition(u: u, s: s, vt: vt)
        }
        var a = self
        let jobz = CChar(UInt8(ascii: full ? "A" : "S"))
        let info = a.elements.withUnsafeMutableBufferPointer { pa in
            u.elements.withUnsafeMutableBufferPointer { pu in
                vt.elements.withUnsafeMutableBufferPointer { pv in
                    Scalar.lapackGesdd(jobz, blasInt(m), blasInt(n), pa.baseAddress!, blasInt(m), &s,
                                       pu.baseAddress!, blasInt(m), pv.baseAddress!, blasInt(Swift.max(vtRows, 1)))
                }
            }
        }
        try checkLAPACK("gesdd", info, Scalar.self)
        return SVDDecomposition(u: u, s: s, vt: vt)
    }

    /// Singular values only (LAPACK `?gesdd` with `jobz = N`), descending.
    public func singularValues() throws -> [Scalar] {
        let m = rows, n = columns, p = Swift.min(m, n)
        if p == 0 { return [] }
        var a = self
        var s = [Scalar](repeating: 0, count: p)
        var dummyU: Scalar = 0, dummyV: Scalar = 0
        let info = a.elements.withUnsafeMutableBufferPointer { pa in
            Scalar.lapackGesdd(CChar(UInt8(ascii: "N")), blasInt(m), blasInt(n), pa.baseAddress!, blasInt(m), &s,
                               &dummyU, 1, &dummyV, 1)
        }
        try checkLAPACK("gesdd", info, Scalar.self)
        return s
    }

    /// Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix, by divide and
    /// conquer (LAPACK `?syevd`). Only the lower triangle is read.
    /// - Precondition: the matrix is square.
    /// - Complexity: O(n^3).
    public func symmetricEigen(vectors: Bool = true) throws -> SymmetricEigenDecomposition<Scalar> {
        precondition(rows == columns, "symmetricEigen: matrix is \(rows) x \(columns), not square")
        let n = rows
        var a = self
        var w = [Scalar](repeating: 0, count: n)
        if n == 0 { return SymmetricEigenDecomposition(values: [], vectors: a) }
        let info = a.elements.withUnsafeMutableBufferPointer { pa in
            Scalar.lapackSyevd(CChar(UInt8(ascii: vectors ? "V" : "N")), CChar(UInt8(ascii: "L")), blasInt(n),
                               pa.baseAddress!, blasInt(n), &w)
        }
        try checkLAPACK("syevd", info, Scalar.self)
        return SymmetricEigenDecomposition(values: w, vectors: vectors ? a : Matrix(rows: n, columns: 0))
    }

    /// The Cholesky factor `L` with `A = L L'` (LAPACK `?potrf`). Only the lower triangle is read.
    /// - Throws: ``LAPACKError`` naming the leading minor that is not positive definite.
    /// - Complexity: n^3 / 3 flops.
    public func cholesky() throws -> CholeskyFactor<Scalar> {
        precondition(rows == columns, "cholesky: matrix is \(rows) x \(columns), not square")
        let n = rows
        var a = self
        if n > 0 {
            let info = a.elements.withUnsafeMutableBufferPointer { pa in
                Scalar.lapackPotrf(CChar(UInt8(ascii: "L")), blasInt(n), pa.baseAddress!, blasInt(n))
            }
            try checkLAPACK("potrf", info, Scalar.self)
            for j in 1..<Swift.max(n, 1) { for i in 0..<j { a.elements[i + j * n] = 0 } }
        }
        return CholeskyFactor(lower: a)
    }

    /// Solves the square system `A X = B` by LU with partial pivoting (LAPACK `?gesv`).
    /// - Throws: ``LAPACKError`` when `A` is exactly singular.
    /// - Complexity: 2n^3 / 3 + 2n^2 * columns of B flops.
    public func solve(_ b: Matrix) throws -> Matrix {
        precondition(rows == columns, "solve: A is \(rows) x \(columns), not square")
        precondition(b.rows == rows, "solve: B has \(b.rows) rows, A has \(rows)")
        let n = rows
        var a = self, x = b
        if n == 0 || b.columns == 0 { return x }
        var ipiv = [Int32](repeating: 0, count: n)
        let info = a.elements.withUnsafeMutableBufferPointer { pa in
            x.elements.withUnsafeMutableBufferPointer { px in
                Scalar.lapackGesv(blasInt(n), blasInt(b.columns), pa.baseAddress!, blasInt(n), &ipiv, px.baseAddress!, blasInt(n))
            }
        }
        try checkLAPACK("gesv", info, Scalar.self)
        return x
    }

    /// The least-squares solution of `min ||A X - B||` for full-rank `A` with `m >= n`, or the
    /// minimum-norm solution of the underdetermined system when `m < n` (LAPACK `?gels`).
    /// Returns an `n x columns(B)` matrix.
    /// - Throws: ``LAPACKError`` when `A` does not have full rank.
    public func leastSquares(_ b: Matrix) throws -> Matrix {
        precondition(b.rows == rows, "leastSquares: B has \(b.rows) rows, A has \(rows)")
        let m = rows, n = columns, nrhs = b.columns
        if n == 0 { return Matrix(rows: 0, columns: nrhs) }
        if m == 0 || nrhs == 0 { return Matrix(rows: n, columns: nrhs) }
        let ldb = Swift.max(m, n)
        var a = self
        var x = Matrix(rows: ldb, columns: nrhs)
        for j in 0..<nrhs { for i in 0..<m { x.elements[i + j * ldb] = b.elements[i + j * m] } }
        let info = a.elements.withUnsafeMutableBufferPointer { pa in
            x.elements.withUnsafeMutableBufferPointer { px in
                Scalar.lapackGels(CChar(UInt8(ascii: "N")), blasInt(m), blasInt(n), blasInt(nrhs), pa.baseAddress!, blasInt(m),
                                  px.baseAddress!, blasInt(ldb))
            }
        }
        try checkLAPACK("gels", info, Scalar.self)
        var result = Matrix(rows: n, columns: nrhs)
        for j in 0..<nrhs { for i in 0..<n { result.elements[i + j * n] = x.elements[i + j * ldb] } }
        return result
    }

    /// LU factorization with partial pivoting (LAPACK `?getrf`), returned as `(P L, U)`.
    /// A zero pivot is not an error here (the factorization still exists); use ``solve(_:)`` to solve.
    /// - Complexity: O(m n min(m, n)).
    public func lu() throws -> LUDecomposition<Scalar> {
        let m = rows, n = columns, p = Swift.min(m, n)
        var a = self
        var ipiv = [Int32](repeating: 0, count: Swift.max(p, 1))
        if p > 0 {
            let info = a.elements.withUnsafeMutableBufferPointer { pa in
                Scalar.lapackGetrf(blasInt(m), blasInt(n), pa.baseAddress!, blasInt(m), &ipiv)
            }
            if info < 0 { try checkLAPACK("getrf", info, Scalar.self) }
        }
        var l = Matrix(rows: m, columns: p)
        var u = Matrix(rows: p, columns: n)
        for j in 0..<p {
            l.elements[j + j * m] = 1
            for i in (j + 1)..<Swift.max(m, j + 1) { l.elements[i + j * m] = a.elements[i + j * m] }
        }
        for j in 0..<n { for i in 0..<Swift.min(j + 1, p) { u.elements[i + j * p] = a.elements[i + j * m] } }
        // Undo the row interchanges: rows were swapped i <-> ipiv[i]-1 in order, so apply in reverse.
        var perm = Array(0..<m)
        for i in 0..<p { perm.swapAt(i, Int(ipiv[i]) - 1) }
        var pl = Matrix(rows: m, columns: p)
        for j in 0..<p { for i in 0..<m { pl.elements[perm[i] + j * m] = l.elements[i + j * m] } }
        return LUDecomposition(permutedLower: pl, upper: u)
    }
}
