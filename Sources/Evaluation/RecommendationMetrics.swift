import Foundation
import LinearAlgebra
import Solvers

// Offline evaluation of recommendation models: per-user holdout splits and ranking metrics
// (precision, nDCG, MAP at k) of ALS recommendations, as benfred/implicit defines them.

/// Ranking quality of top-`k` recommendations against held-out interactions, with the
/// definitions of benfred/implicit's `ranking_metrics_at_k` (so figures are comparable).
///
/// For each evaluated user with held-out set `T` and top-`k` list (training items excluded):
/// - precision: total hits over the total of `min(k, |T|)` (a micro average);
/// - nDCG: `sum over hit ranks i of 1 / log2(i + 2)` divided by the ideal value for
///   `min(k, |T|)` hits, averaged over users;
/// - MAP: `sum over hit ranks i of (hits so far) / (i + 1)` divided by `min(k, |T|)`,
///   averaged over users.
public struct ALSRankingMetrics: Sendable, Equatable {
    /// The cut-off `k`.
    public let k: Int
    /// Number of users evaluated (those with at least one held-out item).
    public let users: Int
    /// Precision at `k`.
    public let precision: Double
    /// Normalised discounted cumulative gain at `k`.
    public let ndcg: Double
    /// Mean average precision at `k`.
    public let map: Double
}

/// Per-user random train/test splits of an interaction matrix.
public enum ALSHoldout {
    /// Splits each user's stored entries into training and test parts.
    ///
    /// A user with `n` entries holds out `floor(fraction * n + u)` of them (`u` uniform in
    /// `[0, 1)`, so the expected share is `fraction`), at most `n - 1` so that every user keeps
    /// a training entry; the held-out entries are a uniform random subset. The split depends
    /// only on `seed` (one random stream per user), not on the thread count.
    ///
    /// Cost: O(nnz + rows).
    /// - Returns: two matrices of the input's shape whose sum is the input.
    /// - Throws: ``EvaluationError`` if `fraction` is not in `[0, 1)`.
    public static func split(_ m: CSRMatrix<Float>, fraction: Double, seed: UInt64) throws
        -> (train: CSRMatrix<Float>, test: CSRMatrix<Float>) {
        guard fraction >= 0, fraction < 1 else { throw EvaluationError("ALSHoldout: the holdout fraction must be in [0, 1), got \(fraction)") }
        var trainOff = [Int64](repeating: 0, count: m.rows + 1), testOff = trainOff
        var trainIdx: [Int32] = [], testIdx: [Int32] = []
        var trainVal: [Float] = [], testVal: [Float] = []
        trainIdx.reserveCapacity(m.nonzeroCount)
        trainVal.reserveCapacity(m.nonzeroCount)
        var order: [Int] = []
        var held: [Bool] = []
        for u in 0..<m.rows {
            let lo = Int(m.rowOffsets[u]), hi = Int(m.rowOffsets[u + 1]), n = hi - lo
            var rng = Xoshiro256.stream(seed: seed, index: UInt64(u))
            var h = Int((fraction * Double(n) + rng.nextUniform()).rounded(.down))
            h = max(0, min(h, n - 1))
            held = [Bool](repeating: false, count: n)
            if h > 0 {
                order = Array(0..<n)
                for t in 0..<h {   // partial Fisher-Yates
                    let pick = t + Int(rng.next() % UInt64(n - t))
                    order.swapAt(t, pick)
                    held[order[t]] = true
                }
            }
            for q in 0..<n {
                if held[q] { testIdx.append(m.columnIndices[lo + q]); testVal.append(m.values[lo + q]) }
                else { trainIdx.append(m.columnIndices[lo + q]); trainVal.append(m.values[lo + q]) }
            }
            trainOff[u + 1] = Int64(trainIdx.count)
            testOff[u + 1] = Int64(testIdx.count)
        }
        return (CSRMatrix(uncheckedRows: m.rows, columns: m.columns, rowOffsets: trainOff, columnIndices: trainIdx, values: trainVal),
                CSRMatrix(uncheckedRows: m.rows, columns: m.columns, rowOffsets: testOff, columnIndices: testIdx, values: testVal))
    }
}

