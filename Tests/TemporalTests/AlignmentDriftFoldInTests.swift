import EmbeddingStore
import Foundation
import GraphData
import LinearAlgebra
import Testing
@testable import Temporal

@Suite struct ProcrustesTests {
    @Test(arguments: [(200, 8), (1000, 32)])
    func recoversAKnownRotation(n: Int, d: Int) throws {
        let x = Matrix<Float>.gaussian(rows: n, columns: d, seed: 11)
        let q = try Matrix<Float>.gaussian(rows: d, columns: d, seed: 12).qr().q   // a random orthogonal matrix
        let y = Matrix.product(x, .none, q, .none)
        let r = try Procrustes.rotation(from: x, onto: y)
        let tolerance = Float(d) * 100 * Float.ulpOfOne
        #expect((r - q).maxAbs < tolerance)
        #expect((Matrix.product(r, .transpose, r, .none) - .identity(d)).maxAbs < tolerance)
    }

    @Test func alignsTablesOverSharedIDsOrAnchorsAndKeepsCosines() throws {
        let n = 300, d = 6
        let x = Matrix<Float>.gaussian(rows: n, columns: d, seed: 3)
        let q = try Matrix<Float>.gaussian(rows: d, columns: d, seed: 4).qr().q
        let meta = EmbeddingMetadata(entityType: "account", algorithm: "test")
        let reference = try EmbeddingTable(ids: (0..<n).map { "id\($0)" }, vectors: x, metadata: meta)
        // The later table: rows reversed, rotated, plus 20 accounts the reference lacks.
        let extra = Matrix<Float>.gaussian(rows: 20, columns: d, seed: 5)
        var rotated = Matrix<Float>(rows: n + 20, columns: d)
        let xq = Matrix.product(x, .none, q, .transpose)   // x = (x Q') Q
        for i in 0..<n { rotated.setRow(i, xq.row(n - 1 - i)) }
        for i in 0..<20 { rotated.setRow(n + i, extra.row(i)) }
        let ids = (0..<n).map { "id\(n - 1 - $0)" } + (0..<20).map { "new\($0)" }
        let later = try EmbeddingTable(ids: ids, vectors: rotated, metadata: meta)
        for anchors in [nil, Set((0..<50).map { "id\($0)" })] {
            let (aligned, fit) = try Procrustes.align(later, onto: reference, anchors: anchors)
            #expect(fit.fittedOn == (anchors == nil ? n : 50))
            #expect(fit.relativeResidual < 1e-5)
            for i in [0, 17, 299] {
                let got = aligned.vector(for: "id\(i)")!, want = x.row(i)
                #expect(zip(got, want).allSatisfy { abs($0 - $1) < 1e-4 * (1 + abs($1)) })
            }
            // A rotation leaves every cosine inside the table unchanged, new accounts included.
            #expect(abs(aligned.cosineSimilarity(300, 5) - later.cosineSimilarity(300, 5)) < 1e-5)
        }
        #expect(throws: TemporalError.self) { try Procrustes.align(later, onto: reference, anchors: ["id1", "id2"]) }
    }
}

