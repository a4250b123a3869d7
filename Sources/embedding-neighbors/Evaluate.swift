import ArgumentParser
import Foundation
import LinearAlgebra
import Neighbors
import ToolSupport

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recall@k against exact search, and queries per second, over a grid of settings and thread counts.",
        discussion: """
        Queries are --queries ids drawn (seeded) from the index; their stored vectors are searched in \
        one batch call per setting (best of --repeats), and the answers compared with exact search \
        over the same vectors. build_seconds is the insertion time saved with the index.
        """)

    @Option(help: "The index file.") var index: String
    @Option(help: "Number of queries.") var queries: Int = 1000
    @Option(help: "Neighbours per query.") var k: Int = 10
    @Option(help: "HNSW beam widths, comma-separated.") var ef: String = "16,64,256"
    @Option(help: "IVF probes, comma-separated.") var probes: String = "1,4,16,64"
    @Option(help: "Thread counts, comma-separated.") var threads: String = "1,2"
    @Option(help: "Timed repeats per setting (the best counts).") var repeats: Int = 3
    @OptionGroup var seed: SeedOptions
    @Option(help: "Also time this many single-query calls per thread count (first setting): median and p90 latency.") var latencyQueries: Int = 0
    @Flag(help: "Search the index through a memory map of its file (pages load on first touch) instead of reading it into memory first (huge pages where the kernel offers them), which is how a serving process holds it.") var mapped = false
    @OptionGroup var output: JSONOutputOptions

    func run() throws {
        let threadList = try ToolOutput.positiveIntegers(threads, option: "--threads")
        let started = Date()
        let loaded = try NeighborIndexes.load(from: URL(fileURLWithPath: index), mapped: mapped)
        let openSeconds = Date().timeIntervalSince(started)
        let settings: [(String, SearchParameters)]
        switch loaded.kind {
        case .exact: settings = [("exact", SearchParameters())]
        case .hnsw: settings = try ToolOutput.positiveIntegers(ef, option: "--ef").map { ("ef=\($0)", SearchParameters(ef: $0)) }
        case .ivf: settings = try ToolOutput.positiveIntegers(probes, option: "--probes").map { ("probes=\($0)", SearchParameters(probes: $0)) }
        }
        BLAS.threads = 1
        let report = try NeighborEvaluation.run(index: loaded, queries: queries, k: k, settings: settings, threads: threadList,
                                                repeats: repeats, seed: seed.seed) { ToolOutput.standardError($0) }
        let bytes = ToolOutput.fileSize(index)
        print(String(format: "%@ (%@), %d vectors: opened in %.3f s, built in %.2f s, %.1f bytes per vector",
                     loaded.kind.rawValue, loaded.metric.rawValue, loaded.count, openSeconds, loaded.buildSeconds, Double(bytes) / Double(loaded.count)))
        for r in report.rows {
            print(String(format: "  %-12@ threads %d  recall@%d %.4f  %10.0f queries/s", r.setting, r.threads, k, r.recallAtK, r.qps))
        }
        var latency = [EvaluateReport.Latency]()
        if latencyQueries > 0 {
            for t in threadList {
                var p = settings[0].1
                p.k = k
                p.threads = t
                let (median, p90) = try NeighborEvaluation.latency(index: loaded, queries: latencyQueries, parameters: p, seed: seed.seed)
                print(String(format: "  single query, %@, threads %d: median %.3f ms, p90 %.3f ms", settings[0].0, t, median * 1e3, p90 * 1e3))
                latency.append(.init(setting: settings[0].0, threads: t, medianMs: median * 1e3, p90Ms: p90 * 1e3))
            }
        }
        try output.write(EvaluateReport(
            singleQueryLatency: latency, kind: loaded.kind.rawValue, metric: loaded.metric.rawValue, count: loaded.count,
            dimension: loaded.dimension, buildSeconds: loaded.buildSeconds, openSeconds: openSeconds, fileBytes: bytes,
            bytesPerVector: Double(bytes) / Double(loaded.count), queries: report.queries, k: k,
            exactReferenceSeconds: report.exactSeconds, results: report.rows.map(EvaluateReport.Row.init)))
    }
}

/// The `--json` report of `evaluate` (snake_case keys, as `Benchmarks/neighbors/report.py` reads them).
struct EvaluateReport: Encodable {
    struct Latency: Encodable {
        var setting: String, threads: Int, medianMs: Double, p90Ms: Double
        enum CodingKeys: String, CodingKey { case setting, threads, medianMs = "median_ms", p90Ms = "p90_ms" }
    }
    struct Row: Encodable {
        var setting: String, threads: Int, recallAtK: Double, recallAtKTies: Double, qps: Double, seconds: Double
        init(_ r: NeighborEvaluation.Row) { setting = r.setting; threads = r.threads; recallAtK = r.recallAtK; recallAtKTies = r.recallAtKTies; qps = r.qps; seconds = r.seconds }
        enum CodingKeys: String, CodingKey { case setting, threads, recallAtK = "recall_at_k", recallAtKTies = "recall_at_k_ties", qps, seconds }
    }
    var singleQueryLatency: [Latency]
    var kind, metric: String
    var count, dimension: Int
    var buildSeconds, openSeconds: Double
    var fileBytes: Int
    var bytesPerVector: Double
    var queries, k: Int
    var exactReferenceSeconds: Double
    var results: [Row]

    enum CodingKeys: String, CodingKey {
        case singleQueryLatency = "single_query_latency", kind, metric, count, dimension, buildSeconds = "build_seconds"
        case openSeconds = "open_seconds", fileBytes = "file_bytes", bytesPerVector = "bytes_per_vector", queries, k
        case exactReferenceSeconds = "exact_reference_seconds", results
    }
}
