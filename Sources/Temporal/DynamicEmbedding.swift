import EmbeddingStore
import Foundation
import GraphData
import LinearAlgebra

/// One window of a dynamic run: what went in, what came out, how long it took.
public struct WindowSummary: Sendable, Codable, Equatable {
    public var index: Int
    public var label: String
    /// `[start, end)` in seconds since the epoch, and as UTC timestamps (the table's validity).
    public var start: Int64, end: Int64
    public var validFrom: String, validTo: String
    public var events: Int
    /// Accounts embedded and nonzeros of the window matrix (0 when skipped).
    public var accounts: Int, nonzeros: Int
    /// Procrustes fit onto the previous embedded window (`nil` for the first).
    public var alignmentResidual: Double?
    public var seconds: Double
    /// Why the window has no embedding (no events, too few accounts), or `nil`.
    public var skipped: String?

    enum CodingKeys: String, CodingKey {
        case index, label, start, end, events, accounts, nonzeros, seconds, skipped
        case validFrom = "valid_from", validTo = "valid_to", alignmentResidual = "alignment_residual"
    }
}

/// The result of ``DynamicEmbedding/run(_:options:log:)``.
public struct DynamicRun: Sendable {
    /// Every window, embedded or skipped.
    public var windows: [WindowSummary]
    /// The embedded windows' tables, each aligned onto the one before (so all share the first
    /// embedded window's frame), in window order; `tableWindows[i]` is the index of `tables[i]`'s window.
    public var tables: [EmbeddingTable]
    public var tableWindows: [Int]
    /// Drift between consecutive embedded windows.
    public var drift: [DriftReport]
    /// Seconds: windows' graphs and SVDs, alignment, drift, total.
    public var embedSeconds: Double, alignSeconds: Double, driftSeconds: Double, totalSeconds: Double
}

/// A dynamic embedding: one follow-graph SVD per window, each aligned onto the previous window by
/// orthogonal Procrustes over the accounts both share (or an anchor set), and a drift report per
/// consecutive pair.
public enum DynamicEmbedding {
    public struct Options: Sendable {
        public var windowing: Windowing
        public var embedding = TemporalEmbeddingConfiguration()
        /// Fit each alignment on these ids only (those present in both windows); `nil`: all shared ids.
        public var anchors: Set<String>? = nil
        public var drift = Drift.Options()
        public init(windowing: Windowing) { self.windowing = windowing }
    }

