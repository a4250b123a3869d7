import Foundation
import LinearAlgebra

/// Recall and speed of an index against exact search over its own vectors.
public enum NeighborEvaluation {
    /// One measured setting.
    public struct Row: Sendable, Codable, Equatable {
        /// E.g. `"ef=64"`, `"probes=16"`, `"exact"`.
        public var setting: String
        public var threads: Int
        /// Mean over queries of |returned ∩ exact top k| / k.
        public var recallAtK: Double
        /// The same, counting a returned id whose score ties the exact k-th score (within 1e-6):
        /// among identical vectors the exact list's choice is arbitrary (peer_knn's recall@10_ties).
        public var recallAtKTies: Double
        /// Queries per second: all queries in one batch call, best of the repeats.
        public var qps: Double
        /// Seconds of that best call.
        public var seconds: Double
    }

    /// A full evaluation.
    public struct Report: Sendable {
        public var queries: Int
        public var k: Int
        public var rows: [Row]
        /// Seconds the exact reference took (one batch call, the largest thread count).
        public var exactSeconds: Double
    }

    /// `count` distinct live ids drawn uniformly with a seeded generator (all when fewer).
    public static func sampleIDs(_ index: any NeighborIndex, count: Int, seed: UInt64) -> [String] {
        var ids = index.ids
        var rng = Xoshiro256(seed: seed)
        let n = min(count, ids.count)
        for i in 0..<n { ids.swapAt(i, i + Int(rng.next() % UInt64(ids.count - i))) }
        return Array(ids.prefix(n))
    }

    /// The stored vectors of `ids` as a `ids.count x dimension` matrix.
    public static func vectors(of ids: [String], in index: any NeighborIndex) throws -> Matrix<Float> {
        var q = Matrix<Float>(rows: ids.count, columns: index.dimension)
        for (r, id) in ids.enumerated() {
            guard let v = index.vector(for: id) else { throw NeighborIndexError.unknownID(id) }
            for j in 0..<index.dimension { q.elements[r + j * ids.count] = v[j] }
        }
        return q
    }

    /// Median and 90th-percentile seconds of single-query searches (one call per query, the
    /// first `count` sampled ids, after one warm-up call).
    public static func latency(index: any NeighborIndex, queries count: Int, parameters: SearchParameters,
                               seed: UInt64 = 0) throws -> (median: Double, p90: Double) {
        let ids = sampleIDs(index, count: max(1, count), seed: seed)
        let q = try vectors(of: ids, in: index)
        var times = [Double]()
        for i in -1..<ids.count {
            let one = Matrix<Float>(rows: 1, columns: index.dimension, elements: q.row(max(i, 0)))
            let s = Date()
            _ = try index.search(one, parameters: parameters)
            if i >= 0 { times.append(Date().timeIntervalSince(s)) }
        }
        times.sort()
        return (times[times.count / 2], times[min(times.count - 1, times.count * 9 / 10)])
    }

    /// Measures each `(label, parameters)` setting on each thread count: recall@k against the
    /// exact answer over the same stored vectors, and queries per second (best of `repeats`).
    public static func run(index: any NeighborIndex, queries count: Int, k: Int, settings: [(String, SearchParameters)],
                           threads: [Int], repeats: Int = 3, seed: UInt64 = 0,
                           progress: ((String) -> Void)? = nil) throws -> Report {
        guard k >= 1, k <= index.count else { throw NeighborIndexError.invalidInput("k = \(k) for an index of \(index.count) vectors") }
        guard count >= 1 else { throw NeighborIndexError.invalidInput("at least one query is needed (got \(count))") }
        let queryIDs = sampleIDs(index, count: count, seed: seed)
        let q = try vectors(of: queryIDs, in: index)
        // The reference: exact search over the same stored vectors.
        let exact: any NeighborIndex
        if index.kind == .exact {
            exact = index
        } else {
            progress?("copying \(index.count) vectors for the exact reference")
            let ids = index.ids
            let reference = try ExactIndex(dimension: index.dimension, metric: index.metric)
            let batch = 65_536
            var start = 0
            while start < ids.count {
                let part = Array(ids[start..<min(ids.count, start + batch)])
                try reference.add(ids: part, vectors: vectors(of: part, in: index))
                start += batch
            }
            exact = reference
        }
        let maxThreads = threads.max() ?? Parallel.threads
        let t0 = Date()
        let exactLists = try exact.search(q, parameters: SearchParameters(k: k, threads: maxThreads))
        let truth = exactLists.map { Set($0.map(\.id)) }
        // The k-th exact score of each query: a returned score at least as good ties it.
        let lowerIsBetter = index.metric == .l2
        let kth = exactLists.map { $0.last?.score ?? 0 }
        let exactSeconds = Date().timeIntervalSince(t0)
        var rows = [Row]()
        for (label, base) in settings {
            for t in threads {
                var p = base
                p.k = k
                p.threads = t
                var best = Double.infinity
                var found = [[Neighbor]]()
                for _ in 0..<max(1, repeats) {
                    let s = Date()
                    found = try index.search(q, parameters: p)
                    best = min(best, Date().timeIntervalSince(s))
                }
                var hits = 0, tieHits = 0
                for (i, (f, t)) in zip(found, truth).enumerated() {
                    hits += f.reduce(0) { $0 + (t.contains($1.id) ? 1 : 0) }
                    let ties = f.reduce(0) { $0 + ((lowerIsBetter ? $1.score <= kth[i] + 1e-6 : $1.score >= kth[i] - 1e-6) ? 1 : 0) }
                    tieHits += min(ties, k)
                }
                let row = Row(setting: label, threads: t, recallAtK: Double(hits) / Double(k * queryIDs.count),
                              recallAtKTies: Double(tieHits) / Double(k * queryIDs.count),
                              qps: Double(queryIDs.count) / best, seconds: best)
                progress?(String(format: "%@ threads %d: recall@%d %.4f, %.0f queries/s", label, t, k, row.recallAtK, row.qps))
                rows.append(row)
            }
        }
        return Report(queries: queryIDs.count, k: k, rows: rows, exactSeconds: exactSeconds)
    }
}
