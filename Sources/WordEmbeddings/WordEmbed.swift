import Dispatch
import EmbeddingStore
import Foundation
import LinearAlgebra

/// The `word-embed` job as a library call: read and tokenise a corpus, train SGNS or PPMI-SVD,
/// write an embedding table (entity type `word`, rows in frequency order) and a report.
public enum WordEmbed {
    /// The two methods.
    public enum Method: String, Sendable, CaseIterable {
        /// Skip-gram with negative sampling (``SkipGram``).
        case sgns
        /// PPMI-SVD (``PPMISVD``).
        case ppmiSVD = "ppmi-svd"
    }

    /// A whole run's settings.
    public struct Job: Sendable {
        public var inputs: [String]
        public var output: String
        /// sgns: where to write the context vectors `c` as a second table (same rows; `nil`: not written).
        public var contextOutput: String?
        /// sgns with iterate averaging (``SkipGram/Configuration/averageEpochs``): where to write
        /// the last iterate's input vectors `w` as a second table, for comparison (`nil`: not written).
        public var lastIterateOutput: String?
        public var method: Method
        public var corpus: CorpusOptions
        public var sgns: SkipGram.Configuration
        public var ppmi: PPMISVD.Configuration
        /// The limits the memory budget is checked against (default: those in force).
        public var memoryLimits: MemoryLimits?

        /// A job; the method settings default to each method's documented defaults.
        public init(inputs: [String], output: String, method: Method = .ppmiSVD, corpus: CorpusOptions = .init(),
                    sgns: SkipGram.Configuration = .init(), ppmi: PPMISVD.Configuration = .init()) {
            self.inputs = inputs; self.output = output; self.method = method; self.corpus = corpus
            self.sgns = sgns; self.ppmi = ppmi
        }
    }

    /// What a run did: the table and the report (`tokens`, `vocabulary`, `seconds`,
    /// `words_per_second`, `epoch_loss`, memory, ...), ready for JSON.
    public struct Outcome {
        public let table: EmbeddingTable
        public let report: [String: Any]
    }

