import Foundation
import Testing
@testable import Temporal

@Suite struct EventReadingTests {
    @Test func readsCommentsWeightsCRLFAndSortsOutOfOrderInputStably() throws {
        let text = "# header comment\r\na\tb\t30\t2\r\n\nb\tc\t10\t-1\r\n% other comment\nc\ta\t30\t0.5\nd\ta\t20\t1"
        let e = try TemporalEvents.read(string: text, name: "ev.tsv")
        #expect(e.count == 4 && e.nodeCount == 4)
        #expect(e.times == [10, 20, 30, 30])
        #expect(e.outOfOrderLines == 2)  // 10 after 30, 20 after 30
        // Ties keep file order: (a, b) before (c, a).
        #expect(e.ids[Int(e.sources[2])] == "a" && e.ids[Int(e.sources[3])] == "c")
        #expect(e.weights! == [-1, 1, 2, 0.5])
    }

    @Test func errorsNameFileLineAndProblem() {
        func problem(_ text: String) -> TemporalError? {
            do { _ = try TemporalEvents.read(string: text, name: "ev.tsv"); return nil } catch let e as TemporalError { return e } catch { return nil }
        }
        let badTime = problem("a\tb\t1\nc\td\t12x\n")
        #expect(badTime?.line == 2 && badTime?.file == "ev.tsv")
        #expect(badTime?.description.contains("ev.tsv:2: bad time \"12x\"") == true)
        #expect(problem("a\tb\n")?.problem.contains("expected 3 columns") == true)
        #expect(problem("a\tb\t1\t1\nc\td\t2\n")?.line == 2)
        #expect(problem("a\tb\t1\t1\nc\td\t2\tx\n")?.problem.contains("bad weight") == true)
        #expect(problem("a,,3\n")?.problem == "empty field")
        #expect(problem("a\tb\t99999999999999999999\n")?.problem.contains("bad time") == true)
        #expect((try? TemporalEvents.read(path: "/nonexistent/events.tsv")) == nil)
    }

    @Test func timeSpansParse() {
        #expect(TimeSpan("180d")?.seconds == 180 * day)
        #expect(TimeSpan("12h")?.seconds == Int64(12 * 3600))
        #expect(TimeSpan("90")?.seconds == 90)
        #expect(TimeSpan("1y")?.seconds == 365 * day)
        #expect(TimeSpan("0d") == nil && TimeSpan("-3d") == nil && TimeSpan("abc") == nil)
        #expect(TimeSpan(seconds: 180 * day).description == "180d")
    }
}

@Suite struct WindowingTests {
    /// Events at day 0, exactly on the boundary (day 10), inside, and after an empty stretch.
    func events(_ lines: [(String, String, Int64)]) throws -> TemporalEvents {
        try TemporalEvents.read(string: eventText(lines), name: "w.tsv")
    }

    @Test func boundaryEventsBelongToTheNextWindowAndEmptyWindowsAreKept() throws {
        let e = try events([("a", "b", 0), ("b", "c", 10 * day - 1), ("c", "d", 10 * day), ("d", "a", 35 * day)])
        let w = Windowing(kind: .tumbling(TimeSpan(seconds: 10 * day))).windows(of: e)
        #expect(w.map(\.start) == [0, 10 * day, 20 * day, 30 * day])
        #expect(w.map(\.eventCount) == [2, 1, 0, 1])
        #expect(w[1].firstEvent == 2)
        #expect(w[2].eventCount == 0)
        // Every event is in exactly one tumbling window.
        #expect(w.map(\.eventCount).reduce(0, +) == e.count)
    }

    @Test func slidingCumulativeAndOrigin() throws {
        let e = try events([("a", "b", 5 * day), ("b", "c", 12 * day), ("c", "d", 25 * day)])
        let sliding = Windowing(kind: .sliding(width: TimeSpan(seconds: 10 * day), step: TimeSpan(seconds: 5 * day))).windows(of: e)
        #expect(sliding.first?.start == 5 * day)  // midnight of the first event's day
        // [5, 15), [10, 20), [15, 25), [20, 30): the event at day 25 is on the third window's end, so in the fourth only.
        #expect(sliding.map(\.eventCount) == [2, 1, 0, 1])
        let cumulative = Windowing(kind: .cumulative(step: TimeSpan(seconds: 10 * day))).windows(of: e)
        #expect(cumulative.map(\.eventCount) == [2, 2, 3])
        #expect(cumulative.allSatisfy { $0.start == 5 * day })
        let shifted = Windowing(kind: .tumbling(TimeSpan(seconds: 10 * day)), origin: 0).windows(of: e)
        #expect(shifted.map(\.eventCount) == [1, 1, 1])
    }

