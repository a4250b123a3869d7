import LinearAlgebra

/// Seeded k-means for the IVF coarse quantiser: k-means++ seeding (each new centre drawn with
/// probability proportional to the squared distance to the nearest centre so far, the distances
/// updated with one SGEMV per centre), then Lloyd iterations whose assignment step is the fused
/// GEMM + top-1 kernel of the exact index. Trains on at most `maxPointsPerCentroid * k` points
/// drawn without replacement (as FAISS does).
enum KMeans {
    struct Options {
        var iterations = 20
        var maxPointsPerCentroid = 256
        var seed: UInt64 = 0
        /// Assign by largest inner product instead of smallest distance.
        var innerProduct = false
        /// Scale centroids to unit length after each update (spherical k-means, for cosine).
        var spherical = false
        var threads = 1
    }

    /// `k` centroids (row-major `k x d`) of the row-major `n x d` points.
    /// - Precondition: `1 <= k <= n`.
    static func train(points: UnsafePointer<Float>, count n: Int, dimension d: Int, k: Int, options o: Options) -> [Float] {
        precondition(k >= 1 && k <= n, "KMeans: k = \(k) for \(n) points")
        var rng = Xoshiro256(seed: o.seed)
        // Sample without replacement (partial Fisher-Yates).
        let sampleCount = min(n, o.maxPointsPerCentroid * k)
        var sample = [Float](repeating: 0, count: sampleCount * d)
        if sampleCount == n {
            sample.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: points, count: n * d) }
        } else {
            var order = Array(0..<n)
            for i in 0..<sampleCount {
                let j = i + Int(rng.next() % UInt64(n - i))
                order.swapAt(i, j)
                for c in 0..<d { sample[i * d + c] = points[order[i] * d + c] }
            }
        }
        return sample.withUnsafeBufferPointer { sp in
            let x = sp.baseAddress!
            var centroids = seedPlusPlus(x, count: sampleCount, dimension: d, k: k, rng: &rng)
            lloyd(x, count: sampleCount, dimension: d, k: k, centroids: &centroids, options: o, rng: &rng)
            return centroids
        }
    }

    static func seedPlusPlus(_ x: UnsafePointer<Float>, count n: Int, dimension d: Int, k: Int, rng: inout Xoshiro256) -> [Float] {
        var centroids = [Float](repeating: 0, count: k * d)
        var norms = [Float](repeating: 0, count: n)
        for i in 0..<n { norms[i] = dot(x + i * d, x + i * d, d) }
        var nearest = [Float](repeating: .infinity, count: n)
        var dots = [Float](repeating: 0, count: n)
        var pick = Int(rng.next() % UInt64(n))
        for j in 0..<k {
            for c in 0..<d { centroids[j * d + c] = x[pick * d + c] }
            let cn = norms[pick]
            centroids.withUnsafeBufferPointer { cp in
                dots.withUnsafeMutableBufferPointer { dp in
                    Float.blasGemv(.transpose, Int32(d), Int32(n), 1, x, Int32(d), cp.baseAddress! + j * d, 1, 0, dp.baseAddress!, 1)
                }
            }
            var total = 0.0
            for i in 0..<n {
                let dist = max(0, norms[i] - 2 * dots[i] + cn)
                if dist < nearest[i] { nearest[i] = dist }
                total += Double(nearest[i])
            }
            guard j + 1 < k else { break }
            if total > 0 {
                var r = rng.nextUniform() * total
                pick = n - 1
                for i in 0..<n {
                    r -= Double(nearest[i])
                    if r < 0 { pick = i; break }
                }
            } else {
                pick = Int(rng.next() % UInt64(n))
            }
        }
        return centroids
    }

    /// The nearest centroid of each of `n` row-major points (fused GEMM + top-1).
    static func assign(_ x: UnsafePointer<Float>, count n: Int, dimension d: Int, centroids: UnsafePointer<Float>, k: Int,
                       innerProduct: Bool, threads: Int) -> [Int32] {
        var norms = [Float](repeating: 0, count: k)
        for j in 0..<k { norms[j] = dot(centroids + j * d, centroids + j * d, d) }
        let none = [UInt8](repeating: 0, count: k)
        return norms.withUnsafeBufferPointer { np in
            none.withUnsafeBufferPointer { zp in
                let base = ScanBase(vectors: centroids, normSquares: np.baseAddress!, rowSlots: nil, firstSlot: 0, rows: k)
                let filter = SlotFilter(deleted: zp.baseAddress!, allowed: nil, predicate: nil, table: nil)
                let heaps = FusedTopK.search(base: base, dimension: d, queries: x, queryCount: n, k: 1, filter: filter,
                                             l2: !innerProduct, threads: threads)
                return (0..<n).map { heaps.slots[$0] }
            }
        }
    }

    static func lloyd(_ x: UnsafePointer<Float>, count n: Int, dimension d: Int, k: Int, centroids: inout [Float],
                      options o: Options, rng: inout Xoshiro256) {
        var sums = [Double](repeating: 0, count: k * d)
        var sizes = [Int](repeating: 0, count: k)
        for _ in 0..<o.iterations {
            let labels = centroids.withUnsafeBufferPointer {
                assign(x, count: n, dimension: d, centroids: $0.baseAddress!, k: k, innerProduct: o.innerProduct, threads: o.threads)
            }
            for i in sums.indices { sums[i] = 0 }
            for j in 0..<k { sizes[j] = 0 }
            for i in 0..<n {
                let c = Int(labels[i])
                sizes[c] += 1
                for t in 0..<d { sums[c * d + t] += Double(x[i * d + t]) }
            }
            for j in 0..<k where sizes[j] > 0 {
                for t in 0..<d { centroids[j * d + t] = Float(sums[j * d + t] / Double(sizes[j])) }
            }
            // An empty cluster takes a perturbed copy of the largest one (FAISS's split).
            for j in 0..<k where sizes[j] == 0 {
                let big = sizes.indices.max { sizes[$0] < sizes[$1] }!
                for t in 0..<d {
                    let v = centroids[big * d + t]
                    let e = Float(rng.nextUniform() - 0.5) * 1e-3 * max(abs(v), 1e-3)
                    centroids[j * d + t] = v + e
                    centroids[big * d + t] = v - e
                }
                sizes[big] /= 2
                sizes[j] = sizes[big]
            }
            if o.spherical {
                centroids.withUnsafeMutableBufferPointer { p in for j in 0..<k { normalize(p.baseAddress! + j * d, d) } }
            }
        }
    }
}