    /// Runs `job`, writing the table to `job.output`. `log` receives progress lines.
    /// - Throws: ``WordEmbeddingsError`` for bad input, solver and file errors;
    ///   `MemoryBudgetError` (LinearAlgebra) when training would not fit the memory limits
    ///   (checked after reading the corpus, before the model is allocated).
    public static func run(_ job: Job, log: @escaping @Sendable (String) -> Void) throws -> Outcome {
        if job.contextOutput != nil && job.method != .sgns {
            throw WordEmbeddingsError("a context table (--context-output) is written by --method sgns only")
        }
        if job.lastIterateOutput != nil && (job.method != .sgns || job.sgns.averageEpochs == 0) {
            throw WordEmbeddingsError("a last-iterate table (--last-iterate-output) needs --method sgns and --average-epochs above 0")
        }
        let clock = DispatchTime.now().uptimeNanoseconds
        func elapsed(since t: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9 }
        var lastShown = -1
        let corpus = try Corpus.read(paths: job.inputs, options: job.corpus) { done, total in
            let percent = total > 0 ? done * 100 / total : 100
            if percent / 10 != lastShown / 10 { lastShown = percent; log("reading: \(percent)% of \(total / 1_048_576) MiB") }
        }
        let readSeconds = elapsed(since: clock)
        log("corpus: \(corpus.tokenCount) tokens, \(corpus.typeCount) distinct, vocabulary \(corpus.vocabulary.count) (min count \(job.corpus.minCount)), \(corpus.ids.count) tokens kept, \(corpus.sentenceCount) sentences (\(String(format: "%.2f", readSeconds)) s)")
        try memoryBudget(job, vocabulary: corpus.vocabulary.count, tokens: corpus.ids.count)
            .check(job.memoryLimits ?? .current())

        var report: [String: Any] = [
            "method": job.method.rawValue, "inputs": job.inputs, "tokens": corpus.tokenCount,
            "distinct_tokens": corpus.typeCount, "vocabulary": corpus.vocabulary.count,
            "tokens_in_vocabulary": corpus.ids.count, "sentences": corpus.sentenceCount,
            "invalid_utf8_sequences": corpus.invalidUTF8, "tokenizer": job.corpus.tokenizer.rawValue,
            "min_count": job.corpus.minCount,
        ]
        var parameters: [String: JSONValue] = [
            "tokenizer": .string(job.corpus.tokenizer.rawValue), "min_count": .int(Int64(job.corpus.minCount)),
        ]
        switch job.corpus.sentences {
        case .lines: parameters["sentences"] = "lines"
        case .chunks(let n): parameters["sentences"] = .string("chunks of \(n) tokens")
        }
        if let m = job.corpus.maxVocabulary { parameters["max_vocabulary"] = .int(Int64(m)) }
        let vectors: Matrix<Float>
        var contextVectors: Matrix<Float>?
        var lastInputVectors: Matrix<Float>?
        var seconds: [String: Double] = ["read": readSeconds]
        let algorithm: String
        let seed: UInt64
        switch job.method {
        case .sgns:
            var c = job.sgns
            if job.contextOutput != nil || job.lastIterateOutput != nil { c.keepContextVectors = true }
            let started = DispatchTime.now().uptimeNanoseconds
            let shown = ProgressGate()
            let result = try SkipGram.train(corpus, c) { fraction in
                if shown.pass(Int(fraction * 20)) {
                    let t = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                    let eta = fraction > 0 ? t * (1 - fraction) / fraction : 0
                    log(String(format: "sgns: %3.0f%% (%.1f s, about %.0f s left)", fraction * 100, t, eta))
                }
            }
            for (e, loss) in result.epochLoss.enumerated() {
                log(String(format: "sgns: epoch %d loss %.6f, probe loss at its end %.6f (%d effective words)", e + 1, loss,
                           result.epochProbeLoss[e], result.epochEffectiveWords[e]))
            }
            vectors = result.vectors
            contextVectors = result.contextVectors
            lastInputVectors = result.lastInputVectors
            if c.averageEpochs > 0 { report["averaged_snapshots"] = result.averagedSnapshots }
            seconds["train"] = result.seconds
            report["words_per_second"] = result.effectiveWordsPerSecond
            report["raw_tokens_x_epochs_per_second"] = Double(corpus.tokenCount * c.epochs) / result.seconds
            report["effective_words"] = result.epochEffectiveWords.reduce(0, +)
            report["epoch_loss"] = result.epochLoss
            report["epoch_probe_loss"] = result.epochProbeLoss
            report["epoch_effective_words"] = result.epochEffectiveWords
            report["epoch_pairs"] = result.epochPairs
            algorithm = "sgns"
            seed = c.seed
            parameters.merge([
                "dimension": .int(Int64(c.dimension)), "window": .int(Int64(c.window)), "negative": .int(Int64(c.negative)),
                "negative_exponent": .double(c.negativeExponent), "sample": .double(c.sample), "epochs": .int(Int64(c.epochs)),
                "alpha": .double(c.alpha), "min_alpha": .double(c.minAlpha), "threads": .int(Int64(c.threads)),
                "vectors": .string(c.vectors.rawValue),
                "initial_width": .double(c.initialWidth),
                "epoch_loss": .array(result.epochLoss.map { .double($0) }),
            ]) { $1 }
            if c.updateBound.isFinite { parameters["update_bound"] = .double(c.updateBound) }
            if c.averageEpochs > 0 { parameters["average_epochs"] = .int(Int64(c.averageEpochs)) }
            if c.vectors == .sum { parameters["context_weight"] = .double(c.contextWeight) }
        case .ppmiSVD:
            let c = job.ppmi
            let result = try PPMISVD.train(corpus, c) { phase in log("ppmi-svd: \(phase)...") }
            vectors = result.vectors
            for (k, v) in result.seconds { seconds[k] = v }
            let train = result.seconds.values.reduce(0, +)
            seconds["train"] = train
            report["words_per_second"] = Double(corpus.tokenCount) / train
            report["cooccurrence_nonzeros"] = result.cooccurrenceNonzeros
            report["ppmi_nonzeros"] = result.ppmiNonzeros
            report["singular_values"] = result.singularValues.map(Double.init)
            report["svd"] = result.svdMethod
            log(String(format: "ppmi-svd: %d co-occurrence entries, %d PPMI entries; count %.2f s, ppmi %.2f s, svd %.2f s",
                       result.cooccurrenceNonzeros, result.ppmiNonzeros, result.seconds["count"] ?? 0,
                       result.seconds["ppmi"] ?? 0, result.seconds["svd"] ?? 0))
            algorithm = "ppmi-svd"
            seed = c.seed
            parameters.merge([
                "dimension": .int(Int64(c.dimension)), "window": .int(Int64(c.window)), "weighting": .string(c.weighting.rawValue),
                "context_smoothing": .double(c.contextSmoothing), "shift": .double(c.shift),
                "eigenvalue_weight": .double(c.eigenvalueWeight), "power_iterations": .int(Int64(c.powerIterations)),
                "oversamples": .int(Int64(c.oversamples)), "threads": .int(Int64(c.threads)),
                "singular_values": .array(result.singularValues.map { .double(Double($0)) }),
            ]) { $1 }
        }
        let writeStart = DispatchTime.now().uptimeNanoseconds
        var meta = EmbeddingMetadata(entityType: "word", algorithm: algorithm, parameters: parameters, seed: seed)
        if job.inputs.count == 1 { try meta.recordInput(URL(fileURLWithPath: job.inputs[0])) } else { meta.inputFile = job.inputs.joined(separator: ",") }
        let table = try EmbeddingTable(ids: corpus.vocabulary.words, vectors: vectors, metadata: meta)
        try table.write(to: URL(fileURLWithPath: job.output))
        if let contextVectors, let path = job.contextOutput {
            meta.parameters["vectors"] = "context"
            try EmbeddingTable(ids: corpus.vocabulary.words, vectors: contextVectors, metadata: meta).write(to: URL(fileURLWithPath: path))
            report["context_output"] = path
        }
        if let lastInputVectors, let path = job.lastIterateOutput {
            meta.parameters["vectors"] = "last-iterate input"
            try EmbeddingTable(ids: corpus.vocabulary.words, vectors: lastInputVectors, metadata: meta).write(to: URL(fileURLWithPath: path))
            report["last_iterate_output"] = path
        }
        seconds["write"] = elapsed(since: writeStart)
        seconds["total"] = elapsed(since: clock)
        report["seconds"] = seconds
        report["dimension"] = vectors.columns
        report["output"] = job.output
        report["parameters"] = parameters.mapValues(\.foundationValue)
        if let peak = peakResidentBytes() { report["peak_memory_bytes"] = peak }
        return Outcome(table: table, report: report)
    }

