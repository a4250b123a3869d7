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

    @Option(help: "The index file.")
    var index: String
    @Option(help: "Number of queries.")
    var queries: Int = 1000
    @Option(help: "Neighbours per query.")
    var k: Int = 10
    @Option(help: "HNSW beam widths, comma-separated.")
    var ef: String = "16,64,256"
    @Option(help: "IVF probes, comma-separated.")
    var probes: String = "1,4,16,64"
    @Option(help: "Thread counts, comma-separated.")
    var threads: String = "1,2"
    @Option(help: "Timed repeats per setting (the best counts).")
    var repeats: Int = 3
    @Option(help: "Seed of the query sample.")
    var seed: UInt64 = 0
    @Option(help: "Also time this many single-query calls per thread count (first setting): median and p90 latency.")
    var latencyQueries: Int = 0
    @Option(help: "Write the report as JSON to this file.")
    var json: String

    func run() throws {
        let threadList = try ToolOutput.positiveIntegers(threads, option: "--threads")
        let started = Date()
        let loaded = try NeighborIndexes.load(from: URL(fileURLWithPath: index))
        let openSeconds = Date().timeIntervalSince(started)
        let settings: [(String, SearchParameters)]
        switch loaded.kind {
        case .exact: settings = [("exact", SearchParameters())]
        case .hnsw: settings = try ToolOutput.positiveIntegers(ef, option: "--ef").map { ("ef=\($0)", SearchParameters(ef: $0)) }
        case .ivf: settings = try ToolOutput.positiveIntegers(probes, option: "--probes").map { ("probes=\($0)", SearchParameters(probes: $0)) }
        }
        BLAS.threads = 1
        let report = try NeighborEvaluation.run(index: loaded, queries: queries, k: k, settings: settings, threads: threadList,
                                                repeats: repeats, seed: seed) { ToolOutput.standardError($0) }
        let bytes = ToolOutput.fileSize(index)
        print(String(format: "%@ (%@), %d vectors: opened in %.3f s, built in %.2f s, %.1f bytes per vector",
                     loaded.kind.rawValue, loaded.metric.rawValue, loaded.count, openSeconds, loaded.buildSeconds, Double(bytes) / Double(loaded.count)))
        for r in report.rows {
            print(String(format: "  %-12@ threads %d  recall@%d %.4f  %10.0f queries/s", r.setting, r.threads, k, r.recallAtK, r.qps))
        }
        var latency = [[String: Any]]()
        if latencyQueries > 0 {
            for t in threadList {
                var p = settings[0].1
                p.k = k
                p.threads = t
                let (median, p90) = try NeighborEvaluation.latency(index: loaded, queries: latencyQueries, parameters: p, seed: seed)
                print(String(format: "  single query, %@, threads %d: median %.3f ms, p90 %.3f ms", settings[0].0, t, median * 1e3, p90 * 1e3))
                latency.append(["setting": settings[0].0, "threads": t, "median_ms": median * 1e3, "p90_ms": p90 * 1e3])
            }
        }
        try ToolOutput.writeJSON([
            "single_query_latency": latency,
            "kind": loaded.kind.rawValue, "metric": loaded.metric.rawValue, "count": loaded.count, "dimension": loaded.dimension,
            "build_seconds": loaded.buildSeconds, "open_seconds": openSeconds, "file_bytes": bytes,
            "bytes_per_vector": Double(bytes) / Double(loaded.count), "queries": report.queries, "k": k,
            "exact_reference_seconds": report.exactSeconds,
            "results": report.rows.map { ["setting": $0.setting, "threads": $0.threads, "recall_at_k": $0.recallAtK,
                                          "qps": $0.qps, "seconds": $0.seconds] as [String: Any] },
        ], to: json)
    }
}