extension ALSModel {
    /// Precision, nDCG and MAP at `k` of the model's recommendations (training items excluded)
    /// against the held-out matrix `test`; see ``ALSRankingMetrics`` for the definitions.
    ///
    /// Cost: O(f items) per evaluated user (a GEMM per batch of 64 users, multithreaded BLAS)
    /// plus O(items log k) per user for the selection (parallel).
    /// - Parameters:
    ///   - test: held-out interactions, same shape as the training matrix.
    ///   - k: the cut-off of precision@k, nDCG@k and MAP@k (default 10).
    ///   - users: restricts the evaluation to these users (default: every user with a
    ///     held-out entry).
    /// - Throws: ``EvaluationError`` if the shapes differ, `k < 1`, or a listed user is out of range.
    public func rankingMetrics(test: CSRMatrix<Float>, k: Int = 10, users: [Int]? = nil) throws -> ALSRankingMetrics {
        guard test.rows == userCount, test.columns == itemCount else {
            throw EvaluationError("rankingMetrics: the test matrix is \(test.rows) x \(test.columns), the model \(userCount) x \(itemCount)")
        }
        guard k >= 1 else { throw EvaluationError("rankingMetrics: k must be >= 1, got \(k)") }
        if let users, let bad = users.first(where: { $0 < 0 || $0 >= userCount }) {
            throw EvaluationError("rankingMetrics: user \(bad) is out of range 0..<\(userCount)")
        }
        let evaluated = (users ?? Array(0..<userCount)).filter { test.rowOffsets[$0 + 1] > test.rowOffsets[$0] }
        let f = factors, nItems = itemCount
        let threads = configuration.resolvedThreads
        let batch = 64
        // Per evaluated user: hits, min(k, |T|), ndcg, ap.
        var perUser = [(Int, Int, Double, Double)](repeating: (0, 0, 0, 0), count: evaluated.count)
        var x = Matrix<Float>(rows: f, columns: batch)
        var scores = Matrix<Float>(rows: nItems, columns: batch)
        var discount = [Double](repeating: 0, count: k)
        for i in 0..<k { discount[i] = 1 / Foundation.log2(Double(i) + 2) }
        var start = 0
        while start < evaluated.count {
            let n = min(batch, evaluated.count - start)
            for j in 0..<n {
                let u = evaluated[start + j]
                for c in 0..<f { x.elements[j * f + c] = userFactors.elements[u * f + c] }
            }
            // scores = Y' X: one item column per user of the batch (multithreaded BLAS).
            BLAS.withThreads(threads) { Matrix.gemm(itemFactors, .transpose, x, .none, into: &scores) }
            scores.elements.withUnsafeMutableBufferPointer { sb in
                perUser.withUnsafeMutableBufferPointer { pb in
                    let box = UnsafeSendableBox((sb.baseAddress!, pb.baseAddress!))
                    let base = start
                    let disc = discount
                    Parallel.forEachChunk(count: n, threads: threads) { range in
                        let (s, out) = box.value
                        for j in range {
                            let u = evaluated[base + j]
                            let col = s + j * nItems
                            for p in Int(interactions.rowOffsets[u])..<Int(interactions.rowOffsets[u + 1]) {
                                col[Int(interactions.columnIndices[p])] = -.infinity
                            }
                            let top = TopK.largest(col, count: nItems, k: k)
                            let lo = Int(test.rowOffsets[u]), hi = Int(test.rowOffsets[u + 1])
                            let liked = Set(test.columnIndices[lo..<hi].map { Int($0) })
                            let cap = min(k, liked.count)
                            var hits = 0, dcg = 0.0, ap = 0.0
                            for (rank, item) in top.enumerated() where liked.contains(item.index) {
                                hits += 1
                                dcg += disc[rank]
                                ap += Double(hits) / Double(rank + 1)
                            }
                            let ideal = disc[0..<cap].reduce(0, +)
                            out[base + j] = (hits, cap, dcg / ideal, ap / Double(cap))
                        }
                    }
                }
            }
            start += n
        }
        var hits = 0, total = 0, ndcg = 0.0, map = 0.0
        for (h, c, d, a) in perUser { hits += h; total += c; ndcg += d; map += a }
        let m = Double(max(1, evaluated.count))
        return ALSRankingMetrics(k: k, users: evaluated.count, precision: total > 0 ? Double(hits) / Double(total) : 0,
                                 ndcg: ndcg / m, map: map / m)
    }
}
