// Kernel benchmarks: the dense and sparse kernels every solver spends its time in.
//
//   swift package --allow-writing-to-package-directory benchmark --target Kernels
//   swift package benchmark --target Kernels --filter "GEMM.*"
//
// Each benchmark first checks its kernel's answer against a plain reference (Checks.swift; a
// wrong answer stops the run before anything is timed), then reports a rate (custom metric) so
// that it can be set beside the machine's peak: MFLOP/s for dense kernels, MB/s of memory traffic
// for sparse and parsing kernels, the sparse ones also as a share of the stream-triad bandwidth
// measured in the same run ("Stream triad" benchmark).
// Set OPENBLAS_NUM_THREADS / EMBEDDINGS_THREADS to pin thread counts.
import Benchmark
import Foundation
import LinearAlgebra

let flopRate = BenchmarkMetric.custom("MFLOP/s", polarity: .prefersLarger, useScalingFactor: false)
let byteRate = BenchmarkMetric.custom("MB/s", polarity: .prefersLarger, useScalingFactor: false)

/// Times `body` once and records `work / seconds` under `metric` (work in MFLOP or MB).
@inline(__always)
func timed(_ benchmark: Benchmark, _ metric: BenchmarkMetric, work: Double, _ body: () -> Void) {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    benchmark.measurement(metric, Int(work / seconds))
}

func configuration(seconds: Int, iterations: Int, rate: BenchmarkMetric) -> Benchmark.Configuration {
    .init(metrics: [.wallClock, rate], timeUnits: .milliseconds, warmupIterations: 1,
          maxDuration: .seconds(seconds), maxIterations: iterations)
}

func gemmBenchmark<S: BLASScalar>(_: S.Type, n: Int) {
    let name = "GEMM \(S.self) \(n)x\(n)"
    Benchmark(name, configuration: configuration(seconds: 10, iterations: 20, rate: flopRate)) { benchmark, inputs in
        var c = Matrix<S>(rows: n, columns: n)
        for _ in benchmark.scaledIterations {
            timed(benchmark, flopRate, work: 2 * Double(n) * Double(n) * Double(n) / 1e6) {
                Matrix.gemm(inputs.0, .none, inputs.1, .none, into: &c)
            }
            blackHole(c)
        }
    } setup: { () -> (Matrix<S>, Matrix<S>) in
        let a = Matrix<S>.gaussian(rows: n, columns: n, seed: 1), b = Matrix<S>.gaussian(rows: n, columns: n, seed: 2)
        var c = Matrix<S>(rows: n, columns: n)
        Matrix.gemm(a, .none, b, .none, into: &c)
        checkGEMM(name, a: a, b: b, c: c)
        return (a, b)
    }
}

let benchmarks: @Sendable () -> Void = {
    for n in [1000, 2000] {
        gemmBenchmark(Float.self, n: n)
        gemmBenchmark(Double.self, n: n)
    }

    // Tall-skinny QR, the range finder's normaliser: 1M x 74 (k = 64 plus oversampling 10).
    // geqrf + orgqr cost about 4 m n^2 flops together.
    Benchmark("QR Float 1000000x74", configuration: configuration(seconds: 20, iterations: 5, rate: flopRate)) { benchmark, a in
        for _ in benchmark.scaledIterations {
            var q = Matrix<Float>(rows: 0, columns: 0)
            timed(benchmark, flopRate, work: 4 * 1e6 * 74 * 74 / 1e6) { q = try! a.orthonormalized() }
            blackHole(q)
        }
    } setup: { () throws -> Matrix<Float> in
        let a = Matrix<Float>.gaussian(rows: 1_000_000, columns: 74, seed: 3)
        checkOrthonormalBasis("QR Float 1000000x74", a: a, q: try a.orthonormalized())
        return a
    }

    // The bandwidth the memory-bound kernels are quoted against, on 1 thread and on all.
    for threads in Set([1, Parallel.threads]).sorted() {
        Benchmark("Stream triad threads=\(threads)", configuration: configuration(seconds: 5, iterations: 3, rate: byteRate)) { benchmark in
            for _ in benchmark.scaledIterations {
                benchmark.measurement(byteRate, Int(measureStreamTriad(threads: threads) / 1e6))
            }
        }
    }

    registerSparseBenchmarks()
    registerParsingBenchmarks()
}
