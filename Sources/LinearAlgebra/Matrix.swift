#if canImport(Glibc)
import Glibc
#endif

/// Asks the kernel to back the 2 MiB-aligned interior of a large buffer that nothing has touched
/// yet with transparent huge pages (`madvise(MADV_HUGEPAGE)`; the system's setting is `madvise`
/// here, so without the advice every block is 4 KiB pages).
///
/// The sparse products gather one dense row per nonzero at random: over a block of hundreds of
/// MB each gather then also misses the TLB (a 296 MB block is 72k small pages against about
/// 2k TLB entries, but only 141 huge ones), and a fresh block takes one page fault per 4 KiB
/// instead of one per 2 MiB. Advice only: without THP, or for buffers under 4 MiB, nothing
/// changes. The same idea as the Neighbors module's `largeAllocation`, written here for the
/// storage that ``Matrix`` gets from Swift's allocator (which it cannot align).
func adviseHugePages(_ base: UnsafeMutableRawPointer, byteCount: Int) {
    #if os(Linux)
    let huge = 1 << 21
    guard byteCount >= 2 * huge else { return }
    let start = (Int(bitPattern: base) + huge - 1) & ~(huge - 1)
    let end = (Int(bitPattern: base) + byteCount) & ~(huge - 1)
    if end > start, let p = UnsafeMutableRawPointer(bitPattern: start) {
        _ = madvise(p, end - start, Int32(MADV_HUGEPAGE))
    }
    #endif
}

/// A dense column-major matrix of `Float` or `Double`, the layout BLAS and LAPACK expect.
///
/// Element `(i, j)` lives at `elements[i + j * rows]`. The matrix is a value type with
/// copy-on-write storage: copies are cheap until one of them is mutated.
///
/// ```swift
/// let a = Matrix<Double>(rows: [[1, 2], [3, 4]])
/// let b = a * a.transposed()          // GEMM
/// let q = try a.qr().q                // thin QR
/// ```
public struct Matrix<Scalar: BLASScalar>: Sendable, Equatable {
    /// Number of rows.
    public private(set) var rows: Int
    /// Number of columns.
    public private(set) var columns: Int
    /// The elements in column-major order; `elements.count == rows * columns`.
    /// Mutate freely, but keep `elements.count == rows * columns`: kernels rely on it.
    public var elements: [Scalar]

    /// A `rows x columns` matrix of zeros. Cost: O(rows * columns).
    /// - Precondition: `rows >= 0`, `columns >= 0`.
    public init(rows: Int, columns: Int) {
        self.init(rows: rows, columns: columns, repeating: 0)
    }

    /// A `rows x columns` matrix with every element equal to `value`.
    ///
    /// A block of 16 MiB or more is filled on ``Parallel/threads`` threads: its pages are fresh
    /// (the allocator maps large blocks anew), and the first write to each one is a page fault
    /// whose zeroing, in a virtual machine, can cost more than the fill (1-3 s per GB measured on
    /// the project's 2-core VM when the memory was freed seconds before): one thread would
    /// take those faults alone.
    public init(rows: Int, columns: Int, repeating value: Scalar) {
        self.init(rows: rows, columns: columns) { buffer in
            let count = buffer.count
            let threads = count * MemoryLayout<Scalar>.stride >= 1 << 24 ? Parallel.threads : 1
            guard threads > 1 else { return Scalar.kernelFill(buffer.baseAddress!, count: count, value: value) }
            let box = UnsafeSendableBox(buffer.baseAddress!)
            Parallel.forEachChunk(count: count, threads: threads, minimumChunk: 1 << 18) { range in
                Scalar.kernelFill(box.value + range.lowerBound, count: range.count, value: value)
            }
        }
    }

    /// A matrix over existing column-major `elements`.
    /// - Precondition: `elements.count == rows * columns`.
    public init(rows: Int, columns: Int, elements: [Scalar]) {
        precondition(rows >= 0 && columns >= 0, "Matrix: negative shape \(rows) x \(columns)")
        precondition(elements.count == rows * columns,
                      "Matrix: \(elements.count) elements for a \(rows) x \(columns) matrix")
        self.rows = rows
        self.columns = columns
        self.elements = elements
    }

    /// A matrix from its rows (row-major nested arrays, as written on paper).
    /// - Precondition: every row has the same length.
    public init(rows rowArrays: [[Scalar]]) {
        let m = rowArrays.count
        let n = rowArrays.first?.count ?? 0
        self.init(rows: m, columns: n)
        for (i, row) in rowArrays.enumerated() {
            precondition(row.count == n, "Matrix(rows:): row \(i) has \(row.count) entries, expected \(n)")
            for j in 0..<n { elements[i + j * m] = row[j] }
        }
    }

