import EmbeddingStore
import Evaluation
import FeatureStore
import FollowGraph
import Foundation
import GraphData
import Temporal
import WordEmbeddings

/// What a step sees while it runs.
public struct StepContext {
    public let spec: StepSpec
    /// The step's output directory (a fresh temporary directory, moved into the cache on success).
    public let output: URL
    /// Output directories of the steps named in `uses`, by name.
    public let upstream: [String: URL]
    /// The run's id, the spec's path and checksum, and the upstream steps' cache keys (lineage of publishes).
    public let runID: String
    public let specPath: String
    public let specChecksum: String
    public let upstreamKeys: [String: String]
    /// The default feature store of publish steps, and where run lineage files live.
    public let featureStore: URL
    public let lineageDirectory: URL
    /// The spec's directory: relative paths resolve from here.
    public let specDirectory: URL
    public let log: (String) -> Void

    /// `path` resolved against the spec's directory.
    public func resolve(_ path: String) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : specDirectory.appendingPathComponent(path).standardizedFileURL
    }

    /// The first upstream output holding `file`.
    public func upstreamFile(_ file: String) throws -> URL {
        for name in spec.uses {
            if let dir = upstream[name], FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path) {
                return dir.appendingPathComponent(file)
            }
        }
        throw PipelineError("step `\(spec.name)`: none of its inputs (\(spec.uses.joined(separator: ", "))) has \(file)", step: spec.name)
    }
}

/// The built-in step kinds: what each reads, its typed parameters, and what it writes.
public enum Steps {
    /// Files (besides upstream outputs) whose content enters the step's cache key.
    public static func inputFiles(_ spec: StepSpec, specDirectory: URL) -> [URL] {
        var files = [String]()
        if spec.kind == .select, case .string(let input)? = spec.parameters["input"] { files.append(input) }
        files += spec.inputs
        var urls = files.map { $0.hasPrefix("/") ? URL(fileURLWithPath: $0) : specDirectory.appendingPathComponent($0).standardizedFileURL }
        // A word benchmark's evaluation sets (the files of its `data` directory) count as inputs.
        if spec.kind == .benchmark, case .string(let data)? = spec.parameters["data"] {
            let dir = data.hasPrefix("/") ? URL(fileURLWithPath: data) : specDirectory.appendingPathComponent(data).standardizedFileURL
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            urls += names.filter { $0.hasSuffix(".tsv") || $0.hasSuffix(".txt") }.sorted().map { dir.appendingPathComponent($0) }
        }
        return urls
    }

    /// Runs one step into `context.output`; returns a small JSON summary for the run record.
    public static func run(_ c: StepContext) throws -> [String: JSONValue] {
        var p = Parameters(step: c.spec.name, values: c.spec.parameters)
        let summary: [String: JSONValue]
        switch c.spec.kind {
        case .select: summary = try select(c, &p)
        case .preprocess: summary = try preprocess(c, &p)
        case .fit: summary = try fit(c, &p)
        case .benchmark: summary = try benchmark(c, &p)
        case .command: summary = try command(c, &p)
        case .publish: summary = try publish(c, &p)
        }
        try p.finish()
        return summary
    }

    // MARK: select

