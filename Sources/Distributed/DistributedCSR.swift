import LinearAlgebra

/// A split of `0 ..< count` into contiguous ranges, one per rank (rank `p` owns `range(p)`).
public struct BlockPartition: Sendable, Equatable {
    /// `parts + 1` non-decreasing offsets from 0 to `count`.
    public let offsets: [Int]

    /// A partition with the given offsets.
    /// - Precondition: non-decreasing, starting at 0.
    public init(offsets: [Int]) {
        precondition(offsets.first == 0 && zip(offsets, offsets.dropFirst()).allSatisfy { $0 <= $1 },
                     "BlockPartition: offsets must start at 0 and not decrease")
        self.offsets = offsets
    }

    /// `count` items over `parts` ranks as evenly as possible (`offsets[p] = count * p / parts`).
    public static func even(count: Int, parts: Int) -> BlockPartition {
        BlockPartition(offsets: (0...parts).map { count * $0 / parts })
    }

    /// `count` items split in proportion to `weights` (uneven splits for tests and for ranks of
    /// different speeds).
    public static func weighted(count: Int, weights: [Double]) -> BlockPartition {
        let total = weights.reduce(0, +)
        var offsets = [0], acc = 0.0
        for w in weights { acc += w; offsets.append(min(count, Int((Double(count) * acc / total).rounded()))) }
        offsets[offsets.count - 1] = count
        return BlockPartition(offsets: offsets)
    }

    /// The number of items.
    public var count: Int { offsets.last! }
    /// The number of parts.
    public var parts: Int { offsets.count - 1 }
    /// The items of part `p`.
    public func range(_ p: Int) -> Range<Int> { offsets[p] ..< offsets[p + 1] }

    /// The part owning `index`. Cost: O(log parts).
    /// - Precondition: `0 <= index < count`.
    public func owner(of index: Int) -> Int {
        var lo = 0, hi = parts - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if offsets[mid] <= index { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }
}

/// One stored entry with global coordinates, as ranks exchange them while building a matrix.
public struct GlobalEntry<Scalar: MPIScalar>: BitwiseCopyable, Sendable {
    public var row: Int64
    public var column: Int64
    public var value: Scalar
    public init(row: Int64, column: Int64, value: Scalar) { self.row = row; self.column = column; self.value = value }
}

/// A sparse `m x n` matrix partitioned by rows over the ranks of a ``Communicator``; dense
/// blocks `X` (for `A X`) are partitioned by ``columnPartition`` and `Y` (for `A X`) by
/// ``rowPartition``, each rank holding its rows of a block row-major (as a `k x localRows`
/// column-major `Matrix` (LinearAlgebra), the layout of the CSR kernels; see ``multiply(_:)``).
///
/// Each rank stores its rows as a local CSR matrix whose columns are the distinct global
/// columns its rows touch (its *ghost* columns, ascending). The communication plan is made
/// once, at construction, as in PETSc's `VecScatter`:
/// - `A X` (``multiply(_:)``): every rank sends each other rank exactly the rows of its part of
///   `X` that rank's ghost columns need (one `MPI_Alltoallv`), then runs the local SpMM;
/// - `A' X` (``multiplyTranspose(_:)``): every rank computes its partial `A_local' X_local`
///   (one row per ghost column), sends each partial row to the owner of that column (the
///   reverse `MPI_Alltoallv`), and the owners add what they receive (a reduce-scatter).
/// Bytes per product and rank: `k * size(Scalar)` times the remote ghost rows (received in `A X`,
/// sent in `A' X`) and times the rows other ranks need (sent in `A X`, received in `A' X`).
public final class DistributedCSR<Scalar: BLASScalar & MPIScalar>: @unchecked Sendable {
    /// The communicator.
    public let comm: Communicator
    /// Which rank owns which rows of `A` (and of `Y = A X`).
    public let rowPartition: BlockPartition
    /// Which rank owns which columns of `A` (rows of `X` in `A X`, of `Y` in `A' X`).
    public let columnPartition: BlockPartition
    /// This rank's rows: `localRows x ghostColumns.count`.
    public let local: CSRMatrix<Scalar>
    /// The global column of each local column, ascending.
    public let ghostColumns: [Int]
    /// Ghost columns per owning rank (the local columns are grouped by owner, in rank order).
    let ghostCounts: [Int]
    /// Rows of this rank's part of `X` that other ranks need, grouped by destination rank,
    /// as indices into this rank's column range.
    let sendIndices: [Int32]
    /// How many of ``sendIndices`` go to each rank.
    let sendCounts: [Int]