    /// A matrix from its columns.
    /// - Precondition: every column has the same length.
    public init(columns columnArrays: [[Scalar]]) {
        let n = columnArrays.count
        let m = columnArrays.first?.count ?? 0
        var flat = [Scalar]()
        flat.reserveCapacity(m * n)
        for (j, column) in columnArrays.enumerated() {
            precondition(column.count == m, "Matrix(columns:): column \(j) has \(column.count) entries, expected \(m)")
            flat.append(contentsOf: column)
        }
        self.init(rows: m, columns: n, elements: flat)
    }

    /// The `n x n` identity.
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, columns: n)
        for i in 0..<n { m.elements[i + i * n] = 1 }
        return m
    }

    /// A matrix with independent standard normal entries drawn from a ``Xoshiro256`` generator
    /// seeded with `seed`: the same seed gives the same matrix on every platform.
    public static func gaussian(rows: Int, columns: Int, seed: UInt64) -> Matrix {
        var rng = Xoshiro256(seed: seed)
        return gaussian(rows: rows, columns: columns, using: &rng)
    }

    /// A matrix with independent standard normal entries drawn from `rng`.
    public static func gaussian(rows: Int, columns: Int, using rng: inout Xoshiro256) -> Matrix {
        var m = Matrix(rows: rows, columns: columns)
        m.elements.withUnsafeMutableBufferPointer { rng.fillGaussian($0) }
        return m
    }

    /// A diagonal matrix with `diagonal` on its diagonal.
    public static func diagonal(_ diagonal: [Scalar]) -> Matrix {
        let n = diagonal.count
        var m = Matrix(rows: n, columns: n)
        for i in 0..<n { m.elements[i + i * n] = diagonal[i] }
        return m
    }

    /// `(rows, columns)`.
    @inlinable public var shape: (rows: Int, columns: Int) { (rows, columns) }

    /// Element `(i, j)`. Cost: O(1).
    /// - Precondition: `0 <= i < rows`, `0 <= j < columns`.
    @inlinable public subscript(i: Int, j: Int) -> Scalar {
        get {
            precondition(i >= 0 && i < rows && j >= 0 && j < columns, "Matrix: index (\(i), \(j)) out of \(rows) x \(columns)")
            return elements[i + j * rows]
        }
        set {
            precondition(i >= 0 && i < rows && j >= 0 && j < columns, "Matrix: index (\(i), \(j)) out of \(rows) x \(columns)")
            elements[i + j * rows] = newValue
        }
    }

    /// A copy of row `i`. Cost: O(columns), strided.
    public func row(_ i: Int) -> [Scalar] {
        precondition(i >= 0 && i < rows, "Matrix.row: \(i) out of 0..<\(rows)")
        return (0..<columns).map { elements[i + $0 * rows] }
    }

    /// A copy of column `j`. Cost: O(rows), contiguous.
    public func column(_ j: Int) -> [Scalar] {
        precondition(j >= 0 && j < columns, "Matrix.column: \(j) out of 0..<\(columns)")
        return Array(elements[(j * rows)..<((j + 1) * rows)])
    }

    /// Replaces row `i`.
    public mutating func setRow(_ i: Int, _ values: [Scalar]) {
        precondition(i >= 0 && i < rows && values.count == columns, "Matrix.setRow: bad index or length")
        for j in 0..<columns { elements[i + j * rows] = values[j] }
    }

    /// Replaces column `j`.
    public mutating func setColumn(_ j: Int, _ values: [Scalar]) {
        precondition(j >= 0 && j < columns && values.count == rows, "Matrix.setColumn: bad index or length")
        elements.replaceSubrange((j * rows)..<((j + 1) * rows), with: values)
    }

    /// A read-only view of columns `range`, sharing this matrix's storage (no copy).
    /// Cost: O(1).
    public func columns(_ range: Range<Int>) -> MatrixColumns<Scalar> {
        precondition(range.lowerBound >= 0 && range.upperBound <= columns,
                     "Matrix.columns: \(range) out of 0..<\(columns)")
        return MatrixColumns(base: self, range: range)
    }

    /// Overwrites columns `start ..< start + source.columns` with `source`.
    /// - Precondition: `source.rows == rows` and the columns fit.
    public mutating func setColumns(startingAt start: Int, from source: Matrix) {
        precondition(source.rows == rows && start >= 0 && start + source.columns <= columns,
                     "Matrix.setColumns: a \(source.rows) x \(source.columns) block does not fit at column \(start) of \(rows) x \(columns)")
        elements.replaceSubrange((start * rows)..<((start + source.columns) * rows), with: source.elements)
    }

    /// The transpose, as a new matrix. Cost: O(rows * columns), blocked for cache locality;
    /// a large matrix (at least 2^20 elements) is split over ``Parallel/threads`` by output
    /// columns. The elements are copied as bits (4- or 8-byte words), so the loops are concrete
    /// even where this generic method runs unspecialised.
    public func transposed() -> Matrix {
        // Every element is written by the transpose: the block is not zero-filled first (a
        // fresh block's pages are then first touched by the parallel copy, not by a serial fill).
        Matrix(rows: columns, columns: rows) { self.transpose(into: $0.baseAddress!) }
    }

    /// `[B_1' | B_2' | ...]`: the transposes of `blocks` side by side, one `n x (count k)` matrix
    /// for `count` blocks of `k x n`, each transposed straight into its place (no zero fill, no
    /// intermediate block). A row-major `n x k` block is held as the column-major `k x n` matrix
    /// that is its transpose; this turns several of them into one column-major table.
    /// Cost: O(count k n), parallel like ``transposed()``.
    /// - Precondition: every block has the first one's shape.
    public init(joiningTransposesOf blocks: [Matrix]) {
        let k = blocks.first?.rows ?? 0, n = blocks.first?.columns ?? 0
        precondition(blocks.allSatisfy { $0.rows == k && $0.columns == n },
                     "Matrix(joiningTransposesOf:): blocks of different shapes \(blocks.map { "\($0.rows) x \($0.columns)" })")
        self.init(rows: n, columns: k * blocks.count) { buffer in
            for (b, block) in blocks.enumerated() { block.transpose(into: buffer.baseAddress! + b * k * n) }
        }
    }

    /// A `rows x columns` matrix whose column-major elements `initializer` writes, every one of
    /// them: the buffer it gets holds `rows * columns` uninitialised elements (huge pages advised
    /// as for a filled matrix), so a block that is about to be overwritten is not zero-filled
    /// first and its pages are first touched where it is written (in parallel, if the writer is).
    /// - Precondition: `rows >= 0`, `columns >= 0`; `initializer` writes every element.
    public init(rows: Int, columns: Int, writingEveryElement initializer: (UnsafeMutableBufferPointer<Scalar>) -> Void) {
        precondition(rows >= 0 && columns >= 0, "Matrix: negative shape \(rows) x \(columns)")
        self.rows = rows
        self.columns = columns
        let count = rows * columns
        self.elements = [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 {
                adviseHugePages(UnsafeMutableRawPointer(buffer.baseAddress!), byteCount: count * MemoryLayout<Scalar>.stride)
                initializer(UnsafeMutableBufferPointer(start: buffer.baseAddress!, count: count))
            }
            initialized = count
        }
    }

    /// Writes the transpose (`columns x rows`, column-major) at `destination`.
    func transpose(into destination: UnsafeMutablePointer<Scalar>) {
        let m = rows, n = columns
        if m == 0 || n == 0 { return }
        let threads = m * n >= 1 << 20 ? Parallel.threads : 1
        elements.withUnsafeBytes { src in
            let dst = UnsafeMutableRawPointer(destination)
            switch MemoryLayout<Scalar>.stride {
            case 4: transposeWords(src.bindMemory(to: UInt32.self).baseAddress!, dst.bindMemory(to: UInt32.self, capacity: m * n),
                                   rows: m, columns: n, threads: threads)
            case 8: transposeWords(src.bindMemory(to: UInt64.self).baseAddress!, dst.bindMemory(to: UInt64.self, capacity: m * n),
                                   rows: m, columns: n, threads: threads)
            default: preconditionFailure("Matrix.transposed: \(Scalar.self) is neither 4 nor 8 bytes")
            }
        }
    }

    /// Reshapes in place without moving elements (column-major order is kept).
    /// - Precondition: `rows * columns` is unchanged.
    public mutating func reshape(rows newRows: Int, columns newColumns: Int) {
        precondition(newRows * newColumns == rows * columns, "Matrix.reshape: element count changes")
        rows = newRows
        columns = newColumns
    }

    /// Calls `body` with a pointer to the column-major elements.
    @inlinable public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try elements.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with a mutable pointer to the column-major elements.
    @inlinable public mutating func withUnsafeMutableBufferPointer<R>(_ body: (inout UnsafeMutableBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try elements.withUnsafeMutableBufferPointer(body)
    }
}

