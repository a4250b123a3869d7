import Foundation
import Testing
@testable import LinearAlgebra

/// SpMM timing on the reference problem (CSR 1M x 1M, 10M uniform nonzeros, 64 Float columns).
/// Disabled unless `EMBEDDINGS_PERF=1`; run in release:
/// `EMBEDDINGS_PERF=1 swift test -c release --filter SparsePerf`.
/// Optional: `SPMM_ROWS`, `SPMM_NNZ`, `SPMM_K`, `SPMM_REPS`, `SPMM_THREADS` (comma list).
@Suite(.serialized) struct SparsePerfTests {
    static let enabled = ProcessInfo.processInfo.environment["EMBEDDINGS_PERF"] == "1"

    static func env(_ key: String, _ fallback: Int) -> Int {
        ProcessInfo.processInfo.environment[key].flatMap(Int.init) ?? fallback
    }

    /// Median and minimum of `reps` timings, in seconds.
    static func timings(_ body: () -> Void, reps: Int) -> (median: Double, min: Double) {
        var times = [Double]()
        for _ in 0..<reps {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        times.sort()
        return (times[times.count / 2], times[0])
    }

    static func median(_ body: () -> Void, reps: Int) -> Double { timings(body, reps: reps).median }

    @Test(.enabled(if: enabled, "set EMBEDDINGS_PERF=1 to time SpMM")) func spmmThroughput() throws {
        let n = Self.env("SPMM_ROWS", 1_000_000), nnz = Self.env("SPMM_NNZ", 10_000_000)
        let k = Self.env("SPMM_K", 64), reps = Self.env("SPMM_REPS", 5)
        let threadList = (ProcessInfo.processInfo.environment["SPMM_THREADS"] ?? "1,2").split(separator: ",").compactMap { Int($0) }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let a = try CSRMatrix<Float>.randomUniform(rows: n, columns: n, nonzeros: nnz, seed: 1)
        let x = Matrix<Float>.gaussian(rows: n, columns: k, seed: 2)
        print("setup \(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9) s; \(n) x \(n), nnz \(nnz), k \(k)")
        let xr = x.transposed().elements
        var y = Matrix<Float>(rows: n, columns: k)
        var yr = [Float](repeating: 0, count: n * k)
        // Check before timing: a few rows of A X and A' X against a scalar computation in Double.
        a.apply(x, into: &y, threads: 2)
        var yt = Matrix<Float>(rows: n, columns: k)
        a.applyTranspose(x, into: &yt, threads: 2)
        let at = a.transposed()
        for i in stride(from: 0, to: n, by: n / 7 + 1) {
            for (mat, out) in [(a, y), (at, yt)] {
                for c in [0, k - 1] {
                    var ref = 0.0, bound = 0.0
                    for p in Int(mat.rowOffsets[i])..<Int(mat.rowOffsets[i + 1]) {
                        let t = Double(mat.values[p]) * Double(x[Int(mat.columnIndices[p]), c])
                        ref += t; bound += Swift.abs(t)
                    }
                    #expect(Swift.abs(Double(out[i, c]) - ref) <= 64 * Double(Float.ulpOfOne) * bound + 1e-30)
                }
            }
        }
        let gbA = Double(8 * (n + 1) + 8 * nnz + 4 * k * nnz + 4 * k * n) / 1e9
        let prefetchList = (ProcessInfo.processInfo.environment["SPMM_PF"] ?? "8").split(separator: ",").compactMap { Int($0) }
        let rowMajorOnly = ProcessInfo.processInfo.environment["SPMM_ROWMAJOR_ONLY"] == "1"
        func line(_ name: String, _ t: (median: Double, min: Double)) -> String {
            "\(name) \(String(format: "%.3f", t.median)) s (min \(String(format: "%.3f", t.min))), \(String(format: "%.1f", gbA / t.median)) GB/s"
        }
        for pf in prefetchList {
            gatherPrefetchDistance = pf
            scatterPrefetchDistance = pf
            for threads in threadList {
                var parts = [String]()
                if !rowMajorOnly {
                    parts.append(line("A X", Self.timings({ a.apply(x, into: &y, threads: threads) }, reps: reps)))
                    parts.append(line("A'X", Self.timings({ a.applyTranspose(x, into: &yt, threads: threads) }, reps: reps)))
                }
                parts.append(line("A X rowmajor", Self.timings({
                    xr.withUnsafeBufferPointer { xp in yr.withUnsafeMutableBufferPointer { a.multiply(rowMajor: xp, columns: k, into: $0, threads: threads) } }
                }, reps: reps)))
                parts.append(line("A'X rowmajor", Self.timings({
                    xr.withUnsafeBufferPointer { xp in yr.withUnsafeMutableBufferPointer { a.multiplyTranspose(rowMajor: xp, columns: k, into: $0, threads: threads) } }
                }, reps: reps)))
                print("pf \(pf) threads \(threads) | " + parts.joined(separator: " | "))
            }
        }
        gatherPrefetchDistance = 8
        scatterPrefetchDistance = 8
    }
}

extension SparsePerfTests {
    /// Cost of the layout conversions around the kernels (fresh vs reused buffers).
    @Test(.enabled(if: enabled && ProcessInfo.processInfo.environment["SPMM_PARTS"] == "1")) func layoutConversionCost() {
        let n = Self.env("SPMM_ROWS", 1_000_000), k = Self.env("SPMM_K", 64), reps = Self.env("SPMM_REPS", 5)
        var x = Matrix<Float>.gaussian(rows: n, columns: k, seed: 2)
        let reused = UnsafeMutablePointer<Float>.allocate(capacity: n * k)
        reused.initialize(repeating: 0, count: n * k)
        defer { reused.deallocate() }
        x.elements.withUnsafeMutableBufferPointer { xb in
            let src = DenseView(base: xb.baseAddress!, rows: n, columns: k, rowStride: 1, columnStride: n)
            let tFresh = Self.median({
                let p = UnsafeMutablePointer<Float>.allocate(capacity: n * k)
                copyRows(src, rowMajorView(p, rows: n, columns: k), rows: 0..<n)
                p.deallocate()
            }, reps: reps)
            for bytes in (ProcessInfo.processInfo.environment["SPMM_TB"] ?? "65536").split(separator: ",").compactMap({ Int($0) }) {
                transposeBlockBytes = bytes
                let tTo = Self.timings({ copyRows(src, rowMajorView(reused, rows: n, columns: k), rows: 0..<n) }, reps: reps)
                let tFrom = Self.timings({ copyRows(rowMajorView(reused, rows: n, columns: k), src, rows: 0..<n) }, reps: reps)
                print("block \(bytes) B: to row-major \(tTo), back \(tFrom)")
            }
            transposeBlockBytes = 65_536
            let tReused = Self.median({ copyRows(src, rowMajorView(reused, rows: n, columns: k), rows: 0..<n) }, reps: reps)
            let tBack = Self.median({ copyRows(rowMajorView(reused, rows: n, columns: k), src, rows: 0..<n) }, reps: reps)
            let tFault = Self.median({
                let p = UnsafeMutablePointer<Float>.allocate(capacity: n * k)
                p.initialize(repeating: 0, count: n * k)
                p.deallocate()
            }, reps: reps)
            print("to row-major fresh \(tFresh) s, reused \(tReused) s, back \(tBack) s, alloc+zero \(tFault) s")
        }
    }
}
