import Foundation

/// Rendering of ``CompressionResult`` lists: an aligned text table and the JSON report.
public enum CompressionReport {
    /// A text table, one line per result, with the batch-1 latency speed-up over the dataset's
    /// full model (`full latency / this latency`).
    public static func table(_ results: [CompressionResult]) -> String {
        let header = ["dataset", "method", "dim", "head", "task", "accuracy", "macroAUC", "params",
                      "lat1 ms", "lat256 ms", "speedup1", "offline s", "train s"]
        var rows = [header]
        for r in results {
            let full = results.first { $0.dataset == r.dataset && $0.method == "full" }
            let speedup = full.map { String(format: "%.1fx", $0.latencyMsBatch1 / r.latencyMsBatch1) } ?? "-"
            rows.append([r.dataset, r.method, "\(r.dim)", r.head, r.task, String(format: "%.4f", r.accuracy),
                         String(format: "%.4f", r.macroAUC), "\(r.parameters)", String(format: "%.4f", r.latencyMsBatch1),
                         String(format: "%.3f", r.latencyMsBatch256), speedup,
                         r.offlineSeconds.map { String(format: "%.3f", $0) } ?? "-", String(format: "%.1f", r.trainingSeconds)])
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c < 5 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// For each dataset: the best stored-embedding head at `dimension` against the full model
    /// (accuracy difference in points, batch-1 latency ratio), in words.
    public static func goalSummary(_ results: [CompressionResult], dimension: Int = 32) -> [String] {
        var lines = [String]()
        for dataset in Set(results.map(\.dataset)).sorted() {
            guard let full = results.first(where: { $0.dataset == dataset && $0.method == "full" }),
                  let best = results.filter({ $0.dataset == dataset && $0.method == "subnetwork" && $0.dim == dimension })
                      .max(by: { $0.accuracy < $1.accuracy }) else { continue }
            let gap = (full.accuracy - best.accuracy) * 100
            let speedup = full.latencyMsBatch1 / best.latencyMsBatch1
            lines.append(String(format: "%@: d=%d stored embeddings + %@ head: accuracy %.4f vs full %.4f (%.2f points %@), batch-1 latency %.4f ms vs %.4f ms (%.1fx); goal (<= 1 point, >= 5x) %@",
                                dataset, dimension, best.head, best.accuracy, full.accuracy, abs(gap), gap >= 0 ? "below" : "above",
                                best.latencyMsBatch1, full.latencyMsBatch1, speedup, gap <= 1 && speedup >= 5 ? "met" : "not met"))
        }
        return lines
    }

    /// The JSON report `{"results": [...], "configuration": {...}}`, pretty-printed with
    /// sorted keys.
    /// - Throws: an `EncodingError` if a value cannot be encoded (a NaN is written as `"nan"`).
    public static func json(_ results: [CompressionResult], configuration: [String: String]) throws -> Data {
        struct Document: Encodable { let results: [CompressionResult]; let configuration: [String: String] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(Document(results: results, configuration: configuration))
    }
}