@Suite struct DriftTests {
    /// Two 60-day windows of three communities; in the second, accounts g0-0...g0-4 join community 2.
    @Test func plantedCommunityChangeTopsTheMovers() throws {
        let switched = (0..<5).map { "g0-\($0)" }
        var lines = plantedEvents(events: 8000, start: 0, span: 60 * day, seed: 21)
        lines += plantedEvents(events: 8000, start: 60 * day, span: 60 * day,
                               membership: Dictionary(uniqueKeysWithValues: switched.map { ($0, 2) }), seed: 22)
        let events = try TemporalEvents.read(string: eventText(lines), name: "planted.tsv")
        var o = DynamicEmbedding.Options(windowing: Windowing(kind: .tumbling(TimeSpan(seconds: 60 * day)), origin: 0))
        o.embedding.dimension = 3
        o.drift.topMovers = 5
        let run = try DynamicEmbedding.run(events, options: o)
        #expect(run.tables.count == 2)
        let report = try #require(run.drift.first)
        #expect(Set(report.topMovers.map(\.id)) == Set(switched))
        #expect(report.topMovers.allSatisfy { $0.displacement > 0.5 && $0.neighborOverlap < 0.3 })
        // Everyone else barely moved: the median displacement is small and neighbourhoods are kept.
        #expect(report.medianDisplacement < 0.05)
        #expect(report.neighborOverlap > 0.15)  // 10 of 39 same-community peers, drawn at random among near-ties
        #expect(report.sharedAccounts == 120 && report.newAccounts == 0)
        let data = try JSONEncoder().encode(report)
        #expect(try JSONDecoder().decode(DriftReport.self, from: data) == report)
    }
}

@Suite struct FoldInTests {
    /// A window graph small enough that the randomized SVD falls back to LAPACK's exact gesdd.
    func smallEmbedding() throws -> (TemporalEvents, WindowGraph, WindowEmbedding) {
        let events = try TemporalEvents.read(string: eventText(plantedEvents(groups: 2, size: 12, events: 400, seed: 5)), name: "small.tsv")
        var c = TemporalEmbeddingConfiguration()
        c.dimension = 6; c.weighting = .count; c.oversamples = 20  // 26 >= 24 accounts: exact dense SVD
        let graph = try WindowGraph.build(events, range: 0..<events.count, configuration: c)
        return (events, graph, try WindowEmbedder.embed(graph, ids: events.ids, configuration: c))
    }

    @Test func foldingInAnEmbeddedAccountReproducesItsVector() throws {
        let (events, graph, base) = try smallEmbedding()
        #expect(base.diagnostics.usedDenseSVD)
        let nodes = Array(base.rowNodes.prefix(5))
        let (folded, unreachable) = try FoldIn.vectors(for: nodes, graph: graph, base: base, ids: events.ids)
        #expect(unreachable.isEmpty)
        for (i, id) in folded.ids.enumerated() {
            let want = base.table.vector(for: id)!, got = folded.vector(at: i)
            let scale = want.map { abs($0) }.max()!
            #expect(zip(got, want).allSatisfy { abs($0 - $1) < 1e3 * Float.ulpOfOne * scale })
        }
    }

    @Test func directedFoldInReproducesBothSides() throws {
        let events = try TemporalEvents.read(string: eventText(plantedEvents(groups: 2, size: 12, events: 400, seed: 6)), name: "d.tsv")
        var c = TemporalEmbeddingConfiguration()
        c.dimension = 5; c.symmetric = false; c.weighting = .count; c.oversamples = 20
        let graph = try WindowGraph.build(events, range: 0..<events.count, configuration: c)
        let base = try WindowEmbedder.embed(graph, ids: events.ids, configuration: c)
        let (folded, _) = try FoldIn.vectors(for: [base.rowNodes[0], base.rowNodes[3]], graph: graph, base: base, ids: events.ids)
        #expect(folded.dimension == 10)
        for (i, id) in folded.ids.enumerated() {
            let want = base.table.vector(for: id)!, got = folded.vector(at: i)
            let scale = want.map { abs($0) }.max()!
            #expect(zip(got, want).allSatisfy { abs($0 - $1) < 1e3 * Float.ulpOfOne * scale })
        }
    }

