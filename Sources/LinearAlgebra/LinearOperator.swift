/// A linear map `A: R^columns -> R^rows` that can be applied, with its transpose, to a block of
/// vectors. Every solver in the package takes one, so dense and sparse matrices, their scaled,
/// normalised, summed and composed forms, and user-defined operators are all interchangeable.
///
/// Conformers implement the two `into:` methods; the value-returning forms come free.
///
/// ```swift
/// let a: CSRMatrix<Float> = ...
/// let normalized = a.diagonallyScaled(left: dOut, right: dIn)    // D1 A D2, nothing copied
/// let y = normalized.apply(Matrix<Float>.gaussian(rows: a.columns, columns: 8, seed: 1))
/// ```
public protocol LinearOperator<Scalar>: Sendable {
    associatedtype Scalar: BLASScalar
    /// Rows of `A` (length of `A x`).
    var rows: Int { get }
    /// Columns of `A` (length of `x`).
    var columns: Int { get }
    /// `Y = A X`.
    /// - Precondition: `x.rows == columns`; `y` is `rows x x.columns` (its contents are overwritten).
    func apply(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>)
    /// `Y = A' X`.
    /// - Precondition: `x.rows == rows`; `y` is `columns x x.columns` (its contents are overwritten).
    func applyTranspose(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>)
}

extension LinearOperator {
    /// `A X` as a new matrix.
    public func apply(_ x: Matrix<Scalar>) -> Matrix<Scalar> {
        precondition(x.rows == columns, "apply: operator is \(rows) x \(columns), block has \(x.rows) rows")
        var y = Matrix<Scalar>(rows: rows, columns: x.columns)
        apply(x, into: &y)
        return y
    }

    /// `A' X` as a new matrix.
    public func applyTranspose(_ x: Matrix<Scalar>) -> Matrix<Scalar> {
        precondition(x.rows == rows, "applyTranspose: operator is \(rows) x \(columns), block has \(x.rows) rows")
        var y = Matrix<Scalar>(rows: columns, columns: x.columns)
        applyTranspose(x, into: &y)
        return y
    }

    /// `A x` for a single vector.
    public func apply(vector x: [Scalar]) -> [Scalar] {
        apply(Matrix(rows: x.count, columns: 1, elements: x)).elements
    }

    /// `A' x` for a single vector.
    public func applyTranspose(vector x: [Scalar]) -> [Scalar] {
        applyTranspose(Matrix(rows: x.count, columns: 1, elements: x)).elements
    }

    /// `A'` as an operator (nothing is copied).
    public var transposedOperator: TransposedOperator<Self> { TransposedOperator(self) }

    /// `alpha A` as an operator.
    public func scaled(by alpha: Scalar) -> ScaledOperator<Self> { ScaledOperator(self, alpha: alpha) }

    /// `D1 A D2` with `D1 = diag(left)` and `D2 = diag(right)`; either may be `nil` for the identity.
    public func diagonallyScaled(left: [Scalar]?, right: [Scalar]?) -> DiagonallyScaledOperator<Self> {
        DiagonallyScaledOperator(self, left: left, right: right)
    }

    /// The dense matrix of the operator, built by applying it to the identity. Cost: one
    /// application to `columns` vectors; for tests and small operators only.
    public func densified() -> Matrix<Scalar> { apply(Matrix<Scalar>.identity(columns)) }
}

extension Matrix: LinearOperator {
    public func apply(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>) {
        Matrix.gemm(self, .none, x, .none, into: &y)
    }
    public func applyTranspose(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>) {
        Matrix.gemm(self, .transpose, x, .none, into: &y)
    }
}

/// `A'` of an operator `A`.
public struct TransposedOperator<Base: LinearOperator>: LinearOperator {
    public typealias Scalar = Base.Scalar
    public let base: Base
    public init(_ base: Base) { self.base = base }
    public var rows: Int { base.columns }
    public var columns: Int { base.rows }
    public func apply(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>) { base.applyTranspose(x, into: &y) }
    public func applyTranspose(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>) { base.apply(x, into: &y) }
}

/// `alpha A`.
public struct ScaledOperator<Base: LinearOperator>: LinearOperator {
    public typealias Scalar = Base.Scalar
    public let base: Base
    public let alpha: Scalar
    public init(_ base: Base, alpha: Scalar) { self.base = base; self.alpha = alpha }
    public var rows: Int { base.rows }
    public var columns: Int { base.columns }
    public func apply(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>) {
        base.apply(x, into: &y); if alpha != 1 { y.scale(by: alpha) }
    }
    public func applyTranspose(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>) {
        base.applyTranspose(x, into: &y); if alpha != 1 { y.scale(by: alpha) }
    }
}