    /// Global shape.
    public var rows: Int { rowPartition.count }
    public var columns: Int { columnPartition.count }
    /// This rank's rows and columns.
    public var localRowRange: Range<Int> { rowPartition.range(comm.rank) }
    public var localColumnRange: Range<Int> { columnPartition.range(comm.rank) }
    /// Ghost columns owned by other ranks (rows of `X` received per column of a block).
    public var remoteGhostCount: Int { ghostColumns.count - ghostCounts[comm.rank] }
    /// Rows of this rank's `X` part that other ranks receive (counted once per receiving rank).
    public var exportedRowCount: Int { sendIndices.count - sendCounts[comm.rank] }
    /// Stored entries on this rank.
    public var localNonzeroCount: Int { local.nonzeroCount }

    /// Builds the matrix from entries held anywhere: each rank passes the entries it has (e.g.
    /// the lines of its byte range of an edge list); they are sent to the owners of their rows
    /// (one `MPI_Alltoallv`), assembled there in the order received (by source rank, then in
    /// each rank's order, so `DuplicatePolicy.keepFirst` (LinearAlgebra) keeps the first in file
    /// order), and the ghost plan is set up (two more exchanges).
    /// - Throws: `SparseMatrixError` (LinearAlgebra) for an entry outside the shape (named by its coordinates),
    ///   or a duplicate under `.reject`.
    public convenience init(comm: Communicator, rowPartition: BlockPartition, columnPartition: BlockPartition,
                            entries: [GlobalEntry<Scalar>], duplicates: DuplicatePolicy = .sum) throws {
        precondition(rowPartition.parts == comm.size && columnPartition.parts == comm.size, "DistributedCSR: partitions must have one part per rank")
        for e in entries where e.row < 0 || Int(e.row) >= rowPartition.count || e.column < 0 || Int(e.column) >= columnPartition.count {
            throw SparseMatrixError("DistributedCSR: entry (\(e.row), \(e.column)) outside the \(rowPartition.count) x \(columnPartition.count) matrix")
        }
        var counts = [Int](repeating: 0, count: comm.size)
        let owners = entries.map { rowPartition.owner(of: Int($0.row)) }
        for o in owners { counts[o] += 1 }
        var starts = [Int](repeating: 0, count: comm.size)
        for p in 1..<max(1, comm.size) { starts[p] = starts[p - 1] + counts[p - 1] }
        var ordered = entries
        for (e, o) in zip(entries, owners) { ordered[starts[o]] = e; starts[o] += 1 }
        let received = comm.counting("build: entries to row owners") { comm.alltoallv(ordered, sendCounts: counts).values }
        try self.init(comm: comm, rowPartition: rowPartition, columnPartition: columnPartition, ownedEntries: received, duplicates: duplicates)
    }

