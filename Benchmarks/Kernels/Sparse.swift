import Benchmark
import LinearAlgebra

/// SpMM benchmarks are registered once the sparse kernels land.
func registerSparseBenchmarks() {}