    static func select(_ c: StepContext, _ p: inout Parameters) throws -> [String: JSONValue] {
        let input = c.resolve(try p.string("input"))
        let format = try p.choice("format", ["edges", "events", "text"], default: input.lastPathComponent.hasPrefix("events") ? "events" : "edges")
        if format == "text" {
            // A corpus: taken as it is (the fit's tokenizer and min_count select the words). A hard
            // link where the file system allows one (no copy of a large corpus; the content hash is
            // already in the cache key), a copy otherwise.
            try p.finish()
            let target = c.output.appendingPathComponent("corpus.txt")
            do {
                do { try FileManager.default.linkItem(at: input, to: target) } catch {
                    try FileManager.default.copyItem(at: input, to: target)
                }
            } catch {
                throw PipelineError("step `\(c.spec.name)`: cannot copy \(input.path): \(error.localizedDescription)", step: c.spec.name)
            }
            let bytes = ((try? FileManager.default.attributesOfItem(atPath: target.path))?[.size] as? Int) ?? 0
            c.log("selected the corpus \(input.lastPathComponent) (\(bytes) bytes)")
            return ["bytes": .int(Int64(bytes))]
        }
        let minimumDegree = try p.int("min_degree", default: 1)
        if format == "events" {
            let since = try p.string("since", default: ""), until = try p.string("until", default: "")
            try p.finish()
            let events = try TemporalEvents.read(path: input.path)
            let lo = try since.isEmpty ? Int64.min : date(since, c.spec.name), hi = try until.isEmpty ? Int64.max : date(until, c.spec.name)
            let range = events.eventRange(from: lo, to: hi)
            var degree = [Int](repeating: 0, count: events.nodeCount)
            for k in range { degree[Int(events.sources[k])] += 1; degree[Int(events.targets[k])] += 1 }
            var text = "# selected from \(input.lastPathComponent): \(since.isEmpty ? "start" : since) to \(until.isEmpty ? "end" : until), accounts with at least \(minimumDegree) events\n"
            var kept = 0
            for k in range where degree[Int(events.sources[k])] >= minimumDegree && degree[Int(events.targets[k])] >= minimumDegree {
                text += "\(events.ids[Int(events.sources[k])])\t\(events.ids[Int(events.targets[k])])\t\(events.times[k])"
                if let w = events.weights { text += "\t\(w[k])" }
                text += "\n"; kept += 1
            }
            try text.write(to: c.output.appendingPathComponent("events.tsv"), atomically: true, encoding: .utf8)
            c.log("selected \(kept) of \(events.count) events")
            return ["events": .int(Int64(kept))]
        }
        let undirected = try p.bool("undirected", default: false)
        try p.finish()
        let edges = try EdgeList.read(path: input.path, options: .init(directed: !undirected))
        var degree = [Int](repeating: 0, count: edges.nodeCount)
        for k in 0..<edges.edgeCount { degree[Int(edges.sources[k])] += 1; degree[Int(edges.targets[k])] += 1 }
        var text = "# selected from \(input.lastPathComponent): accounts with at least \(minimumDegree) edges\n"
        var kept = 0
        for k in 0..<edges.edgeCount where degree[Int(edges.sources[k])] >= minimumDegree && degree[Int(edges.targets[k])] >= minimumDegree {
            if undirected && edges.sources[k] > edges.targets[k] { continue }  // stored symmetrised: write each pair once
            let (a, b) = edges.edgeIDs(k)
            text += "\(a)\t\(b)\n"; kept += 1
        }
        try text.write(to: c.output.appendingPathComponent("edges.tsv"), atomically: true, encoding: .utf8)
        c.log("selected \(kept) edges")
        return ["edges": .int(Int64(kept)), "undirected": .bool(undirected)]
    }

    static func date(_ text: String, _ step: String) throws -> Int64 {
        guard let t = TimeWindow.parseTime(text) else { throw PipelineError("step `\(step)`: `\(text)` is not a date (yyyy-mm-dd) or unix seconds", step: step) }
        return t
    }

    // MARK: preprocess

    static func preprocess(_ c: StepContext, _ p: inout Parameters) throws -> [String: JSONValue] {
        let dropSelfLoops = try p.bool("drop_self_loops", default: true)
        let dedupe = try p.bool("dedupe", default: true)
        try p.finish()
        let name = (try? c.upstreamFile("events.tsv")) != nil ? "events.tsv" : "edges.tsv"
        let input = try c.upstreamFile(name)
        var seen = Set<String>()
        var kept = 0, dropped = 0
        var out = "# preprocessed: drop_self_loops \(dropSelfLoops), dedupe \(dedupe)\n"
        for line in try String(contentsOf: input, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: true) where !line.hasPrefix("#") {
            let f = line.split(separator: "\t")
            guard f.count >= 2 else { continue }
            if dropSelfLoops && f[0] == f[1] { dropped += 1; continue }
            // Events are interactions in time: repeats are kept; edges are deduplicated by pair.
            if dedupe && name == "edges.tsv" && !seen.insert("\(f[0])\t\(f[1])").inserted { dropped += 1; continue }
            out += line + "\n"; kept += 1
        }
        try out.write(to: c.output.appendingPathComponent(name), atomically: true, encoding: .utf8)
        c.log("kept \(kept) lines of \(name), dropped \(dropped)")
        return ["kept": .int(Int64(kept)), "dropped": .int(Int64(dropped))]
    }

