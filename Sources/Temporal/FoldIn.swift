import EmbeddingStore
import Evaluation
import Foundation
import GraphData
import LinearAlgebra

/// Fold-in: vectors for accounts that an SVD embedding has not seen, from their interactions with
/// accounts it has, without refitting.
///
/// For the factorisation `D_r^-1/2 W D_c^-1/2 ≈ U S V'` an account with row `a` (its weights to
/// the embedded columns) gets `u = d_a^-1/2 (a D_c^-1/2) V S^-1`, with `d_a = sum(a) + tau_r`: the
/// normalisation in force, with the fit's `tau`. Its table row is `u S^1/2 = d_a^-1/2 (a D_c^-1/2) V S^-1/2`;
/// a directed embedding also folds in the in-side, `d_a'^-1/2 (a' D_r^-1/2) U S^-1/2` from the
/// account's column `a'`.
public enum FoldIn {
    /// Folds in `nodes` (indices into `ids`) from their entries in `graph` (a window graph over the
    /// same ids whose rows/columns include the new accounts' interactions). Accounts with no
    /// interaction with an embedded account get no vector and are returned in `unreachable`.
    /// - Complexity: O(entries of the folded rows x dimension).
    public static func vectors(for nodes: [Int32], graph: WindowGraph, base: WindowEmbedding, ids: IDMap) throws
        -> (table: EmbeddingTable, unreachable: [Int32]) {
        let k = base.s.count
        let halfRoots = base.s.map { $0 > 0 ? 1 / $0.squareRoot() : 0 }
        var columnOf = [Int32: Int](), rowOf = [Int32: Int]()
        for (j, node) in base.columnNodes.enumerated() { columnOf[node] = j }
        for (i, node) in base.rowNodes.enumerated() { rowOf[node] = i }
        let w = graph.adjacency
        let wt = base.symmetric ? nil : w.transposed()
        let width = base.symmetric ? k : 2 * k
        var kept = [Int32](), unreachable = [Int32]()
        var rows = [[Float]]()
        // side: the node's row of `m`, projected on `factor` (rows indexed by `index`), scaled by `scale`.
        func project(_ m: CSRMatrix<Float>, _ node: Int, index: [Int32: Int], factor: Matrix<Float>, scale: [Float], tau: Float) -> [Float]? {
            var x = [Float](repeating: 0, count: k)
            var degree: Float = 0, hits = 0
            for e in Int(m.rowOffsets[node])..<Int(m.rowOffsets[node + 1]) {
                guard let j = index[m.columnIndices[e]] else { continue }
                let value = m.values[e]
                degree += value; hits += 1
                let c = value * scale[j]
                for l in 0..<k { x[l] += c * factor[j, l] }
            }
            guard hits > 0, degree + tau > 0 else { return nil }
            let d = 1 / (degree + tau).squareRoot()
            return (0..<k).map { x[$0] * d * halfRoots[$0] }
        }
        for node in nodes {
            let out = project(w, Int(node), index: columnOf, factor: base.v, scale: base.columnScale, tau: base.rowTau)
            if base.symmetric {
                guard let out else { unreachable.append(node); continue }
                rows.append(out)
            } else {
                let incoming = project(wt!, Int(node), index: rowOf, factor: base.u, scale: base.rowScale, tau: base.columnTau)
                guard out != nil || incoming != nil else { unreachable.append(node); continue }
                rows.append((out ?? [Float](repeating: 0, count: k)) + (incoming ?? [Float](repeating: 0, count: k)))
            }
            kept.append(node)
        }
        var vectors = Matrix<Float>(rows: rows.count, columns: width)
        for (i, r) in rows.enumerated() { vectors.setRow(i, r) }
        var meta = base.table.metadata
        meta.algorithm += ", folded in"
        return (try EmbeddingTable(ids: kept.map { ids[Int($0)] }, vectors: vectors, metadata: meta), unreachable)
    }

    /// `base`'s table with `folded`'s rows: appended for new ids, replacing `base`'s row for ids both hold.
    public static func merged(_ base: EmbeddingTable, _ folded: EmbeddingTable) throws -> EmbeddingTable {
        let extra = folded.ids.indices.filter { base.row(of: folded.ids[$0]) == nil }
        var vectors = Matrix<Float>(rows: base.count + extra.count, columns: base.dimension)
        for j in 0..<base.dimension {
            for i in 0..<base.count { vectors[i, j] = base.vectors[i, j] }
            for (r, i) in extra.enumerated() { vectors[base.count + r, j] = folded.vectors[i, j] }
        }
        for (i, id) in folded.ids.enumerated() {
            if let r = base.row(of: id) { for j in 0..<base.dimension { vectors[r, j] = folded.vectors[i, j] } }
        }
        return try EmbeddingTable(ids: base.ids + extra.map { folded.ids[$0] }, vectors: vectors, metadata: base.metadata)
    }
}

