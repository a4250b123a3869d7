import Benchmark
import Foundation
import GraphData
import LinearAlgebra

/// Edge-list reading: ../shared/data/slashdot/edges.txt (948k edges, SNAP format) when present,
/// and a generated 5M-edge power-law TSV (written once to the temporary directory). Reports
/// MB/s of text and thousands of edges per second (the default options: directed, duplicates
/// kept once, which sorts every row).
func registerParsingBenchmarks() {
    let edgeRate = BenchmarkMetric.custom("K edges/s", polarity: .prefersLarger, useScalingFactor: false)
    var inputs: [(String, String)] = []
    let slashdot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/data/slashdot/edges.txt").standardized.path
    if FileManager.default.fileExists(atPath: slashdot) { inputs.append(("slashdot 948k edges", slashdot)) }
    inputs.append(("generated 5M edges", generatedEdgeFile(edges: 5_000_000)))
    for (label, path) in inputs {
        let bytes = Double((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        Benchmark("Edge list read \(label)",
                  configuration: .init(metrics: [.wallClock, byteRate, edgeRate], timeUnits: .milliseconds,
                                       warmupIterations: 1, maxDuration: .seconds(15), maxIterations: 15)) { benchmark in
            let name = "Edge list read \(label)"
            if CheckedBenchmarks.shared.first(name) { checkEdgeList(name, path: path) }
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                let start = DispatchTime.now().uptimeNanoseconds
                let graph = try! EdgeList.read(path: path)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                benchmark.measurement(byteRate, Int(bytes / 1e6 / seconds))
                benchmark.measurement(edgeRate, Int(Double(graph.edgeCount) / 1e3 / seconds))
                blackHole(graph)
            }
        }
    }
}

/// Writes (once) a TSV of `edges` edges over 1M nodes with power-law (Zipf-like) endpoints.
func generatedEdgeFile(edges: Int) -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("embeddings-bench-edges-\(edges).tsv").path
    if FileManager.default.fileExists(atPath: path) { return path }
    var rng = Xoshiro256(seed: 7)
    var text = [UInt8]()
    text.reserveCapacity(edges * 15)
    let nodes = 1_000_000.0
    for _ in 0..<edges {
        // Inverse-CDF draw of a power law with exponent ~2 over 1..nodes.
        let a = Int(nodes * pow(rng.nextUniform(), 2.2)), b = Int(nodes * pow(rng.nextUniform(), 3.0))
        text.append(contentsOf: Array("\(a)\t\(b)\n".utf8))
    }
    _ = FileManager.default.createFile(atPath: path + ".tmp", contents: Data(text))
    try? FileManager.default.moveItem(atPath: path + ".tmp", toPath: path)
    return path
}

/// The reader's answer checked against a byte scan of the file: as many data lines as lines that
/// are neither empty nor comments, and every one of them accounted for as an edge, a merged
/// duplicate or a dropped self-loop.
func checkEdgeList(_ name: String, path: String) {
    guard let data = FileManager.default.contents(atPath: path) else { failCheck(name, "cannot read \(path)") }
    var lines = 0, atLineStart = true, comment = false, content = false
    for byte in data {
        if atLineStart { comment = byte == UInt8(ascii: "#") || byte == UInt8(ascii: "%"); content = false; atLineStart = false }
        if byte == UInt8(ascii: "\n") {
            if content && !comment { lines += 1 }
            atLineStart = true
        } else if byte != UInt8(ascii: "\r") && byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") {
            content = true
        }
    }
    if !atLineStart && content && !comment { lines += 1 }
    let graph: EdgeList
    do { graph = try EdgeList.read(path: path) } catch { failCheck(name, "\(error)") }
    let s = graph.statistics
    let header = s.headerSkipped ? 1 : 0
    if s.dataLines + header != lines {
        failCheck(name, "\(s.dataLines) data lines read (header skipped: \(s.headerSkipped)), \(lines) in the file")
    }
    if graph.edgeCount + s.duplicatesMerged + s.selfLoopsDropped - s.reverseEdgesAdded != s.dataLines {
        failCheck(name, "\(graph.edgeCount) edges + \(s.duplicatesMerged) merged + \(s.selfLoopsDropped) dropped loops do not add up to \(s.dataLines) lines")
    }
}