    @Test func newAccountsFoldedInPredictLinksAlmostAsWellAsARefit() throws {
        // Accounts g*-30...g*-39 appear only from day 80; the base sees days 0-80.
        var lines = plantedEvents(groups: 3, size: 40, events: 20_000, start: 0, span: 120 * day, mixing: 0.05, seed: 9)
        lines.removeAll { l in
            l.2 < 80 * day && [l.0, l.1].contains { $0.split(separator: "-").last.map { Int($0)! >= 30 } ?? false }
        }
        let events = try TemporalEvents.read(string: eventText(lines), name: "fold.tsv")
        var c = TemporalEmbeddingConfiguration()
        c.dimension = 3
        let report = try FoldIn.benchmark(events, end: 100 * day, recent: TimeSpan(seconds: 20 * day),
                                          horizon: TimeSpan(seconds: 20 * day), configuration: c, seed: 1)
        #expect(report.newAccounts == 30 && report.foldedIn == 30)
        #expect(report.refitAUC > 0.9)
        #expect(abs(report.foldInAUC - report.refitAUC) < 0.02)
        #expect(report.meanCosineToRefit > 0.9)
    }
}

@Suite struct LinkPredictionTests {
    @Test func pairsAreNewBetweenActiveAccountsAndNegativesNeverMeet() throws {
        let lines: [(String, String, Int64)] = [("a", "b", 0), ("b", "c", 1), ("c", "d", 2), ("d", "e", 3),
                                                ("a", "b", 10), ("b", "a", 11), ("a", "c", 12), ("a", "x", 13), ("e", "a", 14), ("c", "c", 15),
                                                ("b", "d", 30)]
        let events = try TemporalEvents.read(string: eventText(lines), name: "lp.tsv")
        let (pos, neg) = LinkPrediction.pairs(events, at: 10, horizon: TimeSpan(seconds: 10), maximum: 100, seed: 0)
        let name = { (p: (Int32, Int32)) in Set([events.ids[Int(p.0)], events.ids[Int(p.1)]]) }
        // (a, b) is old, (a, x) has a new account, (c, c) is a self-loop, (b, d) is after the horizon.
        #expect(pos.map(name) == [["a", "c"], ["e", "a"]])
        #expect(neg.count == 2)
        let never: Set<Set<String>> = [["a", "c"], ["e", "a"], ["a", "b"], ["b", "c"], ["c", "d"], ["d", "e"]]
        #expect(neg.allSatisfy { !never.contains(name($0)) && $0.0 != $0.1 })
    }

    @Test func plantedCommunitiesArePredictedAndSettingsRun() throws {
        let events = try TemporalEvents.read(string: eventText(plantedEvents(events: 6000, start: 0, span: 100 * day, seed: 2)), name: "p.tsv")
        var o = LinkPrediction.Options()
        o.splits = [70 * day]; o.horizon = TimeSpan(seconds: 20 * day); o.embedding.dimension = 3
        o.settings = [.window(TimeSpan(seconds: 30 * day)), .decayed(halfLife: TimeSpan(seconds: 20 * day)), .cumulative]
        let report = try LinkPrediction.run(events, options: o)
        #expect(report.splits.count == 1)
        for s in o.settings { #expect(report.meanAUC[s.description]! > 0.85) }
        #expect(report.splits[0].coverage["cumulative"] == 1)
    }
}

@Suite struct RealTemporalDataTests {
    @Test(.enabled(if: TemporalTestData.has("bitcoin-otc"), "needs ../shared/data/bitcoin-otc/events.tsv"))
    func bitcoinOTCReadsAndRunsInWindows() throws {
        let events = try TemporalEvents.read(path: TemporalTestData.path("bitcoin-otc"))
        #expect(events.count == 35_592 && events.nodeCount == 5_881 && events.weights != nil)
        #expect(events.outOfOrderLines == 0)
        var o = DynamicEmbedding.Options(windowing: Windowing(kind: .tumbling(TimeSpan(seconds: 730 * day))))
        o.embedding.dimension = 8
        o.drift.overlapSample = 300
        let run = try DynamicEmbedding.run(events, options: o)
        #expect(run.windows.count == 3 && run.tables.count == 3)
        #expect(run.drift.allSatisfy { $0.stability > 0 && $0.stability <= 1 && $0.neighborOverlap >= 0 })
    }
}