/// `D1 A D2` with diagonal `D1` (rows) and `D2` (columns): degree normalisation of a graph
/// (`D_out^-1/2 A D_in^-1/2`) without touching `A`'s storage.
/// Cost per application: the base's plus O((rows + columns) * block columns).
public struct DiagonallyScaledOperator<Base: LinearOperator>: LinearOperator {
    public typealias Scalar = Base.Scalar
    public let base: Base
    /// `diag(D1)`, length `rows`, or `nil` for the identity.
    public let left: [Scalar]?
    /// `diag(D2)`, length `columns`, or `nil` for the identity.
    public let right: [Scalar]?

    /// - Precondition: `left.count == base.rows`, `right.count == base.columns` where given.
    public init(_ base: Base, left: [Scalar]?, right: [Scalar]?) {
        if let l = left { precondition(l.count == base.rows, "DiagonallyScaledOperator: \(l.count) left factors for \(base.rows) rows") }
        if let r = right { precondition(r.count == base.columns, "DiagonallyScaledOperator: \(r.count) right factors for \(base.columns) columns") }
        self.base = base; self.left = left; self.right = right
    }
    public var rows: Int { base.rows }
    public var columns: Int { base.columns }
    public func apply(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>) {
        if let r = right { base.apply(x.scaledRows(by: r), into: &y) } else { base.apply(x, into: &y) }
        if let l = left { y.scaleRows(by: l) }
    }
    public func applyTranspose(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>) {
        if let l = left { base.applyTranspose(x.scaledRows(by: l), into: &y) } else { base.applyTranspose(x, into: &y) }
        if let r = right { y.scaleRows(by: r) }
    }
}

/// `A + B`.
public struct SumOperator<A: LinearOperator, B: LinearOperator>: LinearOperator where A.Scalar == B.Scalar {
    public typealias Scalar = A.Scalar
    public let a: A
    public let b: B
    /// - Precondition: `a` and `b` have the same shape.
    public init(_ a: A, _ b: B) {
        precondition(a.rows == b.rows && a.columns == b.columns, "SumOperator: shapes \(a.rows) x \(a.columns) and \(b.rows) x \(b.columns) differ")
        self.a = a; self.b = b
    }
    public var rows: Int { a.rows }
    public var columns: Int { a.columns }
    public func apply(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>) {
        a.apply(x, into: &y); y += b.apply(x)
    }
    public func applyTranspose(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>) {
        a.applyTranspose(x, into: &y); y += b.applyTranspose(x)
    }
}

/// `A B` (apply `B` first).
public struct ProductOperator<A: LinearOperator, B: LinearOperator>: LinearOperator where A.Scalar == B.Scalar {
    public typealias Scalar = A.Scalar
    public let a: A
    public let b: B
    /// - Precondition: `a.columns == b.rows`.
    public init(_ a: A, _ b: B) {
        precondition(a.columns == b.rows, "ProductOperator: \(a.rows) x \(a.columns) times \(b.rows) x \(b.columns)")
        self.a = a; self.b = b
    }
    public var rows: Int { a.rows }
    public var columns: Int { b.columns }
    public func apply(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>) { a.apply(b.apply(x), into: &y) }
    public func applyTranspose(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>) { b.applyTranspose(a.applyTranspose(x), into: &y) }
}

/// A type-erased operator, or one defined by two closures.
public struct AnyLinearOperator<Scalar: BLASScalar>: LinearOperator {
    public let rows: Int
    public let columns: Int
    private let applyBody: @Sendable (Matrix<Scalar>, inout Matrix<Scalar>) -> Void
    private let transposeBody: @Sendable (Matrix<Scalar>, inout Matrix<Scalar>) -> Void

    /// Wraps any operator with the same scalar.
    public init<Op: LinearOperator>(_ op: Op) where Op.Scalar == Scalar {
        rows = op.rows; columns = op.columns
        applyBody = { op.apply($0, into: &$1) }
        transposeBody = { op.applyTranspose($0, into: &$1) }
    }

    /// An operator from closures computing `Y = A X` and `Y = A' X` (each overwrites `Y`).
    public init(rows: Int, columns: Int,
                apply: @escaping @Sendable (Matrix<Scalar>, inout Matrix<Scalar>) -> Void,
                applyTranspose: @escaping @Sendable (Matrix<Scalar>, inout Matrix<Scalar>) -> Void) {
        self.rows = rows; self.columns = columns
        applyBody = apply; transposeBody = applyTranspose
    }

    public func apply(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>) { applyBody(x, &y) }
    public func applyTranspose(_ x: Matrix<Scalar>, into y: inout Matrix<Scalar>) { transposeBody(x, &y) }
}
