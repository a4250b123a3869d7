// Compressed sparse storage, written once for CSR and CSC: the arrays along the major dimension
// (rows for CSR, columns for CSC), the cached arrays of the other orientation, and every
// structure operation on them; `CompressedSparseMatrix` gives both matrix types one public API.
import Dispatch

/// The arrays of a compressed sparse matrix along its major dimension (the rows of a
/// ``CSRMatrix``, the columns of a ``CSCMatrix``): slice `r` holds entries
/// `offsets[r] ..< offsets[r + 1]` of ``indices`` and ``values``, with strictly increasing
/// indices. The same arrays read the other way are the other form of the transpose, so
/// `CSCMatrix(storage: a.storage)` is `A'` for a CSR matrix `a`, in O(1).
///
/// Every value is valid: it comes from a matrix, whose initialisers check it. It also holds the
/// arrays of the other orientation once a product has built them (see
/// ``CSRMatrix/automaticTransposeIndex``), shared by copies and not compared by `==`.
public struct CompressedStorage<Scalar: BLASScalar>: Sendable, Equatable {
    /// Number of major slices (rows of a CSR matrix, columns of a CSC one).
    public let majorCount: Int
    /// Number of minor positions (columns of a CSR matrix, rows of a CSC one).
    public let minorCount: Int
    /// `majorCount + 1` offsets into ``indices`` and ``values``, from 0 to the entry count.
    public private(set) var offsets: [Int64]
    /// Minor index of each stored entry, strictly increasing within a slice.
    public private(set) var indices: [Int32]
    /// Value of each stored entry.
    public private(set) var values: [Scalar]
    /// The arrays of the other orientation, built on demand by products and shared by copies.
    var transposeIndex = TransposeIndex<Scalar>()
    /// Whether products build ``transposeIndex`` by themselves (``CSRMatrix/automaticTransposeIndex``).
    var automaticTransposeIndex = true

    /// Arrays the caller guarantees valid: only their lengths are checked (O(1)).
    init(unchecked majorCount: Int, _ minorCount: Int, offsets: [Int64], indices: [Int32], values: [Scalar],
         _ what: @autoclosure () -> String) {
        precondition(majorCount >= 0 && minorCount >= 0 && offsets.count == majorCount + 1 && indices.count == values.count
                     && offsets[majorCount] == Int64(values.count), "\(what()): inconsistent array lengths")
        self.majorCount = majorCount; self.minorCount = minorCount
        self.offsets = offsets; self.indices = indices; self.values = values
    }

    /// The arrays of a cached or computed transpose, for which they are the major arrays.
    init(majorCount: Int, minorCount: Int, arrays a: (offsets: [Int64], indices: [Int32], values: [Scalar])) {
        self.majorCount = majorCount; self.minorCount = minorCount
        offsets = a.offsets; indices = a.indices; values = a.values
    }

    /// Equal counts and arrays (the cached transpose and its policy are not compared).
    public static func == (a: CompressedStorage, b: CompressedStorage) -> Bool {
        a.majorCount == b.majorCount && a.minorCount == b.minorCount && a.offsets == b.offsets
            && a.indices == b.indices && a.values == b.values
    }

    /// Number of stored entries.
    @inlinable public var nonzeroCount: Int { values.count }

    var arrays: (offsets: [Int64], indices: [Int32], values: [Scalar]) { (offsets, indices, values) }

    /// The arrays of the other orientation, from the cache when built, else by a counting sort
    /// (not cached); the result caches these arrays as its own transpose.
    func transposed() -> CompressedStorage {
        var t = CompressedStorage(majorCount: minorCount, minorCount: majorCount,
                                  arrays: transposeIndex.built ?? transposeCompressed(majorCount: majorCount, minorCount: minorCount,
                                                                                      offsets: offsets, indices: indices, values: values))
        t.transposeIndex = TransposeIndex(prebuilt: arrays)
        t.automaticTransposeIndex = automaticTransposeIndex
        return t
    }

