/// One entry of a top-`k` selection: an index into the scored array and its score.
public struct ScoredIndex: Sendable, Equatable, Codable {
    /// The position in the scored array (an item, a row).
    public var index: Int
    /// Its score.
    public var score: Float
    /// Creates the value from its fields.
    public init(index: Int, score: Float) { self.index = index; self.score = score }
}

/// Selection of the `k` largest scores with a bounded min-heap: the one top-`k` of the package
/// (ALS recommendations and ranking metrics, embedding-table neighbours).
public enum TopK {
    /// The `k` largest entries of `scores[0..<count]`, best first; ties go to the lower index.
    /// NaN and `-infinity` entries (the usual mask) and the index `excluding` are never returned,
    /// so fewer than `k` come back when fewer remain.
    ///
    /// Cost: O(count log k) time, O(k) memory.
    /// - Precondition: `k >= 0`, `count >= 0`.
    public static func largest(_ scores: UnsafePointer<Float>, count: Int, k: Int, excluding: Int = -1) -> [ScoredIndex] {
        precondition(k >= 0 && count >= 0, "TopK.largest: k \(k), count \(count)")
        guard k > 0 else { return [] }
        // Min-heap on (score, -index): the root is the worst kept entry.
        var heap: [(Float, Int)] = []
        heap.reserveCapacity(min(k, count))
        @inline(__always) func worse(_ a: (Float, Int), _ b: (Float, Int)) -> Bool {
            a.0 < b.0 || (a.0 == b.0 && a.1 > b.1)
        }
        for i in 0..<count where i != excluding {
            let s = scores[i]
            guard s > -Float.infinity else { continue }   // also false for NaN
            if heap.count < k {
                heap.append((s, i))
                var c = heap.count - 1
                while c > 0 {
                    let parent = (c - 1) / 2
                    if worse(heap[c], heap[parent]) { heap.swapAt(c, parent); c = parent } else { break }
                }
            } else if worse(heap[0], (s, i)) {
                heap[0] = (s, i)
                var c = 0
                while true {
                    let l = 2 * c + 1, r = l + 1
                    var m = c
                    if l < k && worse(heap[l], heap[m]) { m = l }
                    if r < k && worse(heap[r], heap[m]) { m = r }
                    if m == c { break }
                    heap.swapAt(c, m); c = m
                }
            }
        }
        return heap.sorted { worse($1, $0) }.map { ScoredIndex(index: $0.1, score: $0.0) }
    }

    /// ``largest(_:count:k:excluding:)`` over an array.
    public static func largest(_ scores: [Float], k: Int, excluding: Int = -1) -> [ScoredIndex] {
        scores.withUnsafeBufferPointer { b in
            guard let base = b.baseAddress else { return [] }
            return largest(base, count: b.count, k: k, excluding: excluding)
        }
    }
}