/// The fold-in benchmark's result.
public struct FoldInReport: Sendable, Codable, Equatable {
    public var source: String
    /// The base embedding sees events before `baseEnd`; new accounts first interact in `[baseEnd, end)`;
    /// the refit sees every event before `end`; link prediction scores `[end, end + horizon)`.
    public var baseEnd: String, end: String, horizon: String
    public var setting: String
    public var newAccounts: Int, foldedIn: Int, unreachable: Int
    /// Accounts of the base that interacted again in the recent period and were folded in again
    /// from their updated rows (0 when only new accounts are folded in).
    public var changedAccounts: Int
    public var positives: Int, negatives: Int
    /// Link-prediction AUC of pairs with a new account: fold-in (base + folded vectors) and refit.
    public var foldInAUC: Double, refitAUC: Double
    /// Mean cosine between a folded vector and the same account's refit vector aligned onto the base
    /// (Procrustes over the base's accounts).
    public var meanCosineToRefit: Double
    /// Seconds: fold-in (projection only), refit (window graph and SVD), base fit.
    public var foldInSeconds: Double, refitSeconds: Double, baseSeconds: Double

    enum CodingKeys: String, CodingKey {
        case source, horizon, setting, positives, negatives, unreachable
        case baseEnd = "base_end", end, newAccounts = "new_accounts", foldedIn = "folded_in", changedAccounts = "changed_accounts"
        case foldInAUC = "fold_in_auc", refitAUC = "refit_auc", meanCosineToRefit = "mean_cosine_to_refit"
        case foldInSeconds = "fold_in_seconds", refitSeconds = "refit_seconds", baseSeconds = "base_seconds"
    }
}