    @Test func outOfOrderInputGivesTheSameWindows() throws {
        let lines = plantedEvents(events: 500)
        let sorted = try events(lines.sorted { $0.2 < $1.2 })
        let shuffled = try events(lines)
        #expect(shuffled.outOfOrderLines > 0)
        let kind = WindowKind.sliding(width: TimeSpan(seconds: 30 * day), step: TimeSpan(seconds: 10 * day))
        let a = Windowing(kind: kind).windows(of: sorted), b = Windowing(kind: kind).windows(of: shuffled)
        #expect(a == b)
        for w in a {
            let inA = (w.firstEvent..<w.endEvent).map { sorted.times[$0] }.sorted()
            let inB = (w.firstEvent..<w.endEvent).map { shuffled.times[$0] }.sorted()
            #expect(inA == inB)
            #expect(inA.allSatisfy { $0 >= w.start && $0 < w.end })
        }
    }

    @Test func decayedWeightsHalveEveryHalfLife() throws {
        let e = try events([("a", "b", 0), ("a", "b", 10 * day), ("b", "c", 20 * day)])
        var c = TemporalEmbeddingConfiguration()
        c.weighting = .count
        let g = try WindowGraph.build(e, range: 0..<3, configuration: c, halfLife: TimeSpan(seconds: 10 * day), reference: 20 * day)
        let a = try #require(e.ids.index(ofID: "a")), b = try #require(e.ids.index(ofID: "b")), cc = try #require(e.ids.index(ofID: "c"))
        #expect(abs(g.adjacency[Int(a), Int(b)] - 0.75) < 4 * Float.ulpOfOne)  // 0.25 + 0.5
        #expect(g.adjacency[Int(b), Int(a)] == g.adjacency[Int(a), Int(b)])    // symmetrised
        #expect(g.adjacency[Int(b), Int(cc)] == 1)
        c.weighting = .binary  // the most recent event's decay
        let binary = try WindowGraph.build(e, range: 0..<3, configuration: c, halfLife: TimeSpan(seconds: 10 * day), reference: 20 * day)
        #expect(binary.adjacency[Int(a), Int(b)] == 0.5)
    }

    @Test func emptyWindowsAreSkippedAndReported() throws {
        var lines = plantedEvents(events: 1500, start: 0, span: 30 * day, seed: 3)
        lines += plantedEvents(events: 1500, start: 90 * day, span: 30 * day, seed: 4)
        let e = try events(lines)
        var o = DynamicEmbedding.Options(windowing: Windowing(kind: .tumbling(TimeSpan(seconds: 30 * day))))
        o.embedding.dimension = 4
        let run = try DynamicEmbedding.run(e, options: o)
        #expect(run.windows.count == 4 && run.windows[1].events == 0 && run.windows[2].events == 0)
        #expect(run.windows.filter { $0.skipped == "no events" }.count == 2)
        #expect(run.tables.count == 2 && run.drift.count == 1)
        #expect(run.tableWindows == [0, 3])
    }
}

@Suite struct ToolInputTests {
    @Test func windowKindsByName() {
        let w = TimeSpan(seconds: 100), s = TimeSpan(seconds: 50), h = TimeSpan(seconds: 70)
        #expect(WindowKind(named: "sliding", width: w, step: s, halfLife: h) == .sliding(width: w, step: s))
        #expect(WindowKind(named: "cumulative", width: w, step: s, halfLife: h) == .cumulative(step: s))
        #expect(WindowKind(named: "decayed", width: w, step: s, halfLife: h) == .decayed(step: s, halfLife: h))
        #expect(WindowKind(named: "tumbling", width: w, step: s, halfLife: h) == nil)
    }

    @Test func anchorFilesReadOneIDPerLineAndRejectEmptyOnes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("anchors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("a.txt"), empty = dir.appendingPathComponent("e.txt")
        try "u1\r\nu2\n\nu3\n".write(to: good, atomically: true, encoding: .utf8)
        try "\n\n".write(to: empty, atomically: true, encoding: .utf8)
        #expect(try DynamicEmbedding.readAnchors(good) == ["u1", "u2", "u3"])
        #expect(throws: TemporalError.self) { try DynamicEmbedding.readAnchors(empty) }
        #expect(throws: TemporalError.self) { try DynamicEmbedding.readAnchors(dir.appendingPathComponent("missing.txt")) }
    }
}

@Suite struct SplitTimeTests {
    @Test func givenTimesParseAndBadOnesAreNamed() throws {
        let e = try TemporalEvents.read(string: "a\tb\t0\nb\tc\t86400000\n", name: "ev.tsv")
        #expect(try LinkPrediction.splitTimes(e, given: ["1970-01-02", "5"], count: 4, horizon: TimeSpan(seconds: 10)) == [86_400, 5])
        #expect(try LinkPrediction.splitTimes(e, given: [], count: 3, horizon: TimeSpan(seconds: 10))
                == LinkPrediction.defaultSplits(e, count: 3, horizon: TimeSpan(seconds: 10)))
        #expect(throws: TemporalError.self) { try LinkPrediction.splitTimes(e, given: ["soon"], count: 4, horizon: TimeSpan(seconds: 10)) }
    }
}