/// A read-only view of a contiguous range of a ``Matrix``'s columns. It shares the matrix's
/// storage, so making one costs O(1); ``copy()`` materialises it.
public struct MatrixColumns<Scalar: BLASScalar>: Sendable {
    /// The viewed matrix.
    public let base: Matrix<Scalar>
    /// The viewed columns.
    public let range: Range<Int>

    /// Number of rows (the base's).
    public var rows: Int { base.rows }
    /// Number of viewed columns.
    public var columns: Int { range.count }

    /// Element `(i, j)` of the view, i.e. `(i, range.lowerBound + j)` of the base.
    public subscript(i: Int, j: Int) -> Scalar { base[i, range.lowerBound + j] }

    /// The view as a new matrix. Cost: O(rows * columns).
    public func copy() -> Matrix<Scalar> {
        Matrix(rows: rows, columns: columns,
               elements: Array(base.elements[(range.lowerBound * rows)..<(range.upperBound * rows)]))
    }
}

/// Dense storage that BLAS can read: a pointer, a shape and a leading dimension.
/// ``Matrix`` and ``MatrixColumns`` conform, so GEMM takes either without copying.
public protocol DenseMatrixProtocol<Scalar> {
    associatedtype Scalar: BLASScalar
    /// Number of rows.
    var rows: Int { get }
    /// Number of columns.
    var columns: Int { get }
    /// Calls `body` with a pointer to element (0, 0) and the leading dimension (distance between columns).
    func withUnsafeDense<R>(_ body: (UnsafePointer<Scalar>, Int) throws -> R) rethrows -> R
}

