import Benchmark
import LinearAlgebra

/// SpMM, the hot kernel of every solver: a 1M x 1M CSR matrix with 10M uniformly placed
/// nonzeros times a 64-column Float block, as `A X` (row gathers) and `A' X` (row scatters,
/// without building `A'`), on 1 thread and on all of `EMBEDDINGS_THREADS` (default: all cores).
///
/// Traffic counted per product: the CSR arrays (8-byte row offsets, 4-byte column index and
/// 4-byte value per nonzero), one 256-byte dense row per nonzero, and the 256-byte output rows.
func registerSparseBenchmarks() {
    let n = 1_000_000, nnz = 10_000_000, k = 64
    let megabytes = (Double(8 * (n + 1)) + Double(8 * nnz) + Double(nnz * k * 4) + Double(n * k * 4)) / 1e6
    let allThreads = Parallel.threads
    for threads in Set([1, allThreads]).sorted() {
        for transpose in [false, true] {
            let name = "SpMM Float 1Mx1M nnz=10M k=64 \(transpose ? "A'X" : "AX") threads=\(threads)"
            Benchmark(name, configuration: configuration(seconds: 15, iterations: 15, rate: byteRate)) { benchmark, inputs in
                var y = Matrix<Float>(rows: n, columns: k)
                for _ in benchmark.scaledIterations {
                    timed(benchmark, byteRate, work: megabytes) {
                        if transpose {
                            inputs.0.applyTranspose(inputs.1, into: &y, threads: threads)
                        } else {
                            inputs.0.apply(inputs.1, into: &y, threads: threads)
                        }
                    }
                    blackHole(y)
                }
            } setup: {
                (try CSRMatrix<Float>.randomUniform(rows: n, columns: n, nonzeros: nnz, seed: 1),
                 Matrix<Float>.gaussian(rows: n, columns: k, seed: 2))
            }
        }
    }
}
