import EmbeddingStore
import FeatureStore
import Foundation
import Testing
@testable import Pipelines

/// A temporary directory with a small event file and a spec writer.
struct PipelineFixture {
    let dir: URL
    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("pipelines-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var lines = ["# three groups of 20 accounts interacting over 200 days"]
        var state: UInt64 = 12345
        func next() -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) }
        for _ in 0..<3000 {
            let a = next() % 60, g = a / 20
            let b = next() % 10 == 0 ? next() % 60 : g * 20 + next() % 20
            if a != b { lines.append("u\(a)\tu\(b)\t\(1_000_000_000 + next() % (200 * 86_400))") }
        }
        try (lines.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("events.tsv"), atomically: true, encoding: .utf8)
    }
    var store: URL { dir.appendingPathComponent("store") }

    func spec(dim: Int = 4, middle: String = "") throws -> PipelineSpec {
        let text = """
        name: test-dynamic
        steps:
          - name: events
            kind: select
            with: {input: events.tsv, min_degree: 2}
          - name: clean
            kind: preprocess
            uses: [events]
        \(middle)
          - name: windows
            kind: fit
            uses: [clean]
            with: {method: temporal-windows, window: 60d, step: 60d, dim: \(dim)}
          - name: count
            kind: command
            uses: [windows]
            run: [sh, -c, "ls {input:windows}/windows > {output}/listing.txt"]
            outputs: [listing.txt]
        """
        try text.write(to: dir.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
        return try PipelineSpec.load(path: dir.appendingPathComponent("spec.yaml").path)
    }
}

@Suite struct PipelineTests {
    @Test func unchangedRerunIsCachedAndOneParameterReRunsOnlyTheStepsAfterIt() throws {
        let f = try PipelineFixture()
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let runner = PipelineRunner(store: f.store)
        let first = try runner.run(try f.spec(dim: 4))
        #expect(first.status == "succeeded" && first.steps.allSatisfy { !$0.cached })
        let listing = try String(contentsOfFile: first.steps[3].output + "/listing.txt", encoding: .utf8)
        #expect(listing.contains("window-000") && listing.contains("drift.json"))

        let again = try runner.run(try f.spec(dim: 4))
        #expect(again.steps.allSatisfy { $0.cached })
        #expect(again.steps.map(\.outputHash) == first.steps.map(\.outputHash))

        let changed = try runner.run(try f.spec(dim: 3))
        #expect(changed.steps.map(\.cached) == [true, true, false, false])
        #expect(changed.steps[2].key != first.steps[2].key)

        let forced = try PipelineRunner(store: f.store, force: true).run(try f.spec(dim: 3))
        #expect(forced.steps.allSatisfy { !$0.cached })
        // Lineage: the fit step names its upstream output, and `show` finds the run.
        #expect(forced.steps[2].upstream["clean"] == forced.steps[1].outputHash)
        #expect(try runner.record(forced.run) == forced)
        #expect(PipelineRunner.describe(forced).contains("<- step clean"))
    }

    @Test func summariesPrintListsAndObjectsAsValuesNotSwiftDumps() {
        let published = JSONValue.array((1...26).map { .string("emb@v\($0)") })
        #expect(PipelineRunner.short(published) == "[emb@v1, emb@v2, ... (26 in all), emb@v26]")
        #expect(PipelineRunner.short(.array([.int(1), .double(0.5)])) == "[1, 0.5]")
        #expect(PipelineRunner.short(.object(["b": .bool(true), "a": .null])) == "{a=null, b=true}")
    }