extension Matrix: DenseMatrixProtocol {
    @inlinable public func withUnsafeDense<R>(_ body: (UnsafePointer<Scalar>, Int) throws -> R) rethrows -> R {
        try elements.withUnsafeBufferPointer { try body($0.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<Scalar>.alignment)!, Swift.max(rows, 1)) }
    }
}

extension MatrixColumns: DenseMatrixProtocol {
    public func withUnsafeDense<R>(_ body: (UnsafePointer<Scalar>, Int) throws -> R) rethrows -> R {
        try base.elements.withUnsafeBufferPointer {
            let start = ($0.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<Scalar>.alignment)!) + range.lowerBound * base.rows
            return try body(start, Swift.max(base.rows, 1))
        }
    }
}

extension Matrix: CustomStringConvertible {
    /// A readable rendering; large matrices show their corners only.
    public var description: String {
        let maxShown = 8
        var lines = ["\(rows)x\(columns) Matrix<\(Scalar.self)>"]
        for i in 0..<Swift.min(rows, maxShown) {
            var cells = [String]()
            for j in 0..<Swift.min(columns, maxShown) { cells.append("\(self[i, j])") }
            if columns > maxShown { cells.append("…") }
            lines.append("  [" + cells.joined(separator: ", ") + "]")
        }
        if rows > maxShown { lines.append("  …") }
        return lines.joined(separator: "\n")
    }
}

/// `dst` (`columns x rows`, column-major) = the transpose of `src` (`rows x columns`,
/// column-major), in 32 x 32 tiles; `threads` workers take contiguous ranges of `src`'s rows
/// (of `dst`'s columns), so each writes a contiguous part of `dst`.
@_specialize(where W == UInt32)
@_specialize(where W == UInt64)
func transposeWords<W: FixedWidthInteger & SendableMetatype>(_ src: UnsafePointer<W>, _ dst: UnsafeMutablePointer<W>,
                                          rows m: Int, columns n: Int, threads: Int) {
    let box = UnsafeSendableBox((src, dst))
    Parallel.forEachChunk(count: m, threads: threads, minimumChunk: 32) { range in
        let (src, dst) = box.value
        let block = 32
        var ib = range.lowerBound
        while ib < range.upperBound {
            let ie = Swift.min(ib + block, range.upperBound)
            var jb = 0
            while jb < n {
                let je = Swift.min(jb + block, n)
                for i in ib..<ie {
                    for j in jb..<je { dst[j + i * n] = src[i + j * m] }
                }
                jb = je
            }
            ib = ie
        }
    }
}
