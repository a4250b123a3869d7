import EmbeddingStore
import Foundation

/// One step's entry in a run record.
public struct StepRecord: Codable, Sendable, Equatable {
    public var name: String
    public var kind: String
    /// The cache key: SHA-256 of the kind, parameters, command, input files' and upstream outputs' hashes and the tool version.
    public var key: String
    /// Whether the outputs came from the cache.
    public var cached: Bool
    public var seconds: Double
    /// The step's outputs (a directory in the store) and their content hash.
    public var output: String
    public var outputHash: String
    /// Upstream steps and input files with their hashes: the step's lineage.
    public var upstream: [String: String]
    public var inputFiles: [String: String]
    public var summary: [String: JSONValue]

    enum CodingKeys: String, CodingKey {
        case name, kind, key, cached, seconds, output, upstream, summary
        case outputHash = "output_hash", inputFiles = "input_files"
    }
}

/// What a run did: the spec (text and hash), every step that ran or came from the cache, and how it ended.
public struct RunRecord: Codable, Sendable, Equatable {
    public var run: String
    public var pipeline: String
    public var specPath: String
    public var specChecksum: String
    public var spec: String
    public var started: String
    public var seconds: Double
    public var status: String
    public var failedStep: String?
    public var error: String?
    public var steps: [StepRecord]
    public var toolVersion: String

    enum CodingKeys: String, CodingKey {
        case run, pipeline, spec, started, seconds, status, error, steps
        case specPath = "spec_path", specChecksum = "spec_checksum", failedStep = "failed_step", toolVersion = "tool_version"
    }
}

/// Runs pipeline specs against a store directory:
/// `STORE/steps/KEY/` holds each step's outputs under its cache key, `STORE/runs/RUN.json` each run's record.
///
/// A step's key hashes its kind, typed parameters, command line, the content of its input files,
/// the output hashes of the steps it uses, and ``toolVersion``; a step whose key has outputs in the
/// store is skipped (unless `force`). Outputs are written to a temporary directory and moved into
/// place only when the step succeeds, so a failed step leaves nothing behind and stops the run.
public struct PipelineRunner {
    /// Bumped whenever a built-in step's outputs change for the same inputs.
    public static let toolVersion = "embedding-pipeline 1"

    public let store: URL
    /// The feature store publish steps write to (default `STORE/feature-store`).
    public var featureStore: URL?
    public var force = false
    public var log: (String) -> Void = { _ in }

    public init(store: URL, featureStore: URL? = nil, force: Bool = false, log: @escaping (String) -> Void = { _ in }) {
        self.store = store; self.featureStore = featureStore; self.force = force; self.log = log
    }

