// EmbeddingStore: embedding tables as directories any language can read (`vectors.npy`,
// `ids.tsv`, `meta.json`), written atomically and checksummed; the exchange format between the
// solvers, the tools, the neighbour indexes and the feature store.
import Foundation
import LinearAlgebra

/// Embeddings for a set of entities: row `i` of ``vectors`` is the vector of entity ``ids``[i].
///
/// On disk a table is a directory that numpy and any language can read:
/// - `vectors.npy`: `float32`, shape `(count, dimension)`, C order (NPY 1.0, data 64-byte aligned);
/// - `ids.tsv`: row `i`'s entity id on line `i + 1`, UTF-8, newline-terminated;
/// - `meta.json`: ``EmbeddingMetadata`` (snake_case keys).
///
/// In memory ``vectors`` is a column-major `count x dimension` `Matrix` (LinearAlgebra) (the layout SVD
/// solvers return and GEMM-based evaluation wants); ``write(to:)`` and ``read(from:)`` transpose
/// in row blocks to and from numpy's C order.
///
/// ```swift
/// var meta = EmbeddingMetadata(entityType: "user", algorithm: "randomized-svd", seed: 7)
/// let table = try EmbeddingTable(ids: ids, vectors: u, metadata: meta)
/// try table.write(to: URL(fileURLWithPath: "out/users"))
/// let again = try EmbeddingTable.read(from: URL(fileURLWithPath: "out/users"))
/// ```
public struct EmbeddingTable: Sendable {
    /// The file holding the vectors.
    public static let vectorsFileName = "vectors.npy"
    /// The file holding the ids.
    public static let idsFileName = "ids.tsv"
    /// The file holding the metadata.
    public static let metadataFileName = "meta.json"

    /// Entity ids; `ids[i]` is row `i`'s. Unique, non-empty, without tab, newline or carriage return.
    public let ids: [String]
    /// The `count x dimension` vectors, column-major.
    public let vectors: Matrix<Float>
    /// Metadata; `count` and `dimension` are kept equal to the vectors' shape by ``init(ids:vectors:metadata:)``.
    public var metadata: EmbeddingMetadata
    /// Rows keyed by the ids' UTF-8 bytes: ids are bytes, and `String`'s `==` (canonical
    /// equivalence) would merge an NFC and an NFD spelling that the readers keep apart.
    let rowByID: [[UInt8]: Int]