    /// The arrays of the other orientation, built into the cache if absent.
    func cachedTranspose() -> CompressedStorage {
        CompressedStorage(majorCount: minorCount, minorCount: majorCount, arrays: transposeIndex.get {
            transposeCompressed(majorCount: majorCount, minorCount: minorCount, offsets: offsets, indices: indices, values: values)
        })
    }

    /// The kernels' view of the arrays.
    @inline(__always)
    func withView<R>(_ body: (CompressedView<Scalar>) -> R) -> R {
        offsets.withUnsafeBufferPointer { o in
            indices.withUnsafeBufferPointer { i in
                values.withUnsafeBufferPointer { v in
                    body(CompressedView(offsets: o.baseAddress!,
                                        indices: i.baseAddress ?? UnsafePointer(bitPattern: 4)!,
                                        values: v.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                                        majorCount: majorCount, minorCount: minorCount))
                }
            }
        }
    }

    /// The stored value at (`major`, `minor`) by binary search of the major slice, or zero.
    func element(major: Int, minor: Int) -> Scalar {
        var lo = Int(offsets[major]), hi = Int(offsets[major + 1])
        let end = hi, target = Int32(minor)
        while lo < hi {
            let mid = (lo + hi) / 2
            if indices[mid] < target { lo = mid + 1 } else { hi = mid }
        }
        return lo < end && indices[lo] == target ? values[lo] : 0
    }

