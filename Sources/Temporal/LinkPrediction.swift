import EmbeddingStore
import Evaluation
import Foundation
import GraphData
import LinearAlgebra

/// Which events an embedding made at time `t` sees.
public enum TemporalSetting: Sendable, Equatable, CustomStringConvertible, Hashable {
    /// The events of `[t - width, t)` only.
    case window(TimeSpan)
    /// Every event before `t`, weighted `2^(-(t - time) / halfLife)`.
    case decayed(halfLife: TimeSpan)
    /// Every event before `t`, unweighted: the static embedding refit on all history.
    case cumulative
    /// Every event before `t` (weighted with `halfLife` when given), but only the accounts with an
    /// event in `[t - within, t)` keep a vector: full-history vectors for the currently active accounts.
    case active(within: TimeSpan, halfLife: TimeSpan?)

    /// The default dynamic setting: vectors from all history, for the accounts active in the last
    /// 365 days (measured best on sx-mathoverflow and bitcoin-otc; README, temporal section).
    public static let defaultDynamic = TemporalSetting.active(within: TimeSpan(seconds: 365 * 86_400), halfLife: nil)

    public var description: String {
        switch self {
        case .window(let w): return "window \(w)"
        case .decayed(let h): return "decayed half-life \(h)"
        case .cumulative: return "cumulative"
        case .active(let w, let h): return "active \(w)" + (h.map { ", decayed \($0)" } ?? "")
        }
    }

    /// Parses `window:180d`, `decayed:90d`, `cumulative`, `active:365d` or `active:365d/180d`
    /// (active within 365 days, history decayed with a 180-day half-life).
    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch (parts.first, parts.count) {
        case ("cumulative", 1): self = .cumulative
        case ("window", 2): guard let w = TimeSpan(parts[1]) else { return nil }; self = .window(w)
        case ("decayed", 2): guard let h = TimeSpan(parts[1]) else { return nil }; self = .decayed(halfLife: h)
        case ("active", 2):
            let spans = parts[1].split(separator: "/").map { TimeSpan(String($0)) }
            guard (1...2).contains(spans.count), let w = spans[0], spans.count == 1 || spans[1] != nil else { return nil }
            self = .active(within: w, halfLife: spans.count == 2 ? spans[1] : nil)
        default: return nil
        }
    }

    /// The events before `t` this setting embeds, and the half-life of their weights.
    func eventRange(_ events: TemporalEvents, before t: Int64) -> (Range<Int>, TimeSpan?) {
        switch self {
        case .window(let w): return (events.eventRange(from: t - w.seconds, to: t), nil)
        case .decayed(let h): return (0..<events.firstIndex(atOrAfter: t), h)
        case .cumulative: return (0..<events.firstIndex(atOrAfter: t), nil)
        case .active(_, let h): return (0..<events.firstIndex(atOrAfter: t), h)
        }
    }

    /// Embeds the events this setting sees before `t`.
    public func embed(_ events: TemporalEvents, before t: Int64, configuration: TemporalEmbeddingConfiguration) throws -> WindowEmbedding {
        let (range, halfLife) = eventRange(events, before: t)
        let graph = try WindowGraph.build(events, range: range, configuration: configuration, halfLife: halfLife, reference: t)
        var embedding = try WindowEmbedder.embed(graph, ids: events.ids, configuration: configuration,
                                                 extraParameters: ["setting": .string(description), "before": .string(TimeWindow.timestamp(t))])
        if case .active(let within, _) = self {
            var active = [Bool](repeating: false, count: events.nodeCount)
            for k in events.eventRange(from: t - within.seconds, to: t) where events.sources[k] != events.targets[k] {
                active[Int(events.sources[k])] = true; active[Int(events.targets[k])] = true
            }
            let table = embedding.table
            let rows = table.ids.indices.filter { events.ids.index(ofID: table.ids[$0]).map { active[Int($0)] } ?? false }
            embedding.table = try EmbeddingTable(ids: rows.map { table.ids[$0] }, vectors: Procrustes.gatherRows(table.vectors, rows),
                                                 metadata: table.metadata)
        }
        return embedding
    }
}

/// Scores of one split time.
public struct LinkPredictionSplit: Sendable, Codable, Equatable {
    /// The split: embeddings see events before `time`; positives first appear in `[time, time + horizon)`.
    public var time: Int64
    public var date: String
    public var positives: Int, negatives: Int
    /// ROC-AUC per setting (by its description).
    public var auc: [String: Double]
    /// Fraction of the evaluated pairs whose both accounts the setting's embedding holds (others score 0).
    public var coverage: [String: Double]
    /// Seconds to embed, per setting.
    public var seconds: [String: Double]
}