    /// A table over `vectors` whose rows are the entities `ids`.
    ///
    /// Sets `metadata.count` and `metadata.dimension` from `vectors`. Cost: O(count) to index the ids.
    /// - Throws: ``EmbeddingStoreError`` if `ids.count != vectors.rows`, an id repeats, is empty or
    ///   contains a tab, newline or carriage return, or a vector element is not finite.
    public init(ids: [String], vectors: Matrix<Float>, metadata: EmbeddingMetadata) throws {
        guard ids.count == vectors.rows else {
            throw EmbeddingStoreError(path: "<table>", problem: "\(ids.count) ids for \(vectors.rows) vector rows")
        }
        var index = [[UInt8]: Int](minimumCapacity: ids.count)
        for (i, id) in ids.enumerated() {
            if id.isEmpty || id.utf8.contains(where: { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
                throw EmbeddingStoreError(path: "<table>", problem: "id of row \(i) (\(id.debugDescription)) is empty or contains a tab or line break")
            }
            if let previous = index.updateValue(i, forKey: Array(id.utf8)) {
                throw EmbeddingStoreError(path: "<table>", problem: "id \(id.debugDescription) appears on rows \(previous) and \(i)")
            }
        }
        if let bad = vectors.elements.firstIndex(where: { !$0.isFinite }) {
            throw EmbeddingStoreError(path: "<table>", problem: "vector element (\(bad % max(vectors.rows, 1)), \(bad / max(vectors.rows, 1))) is \(vectors.elements[bad])")
        }
        self.ids = ids
        self.vectors = vectors
        self.rowByID = index
        var meta = metadata
        meta.count = vectors.rows
        meta.dimension = vectors.columns
        self.metadata = meta
    }

    /// Number of entities (rows).
    public var count: Int { vectors.rows }
    /// Number of columns of each vector.
    public var dimension: Int { vectors.columns }

    /// The row of entity `id`, or `nil`. Cost: O(1) expected.
    public func row(of id: String) -> Int? { rowByID[Array(id.utf8)] }

    /// A copy of row `row`'s vector. Cost: O(dimension), strided.
    /// - Precondition: `0 <= row < count`.
    public func vector(at row: Int) -> [Float] { vectors.row(row) }

    /// The vector of entity `id`, or `nil` when the table has no such entity.
    public func vector(for id: String) -> [Float]? { rowByID[Array(id.utf8)].map { vectors.row($0) } }

    /// The Euclidean norm of every row, accumulated in `Double`. Cost: O(count * dimension).
    public func rowNorms() -> [Double] {
        let n = count, d = dimension
        var squares = [Double](repeating: 0, count: n)
        vectors.elements.withUnsafeBufferPointer { p in
            squares.withUnsafeMutableBufferPointer { s in
                for j in 0..<d {
                    let column = p.baseAddress! + j * n
                    for i in 0..<n { let v = Double(column[i]); s[i] += v * v }
                }
            }
        }
        return squares.map { $0.squareRoot() }
    }

    /// The vectors scaled to unit Euclidean norm per row; zero rows stay zero.
    /// Cost: O(count * dimension) time and one copy of the vectors.
    public func normalizedVectors() -> Matrix<Float> {
        var result = vectors
        result.scaleRows(by: rowNorms().map { $0 > 0 ? Float(1 / $0) : 0 })
        return result
    }

    /// The cosine similarity of rows `i` and `j`, in `Double`; 0 when either row is zero.
    /// Cost: O(dimension). For many pairs use ``cosineSimilarities(rowsA:rowsB:)``.
    /// - Precondition: both rows are in `0..<count`.
    public func cosineSimilarity(_ i: Int, _ j: Int) -> Double {
        cosineSimilarities(rowsA: [i], rowsB: [j])[0]
    }

    /// Cosine similarities of the row pairs `(rowsA[p], rowsB[p])`, in `Double`; 0 for a pair with
    /// a zero row.
    /// Cost: O(count * dimension) for the norms plus O(pairs * dimension).
    /// - Precondition: `rowsA.count == rowsB.count`, every row in `0..<count`.
    public func cosineSimilarities(rowsA: [Int], rowsB: [Int]) -> [Double] {
        precondition(rowsA.count == rowsB.count, "cosineSimilarities: \(rowsA.count) and \(rowsB.count) rows")
        let n = count, d = dimension
        let norms = rowsA.count > n / 8 ? rowNorms() : []
        func norm(_ p: UnsafePointer<Float>, _ i: Int) -> Double {
            if !norms.isEmpty { return norms[i] }
            var s = 0.0
            for j in 0..<d { let v = Double(p[i + j * n]); s += v * v }
            return s.squareRoot()
        }
        return vectors.elements.withUnsafeBufferPointer { buffer in
            guard let p = buffer.baseAddress else { return [Double](repeating: 0, count: rowsA.count) }
            return zip(rowsA, rowsB).map { a, b in
                precondition(a >= 0 && a < n && b >= 0 && b < n, "cosineSimilarities: row out of 0..<\(n)")
                var dot = 0.0
                for j in 0..<d { dot += Double(p[a + j * n]) * Double(p[b + j * n]) }
                let na = norm(p, a), nb = norm(p, b)
                return na > 0 && nb > 0 ? dot / (na * nb) : 0
            }
        }
    }

    /// One neighbour found by ``nearestNeighbors(of:k:excludeSelf:blockSize:)``.
    public struct Neighbor: Sendable, Equatable {
        /// The neighbour's row.
        public let row: Int
        /// Its cosine similarity to the query.
        public let similarity: Float
    }

    /// The `k` rows most cosine-similar to each query row, best first (ties by lower row).
    ///
    /// Rows are normalised once; queries go in blocks of `blockSize` through one GEMM each
    /// (`normalized * Q'`, `count x blockSize`), then each block's columns are scanned for their
    /// top `k` with a small heap, in parallel.
    /// Cost: 2 * count * dimension * queries flops plus O(count * queries * log k);
    /// memory `count * blockSize` floats.
    /// - Parameters:
    ///   - queries: query rows.
    ///   - k: neighbours per query (fewer when the table is smaller).
    ///   - excludeSelf: leave the query row itself out of its own list.
    ///   - blockSize: queries per GEMM (memory `count * blockSize` floats).
    /// - Precondition: every query in `0..<count`, `k >= 0`, `blockSize > 0`.
    public func nearestNeighbors(of queries: [Int], k: Int, excludeSelf: Bool = true,
                                 blockSize: Int = 256) -> [[Neighbor]] {
        precondition(k >= 0 && blockSize > 0, "nearestNeighbors: k \(k), blockSize \(blockSize)")
        let n = count, d = dimension
        for q in queries { precondition(q >= 0 && q < n, "nearestNeighbors: query row \(q) out of 0..<\(n)") }
        if queries.isEmpty { return [] }
        let normalized = normalizedVectors()
        var results = [[Neighbor]](repeating: [], count: queries.count)
        results.withUnsafeMutableBufferPointer { resultBuffer in
            let out = UnsafeSendableBox(resultBuffer.baseAddress!)
            var start = 0
            while start < queries.count {
                let end = min(queries.count, start + blockSize)
                let b = end - start
                var q = Matrix<Float>(rows: b, columns: d)
                for (local, row) in queries[start..<end].enumerated() {
                    for j in 0..<d { q.elements[local + j * b] = normalized.elements[row + j * n] }
                }
                var scores = Matrix<Float>(rows: n, columns: b)
                Matrix.gemm(normalized, .none, q, .transpose, into: &scores)
                let block = Array(queries[start..<end])
                let first = start
                scores.elements.withUnsafeBufferPointer { sp in
                    let box = UnsafeSendableBox(sp.baseAddress!)
                    Parallel.forEachChunk(count: b) { range in
                        for local in range {
                            out.value[first + local] = TopK.largest(box.value + local * n, count: n, k: k,
                                                                    excluding: excludeSelf ? block[local] : -1)
                                .map { Neighbor(row: $0.index, similarity: $0.score) }
                        }
                    }
                }
                start = end
            }
        }
        return results
    }
}