    // MARK: fit

    static func fit(_ c: StepContext, _ p: inout Parameters) throws -> [String: JSONValue] {
        let method = try p.choice("method", ["follow-graph-svd", "temporal-windows", "ppmi-svd", "sgns"])
        // follow-graph-svd: the tool's default dimension (128 for an undirected graph's spectral table, else 64).
        let undirected = method == "follow-graph-svd" ? try p.bool("undirected", default: false) : false
        let dim = try p.int("dim", default: method == "follow-graph-svd" ? FollowGraphMethod.spectral.defaultDimension(directed: !undirected)
                                : method == "temporal-windows" ? 32 : 100)
        let seed = UInt64(try p.int("seed", default: 0))
        if method == "ppmi-svd" || method == "sgns" { return try fitWords(c, &p, method: method, dimension: dim, seed: seed) }
        if method == "follow-graph-svd" {
            var config = FollowGraphSVDConfiguration()
            config.dimension = dim; config.seed = seed
            config.directed = !undirected
            config.weighting = EdgeWeighting(rawValue: try p.choice("weighting", EdgeWeighting.allCases.map(\.rawValue), default: "binary"))!
            try p.finish()
            let input = try c.upstreamFile("edges.tsv")
            let edges = try EdgeList.read(path: input.path, options: .init(directed: config.directed))
            let result = try FollowGraphSVD.embed(edges: edges, configuration: config, inputFile: input, log: c.log)
            let tables = c.output.appendingPathComponent("tables")
            try result.consumers.write(to: tables.appendingPathComponent("consumers"))
            try result.producers.write(to: tables.appendingPathComponent("producers"))
            try (result.nodes ?? result.consumers).write(to: tables.appendingPathComponent("nodes"))
            return ["rows": .int(Int64(result.rows)), "columns": .int(Int64(result.columns)), "solve_seconds": .double(result.solveSeconds)]
        }
        let window = try span(&p, "window", "180d"), step = try span(&p, "step", "90d"), halfLife = try span(&p, "half_life", "180d")
        let kind = try p.choice("windows", ["sliding", "cumulative", "decayed"], default: "sliding")
        try p.finish()
        let events = try TemporalEvents.read(path: try c.upstreamFile("events.tsv").path)
        let windowKind: WindowKind = kind == "sliding" ? .sliding(width: window, step: step)
            : kind == "cumulative" ? .cumulative(step: step) : .decayed(step: step, halfLife: halfLife)
        var options = DynamicEmbedding.Options(windowing: Windowing(kind: windowKind))
        options.embedding.dimension = dim; options.embedding.seed = seed; options.drift.seed = seed
        let run = try DynamicEmbedding.run(events, options: options, log: c.log)
        try TemporalOutput.write(run, events: events, options: options, to: c.output.appendingPathComponent("windows"))
        return ["windows": .int(Int64(run.tables.count)), "seconds": .double(run.totalSeconds)]
    }

    /// Word embeddings of the upstream `corpus.txt` (WordEmbeddings' `word-embed` job) into
    /// `tables/words`.
    static func fitWords(_ c: StepContext, _ p: inout Parameters, method: String, dimension: Int, seed: UInt64) throws -> [String: JSONValue] {
        let tokenizerName = try p.choice("tokenizer", TokenizerMode.allCases.map(\.rawValue), default: TokenizerMode.tweet.rawValue)
        let minCount = try p.int("min_count", default: 5)
        let window = try p.int("window", default: 5)
        let epochs = try p.int("epochs", default: 5)
        try p.finish()
        let output = c.output.appendingPathComponent("tables/words")
        var job = WordEmbed.Job(inputs: [try c.upstreamFile("corpus.txt").path], output: output.path,
                                method: method == "sgns" ? .sgns : .ppmiSVD)
        job.corpus = CorpusOptions(tokenizer: TokenizerMode(rawValue: tokenizerName)!, minCount: minCount)
        job.sgns.dimension = dimension; job.sgns.window = window; job.sgns.epochs = epochs; job.sgns.seed = seed
        job.ppmi.dimension = dimension; job.ppmi.window = window; job.ppmi.seed = seed
        try FileManager.default.createDirectory(at: output.deletingLastPathComponent(), withIntermediateDirectories: true)
        nonisolated(unsafe) let log = c.log   // progress lines; printing from the training threads is fine
        let outcome = try WordEmbed.run(job) { log($0) }
        return ["words": .int(Int64(outcome.table.count)), "columns": .int(Int64(outcome.table.dimension))]
    }

