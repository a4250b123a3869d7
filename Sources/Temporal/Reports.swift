import EmbeddingStore
import Foundation

/// Files and text of the temporal jobs, so that the tool stays argument parsing and glue.
public enum TemporalOutput {
    /// Pretty, key-sorted JSON of `value`, written atomically to `url`.
    public static func writeJSON<T: Encodable>(_ value: T, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try encoder.encode(value).write(to: url, options: .atomic)
    }

    /// The summary of a dynamic run written beside its tables.
    public struct RunSummary: Codable, Sendable {
        public var source: String
        public var events: Int, accounts: Int
        public var windowKind: String
        public var parameters: [String: JSONValue]
        public var windows: [WindowSummary]
        public var seconds: [String: Double]
        enum CodingKeys: String, CodingKey {
            case source, events, accounts, parameters, windows, seconds
            case windowKind = "window_kind"
        }
    }

    /// Writes `run` under `directory`: `window-NNN/` (aligned table per embedded window),
    /// `windows.json` (``RunSummary``) and `drift.json` (one ``DriftReport`` per consecutive pair).
    public static func write(_ run: DynamicRun, events: TemporalEvents, options: DynamicEmbedding.Options, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (table, index) in zip(run.tables, run.tableWindows) {
            try table.write(to: directory.appendingPathComponent(tableName(index)))
        }
        let summary = RunSummary(source: events.source, events: events.count, accounts: events.nodeCount,
                                 windowKind: options.windowing.kind.description, parameters: options.embedding.parameters,
                                 windows: run.windows,
                                 seconds: ["embed": run.embedSeconds, "align": run.alignSeconds, "drift": run.driftSeconds, "total": run.totalSeconds])
        try writeJSON(summary, to: directory.appendingPathComponent("windows.json"))
        try writeJSON(run.drift, to: directory.appendingPathComponent("drift.json"))
    }

    /// `window-007` for window 7.
    public static func tableName(_ index: Int) -> String { "window-" + String(format: "%03d", index) }

    /// A text table of drift reports, one line per window pair.
    public static func driftTable(_ reports: [DriftReport]) -> String {
        var lines = ["from -> to                                          shared   new  stability  overlap@k  p90 disp  top mover"]
        for r in reports {
            let mover = r.topMovers.first.map { "\($0.id) (\(String(format: "%.2f", $0.displacement)))" } ?? "-"
            lines.append("\(r.from) -> \(r.to)".padding(toLength: 50, withPad: " ", startingAt: 0)
                         + String(format: " %7d %5d %10.3f %10.3f %9.3f  ", r.sharedAccounts, r.newAccounts, r.stability, r.neighborOverlap, r.p90Displacement)
                         + mover)
        }
        return lines.joined(separator: "\n")
    }

    /// A text table of link-prediction AUCs: one row per split, one column per setting, then the means.
    public static func linkPredictionTable(_ report: LinkPredictionReport) -> String {
        let header = "split        pairs  " + report.settings.map { $0.padding(toLength: 24, withPad: " ", startingAt: 0) }.joined()
        var lines = [header]
        for s in report.splits {
            lines.append(s.date.padding(toLength: 11, withPad: " ", startingAt: 0) + String(format: " %6d  ", s.positives)
                         + report.settings.map { String(format: "%.4f (cov %.2f)", s.auc[$0] ?? .nan, s.coverage[$0] ?? .nan).padding(toLength: 24, withPad: " ", startingAt: 0) }.joined())
        }
        lines.append("mean" + String(repeating: " ", count: 15) + report.settings.map { String(format: "%.4f", report.meanAUC[$0] ?? .nan).padding(toLength: 24, withPad: " ", startingAt: 0) }.joined())
        return lines.joined(separator: "\n")
    }

    /// A text table of fold-in reports, one line per end, then the means.
    public static func foldInTable(_ reports: [FoldInReport]) -> String {
        var lines = ["end          new  folded  pairs  fold-in AUC  refit AUC  difference  cos to refit  fold-in s  refit s"]
        for r in reports {
            lines.append(r.end.padding(toLength: 11, withPad: " ", startingAt: 0)
                         + String(format: " %5d %7d %6d %12.4f %10.4f %+11.4f %13.3f %10.3f %8.2f", r.newAccounts, r.foldedIn, r.positives,
                                  r.foldInAUC, r.refitAUC, r.foldInAUC - r.refitAUC, r.meanCosineToRefit, r.foldInSeconds, r.refitSeconds))
        }
        func mean(_ f: (FoldInReport) -> Double) -> Double { reports.map(f).reduce(0, +) / Double(max(reports.count, 1)) }
        lines.append("mean" + String(repeating: " ", count: 28) + String(format: "%12.4f %10.4f %+11.4f %13.3f %10.3f %8.2f",
                     mean(\.foldInAUC), mean(\.refitAUC), mean { $0.foldInAUC - $0.refitAUC }, mean(\.meanCosineToRefit),
                     mean(\.foldInSeconds), mean(\.refitSeconds)))
        return lines.joined(separator: "\n")
    }
}