extension FoldIn {
    /// Fold-in against a refit: embed the events before `end - recent` (the base), fold in the accounts
    /// whose first interaction falls in `[end - recent, end)`, refit on every event before `end`, and
    /// score the pairs with a new account that first interact in `[end, end + horizon)` against as
    /// many random pairs of a new account and an active one, with both embeddings. With
    /// `refoldChanged` (default) the base's accounts that interacted in `[end - recent, end)` are
    /// folded in again from their updated rows, so that the vectors new accounts are compared with
    /// are as fresh as the refit's.
    public static func benchmark(_ events: TemporalEvents, end: Int64, recent: TimeSpan, horizon: TimeSpan,
                                 setting: TemporalSetting = .cumulative, configuration: TemporalEmbeddingConfiguration,
                                 refoldChanged: Bool = true, seed: UInt64 = 0, log: (String) -> Void = { _ in }) throws -> FoldInReport {
        let baseEnd = end - recent.seconds
        let t0 = Date()
        let base = try setting.embed(events, before: baseEnd, configuration: configuration)
        let baseSeconds = Date().timeIntervalSince(t0)
        // New accounts: first event in [baseEnd, end).
        var firstSeen = [Int64](repeating: .max, count: events.nodeCount)
        for k in 0..<events.firstIndex(atOrAfter: end) where events.sources[k] != events.targets[k] {
            for node in [Int(events.sources[k]), Int(events.targets[k])] where firstSeen[node] == .max { firstSeen[node] = events.times[k] }
        }
        let newNodes = firstSeen.indices.filter { firstSeen[$0] >= baseEnd && firstSeen[$0] < end }.map(Int32.init)
        guard !newNodes.isEmpty else { throw TemporalError(file: events.source, "fold-in: no account first appears in the last \(recent) before \(TimeWindow.date(end))") }

        // Fold-in: the graph of the setting's events before `end` (the new accounts' rows), projected.
        let t1 = Date()
        let (range, halfLife) = setting.eventRange(events, before: end)
        let recentGraph = try WindowGraph.build(events, range: range, configuration: configuration, halfLife: halfLife, reference: end)
        var changed = [Int32]()
        if refoldChanged {
            var touched = [Bool](repeating: false, count: events.nodeCount)
            for k in events.eventRange(from: baseEnd, to: end) { touched[Int(events.sources[k])] = true; touched[Int(events.targets[k])] = true }
            changed = base.table.ids.compactMap { events.ids.index(ofID: $0) }.filter { touched[Int($0)] }
        }
        let (folded, unreachable) = try vectors(for: newNodes + changed, graph: recentGraph, base: base, ids: events.ids)
        let foldInSeconds = Date().timeIntervalSince(t1)
        let combined = try merged(base.table, folded)

        let t2 = Date()
        let refit = try setting.embed(events, before: end, configuration: configuration)
        let refitSeconds = Date().timeIntervalSince(t2)

        // Pairs with a new (folded-in) account first interacting in [end, end + horizon).
        let isNew = Set(folded.ids.compactMap { events.ids.index(ofID: $0) }).subtracting(changed)
        var seen = Set<UInt64>()
        for k in 0..<events.firstIndex(atOrAfter: end) { seen.insert(LinkPrediction.key(events.sources[k], events.targets[k])) }
        var positives = [(Int32, Int32)](), future = Set<UInt64>()
        for k in events.eventRange(from: end, to: end + horizon.seconds) {
            let a = events.sources[k], b = events.targets[k]
            let pair = LinkPrediction.key(a, b)
            guard a != b, isNew.contains(a) || isNew.contains(b), future.insert(pair).inserted, !seen.contains(pair) else { continue }
            if combined.row(of: events.ids[Int(a)]) != nil && combined.row(of: events.ids[Int(b)]) != nil { positives.append((a, b)) }
        }
        guard !positives.isEmpty else { throw TemporalError(file: events.source, "fold-in: no new pair with a new account in the \(horizon) after \(TimeWindow.date(end))") }
        let newList = Array(isNew).sorted()
        let pool = combined.ids.compactMap { events.ids.index(ofID: $0) }
        var rng = Xoshiro256(seed: seed)
        var negatives = [(Int32, Int32)](), drawn = Set<UInt64>()
        var attempts = 0
        while negatives.count < positives.count && attempts < 100 * positives.count {
            attempts += 1
            let a = newList[Int(rng.next() % UInt64(newList.count))], b = pool[Int(rng.next() % UInt64(pool.count))]
            let pair = LinkPrediction.key(a, b)
            if a == b || seen.contains(pair) || future.contains(pair) || !drawn.insert(pair).inserted { continue }
            negatives.append((a, b))
        }
        let labels = [Bool](repeating: true, count: positives.count) + [Bool](repeating: false, count: negatives.count)
        let all = positives + negatives
        let foldAUC = try ROCAUC.score(LinkPrediction.cosineScores(all, table: combined, ids: events.ids).scores, labels: labels)
        let refitAUC = try ROCAUC.score(LinkPrediction.cosineScores(all, table: refit.table, ids: events.ids).scores, labels: labels)

        // Vector agreement: refit aligned onto the base, cosine with the folded vectors.
        let (alignedRefit, _) = try Procrustes.align(refit.table, onto: base.table)
        var cosines = [Double]()
        for (i, id) in folded.ids.enumerated() {
            guard let node = events.ids.index(ofID: id), isNew.contains(node), let r = alignedRefit.row(of: id) else { continue }
            let a = folded.vector(at: i), b = alignedRefit.vector(at: r)
            var dot = 0.0, na = 0.0, nb = 0.0
            for j in a.indices { dot += Double(a[j] * b[j]); na += Double(a[j] * a[j]); nb += Double(b[j] * b[j]) }
            if na > 0 && nb > 0 { cosines.append(dot / (na * nb).squareRoot()) }
        }
        log("fold-in: \(newNodes.count) new accounts, \(folded.count) folded in in \(String(format: "%.3f", foldInSeconds)) s; refit \(String(format: "%.2f", refitSeconds)) s; AUC fold-in \(String(format: "%.4f", foldAUC)) refit \(String(format: "%.4f", refitAUC)) on \(positives.count) new pairs")
        return FoldInReport(source: events.source, baseEnd: TimeWindow.date(baseEnd), end: TimeWindow.date(end), horizon: horizon.description,
                            setting: setting.description, newAccounts: newNodes.count, foldedIn: isNew.count,
                            unreachable: unreachable.count, changedAccounts: changed.count, positives: positives.count, negatives: negatives.count,
                            foldInAUC: foldAUC, refitAUC: refitAUC,
                            meanCosineToRefit: cosines.isEmpty ? 0 : cosines.reduce(0, +) / Double(cosines.count),
                            foldInSeconds: foldInSeconds, refitSeconds: refitSeconds, baseSeconds: baseSeconds)
    }
}