    /// Runs every window. `log` receives one progress line per window.
    /// - Throws: ``TemporalError`` when no window can be embedded; solver errors.
    public static func run(_ events: TemporalEvents, options: Options, log: (String) -> Void = { _ in }) throws -> DynamicRun {
        let start = Date()
        let windows = options.windowing.windows(of: events)
        var summaries = [WindowSummary]()
        var tables = [EmbeddingTable](), tableWindows = [Int](), drift = [DriftReport]()
        var previousDegrees = [String: Int]()
        var embedSeconds = 0.0, alignSeconds = 0.0, driftSeconds = 0.0
        for w in windows {
            let t0 = Date()
            var summary = WindowSummary(index: w.index, label: w.label, start: w.start, end: w.end,
                                        validFrom: TimeWindow.timestamp(w.start), validTo: TimeWindow.timestamp(w.end),
                                        events: w.eventCount, accounts: 0, nonzeros: 0, alignmentResidual: nil,
                                        seconds: 0, skipped: nil)
            defer { summaries.append(summary) }
            guard w.eventCount > 0 else {
                summary.skipped = "no events"
                log("window \(w.index) \(w.label): no events, skipped")
                continue
            }
            var halfLife: TimeSpan? = nil
            if case .decayed(_, let h) = options.windowing.kind { halfLife = h }
            let graph = try WindowGraph.build(events, range: w.firstEvent..<w.endEvent, configuration: options.embedding,
                                              halfLife: halfLife, reference: w.end)
            let extra: [String: JSONValue] = [
                "window": .string(w.label), "window_kind": .string(options.windowing.kind.description),
                "valid_from": .string(summary.validFrom), "valid_to": .string(summary.validTo),
                "window_start": .int(w.start), "window_end": .int(w.end), "events": .int(Int64(w.eventCount)),
            ]
            let embedding: WindowEmbedding
            do {
                embedding = try WindowEmbedder.embed(graph, ids: events.ids, configuration: options.embedding, extraParameters: extra)
            } catch let error as TemporalError {
                summary.skipped = error.problem
                log("window \(w.index) \(w.label): \(error.problem), skipped")
                continue
            }
            var table = embedding.table
            table.metadata.inputFile = events.source
            embedSeconds += Date().timeIntervalSince(t0)
            let degrees = partnerCounts(graph, embedding, ids: events.ids)
            summary.accounts = table.count
            summary.nonzeros = embedding.nonzeros
            if let previous = tables.last {
                let t1 = Date()
                let (aligned, fit) = try Procrustes.align(table, onto: previous, anchors: options.anchors)
                table = aligned
                summary.alignmentResidual = fit.relativeResidual
                let t2 = Date()
                alignSeconds += t2.timeIntervalSince(t1)
                let report = try Drift.measure(earlier: previous, later: table, alignment: fit, options: options.drift,
                                               degrees: (previousDegrees, degrees))
                drift.append(report)
                driftSeconds += Date().timeIntervalSince(t2)
            }
            summary.seconds = Date().timeIntervalSince(t0)
            tables.append(table); tableWindows.append(w.index)
            previousDegrees = degrees
            var line = "window \(w.index) \(w.label): \(w.eventCount) events, \(table.count) accounts, \(embedding.nonzeros) nonzeros, \(String(format: "%.2f", summary.seconds)) s"
            if let d = drift.last, tables.count > 1 {
                line += String(format: "; vs previous: %d shared, stability %.3f, overlap@%d %.3f", d.sharedAccounts, d.stability, d.overlapK, d.neighborOverlap)
            }
            log(line)
        }
        guard !tables.isEmpty else { throw TemporalError(file: events.source, "no window could be embedded (\(windows.count) windows)") }
        return DynamicRun(windows: summaries, tables: tables, tableWindows: tableWindows, drift: drift,
                          embedSeconds: embedSeconds, alignSeconds: alignSeconds, driftSeconds: driftSeconds,
                          totalSeconds: Date().timeIntervalSince(start))
    }

    /// Distinct partners of each embedded account in the window graph (out plus in for a directed graph).
    static func partnerCounts(_ graph: WindowGraph, _ embedding: WindowEmbedding, ids: IDMap) -> [String: Int] {
        let out = graph.adjacency.rowNonzeroCounts()
        let incoming = embedding.symmetric ? nil : graph.adjacency.columnNonzeroCounts()
        var result = [String: Int](minimumCapacity: embedding.rowNodes.count)
        for node in embedding.rowNodes.map(Int.init) + (embedding.symmetric ? [] : embedding.columnNodes.map(Int.init)) {
            result[ids[node]] = out[node] + (incoming?[node] ?? 0)
        }
        return result
    }
}

extension DynamicEmbedding {
    /// The anchor ids of a file with one id per line (`\n` or `\r\n`; blank lines skipped), for
    /// ``Options/anchors``.
    /// - Throws: ``TemporalError`` naming the file when it cannot be read or holds no id.
    public static func readAnchors(_ url: URL) throws -> Set<String> {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw TemporalError(file: url.path, "cannot read the anchor file (\(error.localizedDescription))")
        }
        let ids = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).map(String.init).filter { !$0.isEmpty }
        guard !ids.isEmpty else { throw TemporalError(file: url.path, "the anchor file holds no id") }
        return Set(ids)
    }
}