    static func span(_ p: inout Parameters, _ key: String, _ fallback: String) throws -> TimeSpan {
        let text = try p.string(key, default: fallback)
        guard let s = TimeSpan(text) else { throw p.failure(key, "a duration such as 90d, 12h or 1y") }
        return s
    }

    // MARK: benchmark

    static func benchmark(_ c: StepContext, _ p: inout Parameters) throws -> [String: JSONValue] {
        let task = try p.choice("task", ["jaccard", "linkpred", "words"])
        let seed = UInt64(try p.int("seed", default: 0))
        let scores: [String: JSONValue]
        if task == "words" {
            let data = c.resolve(try p.string("data"))
            let table = try p.string("table", default: "words")
            let restrict = try p.int("restrict", default: 30_000)
            try p.finish()
            let result = try WordBenchmark.run(table: try EmbeddingTable.read(from: try c.upstreamFile("tables/\(table)")),
                                               dataDirectory: data, restrict: restrict)
            var s = [String: JSONValue]()
            for set in result.similarity { if let rho = set.spearman { s[set.name] = .double(rho) } }
            if let a = result.add.overall.accuracy { s["analogy_3cosadd"] = .double(a) }
            if let a = result.mul.overall.accuracy { s["analogy_3cosmul"] = .double(a) }
            scores = s
        } else if task == "jaccard" {
            let pairs = try p.int("pairs", default: 20_000)
            let table = try p.string("table", default: "nodes")
            try p.finish()
            let edges = try EdgeList.read(path: try c.upstreamFile("edges.tsv").path)
            let csr: (rowOffsets: [Int64], columnIndices: [Int32], values: [Float]) = edges.adjacencyCSR()
            let embeddings = try EmbeddingTable.read(from: try c.upstreamFile("tables/\(table)"))
            let result = try JaccardBenchmark.run(embeddings: embeddings, followed: try FollowSets(rowOffsets: csr.rowOffsets, columnIndices: csr.columnIndices),
                                                  rowIDs: edges.sourceIDs.ids, pairs: pairs, seed: seed)
            scores = ["follow_jaccard_spearman": .double(result.spearman), "pairs": .int(Int64(result.pairs))]
        } else {
            var o = LinkPrediction.Options()
            o.horizon = try span(&p, "horizon", "90d")
            o.splitCount = try p.int("splits", default: 4)
            o.embedding.dimension = try p.int("dim", default: 32)
            let settings = try p.stringList("settings", default: ["window:365d", "decayed:180d", "active:365d", "cumulative"])
            o.settings = try settings.map { s in
                guard let setting = TemporalSetting(s) else { throw p.failure("settings", "a list of window:365d, decayed:180d or cumulative") }
                return setting
            }
            o.seed = seed
            try p.finish()
            let report = try LinkPrediction.run(try TemporalEvents.read(path: try c.upstreamFile("events.tsv").path), options: o, log: c.log)
            try TemporalOutput.writeJSON(report, to: c.output.appendingPathComponent("linkpred.json"))
            scores = report.meanAUC.mapValues { .double($0) }
        }
        try TemporalOutput.writeJSON(scores, to: c.output.appendingPathComponent("scores.json"))
        return scores
    }

    // MARK: publish