    @Test func failingMiddleStepIsNamedStopsTheRunAndLeavesNoOutput() throws {
        let f = try PipelineFixture()
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let middle = """
          - name: broken
            kind: command
            uses: [clean]
            run: [sh, -c, "echo partial > {output}/half.txt; echo 'no such model' >&2; exit 3"]
        """
        let spec = try f.spec(middle: middle)
        let runner = PipelineRunner(store: f.store)
        let error = #expect(throws: PipelineError.self) { try runner.run(spec) }
        #expect(error?.step == "broken")
        #expect(error?.message.contains("step 3 of 5, `broken`") == true)
        #expect(error?.message.contains("exited with status 3: no such model") == true)
        let record = try runner.record("latest")
        #expect(record.status == "failed" && record.failedStep == "broken")
        #expect(record.steps.map(\.name) == ["events", "clean"])  // nothing after the failure ran
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: f.store.appendingPathComponent("steps").path)
        #expect(leftovers.count == 2)  // only the two steps that succeeded; no temporary or partial output
    }

    @Test func specErrorsNameTheStepAndTheKey() throws {
        func message(_ yaml: String) -> String? {
            do { _ = try PipelineSpec.parse(yaml, name: "s.yaml"); return nil } catch { return "\(error)" }
        }
        #expect(message("name: x\nsteps:\n  - name: a\n    kind: selekt\n")?.contains("s.yaml: step 1 (a): `kind` must be one of") == true)
        #expect(message("name: x\nsteps:\n  - name: a\n    kind: fit\n    uses: [b]\n")?.contains("`uses` names `b`") == true)
        #expect(message("name: x\nsteps:\n  - name: a\n    kind: fit\n    colour: red\n")?.contains("unknown key `colour`") == true)
        #expect(message("name: x\nsteps: [")?.contains("not valid YAML") == true)
        var p = Parameters(step: "fit", values: ["dim": .string("many"), "dimm": .int(3)])
        #expect(throws: PipelineError.self) { _ = try p.int("dim", default: 1) }
        var q = Parameters(step: "fit", values: ["dimm": .int(3)])
        _ = try q.int("dim", default: 1)
        #expect(throws: PipelineError.self) { try q.finish() }
    }

    @Test func publishesEveryWindowWithItsValidityAndLineageOnce() throws {
        let f = try PipelineFixture()
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let text = """
        name: publish-windows
        steps:
          - name: events
            kind: select
            with: {input: events.tsv}
          - name: windows
            kind: fit
            uses: [events]
            with: {method: temporal-windows, window: 60d, step: 60d, dim: 3}
          - name: publish
            kind: publish
            uses: [windows]
            with: {name: test-dynamic, table: windows, owner: temporal, tags: [dynamic]}
        """
        try text.write(to: f.dir.appendingPathComponent("publish.yaml"), atomically: true, encoding: .utf8)
        let spec = try PipelineSpec.load(path: f.dir.appendingPathComponent("publish.yaml").path)
        let runner = PipelineRunner(store: f.store)
        let record = try runner.run(spec)
        let store = try FeatureStore(directory: f.store.appendingPathComponent("feature-store"))
        let versions = try store.activeVersions("test-dynamic")
        #expect(versions.count == 4)  // 200 days in 60-day windows
        for v in versions {
            let validTo = try #require(v.validTo)
            #expect(validTo - v.validFrom == 60 * 86_400)
            let found = try store.resolve("test-dynamic", .asOf((v.validFrom + validTo) / 2))
            #expect(found.version == v.version)
            #expect(v.lineage.contains { $0.reference.hasSuffix("\(record.run)-publish.lineage.json") && $0.checksum != nil })
        }
        // An unchanged re-run is all cache hits and publishes nothing new.
        let again = try runner.run(spec)
        #expect(again.steps.allSatisfy { $0.cached })
        #expect(try store.activeVersions("test-dynamic").count == 4)
    }
}

/// The word-embedding kinds: a corpus selected, PPMI-SVD fitted, scored and published; an edited
/// evaluation set reruns only the benchmark.
@Suite struct WordPipelineTests {
    @Test func aCorpusIsEmbeddedScoredAndPublishedAndTheEvaluationSetsAreInputs() throws {
        let f = try PipelineFixture()
        defer { try? FileManager.default.removeItem(at: f.dir) }
        // Two topics of words that co-occur within their topic only.
        let topics = [["cat", "dog", "pet", "fur", "paw", "tail"], ["car", "road", "wheel", "engine", "fuel", "drive"]]
        var state: UInt64 = 7
        func next() -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) }
        var text = ""
        for _ in 0..<600 { let t = topics[next() % 2]; text += (0..<8).map { _ in t[next() % t.count] }.joined(separator: " ") + "\n" }
        try text.write(to: f.dir.appendingPathComponent("corpus.txt"), atomically: true, encoding: .utf8)
        let data = f.dir.appendingPathComponent("sets")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let similar = "cat\tdog\t9.0\ncar\troad\t8.5\ncat\tcar\t1.0\ndog\twheel\t0.5\npaw\ttail\t7.0\nfuel\tpet\t1.5\n"
        try similar.write(to: data.appendingPathComponent("ws353.tsv"), atomically: true, encoding: .utf8)
        try ": family\ncat dog car road\n".write(to: data.appendingPathComponent("analogies.txt"), atomically: true, encoding: .utf8)
        let specText = """
        name: test-words
        steps:
          - name: corpus
            kind: select
            with: {input: corpus.txt, format: text}
          - name: fit
            kind: fit
            uses: [corpus]
            with: {method: ppmi-svd, dim: 2, min_count: 1, window: 2, tokenizer: letters}
          - name: scores
            kind: benchmark
            uses: [fit]
            with: {task: words, data: sets}
          - name: publish
            kind: publish
            uses: [fit]
            with: {name: test-words, table: tables/words}
        """
        try specText.write(to: f.dir.appendingPathComponent("words.yaml"), atomically: true, encoding: .utf8)
        let spec = try PipelineSpec.load(path: f.dir.appendingPathComponent("words.yaml").path)
        let runner = PipelineRunner(store: f.store)
        let first = try runner.run(spec)
        #expect(first.status == "succeeded")
        let words = try EmbeddingTable.read(from: URL(fileURLWithPath: first.steps[1].output + "/tables/words"))
        #expect(words.count == 12 && words.dimension == 2 && words.metadata.entityType == "word")
        // The topics separate: within-topic pairs score high, across-topic pairs low.
        guard case .double(let rho)? = first.steps[2].summary["ws353"] else { Issue.record("no ws353 score: \(first.steps[2].summary)"); return }
        #expect(rho > 0.5)
        let published = try FeatureStore(directory: f.store.appendingPathComponent("feature-store")).resolve("test-words")
        #expect(published.count == 12)

        try (similar + "pet\tfur\t8.0\n").write(to: data.appendingPathComponent("ws353.tsv"), atomically: true, encoding: .utf8)
        let second = try runner.run(spec)
        #expect(second.steps.map(\.cached) == [true, true, false, true])
    }
}
