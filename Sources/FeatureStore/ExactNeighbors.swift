import Foundation
import Synchronization

/// Row norms of a version, computed once on first use.
final class NormCache: Sendable {
    private let norms = Mutex<[Float]?>(nil)

    func get(_ version: OnlineVersion) -> [Float] {
        if let cached = norms.withLock({ $0 }) { return cached }
        let d = version.dimension
        let computed = version.withVectors { v -> [Float] in
            (0..<version.count).map { r in
                var s: Float = 0
                for j in 0..<d { let x = v[r * d + j]; s += x * x }
                return s.squareRoot()
            }
        }
        norms.withLock { $0 = computed }
        return computed
    }
}

/// One neighbour: a row and its cosine similarity to the query.
public struct ScoredRow: Sendable, Equatable {
    /// The row.
    public let row: Int
    /// Cosine similarity to the query.
    public let similarity: Float
}

extension OnlineVersion {
    /// The `k` rows most cosine-similar to `query` (zero rows score 0), best first, ties by lower
    /// row; `skip` leaves one row out (the query's own). An exact scan over the mapped vectors:
    /// O(count * dimension) per query, no copy of the vectors (row norms are computed once).
    /// - Precondition: `query.count == dimension`, `k >= 0`.
    public func exactNeighbors(of query: [Float], k: Int, skip: Int? = nil) -> [ScoredRow] {
        precondition(query.count == dimension && k >= 0, "exactNeighbors: query of \(query.count) for dimension \(dimension), k \(k)")
        if k == 0 || count == 0 { return [] }
        let norms = self.norms.get(self)
        var qn: Float = 0
        for x in query { qn += x * x }
        qn = qn.squareRoot()
        let d = dimension
        // Kept sorted best first; a candidate enters only if it beats the current k-th.
        var best = [ScoredRow]()
        best.reserveCapacity(k + 1)
        withVectors { v in
            query.withUnsafeBufferPointer { q in
                for r in 0..<count where r != skip {
                    var dot: Float = 0
                    let base = r * d
                    for j in 0..<d { dot += v[base + j] * q[j] }
                    let denominator = norms[r] * qn
                    let s = denominator > 0 ? dot / denominator : 0
                    if best.count == k, let last = best.last, !(s > last.similarity) { continue }
                    var position = best.count
                    while position > 0, best[position - 1].similarity < s { position -= 1 }
                    best.insert(ScoredRow(row: r, similarity: s), at: position)
                    if best.count > k { best.removeLast() }
                }
            }
        }
        return best
    }
}