    /// Publishes an upstream table (or every window of a temporal fit, each with its `valid_from` and
    /// `valid_to`) to a feature store, with the run, the spec and the upstream steps as lineage.
    static func publish(_ c: StepContext, _ p: inout Parameters) throws -> [String: JSONValue] {
        let name = try p.string("name")
        let tablePath = try p.string("table", default: "tables/nodes")
        let storePath = try p.string("store", default: "")
        let description = try p.string("description", default: "")
        let owner = try p.string("owner", default: "")
        let tags = try p.stringList("tags", default: [])
        try p.finish()
        let store = try FeatureStore(directory: storePath.isEmpty ? c.featureStore : c.resolve(storePath), create: true)
        // The run's lineage as a file in the step's output, so that the store records it with its checksum.
        let lineage = c.lineageDirectory.appendingPathComponent("\(c.runID)-\(c.spec.name).lineage.json")
        try TemporalOutput.writeJSON(["run": c.runID, "spec": c.specPath, "spec_checksum": c.specChecksum,
                                      "upstream_steps": c.upstreamKeys.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")],
                                     to: lineage)
        let root = try c.upstreamFile(tablePath)
        var tables = [URL]()
        if FileManager.default.fileExists(atPath: root.appendingPathComponent(EmbeddingTable.metadataFileName).path) {
            tables = [root]
        } else {
            tables = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasPrefix("window-") }.sorted()
                .map { root.appendingPathComponent($0) }
        }
        guard !tables.isEmpty else { throw PipelineError("step `\(c.spec.name)`: \(tablePath) holds no embedding table", step: c.spec.name) }
        var published = [JSONValue]()
        for table in tables {
            let meta = try EmbeddingTable.readMetadata(table.appendingPathComponent(EmbeddingTable.metadataFileName))
            func time(_ key: String) -> Double? {
                if case .int(let t)? = meta.parameters[key] { return Double(t) }
                return nil
            }
            var options = PublishOptions(name: name, validFrom: time("window_start"), validTo: time("window_end"),
                                         description: description.isEmpty ? nil : description, owner: owner.isEmpty ? nil : owner,
                                         tags: tags.isEmpty ? nil : tags, lineage: [lineage.path])
            options.link = true
            let result = try store.publish(table: table, options: options)
            published.append(.string("\(name)@\(result.version.version)"))
            c.log("\(result.created ? "published" : "already published as") \(name)@\(result.version.version) (\(table.lastPathComponent))")
        }
        try TemporalOutput.writeJSON(published, to: c.output.appendingPathComponent("published.json"))
        return ["published": .array(published), "store": .string(store.directory.path)]
    }

    // MARK: command

    static func command(_ c: StepContext, _ p: inout Parameters) throws -> [String: JSONValue] {
        try p.finish()
        func substitute(_ arg: String) throws -> String {
            var s = arg.replacingOccurrences(of: "{output}", with: c.output.path).replacingOccurrences(of: "{spec_dir}", with: c.specDirectory.path)
            for name in c.spec.uses { s = s.replacingOccurrences(of: "{input:\(name)}", with: c.upstream[name]!.path) }
            if let r = s.range(of: "{input:") {
                throw PipelineError("step `\(c.spec.name)`: `\(s[r.lowerBound...])` names a step that is not in its `uses`", step: c.spec.name)
            }
            return s
        }
        let argv = try c.spec.run.map(substitute)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        process.currentDirectoryURL = c.specDirectory
        let errorPipe = Pipe(), outputPipe = Pipe()
        process.standardError = errorPipe
        process.standardOutput = outputPipe
        do { try process.run() } catch {
            throw PipelineError("step `\(c.spec.name)`: cannot start `\(argv.joined(separator: " "))`: \(error)", step: c.spec.name)
        }
        let out = outputPipe.fileHandleForReading.readDataToEndOfFile()
        let err = errorPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try out.write(to: c.output.appendingPathComponent("stdout.txt"))
        guard process.terminationStatus == 0 else {
            let tail = String(decoding: err.suffix(600), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw PipelineError("step `\(c.spec.name)`: `\(argv.joined(separator: " "))` exited with status \(process.terminationStatus)\(tail.isEmpty ? "" : ": " + tail)", step: c.spec.name)
        }
        for file in c.spec.outputs where !FileManager.default.fileExists(atPath: c.output.appendingPathComponent(file).path) {
            throw PipelineError("step `\(c.spec.name)`: the command did not write its declared output `\(file)`", step: c.spec.name)
        }
        return ["exit_status": .int(0)]
    }
}
