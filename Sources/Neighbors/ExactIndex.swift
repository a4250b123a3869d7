import Foundation
import LinearAlgebra

/// Row-major vectors by slot with their squared norms: the storage of the exact and HNSW indexes.
final class VectorRows: @unchecked Sendable {
    let dimension: Int
    let values: GrowableBuffer<Float>
    let normSquares: GrowableBuffer<Float>

    init(dimension: Int) {
        self.dimension = dimension
        values = GrowableBuffer()
        normSquares = GrowableBuffer()
    }

    init(file: IndexFile, slots: Int) throws {
        dimension = file.header.dimension
        values = try file.buffer("vectors", count: slots * dimension)
        normSquares = try file.buffer("normSquares", count: slots)
    }

    @inline(__always) func row(_ slot: Int32) -> UnsafeMutablePointer<Float> { values.pointer + Int(slot) * dimension }

    func append(_ v: UnsafePointer<Float>) {
        values.append(contentsOf: UnsafeBufferPointer(start: v, count: dimension))
        normSquares.append(dot(v, v, dimension))
    }

    func overwrite(_ slot: Int32, with v: UnsafePointer<Float>) {
        row(slot).update(from: v, count: dimension)
        normSquares[Int(slot)] = dot(v, v, dimension)
    }

    func copy(_ slot: Int32) -> [Float] { Array(UnsafeBufferPointer(start: row(slot), count: dimension)) }

    var scanBase: ScanBase {
        ScanBase(vectors: values.pointer, normSquares: normSquares.pointer, rowSlots: nil, firstSlot: 0, rows: normSquares.count)
    }

    var sections: [IndexFile.Section] { [IndexFile.Section("vectors", values), IndexFile.Section("normSquares", normSquares)] }
    var heapBytes: Int { values.heapBytes + normSquares.heapBytes }
}

/// Exact search: every query against every live vector, as blocked SGEMM tiles with the top-k
/// selection fused into the tile loop (see `FusedTopK`); a single query runs as SGEMV tiles over
/// base-row ranges split across threads. Update overwrites in place; remove leaves a tombstone
/// (skipped by the selection).
public final class ExactIndex: NeighborIndex {
    public let metric: Metric
    public let dimension: Int
    public var kind: NeighborIndexKind { .exact }
    public private(set) var buildSeconds: Double = 0
    let rows: VectorRows
    let table: IDTable

    /// An empty index.
    /// - Throws: when `dimension < 1`.
    public init(dimension: Int, metric: Metric = .cosine) throws {
        guard dimension >= 1 else { throw NeighborIndexError.invalidInput("dimension must be at least 1 (got \(dimension))") }
        self.dimension = dimension
        self.metric = metric
        rows = VectorRows(dimension: dimension)
        table = IDTable()
    }

    init(file: IndexFile) throws {
        let h = file.header
        dimension = h.dimension
        metric = h.metric
        buildSeconds = h.buildSeconds
        table = try file.idTable(slots: h.slots)
        rows = try VectorRows(file: file, slots: h.slots)
    }

    public var count: Int { table.liveCount }
    public var ids: [String] { table.liveSlots.map(table.id) }
    public var memoryBytes: Int { rows.heapBytes + table.heapBytes }

    public func add(ids: [String], vectors: Matrix<Float>, threads: Int? = nil) throws {
        try checkVectors(ids: ids, vectors: vectors, dimension: dimension)
        try checkNewIDs(ids, table: table)
        let start = Date()
        let data = rowMajor(vectors, metric: metric)
        rows.values.reserve(rows.values.count + data.count)
        data.withUnsafeBufferPointer { p in
            for (i, id) in ids.enumerated() {
                table.append(id)
                rows.append(p.baseAddress! + i * dimension)
            }
        }
        buildSeconds += Date().timeIntervalSince(start)
    }

    public func update(ids: [String], vectors: Matrix<Float>, threads: Int? = nil) throws {
        let (slots, data) = try checkedUpdate(ids: ids, vectors: vectors, dimension: dimension, metric: metric, table: table)
        data.withUnsafeBufferPointer { p in
            for (i, s) in slots.enumerated() { rows.overwrite(s, with: p.baseAddress! + i * dimension) }
        }
    }

    public func remove(ids: [String]) throws {
        try table.remove(ids: ids)
    }

    public func vector(for id: String) -> [Float]? { table.slot(of: id).map(rows.copy) }

    public func search(_ queries: Matrix<Float>, parameters p: SearchParameters) throws -> [[Neighbor]] {
        let q = try checkedQueries(queries, p, dimension: dimension, count: count, metric: metric)
        let heaps = withSlotFilter(p.filter, table: table) { filter in
            q.withUnsafeBufferPointer { qp in
                FusedTopK.search(base: rows.scanBase, dimension: dimension, queries: qp.baseAddress!, queryCount: queries.rows,
                                 k: p.k, filter: filter, l2: metric == .l2, threads: p.threads ?? Parallel.threads)
            }
        }
        return neighbors(from: heaps, metric: metric, table: table, queries: q, dimension: dimension, threads: p.threads ?? Parallel.threads)
    }

    public func save(to url: URL) throws {
        let header = IndexHeader(kind: .exact, metric: metric, dimension: dimension, slots: table.slotCount, buildSeconds: buildSeconds)
        try IndexFile.write(to: url, header: header, sections: IndexFile.idSections(table) + rows.sections)
    }
}