    /// Sum of each major slice (`major`), else of each minor position. Cost: O(nnz + count).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func sums(major: Bool) -> [Scalar] {
        var sums = [Scalar](repeating: 0, count: major ? majorCount : minorCount)
        sums.withUnsafeMutableBufferPointer { s in
            withView { a in
                for r in 0..<majorCount {
                    for p in Int(a.offsets[r])..<Int(a.offsets[r + 1]) { s[major ? r : Int(a.indices[p])] += a.values[p] }
                }
            }
        }
        return sums
    }

    /// Stored entries of each major slice (`major`), else of each minor position.
    func counts(major: Bool) -> [Int] {
        if major { return (0..<majorCount).map { Int(offsets[$0 + 1] - offsets[$0]) } }
        var counts = [Int](repeating: 0, count: minorCount)
        for j in indices { counts[Int(j)] += 1 }
        return counts
    }

    /// Multiplies the values of major slice `r` by `d[r]` (`major`), else those at minor
    /// position `j` by `d[j]`, here and in the cached transpose (where the roles swap).
    mutating func scale(by d: [Scalar], major: Bool) {
        Self.scale(&values, offsets: offsets, indices: indices, by: d, major: major)
        if var t = transposeIndex.built {
            Self.scale(&t.values, offsets: t.offsets, indices: t.indices, by: d, major: !major)
            transposeIndex = TransposeIndex(prebuilt: t)
        } else {
            transposeIndex = TransposeIndex()
        }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private static func scale(_ values: inout [Scalar], offsets: [Int64], indices: [Int32], by d: [Scalar], major: Bool) {
        // Each value is scaled on its own, so the slices split over threads (by nonzeros) give
        // the same bits as one pass; a copied matrix's values are fresh pages, faulted on both.
        if values.isEmpty { return }
        let threads = values.count >= 1 << 20 ? Parallel.threads : 1
        values.withUnsafeMutableBufferPointer { val in
            offsets.withUnsafeBufferPointer { off in
                indices.withUnsafeBufferPointer { idx in
                    d.withUnsafeBufferPointer { dp in
                        let box = UnsafeSendableBox((val.baseAddress!, off.baseAddress!, idx.baseAddress, dp.baseAddress))
                        Parallel.forEachWeightedChunk(prefix: off, chunks: threads) { _, range in
                            let (val, off, idx, d) = box.value
                            for r in range {
                                for p in Int(off[r])..<Int(off[r + 1]) { val[p] *= d![major ? r : Int(idx![p])] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The same pattern with new values (`values.count` must not change).
    func replacingValues<T: BLASScalar>(_ newValues: [T]) -> CompressedStorage<T> {
        CompressedStorage<T>(unchecked: majorCount, minorCount, offsets: offsets, indices: indices, values: newValues,
                             "CompressedStorage.replacingValues")
    }
}

/// What ``CSRMatrix`` and ``CSCMatrix`` share: a ``CompressedStorage`` along rows or columns,
/// and every operation that reads the same whichever way it is compressed (shape, elements,
/// sums, counts, scaling, conversions, vector products).
public protocol CompressedSparseMatrix: LinearOperator, Equatable {
    /// Whether the major dimension of ``storage`` is the rows (CSR) or the columns (CSC).
    static var compressesRows: Bool { get }
    /// The compressed arrays; the shape follows from them. Replacing them drops nothing
    /// inconsistent: every ``CompressedStorage`` is valid.
    var storage: CompressedStorage<Scalar> { get set }
    /// The matrix over `storage` (O(1)).
    init(storage: CompressedStorage<Scalar>)
}

extension CompressedSparseMatrix {
    /// Number of rows.
    @inlinable public var rows: Int { Self.compressesRows ? storage.majorCount : storage.minorCount }
    /// Number of columns.
    @inlinable public var columns: Int { Self.compressesRows ? storage.minorCount : storage.majorCount }
    /// Value of each stored entry.
    @inlinable public var values: [Scalar] { storage.values }
    /// Number of stored entries (explicit zeros included).
    @inlinable public var nonzeroCount: Int { storage.values.count }

    /// Equal shape and equal arrays (the cached transposed index and its policy are not compared).
    public static func == (a: Self, b: Self) -> Bool { a.storage == b.storage }

    /// The name of the type in messages.
    static var typeName: String { compressesRows ? "CSRMatrix" : "CSCMatrix" }

    /// The storage of `rows x columns` arrays, validated: shape within `Int32`, then offsets
    /// count, monotone offsets, index bounds, strictly increasing indices within each slice.
    static func validatedStorage(rows: Int, columns: Int, offsets: [Int64], indices: [Int32], values: [Scalar]) throws
        -> CompressedStorage<Scalar> {
        try checkSparseShape(rows, columns, typeName)
        let (major, minor) = compressesRows ? (rows, columns) : (columns, rows)
        try validateCompressed(majorCount: major, minorCount: minor, offsets: offsets, indices: indices, values: values,
                               what: typeName, major: compressesRows ? "row" : "column", minor: compressesRows ? "column" : "row")
        return CompressedStorage(unchecked: major, minor, offsets: offsets, indices: indices, values: values, typeName)
    }

    /// The storage of `rows x columns` arrays the caller guarantees valid (O(1) length checks).
    static func uncheckedStorage(rows: Int, columns: Int, offsets: [Int64], indices: [Int32], values: [Scalar])
        -> CompressedStorage<Scalar> {
        CompressedStorage(unchecked: compressesRows ? rows : columns, compressesRows ? columns : rows, offsets: offsets,
                          indices: indices, values: values, "\(typeName)(uncheckedRows:)")
    }

    /// Element `(i, j)` (zero when not stored). Cost: O(log(slice length)).
    /// - Precondition: `0 <= i < rows`, `0 <= j < columns`.
    public subscript(i: Int, j: Int) -> Scalar {
        precondition(i >= 0 && i < rows && j >= 0 && j < columns, "\(Self.typeName): index (\(i), \(j)) out of \(rows) x \(columns)")
        return Self.compressesRows ? storage.element(major: i, minor: j) : storage.element(major: j, minor: i)
    }

    /// The dense (column-major) matrix. Cost: O(rows * columns + nnz) time and memory.
    public func toDense() -> Matrix<Scalar> {
        var d = Matrix<Scalar>(rows: rows, columns: columns)
        let s = storage
        for major in 0..<s.majorCount {
            for p in Int(s.offsets[major])..<Int(s.offsets[major + 1]) {
                let (i, j) = Self.compressesRows ? (major, Int(s.indices[p])) : (Int(s.indices[p]), major)
                d.elements[i + j * rows] = s.values[p]
            }
        }
        return d
    }

    /// The entries as triplets, in row-major order for CSR, column-major for CSC. Cost: O(nnz).
    public func toCOO() -> COOMatrix<Scalar> {
        let major = CSRBuilder.rowIndices(offsets: storage.offsets)
        // Valid by construction: cannot throw.
        return try! COOMatrix(rows: rows, columns: columns, rowIndices: Self.compressesRows ? major : storage.indices,
                              columnIndices: Self.compressesRows ? storage.indices : major, values: values)
    }

    /// The same sparsity pattern with `transform` applied to every stored value. Cost: O(nnz).
    public func mapValues(_ transform: (Scalar) throws -> Scalar) rethrows -> Self {
        Self(storage: storage.replacingValues(try values.map(transform)))
    }

    // MARK: Reductions and scaling

    /// Sum of each row (length `rows`). Cost: O(rows + nnz).
    public func rowSums() -> [Scalar] { storage.sums(major: Self.compressesRows) }
    /// Sum of each column (length `columns`). Cost: O(columns + nnz).
    public func columnSums() -> [Scalar] { storage.sums(major: !Self.compressesRows) }
    /// Stored entries in each row (out-degrees of a graph). Cost: O(rows), or O(rows + nnz) for CSC.
    public func rowNonzeroCounts() -> [Int] { storage.counts(major: Self.compressesRows) }
    /// Stored entries in each column (in-degrees of a graph). Cost: O(columns + nnz), or O(columns) for CSC.
    public func columnNonzeroCounts() -> [Int] { storage.counts(major: !Self.compressesRows) }

    /// `diag(d) A` in place: row `i` is multiplied by `d[i]` (also in the transposed index, if
    /// built). Cost: O(nnz). - Precondition: `d.count == rows`.
    public mutating func scaleRows(by d: [Scalar]) {
        precondition(d.count == rows, "\(Self.typeName).scaleRows: \(d.count) factors for \(rows) rows")
        storage.scale(by: d, major: Self.compressesRows)
    }
    /// `A diag(d)` in place: column `j` is multiplied by `d[j]` (also in the transposed index, if
    /// built). Cost: O(nnz). - Precondition: `d.count == columns`.
    public mutating func scaleColumns(by d: [Scalar]) {
        precondition(d.count == columns, "\(Self.typeName).scaleColumns: \(d.count) factors for \(columns) columns")
        storage.scale(by: d, major: !Self.compressesRows)
    }
    /// `diag(d) A` as a new matrix. Cost: O(nnz). - Precondition: `d.count == rows`.
    public func scaledRows(by d: [Scalar]) -> Self { var m = self; m.scaleRows(by: d); return m }
    /// `A diag(d)` as a new matrix. Cost: O(nnz). - Precondition: `d.count == columns`.
    public func scaledColumns(by d: [Scalar]) -> Self { var m = self; m.scaleColumns(by: d); return m }

    // MARK: Products

    /// `A x`. Cost: O(rows + columns + nnz), parallel. - Precondition: `x.count == columns`.
    public func multiply(vector x: [Scalar]) -> [Scalar] {
        precondition(x.count == columns, "\(Self.typeName).multiply(vector:): vector has \(x.count) entries, matrix has \(columns) columns")
        return apply(Matrix(rows: columns, columns: 1, elements: x)).elements
    }

    /// `A' x`. Cost: O(rows + columns + nnz). - Precondition: `x.count == rows`.
    public func multiplyTranspose(vector x: [Scalar]) -> [Scalar] {
        precondition(x.count == rows, "\(Self.typeName).multiplyTranspose(vector:): vector has \(x.count) entries, matrix has \(rows) rows")
        return applyTranspose(Matrix(rows: rows, columns: 1, elements: x)).elements
    }

    // MARK: The transposed index

    /// Whether products build and use a transposed copy of the index arrays by themselves
    /// (`nnz * (4 + size of Scalar) + 8 * (minor count + 1)` bytes, built once, shared by copies)
    /// so that the products that would scatter (`A' X` for CSR, `A X` for CSC) run as gathers on
    /// every thread. Default `true`: the copy is made at the first such product of eight or more
    /// columns, or the second of any width (a one-off vector product does not pay for it).
    public var automaticTransposeIndex: Bool {
        get { storage.automaticTransposeIndex }
        set { storage.automaticTransposeIndex = newValue }
    }

    /// Whether the transposed index arrays exist (see ``automaticTransposeIndex``).
    public var hasTransposeIndex: Bool { storage.transposeIndex.built != nil }

    /// Builds the transposed index now (if absent), so that every product is a gather.
    /// Cost: O(nnz + minor count) time, the memory of a second copy of the matrix.
    public func buildTransposeIndex() { _ = storage.cachedTranspose() }
}

/// Validates compressed arrays: offsets count, monotone offsets, index bounds, strictly increasing
/// indices within each major slice. `major`/`minor` name the dimensions in error messages.
func validateCompressed<S>(majorCount: Int, minorCount: Int, offsets: [Int64], indices: [Int32], values: [S],
                           what: String, major: String, minor: String) throws {
    guard offsets.count == majorCount + 1 else {
        throw SparseMatrixError("\(what): \(offsets.count) \(major) offsets for \(majorCount) \(major)s; expected \(majorCount + 1)")
    }
    guard indices.count == values.count else {
        throw SparseMatrixError("\(what): \(indices.count) \(minor) indices but \(values.count) values")
    }
    guard offsets[0] == 0 else { throw SparseMatrixError("\(what): \(major) offsets must start at 0, found \(offsets[0])") }
    guard offsets[majorCount] == Int64(indices.count) else {
        throw SparseMatrixError("\(what): the last \(major) offset is \(offsets[majorCount]) but there are \(indices.count) entries")
    }
    let bound = Int32(truncatingIfNeeded: minorCount)
    for r in 0..<majorCount {
        let lo = offsets[r], hi = offsets[r + 1]
        guard lo <= hi else {
            throw SparseMatrixError("\(what): \(major) offsets decrease at \(major) \(r) (\(lo) > \(hi))")
        }
        var previous: Int32 = -1
        for p in Int(lo)..<Int(hi) {
            let j = indices[p]
            guard j >= 0 && j < bound else {
                throw SparseMatrixError("\(what): entry \(p) in \(major) \(r) has \(minor) index \(j), outside 0..<\(minorCount)")
            }
            guard j > previous else {
                throw SparseMatrixError("\(what): entry \(p) in \(major) \(r) has \(minor) index \(j) after \(previous); indices must be strictly increasing within a \(major) (sorted, no duplicates)")
            }
            previous = j
        }
    }
}

/// The same matrix compressed along the other dimension (a counting sort). Cost: O(nnz + minorCount).
/// Indices in the result are sorted within each slice because major slices are visited in order.
/// Parallel over blocks of major slices (``countingSortTranspose(majorCount:minorCount:offsets:indices:values:majorOrder:minorMap:threads:)``):
/// the same arrays for any thread count.
@_specialize(where S == Float)
@_specialize(where S == Double)
func transposeCompressed<S>(majorCount: Int, minorCount: Int, offsets: [Int64], indices: [Int32], values: [S])
    -> (offsets: [Int64], indices: [Int32], values: [S]) {
    countingSortTranspose(majorCount: majorCount, minorCount: minorCount, offsets: offsets, indices: indices, values: values,
                          majorOrder: nil, minorMap: nil)
}

/// The counting sort behind ``transposeCompressed(majorCount:minorCount:offsets:indices:values:)``
/// and `CSRMatrix.permuted`: the slices are visited as new major numbers `r = 0, 1, ...` (slice
/// `majorOrder[r]` of the input, or `r`), and each entry goes to the new minor slice
/// `minorMap[index]` (or `index`) with `r` as its index, so every result slice is sorted.
///
/// With `threads > 1` (and at least `parallelMinimum` entries), each thread takes a contiguous block of new
/// major numbers: it counts its entries per minor slice, the counts give each thread its own
/// start in every slice (the blocks in order), and the threads then place their entries
/// concurrently. The placement is the sequential one whatever the split: bit-identical arrays.
/// Extra memory: `threads x (minorCount + 1)` offsets.
@_specialize(where S == Float)
@_specialize(where S == Double)
func countingSortTranspose<S>(majorCount: Int, minorCount: Int, offsets: [Int64], indices: [Int32], values: [S],
                              majorOrder: [Int32]?, minorMap: [Int32]?, threads: Int = Parallel.threads,
                              parallelMinimum: Int = 1 << 20)
    -> (offsets: [Int64], indices: [Int32], values: [S]) {
    let nnz = indices.count
    guard nnz > 0 else { return ([Int64](repeating: 0, count: minorCount + 1), [], []) }
    let blocks = nnz >= parallelMinimum ? max(1, min(threads, majorCount)) : 1
    // next[b * minorCount + c]: where block b puts its next entry of new slice c (first its counts).
    var next = [Int64](repeating: 0, count: blocks * minorCount)
    var tOffsets = [Int64](repeating: 0, count: minorCount + 1)
    var tIndices = [Int32](repeating: 0, count: nnz)
    let hasOrder = majorOrder != nil, hasMap = minorMap != nil
    let orderArray = majorOrder ?? [0], mapArray = minorMap ?? [0]
    let tValues = [S](unsafeUninitializedCapacity: nnz) { tv, initialized in
        offsets.withUnsafeBufferPointer { off in
        indices.withUnsafeBufferPointer { idx in
        values.withUnsafeBufferPointer { val in
        orderArray.withUnsafeBufferPointer { order in
        mapArray.withUnsafeBufferPointer { map in
        next.withUnsafeMutableBufferPointer { next in
        tOffsets.withUnsafeMutableBufferPointer { to in
        tIndices.withUnsafeMutableBufferPointer { ti in
            let box = UnsafeSendableBox((off.baseAddress!, idx.baseAddress!, val.baseAddress!, next.baseAddress!,
                                         ti.baseAddress!, tv.baseAddress!, order.baseAddress!, map.baseAddress!))
            func run(_ body: @Sendable (Int, Range<Int>) -> Void) {
                if blocks == 1 { body(0, 0..<majorCount); return }
                DispatchQueue.concurrentPerform(iterations: blocks) { b in
                    body(b, majorCount * b / blocks ..< majorCount * (b + 1) / blocks)
                }
            }
            // Pass 1: each block's entries per new slice.
            run { b, range in
                let (off, idx, _, next, _, _, order, map) = box.value
                let counts = next + b * minorCount
                for r in range {
                    let i = hasOrder ? Int(order[r]) : r
                    for p in Int(off[i])..<Int(off[i + 1]) {
                        let j = Int(idx[p])
                        counts[hasMap ? Int(map[j]) : j] &+= 1
                    }
                }
            }
            // Slice starts, and each block's start within each slice (the blocks in order).
            var total: Int64 = 0
            for c in 0..<minorCount {
                to[c] = total
                for b in 0..<blocks {
                    let k = next[b * minorCount + c]
                    next[b * minorCount + c] = total
                    total &+= k
                }
            }
            to[minorCount] = total
            // Pass 2: each block places its entries.
            run { b, range in
                let (off, idx, val, next, ti, tv, order, map) = box.value
                let place = next + b * minorCount
                for r in range {
                    let i = hasOrder ? Int(order[r]) : r
                    for p in Int(off[i])..<Int(off[i + 1]) {
                        let j = Int(idx[p])
                        let c = hasMap ? Int(map[j]) : j
                        let q = Int(place[c]); place[c] = Int64(q &+ 1)
                        ti[q] = Int32(truncatingIfNeeded: r)
                        (tv + q).initialize(to: val[p])
                    }
                }
            }
        }}}}}}}}
        initialized = nnz
    }
    return (tOffsets, tIndices, tValues)
}