/// The temporal link-prediction benchmark's result.
public struct LinkPredictionReport: Sendable, Codable, Equatable {
    public var source: String
    public var horizon: String
    public var settings: [String]
    public var splits: [LinkPredictionSplit]
    /// Mean AUC over the splits, per setting.
    public var meanAUC: [String: Double]
    public var seed: UInt64

    enum CodingKeys: String, CodingKey {
        case source, horizon, settings, splits, seed
        case meanAUC = "mean_auc"
    }
}

/// Temporal link prediction (the benchmark that says whether fresher embeddings are better): embed
/// the events before `t`, score the account pairs that first interact in `[t, t + horizon)` against
/// as many random pairs that never interact up to `t + horizon` by the cosine of their vectors,
/// and report ROC-AUC. Pairs are unordered; both accounts must have interacted before `t` (new
/// accounts are the fold-in's business, ``FoldIn``).
public enum LinkPrediction {
    public struct Options: Sendable, Equatable {
        /// The split times; `nil`: `splitCount` times evenly spaced over the last half of the timeline
        /// (the last one `horizon` before the last event).
        public var splits: [Int64]? = nil
        public var splitCount = 4
        public var horizon = TimeSpan(seconds: 90 * 86_400)
        /// The settings compared.
        public var settings: [TemporalSetting] = [.window(TimeSpan(seconds: 365 * 86_400)), .decayed(halfLife: TimeSpan(seconds: 180 * 86_400)),
                                                  TemporalSetting.defaultDynamic, .cumulative]
        public var embedding = TemporalEmbeddingConfiguration()
        /// Positives sampled per split at most (negatives match them).
        public var maximumPairs = 20_000
        public var seed: UInt64 = 0
        public init() {}
    }

    /// Split times evenly spaced over the last half of `events`' timeline.
    public static func defaultSplits(_ events: TemporalEvents, count: Int, horizon: TimeSpan) -> [Int64] {
        guard let r = events.timeRange, count > 0 else { return [] }
        let first = r.lowerBound + (r.upperBound - r.lowerBound) / 2
        let last = r.upperBound - horizon.seconds
        guard last > first else { return [last] }
        if count == 1 { return [last] }
        return (0..<count).map { first + (last - first) * Int64($0) / Int64(count - 1) }
    }

    /// An unordered pair's key.
    @inline(__always) static func key(_ a: Int32, _ b: Int32) -> UInt64 {
        let (lo, hi) = a < b ? (a, b) : (b, a)
        return UInt64(UInt32(bitPattern: lo)) << 32 | UInt64(UInt32(bitPattern: hi))
    }

    /// The evaluation pairs at `t`: positives first appearing in `[t, t + horizon)` between accounts
    /// active before `t`, and as many random never-interacting pairs among those accounts.
    public static func pairs(_ events: TemporalEvents, at t: Int64, horizon: TimeSpan, maximum: Int, seed: UInt64)
        -> (positives: [(Int32, Int32)], negatives: [(Int32, Int32)]) {
        let trainEnd = events.firstIndex(atOrAfter: t)
        let testRange = events.eventRange(from: t, to: t + horizon.seconds)
        var seen = Set<UInt64>(minimumCapacity: trainEnd)
        var active = [Bool](repeating: false, count: events.nodeCount)
        for k in 0..<trainEnd where events.sources[k] != events.targets[k] {
            seen.insert(key(events.sources[k], events.targets[k]))
            active[Int(events.sources[k])] = true; active[Int(events.targets[k])] = true
        }
        var positives = [(Int32, Int32)]()
        var future = Set<UInt64>()
        for k in testRange {
            let a = events.sources[k], b = events.targets[k]
            guard a != b else { continue }
            let pair = key(a, b)
            if future.insert(pair).inserted && !seen.contains(pair) && active[Int(a)] && active[Int(b)] {
                positives.append((a, b))
            }
        }
        var rng = Xoshiro256(seed: seed ^ UInt64(bitPattern: t))
        if positives.count > maximum {
            for i in 0..<maximum { positives.swapAt(i, i + Int(rng.next() % UInt64(positives.count - i))) }
            positives.removeLast(positives.count - maximum)
        }
        let pool = active.indices.filter { active[$0] }.map(Int32.init)
        var negatives = [(Int32, Int32)]()
        var drawn = Set<UInt64>()
        var attempts = 0
        while negatives.count < positives.count && pool.count > 1 && attempts < 100 * max(positives.count, 1) {
            attempts += 1
            let a = pool[Int(rng.next() % UInt64(pool.count))], b = pool[Int(rng.next() % UInt64(pool.count))]
            let pair = key(a, b)
            if a == b || seen.contains(pair) || future.contains(pair) || !drawn.insert(pair).inserted { continue }
            negatives.append((a, b))
        }
        return (positives, negatives)
    }