    /// The process's peak resident set (VmHWM from /proc/self/status), or `nil` where unavailable.
    public static func peakResidentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kb = Int(fields[1]) { return kb * 1024 }
        }
        return nil
    }
}

/// Lets a value through once per step (thread-safe), for progress lines.
final class ProgressGate: @unchecked Sendable {
    private var last = -1
    private let lock = NSLock()
    func pass(_ step: Int) -> Bool {
        lock.lock(); defer { lock.unlock() }
        if step <= last { return false }
        last = step
        return true
    }
}

extension JSONValue {
    /// The value as Foundation JSON objects (for `JSONSerialization`).
    var foundationValue: Any {
        switch self {
        case .null: return NSNull()
        case .bool(let b): return b
        case .int(let i): return i
        case .double(let d): return d
        case .string(let s): return s
        case .array(let a): return a.map(\.foundationValue)
        case .object(let o): return o.mapValues(\.foundationValue)
        }
    }
}

extension WordEmbed {
    /// The memory a job holds after reading its corpus (`tokens` kept tokens, `vocabulary`
    /// words), estimated before training allocates it. sgns: input and context vectors, the
    /// negative-sampling table and each thread's buffers. ppmi-svd: the occurrence index, each
    /// thread's length-V accumulator, and the randomized SVD's blocks; the co-occurrence matrix
    /// itself is counted at its smallest (one entry a kept token), as its size is known only
    /// once counted.
    public static func memoryBudget(_ job: Job, vocabulary v: Int, tokens: Int) -> MemoryBudget {
        switch job.method {
        case .sgns:
            let c = job.sgns
            let tables = 1 + (job.contextOutput == nil ? 0 : 1) + (job.lastIterateOutput == nil ? 0 : 1)
            let sums = c.averageEpochs > 0 ? c.threads : 0   // iterate averaging: a running sum per thread
            let bytes = (2 + tables + sums) * 4 * v * c.dimension + 16 * v + c.threads * 4 * 4 * c.dimension
            return MemoryBudget(phases: [.init(name: "train", bytes: bytes,
                                               detail: "\(2 + tables + sums) x \(v) x \(c.dimension) float32 vectors (model, averages and output), sampling tables")],
                                advice: "a smaller --dim (now \(c.dimension)), a larger --min-count or --max-vocabulary")
        case .ppmiSVD:
            let c = job.ppmi
            let count = tokens * (4 + 8) + 8 * (v + 1) + c.threads * 8 * v + tokens * 12
            let l = c.dimension + c.oversamples
            let svd = tokens * 12 + 4 * 4 * l * v + 8 * l * l
            return MemoryBudget(phases: [
                .init(name: "count", bytes: count, detail: "\(tokens) token positions, \(c.threads) accumulators of \(v) doubles"),
                .init(name: "svd", bytes: svd, detail: "float32 blocks of \(l) columns over \(v) words"),
            ], blasBuffers: BLAS.unreservedBufferBytes(threads: c.threads),
               advice: "a smaller --dim (now \(c.dimension)), a larger --min-count or --max-vocabulary, or fewer --threads")
        }
    }
}

