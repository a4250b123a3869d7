import Benchmark
import GraphData

/// Edge-list parsing benchmarks are registered once the reader lands.
func registerParsingBenchmarks() {}