    /// Builds the matrix from entries whose rows this rank owns (no exchange of entries; the
    /// ghost plan is set up with two exchanges).
    public init(comm: Communicator, rowPartition: BlockPartition, columnPartition: BlockPartition,
                ownedEntries: [GlobalEntry<Scalar>], duplicates: DuplicatePolicy = .sum) throws {
        precondition(rowPartition.parts == comm.size && columnPartition.parts == comm.size, "DistributedCSR: partitions must have one part per rank")
        self.comm = comm
        self.rowPartition = rowPartition
        self.columnPartition = columnPartition
        let myRows = rowPartition.range(comm.rank)
        var columnSet = [Int]()
        columnSet.reserveCapacity(ownedEntries.count)
        for e in ownedEntries {
            guard myRows.contains(Int(e.row)), e.column >= 0, Int(e.column) < columnPartition.count else {
                throw SparseMatrixError("DistributedCSR: rank \(comm.rank) got entry (\(e.row), \(e.column)) outside its rows \(myRows) or the \(columnPartition.count) columns")
            }
            columnSet.append(Int(e.column))
        }
        columnSet.sort()
        var ghosts = [Int]()
        for c in columnSet where ghosts.last != c { ghosts.append(c) }
        ghostColumns = ghosts
        var slot = [Int: Int32](minimumCapacity: ghosts.count)
        for (s, c) in ghosts.enumerated() { slot[c] = Int32(s) }
        var coo = COOMatrix<Scalar>(rows: myRows.count, columns: ghosts.count)
        for e in ownedEntries { coo.append(row: Int(e.row) - myRows.lowerBound, column: Int(slot[Int(e.column)]!), value: e.value) }
        local = try coo.toCSR(duplicates: duplicates)
        // The plan: ask each owner for the ghost rows this rank needs (ascending, so grouped by owner).
        var need = [Int](repeating: 0, count: comm.size)
        for c in ghosts { need[columnPartition.owner(of: c)] += 1 }
        ghostCounts = need
        let requests = comm.counting("build: ghost plan") { comm.alltoallv(ghosts.map { Int64($0) }, sendCounts: need) }
        let base = columnPartition.offsets[comm.rank]
        sendIndices = requests.values.map { Int32(Int($0) - base) }
        sendCounts = requests.counts
    }

    /// The rows `rowPartition.range(rank)` of a matrix every rank holds whole (tests, and
    /// redistributing a matrix read on every rank). No entries are exchanged.
    public convenience init(comm: Communicator, replicated a: CSRMatrix<Scalar>, rowPartition: BlockPartition,
                            columnPartition: BlockPartition) throws {
        precondition(a.rows == rowPartition.count && a.columns == columnPartition.count, "DistributedCSR: partition does not match the matrix")
        var entries = [GlobalEntry<Scalar>]()
        for i in rowPartition.range(comm.rank) {
            for p in Int(a.rowOffsets[i]) ..< Int(a.rowOffsets[i + 1]) {
                entries.append(GlobalEntry(row: Int64(i), column: Int64(a.columnIndices[p]), value: a.values[p]))
            }
        }
        try self.init(comm: comm, rowPartition: rowPartition, columnPartition: columnPartition, ownedEntries: entries, duplicates: .reject)
    }

    private init(copying other: DistributedCSR, local: CSRMatrix<Scalar>) {
        comm = other.comm; rowPartition = other.rowPartition; columnPartition = other.columnPartition
        self.local = local; ghostColumns = other.ghostColumns; ghostCounts = other.ghostCounts
        sendIndices = other.sendIndices; sendCounts = other.sendCounts
    }

    // MARK: Products

    /// `Y = A X` for this rank's rows: `xt` is `k x localColumns` (this rank's rows of `X`,
    /// row-major), the result `k x localRows`. Collective: every rank must call it with the same `k`.
    /// Cost: one `MPI_Alltoallv` of the ghost rows, one local SpMM O(local nnz * k).
    public func multiply(_ xt: Matrix<Scalar>) -> Matrix<Scalar> {
        precondition(xt.columns == localColumnRange.count, "DistributedCSR.multiply: block has \(xt.columns) rows, rank owns \(localColumnRange.count) columns")
        let k = xt.rows
        let ghost = gatherGhostRows(xt)
        var yt = Matrix<Scalar>(rows: k, columns: localRowRange.count)
        ghost.withUnsafeBufferPointer { g in
            yt.withUnsafeMutableBufferPointer { y in local.multiply(rowMajor: g, columns: k, into: y) }
        }
        return yt
    }

    /// `Y = A' X` for this rank's columns: `xt` is `k x localRows`, the result `k x localColumns`.
    /// Collective. Cost: one local transposed SpMM, one `MPI_Alltoallv` of partial rows and the
    /// owners' additions.
    public func multiplyTranspose(_ xt: Matrix<Scalar>) -> Matrix<Scalar> {
        precondition(xt.columns == localRowRange.count, "DistributedCSR.multiplyTranspose: block has \(xt.columns) rows, rank owns \(localRowRange.count) rows")
        let k = xt.rows
        var partial = [Scalar](repeating: 0, count: ghostColumns.count * k)
        xt.withUnsafeBufferPointer { x in
            partial.withUnsafeMutableBufferPointer { z in local.multiplyTranspose(rowMajor: x, columns: k, into: z) }
        }
        return scatterAddGhostRows(partial, width: k)
    }

