import Benchmark
import Foundation
import LinearAlgebra

/// SpMM and SpMV, the hot kernels of every solver: a 1M x 1M CSR matrix with 10M uniformly
/// placed nonzeros times a 64-column Float block (`A X`; `A' X` as a gather over the transposed
/// index, the default, and as the scatter used without it; `2 A X - X - Z`, the Chebyshev
/// filter's step fused into the gather, `multiplyAdd(rowMajor:)`) and times one vector
/// (ARPACK's products, through the pointer entry points), on 1 thread and on all of
/// `EMBEDDINGS_THREADS`.
///
/// Each product's answer is checked first (``checkSparseProduct(_:a:x:k:y:transposed:)``).
/// Two rates per product, each also as a percentage of the stream-triad bandwidth measured in
/// this run on the same thread count (``StreamTriad``; "moved" at 50 % of the triad is a product
/// within 2x of its bandwidth floor):
/// - "MB/s moved": the bytes a product must move at least, the floor: the CSR arrays (8-byte
///   offsets, 4-byte index and 4-byte value per nonzero), the input block read once and the
///   output block written once. At the triad rate this is the bandwidth floor of the product.
/// - "MB/s gathered": the CSR arrays plus one dense row of the input per nonzero (what the
///   kernel loads, from cache or memory), plus the output: the figure scipy-style kernels quote.
/// The fused step reads two more blocks (`X`'s own row and `Z`'s) beside the product's bytes.
func registerSparseBenchmarks() {
    let n = 1_000_000, nnz = 10_000_000
    let moved = BenchmarkMetric.custom("MB/s moved", polarity: .prefersLarger, useScalingFactor: false)
    let gathered = BenchmarkMetric.custom("MB/s gathered", polarity: .prefersLarger, useScalingFactor: false)
    let ofTriad = BenchmarkMetric.custom("% of measured triad, gathered", polarity: .prefersLarger, useScalingFactor: false)
    let movedOfTriad = BenchmarkMetric.custom("% of measured triad, moved", polarity: .prefersLarger, useScalingFactor: false)
    let allThreads = Parallel.threads
    enum Product: String, CaseIterable {
        case ax = "AX", atxGather = "A'X gather", atxScatter = "A'X scatter", fused = "2AX-X-Z fused"
    }
    for k in [64, 1] {
        let scalar = 4.0
        let indexBytes = Double(8 * (n + 1)) + Double(8 * nnz)
        for threads in Set([1, allThreads]).sorted() {
            for product in Product.allCases {
                let extra = product == .fused ? scalar * Double(k) * Double(2 * n) : 0   // X's row and Z's, read again
                let movedGB = (indexBytes + scalar * Double(k) * Double(2 * n) + extra) / 1e9
                let gatheredGB = (indexBytes + scalar * Double(k) * Double(nnz + n) + extra) / 1e9
                let name = "Sp\(k == 1 ? "MV" : "MM") Float 1Mx1M nnz=10M k=\(k) \(product.rawValue) threads=\(threads)"
                Benchmark(name, configuration: .init(metrics: [.wallClock, moved, gathered, ofTriad, movedOfTriad], timeUnits: .milliseconds,
                                                     warmupIterations: 1, maxDuration: .seconds(15),
                                                     maxIterations: k == 1 ? 50 : 15)) { benchmark, inputs in
                    var (a, x) = inputs
                    a.automaticTransposeIndex = product != .atxScatter
                    if product == .atxGather { a.buildTransposeIndex() }
                    var y = [Float](repeating: 0, count: n * k)
                    let z: [Float] = product == .fused ? Array(x.reversed()) : []
                    func apply() {
                        x.withUnsafeBufferPointer { xp in
                            y.withUnsafeMutableBufferPointer { yp in
                                if product == .fused {
                                    z.withUnsafeBufferPointer { zp in
                                        a.multiplyAdd(rowMajor: xp, columns: k, alpha: 2, beta: -1, subtracting: zp, into: yp, threads: threads)
                                    }
                                } else if product == .ax {
                                    a.multiply(rowMajor: xp, columns: k, into: yp, threads: threads)
                                } else {
                                    a.multiplyTranspose(rowMajor: xp, columns: k, into: yp, threads: threads)
                                }
                            }
                        }
                    }
                    if CheckedBenchmarks.shared.first(name) {
                        apply()
                        if product == .fused {
                            checkFusedStep(name, a: a, x: x, z: z, k: k, y: y)
                        } else {
                            checkSparseProduct(name, a: a, x: x, k: k, y: y, transposed: product != .ax)
                        }
                    }
                    let triad = StreamTriad.shared.bytesPerSecond(threads: threads) / 1e9
                    benchmark.startMeasurement()   // the check, the triad and the index are not timed
                    for _ in benchmark.scaledIterations {
                        let start = DispatchTime.now().uptimeNanoseconds
                        apply()
                        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                        benchmark.measurement(moved, Int(1000 * movedGB / seconds))
                        benchmark.measurement(gathered, Int(1000 * gatheredGB / seconds))
                        benchmark.measurement(ofTriad, Int(100 * gatheredGB / seconds / triad))
                        benchmark.measurement(movedOfTriad, Int(100 * movedGB / seconds / triad))
                        blackHole(y)
                    }
                } setup: {
                    (try CSRMatrix<Float>.randomUniform(rows: n, columns: n, nonzeros: nnz, seed: 1),
                     Matrix<Float>.gaussian(rows: n, columns: k, seed: 2).elements)
                }
            }
        }
    }
}