    /// Cosine similarities of `pairs` (node indices) in `table`; 0 when either account is absent.
    /// Also returns the fraction of pairs with both accounts present.
    public static func cosineScores(_ pairs: [(Int32, Int32)], table: EmbeddingTable, ids: IDMap) -> (scores: [Double], coverage: Double) {
        var rowOfNode = [Int: Int]()
        for (row, id) in table.ids.enumerated() { if let node = ids.index(ofID: id) { rowOfNode[Int(node)] = row } }
        var present = [Int](), a = [Int](), b = [Int]()
        for (i, (u, v)) in pairs.enumerated() {
            if let ru = rowOfNode[Int(u)], let rv = rowOfNode[Int(v)] { present.append(i); a.append(ru); b.append(rv) }
        }
        var scores = [Double](repeating: 0, count: pairs.count)
        for (i, s) in zip(present, table.cosineSimilarities(rowsA: a, rowsB: b)) { scores[i] = s }
        return (scores, pairs.isEmpty ? 0 : Double(present.count) / Double(pairs.count))
    }

    /// Runs the benchmark. `log` receives one line per split and setting.
    /// - Throws: ``TemporalError`` when a split has no positive pairs; embedding errors.
    public static func run(_ events: TemporalEvents, options o: Options = .init(), log: (String) -> Void = { _ in }) throws -> LinkPredictionReport {
        let splits = o.splits ?? defaultSplits(events, count: o.splitCount, horizon: o.horizon)
        var results = [LinkPredictionSplit]()
        for t in splits {
            let (positives, negatives) = pairs(events, at: t, horizon: o.horizon, maximum: o.maximumPairs, seed: o.seed)
            guard !positives.isEmpty, !negatives.isEmpty else {
                throw TemporalError(file: events.source, "link prediction at \(TimeWindow.date(t)): no new pairs in the \(o.horizon) after it")
            }
            let labels = [Bool](repeating: true, count: positives.count) + [Bool](repeating: false, count: negatives.count)
            var split = LinkPredictionSplit(time: t, date: TimeWindow.date(t), positives: positives.count,
                                            negatives: negatives.count, auc: [:], coverage: [:], seconds: [:])
            for setting in o.settings {
                let start = Date()
                let embedding = try setting.embed(events, before: t, configuration: o.embedding)
                let seconds = Date().timeIntervalSince(start)
                let (scores, coverage) = cosineScores(positives + negatives, table: embedding.table, ids: events.ids)
                let auc = try ROCAUC.score(scores, labels: labels)
                split.auc[setting.description] = auc
                split.coverage[setting.description] = coverage
                split.seconds[setting.description] = seconds
                log("split \(split.date) (\(positives.count) new pairs): \(setting) AUC \(String(format: "%.4f (coverage %.3f, %.2f s)", auc, coverage, seconds))")
            }
            results.append(split)
        }
        var mean = [String: Double]()
        for s in o.settings { mean[s.description] = results.map { $0.auc[s.description]! }.reduce(0, +) / Double(results.count) }
        return LinkPredictionReport(source: events.source, horizon: o.horizon.description, settings: o.settings.map(\.description),
                                    splits: results, meanAUC: mean, seed: o.seed)
    }
}

extension LinkPrediction {
    /// The split times a user gives (each `yyyy-mm-dd` or unix seconds), or `count`
    /// ``defaultSplits(_:count:horizon:)`` when none are given.
    /// - Throws: ``TemporalError`` naming the first time that does not parse.
    public static func splitTimes(_ events: TemporalEvents, given: [String], count: Int, horizon: TimeSpan) throws -> [Int64] {
        if given.isEmpty { return defaultSplits(events, count: count, horizon: horizon) }
        return try given.map {
            guard let t = TimeWindow.parseTime($0) else { throw TemporalError("time \($0): expected yyyy-mm-dd or unix seconds") }
            return t
        }
    }
}
