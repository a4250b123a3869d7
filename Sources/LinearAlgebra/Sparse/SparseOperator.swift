import Foundation

// Ways for solvers to reach the sparse kernels directly: the transposed index of a CSR matrix
// (so that `A' X` is a gather on every thread instead of a scatter), pointer entry points for
// single vectors (ARPACK's reverse communication: no allocation, no layout change), and the
// protocol that tells a solver an operator is a CSR matrix up to scalings and transposition.

/// The CSC arrays of a CSR matrix (= the CSR arrays of its transpose), built once on demand and
/// shared by every copy of the matrix. A mutation of the matrix replaces the cache, never clears
/// it, because copies made before the mutation still own the old one.
final class TransposeIndex<Scalar>: @unchecked Sendable {
    private let lock = NSLock()
    private var arrays: (offsets: [Int64], indices: [Int32], values: [Scalar])?
    private var transposeProducts = 0

    init() {}
    init(prebuilt: (offsets: [Int64], indices: [Int32], values: [Scalar])) { arrays = prebuilt }

    /// The transposed arrays if built.
    var built: (offsets: [Int64], indices: [Int32], values: [Scalar])? {
        lock.lock(); defer { lock.unlock() }
        return arrays
    }

    /// The transposed arrays, building them with `make` when absent.
    func get(_ make: () -> (offsets: [Int64], indices: [Int32], values: [Scalar])) -> (offsets: [Int64], indices: [Int32], values: [Scalar]) {
        lock.lock(); defer { lock.unlock() }
        if let a = arrays { return a }
        let a = make()
        arrays = a
        return a
    }

    /// Records one `A' X` product of width `k` and says whether the index should be used for it:
    /// it is built for the first product with `k >= 8` (the index costs about one SpMV of
    /// sorting, a block product many), or for the second product of any width.
    func shouldUse(width k: Int, automatic: Bool) -> Bool {
        lock.lock()
        transposeProducts += 1
        let answer = arrays != nil || (automatic && (k >= 8 || transposeProducts >= 2))
        lock.unlock()
        return answer
    }
}

/// An operator that is a ``CSRMatrix`` up to diagonal scalings, a scalar factor and
/// transposition. Solvers use ``csrMatrix()`` to run the CSR kernels on blocks they keep in the
/// kernels' row-major layout, with no per-product copies or layout conversions.
public protocol CSRRepresentable<Scalar>: LinearOperator {
    /// The operator as one CSR matrix. Cost: O(1) for a plain matrix; O(nnz) (a copy of the
    /// values) when scalings are folded in; a transposition reuses the matrix's transposed index
    /// when it has one, else costs a counting sort.
    func csrMatrix() -> CSRMatrix<Scalar>
}

extension CSRMatrix: CSRRepresentable {
    public func csrMatrix() -> CSRMatrix<Scalar> { self }
}

extension DiagonallyScaledOperator: CSRRepresentable where Base: CSRRepresentable {
    public func csrMatrix() -> CSRMatrix<Base.Scalar> {
        var a = base.csrMatrix()
        if let left { a.scaleRows(by: left) }
        if let right { a.scaleColumns(by: right) }
        return a
    }
}

extension ScaledOperator: CSRRepresentable where Base: CSRRepresentable {
    public func csrMatrix() -> CSRMatrix<Base.Scalar> {
        let a = base.csrMatrix()
        return alpha == 1 ? a : a.mapValues { $0 * alpha }
    }
}

extension TransposedOperator: CSRRepresentable where Base: CSRRepresentable {
    public func csrMatrix() -> CSRMatrix<Base.Scalar> { base.csrMatrix().transposed() }
}

/// The bytes sparse products and dense block passes must move at least, and the memory
/// bandwidth that turns them into a time floor, for the per-phase GB/s that solvers report.
///
/// A product `A X` or `A' X` with a `k`-column block of `S` moves at least the index arrays
/// (8-byte offsets, a 4-byte index and a value per nonzero), the input block once and the output
/// block once: ``sparseProductBytes(rows:columns:nonzeros:width:scalarSize:)``. Its kernels also
/// load one dense row per nonzero, mostly from cache: ``gatheredBytes(rows:columns:nonzeros:width:scalarSize:)``.
public enum MemoryTraffic {
    /// The stream-triad bandwidth used for floors, in bytes per second: the environment
    /// variable `EMBEDDINGS_STREAM_GBS` (GB/s) if set, else 50 GB/s (measured with two threads on
    /// the project's 2-core machine; one thread reaches 42).
    nonisolated(unsafe) public static var streamTriadBytesPerSecond: Double = {
        if let v = ProcessInfo.processInfo.environment["EMBEDDINGS_STREAM_GBS"], let g = Double(v), g > 0 { return g * 1e9 }
        return 50e9
    }()

    /// The least traffic of one sparse product: index arrays, input and output blocks once.
    public static func sparseProductBytes(rows: Int, columns: Int, nonzeros: Int, width: Int, scalarSize: Int) -> Double {
        Double(8 * (max(rows, columns) + 1)) + Double((4 + scalarSize) * nonzeros) + Double(scalarSize * width * (rows + columns))
    }

    /// The traffic of one sparse product counting a dense row load per nonzero (the gathers).
    public static func gatheredBytes(rows: Int, columns: Int, nonzeros: Int, width: Int, scalarSize: Int) -> Double {
        Double(8 * (max(rows, columns) + 1)) + Double((4 + scalarSize) * nonzeros)
            + Double(scalarSize * width) * Double(nonzeros + max(rows, columns))
    }
}