extension WordEmbed.Outcome {
    /// The lines `word-embed` prints after a run: sizes, seconds per phase and speed on `threads`
    /// threads, the loss per epoch (sgns) and the peak memory.
    public func summary(threads: Int) -> [String] {
        let r = report
        let s = r["seconds"] as? [String: Double] ?? [:]
        var lines = [
            "word-embed: \(r["method"] ?? "?"), \(r["tokens"] ?? 0) tokens, \(r["vocabulary"] ?? 0) words x \(r["dimension"] ?? 0) -> \(r["output"] ?? "?")",
            String(format: "  seconds: read %.2f  train %.2f  write %.2f  total %.2f;  %.0f words/s on %d threads",
                   s["read"] ?? 0, s["train"] ?? 0, s["write"] ?? 0, s["total"] ?? 0, r["words_per_second"] as? Double ?? 0, threads),
        ]
        if let loss = r["epoch_loss"] as? [Double] { lines.append("  loss per epoch: " + loss.map { String(format: "%.5f", $0) }.joined(separator: " ")) }
        if let loss = r["epoch_probe_loss"] as? [Double] { lines.append("  probe loss after each epoch: " + loss.map { String(format: "%.5f", $0) }.joined(separator: " ")) }
        if let peak = r["peak_memory_bytes"] as? Int { lines.append(String(format: "  peak memory: %.1f MiB", Double(peak) / 1_048_576)) }
        return lines
    }
}