    /// The rows of `xt` (this rank's part of a `k`-column block) that every ghost column of this
    /// rank needs, in ghost order: `k x ghostColumns.count`, row-major. One `MPI_Alltoallv`.
    public func gatherGhostRows(_ xt: Matrix<Scalar>) -> [Scalar] {
        let k = xt.rows
        var send = [Scalar](repeating: 0, count: sendIndices.count * k)
        xt.withUnsafeBufferPointer { x in
            send.withUnsafeMutableBufferPointer { s in
                for (t, index) in sendIndices.enumerated() {
                    let from = Int(index) * k, to = t * k
                    for c in 0 ..< k { s[to + c] = x[from + c] }
                }
            }
        }
        var ghost = [Scalar](repeating: 0, count: ghostColumns.count * k)
        comm.counting("ghost exchange") {
            send.withUnsafeBufferPointer { s in
                ghost.withUnsafeMutableBufferPointer { g in
                    comm.alltoallvInto(s, sendCounts: sendCounts.map { $0 * k }, receive: g, receiveCounts: ghostCounts.map { $0 * k })
                }
            }
        }
        return ghost
    }

    /// Sends each row of `partial` (`k` values per ghost column, in ghost order) to the owner of
    /// its column and returns the sums this rank owns: `k x localColumns`. One `MPI_Alltoallv`.
    public func scatterAddGhostRows(_ partial: [Scalar], width k: Int) -> Matrix<Scalar> {
        precondition(partial.count == ghostColumns.count * k, "scatterAddGhostRows: \(partial.count) values for \(ghostColumns.count) ghost rows of width \(k)")
        var received = [Scalar](repeating: 0, count: sendIndices.count * k)
        comm.counting("reduce-scatter") {
            partial.withUnsafeBufferPointer { z in
                received.withUnsafeMutableBufferPointer { r in
                    comm.alltoallvInto(z, sendCounts: ghostCounts.map { $0 * k }, receive: r, receiveCounts: sendCounts.map { $0 * k })
                }
            }
        }
        var yt = Matrix<Scalar>(rows: k, columns: localColumnRange.count)
        yt.withUnsafeMutableBufferPointer { y in
            received.withUnsafeBufferPointer { r in
                for (t, index) in sendIndices.enumerated() {
                    let to = Int(index) * k, from = t * k
                    for c in 0 ..< k { y[to + c] += r[from + c] }
                }
            }
        }
        return yt
    }

    // MARK: Reductions and scalings

    /// Sums of this rank's rows (length `localRows`). No communication.
    public func localRowSums() -> [Scalar] { local.rowSums() }

    /// Sums of this rank's columns over all ranks (length `localColumns`): `A' 1`. Collective.
    public func localColumnSums() -> [Scalar] {
        scatterAddGhostRows(local.columnSums(), width: 1).elements
    }

    /// Stored entries in this rank's columns over all ranks (in-degrees of a graph). Collective.
    public func localColumnNonzeroCounts() -> [Int] {
        scatterAddGhostRows(local.columnNonzeroCounts().map { Scalar(Double($0)) }, width: 1).elements.map { Int(Double($0).rounded()) }
    }

    /// `diag(left) A diag(right)` with this rank's parts of the two diagonals (`left` for its
    /// rows, `right` for its columns; `nil` for the identity), sharing the plan. Collective (the
    /// ghost values of `right` are exchanged once).
    public func scaled(rows left: [Scalar]?, columns right: [Scalar]?) -> DistributedCSR {
        var a = local
        if let left { a.scaleRows(by: left) }
        if let right {
            precondition(right.count == localColumnRange.count, "DistributedCSR.scaled: \(right.count) column factors for \(localColumnRange.count) columns")
            a.scaleColumns(by: gatherGhostRows(Matrix(rows: 1, columns: right.count, elements: right)))
        }
        return DistributedCSR(copying: self, local: a)
    }

    /// The same matrix with every stored value replaced by `transform(value)` (no communication).
    public func mapValues(_ transform: (Scalar) -> Scalar) -> DistributedCSR {
        DistributedCSR(copying: self, local: local.mapValues(transform))
    }
}