    /// Runs `spec`; writes and returns its record.
    /// - Throws: ``PipelineError`` naming the failed step (the record, with status `failed`, is written first).
    @discardableResult
    public func run(_ spec: PipelineSpec, specPath: String = "<spec>") throws -> RunRecord {
        let start = Date()
        let fm = FileManager.default
        let stepsDir = store.appendingPathComponent("steps"), runsDir = store.appendingPathComponent("runs")
        try fm.createDirectory(at: stepsDir, withIntermediateDirectories: true)
        try fm.createDirectory(at: runsDir, withIntermediateDirectories: true)
        let runID = "\(Self.compactTimestamp(start))-\(spec.checksum.prefix(8))"
        var record = RunRecord(run: runID, pipeline: spec.name, specPath: specPath, specChecksum: spec.checksum, spec: spec.text,
                               started: EmbeddingMetadata.timestamp(start), seconds: 0, status: "running", failedStep: nil,
                               error: nil, steps: [], toolVersion: Self.toolVersion)
        var outputs = [String: (dir: URL, hash: String)]()
        var keys = [String: String]()
        var hashes = FileHashCache(url: store.appendingPathComponent("file-hashes.json"))
        defer { hashes.save() }
        for (i, step) in spec.steps.enumerated() {
            let t0 = Date()
            do {
                var inputFiles = [String: String]()
                for url in Steps.inputFiles(step, specDirectory: spec.directory) {
                    guard fm.fileExists(atPath: url.path) else { throw PipelineError("step `\(step.name)`: input file \(url.path) does not exist", step: step.name) }
                    inputFiles[url.path] = try hashes.hash(url)
                }
                let upstream = Dictionary(uniqueKeysWithValues: step.uses.map { ($0, outputs[$0]!.hash) })
                let keyMaterial: [String: JSONValue] = [
                    "kind": .string(step.kind.rawValue), "parameters": .object(step.parameters),
                    "run": .array(step.run.map { .string($0) }), "outputs": .array(step.outputs.map { .string($0) }),
                    "inputs": .object(inputFiles.mapValues { .string($0) }), "upstream": .object(upstream.mapValues { .string($0) }),
                    "tool_version": .string(Self.toolVersion),
                ]
                let key = FileChecksum.sha256(bytes: try Self.canonicalJSON(keyMaterial))
                let dir = stepsDir.appendingPathComponent(key)
                let recordURL = dir.appendingPathComponent(".step.json")
                var stepRecord: StepRecord
                if !force, let data = try? Data(contentsOf: recordURL), var cached = try? JSONDecoder().decode(StepRecord.self, from: data) {
                    cached.name = step.name; cached.cached = true; cached.seconds = Date().timeIntervalSince(t0)
                    stepRecord = cached
                    log("[\(i + 1)/\(spec.steps.count)] \(step.name) (\(step.kind.rawValue)): cached (\(key.prefix(12)))")
                } else {
                    log("[\(i + 1)/\(spec.steps.count)] \(step.name) (\(step.kind.rawValue)): running")
                    let temporary = stepsDir.appendingPathComponent(".tmp-\(key.prefix(16))-\(ProcessInfo.processInfo.processIdentifier)")
                    try? fm.removeItem(at: temporary)
                    try fm.createDirectory(at: temporary, withIntermediateDirectories: true)
                    let context = StepContext(spec: step, output: temporary, upstream: step.uses.reduce(into: [:]) { $0[$1] = outputs[$1]!.dir },
                                              runID: runID, specPath: specPath, specChecksum: spec.checksum,
                                              upstreamKeys: step.uses.reduce(into: [:]) { $0[$1] = keys[$1]! },
                                              featureStore: featureStore ?? store.appendingPathComponent("feature-store"),
                                              lineageDirectory: runsDir,
                                              specDirectory: spec.directory, log: { self.log("    \(step.name): \($0)") })
                    let summary: [String: JSONValue]
                    do { summary = try Steps.run(context) } catch {
                        try? fm.removeItem(at: temporary)
                        throw error
                    }
                    stepRecord = StepRecord(name: step.name, kind: step.kind.rawValue, key: key, cached: false,
                                            seconds: Date().timeIntervalSince(t0), output: dir.path,
                                            outputHash: try Self.directoryHash(temporary), upstream: upstream,
                                            inputFiles: inputFiles, summary: summary)
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                    try encoder.encode(stepRecord).write(to: temporary.appendingPathComponent(".step.json"))
                    try? fm.removeItem(at: dir)
                    try fm.moveItem(at: temporary, to: dir)
                    log("    \(step.name) done in \(String(format: "%.2f", stepRecord.seconds)) s")
                }
                outputs[step.name] = (dir, stepRecord.outputHash)
                keys[step.name] = key
                record.steps.append(stepRecord)
            } catch {
                record.status = "failed"
                record.failedStep = step.name
                record.error = "\(error)"
                record.seconds = Date().timeIntervalSince(start)
                try? write(record, to: runsDir)
                throw PipelineError("run \(runID) failed at step \(i + 1) of \(spec.steps.count), `\(step.name)` (\(step.kind.rawValue)): \(error)", step: step.name)
            }
        }
        record.status = "succeeded"
        record.seconds = Date().timeIntervalSince(start)
        try write(record, to: runsDir)
        return record
    }

    func write(_ record: RunRecord, to runsDir: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(record).write(to: runsDir.appendingPathComponent("\(record.run).json"), options: .atomic)
    }

    /// Reads the record of `run` (a run id, a unique prefix of one, or `latest`).
    public func record(_ run: String) throws -> RunRecord {
        let runsDir = store.appendingPathComponent("runs")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: runsDir.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        let matches = run == "latest" ? Array(names.suffix(1)) : names.filter { $0.hasPrefix(run) }
        guard matches.count == 1 else {
            throw PipelineError(matches.isEmpty ? "no run `\(run)` in \(runsDir.path)" : "`\(run)` matches \(matches.count) runs; give more of the id")
        }
        return try JSONDecoder().decode(RunRecord.self, from: Data(contentsOf: runsDir.appendingPathComponent(matches[0])))
    }

    /// A record as text: status, spec, and each step with its key, cache state, time and lineage.
    public static func describe(_ r: RunRecord) -> String {
        var lines = ["run \(r.run): pipeline \(r.pipeline), \(r.status) in \(String(format: "%.2f", r.seconds)) s (started \(r.started))",
                     "spec \(r.specPath) sha256 \(r.specChecksum)", "tool \(r.toolVersion)"]
        if let f = r.failedStep { lines.append("FAILED at `\(f)`: \(r.error ?? "")") }
        for s in r.steps {
            lines.append("  \(s.name) (\(s.kind)) \(s.cached ? "cached" : String(format: "ran %.2f s", s.seconds)) key \(s.key.prefix(12)) output \(s.outputHash.prefix(12))")
            for (name, hash) in s.upstream.sorted(by: { $0.key < $1.key }) { lines.append("      <- step \(name) (\(hash.prefix(12)))") }
            for (file, hash) in s.inputFiles.sorted(by: { $0.key < $1.key }) { lines.append("      <- file \(file) (\(hash.prefix(12)))") }
            if !s.summary.isEmpty {
                lines.append("      " + s.summary.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.short($0.value))" }.joined(separator: " "))
            }
            lines.append("      -> \(s.output)")
        }
        return lines.joined(separator: "\n")
    }

    static func short(_ v: JSONValue) -> String {
        switch v {
        case .double(let d): return String(format: "%.4g", d)
        case .int(let i): return String(i)
        case .string(let s): return s
        case .bool(let b): return String(b)
        case .null: return "null"
        case .array(let items):
            // Long lists (every window a publish step registered) show their ends and a count.
            let shown = items.count <= 4 ? items.map(short) : items.prefix(2).map(short) + ["... (\(items.count) in all)", short(items[items.count - 1])]
            return "[" + shown.joined(separator: ", ") + "]"
        case .object(let fields):
            return "{" + fields.sorted { $0.key < $1.key }.map { "\($0.key)=\(short($0.value))" }.joined(separator: ", ") + "}"
        }
    }

    /// JSON with sorted keys (the same bytes for the same value).
    static func canonicalJSON(_ value: [String: JSONValue]) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(value))
    }

    /// SHA-256 over the sorted relative paths and contents of every file under `dir` (but `.step.json`).
    static func directoryHash(_ dir: URL) throws -> String {
        var hasher = FileChecksum.Hasher()
        let fm = FileManager.default
        let files = (fm.enumerator(atPath: dir.path)?.compactMap { $0 as? String } ?? []).filter { path in
            var isDirectory: ObjCBool = false
            return fm.fileExists(atPath: dir.appendingPathComponent(path).path, isDirectory: &isDirectory) && !isDirectory.boolValue && path != ".step.json"
        }.sorted()
        for file in files {
            hasher.update(Array(file.utf8) + [0])
            hasher.update(Array(try FileChecksum.sha256(of: dir.appendingPathComponent(file)).utf8))
        }
        return hasher.finalize()
    }

    static func compactTimestamp(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX"); f.timeZone = TimeZone(identifier: "UTC"); f.dateFormat = "yyyyMMdd'T'HHmmss.SSS"
        return f.string(from: date)
    }
}

/// SHA-256 of input files, remembered by path, size and modification time so that an unchanged
/// re-run does not read large inputs again.
struct FileHashCache {
    struct Entry: Codable { var size: Int64; var modified: Double; var hash: String }
    let url: URL
    var entries: [String: Entry]
    var changed = false

    init(url: URL) {
        self.url = url
        entries = (try? JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: url))) ?? [:]
    }

    mutating func hash(_ file: URL) throws -> String {
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? -1
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        if let e = entries[file.path], e.size == size, e.modified == modified { return e.hash }
        let h = try FileChecksum.sha256(of: file)
        entries[file.path] = Entry(size: size, modified: modified, hash: h)
        changed = true
        return h
    }

    func save() {
        guard changed, let data = try? JSONEncoder().encode(entries) else { return }
        try? data.write(to: url, options: .atomic)
    }
}
