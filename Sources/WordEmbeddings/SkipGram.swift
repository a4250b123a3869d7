import Dispatch
import Foundation
import LinearAlgebra

/// Skip-gram with negative sampling (Mikolov et al. 2013), trained as word2vec and gensim do:
/// for each kept word and each context word within a dynamic window, one positive and
/// `negative` sampled negative logistic updates, with a linearly decaying learning rate.
///
/// ```swift
/// let corpus = try Corpus.read(paths: ["text.txt"], options: .init(tokenizer: .letters))
/// let model = try SkipGram.train(corpus, .init(dimension: 100, threads: 2, seed: 1))
/// print(model.epochLoss)      // mean loss per training example, one value per epoch
/// ```
public enum SkipGram {
    /// The parameters of a run; every parameter but the corpus has the documented default.
    public struct Configuration: Sendable, Equatable {
        /// Vector length (default 100).
        public var dimension: Int
        /// Largest window radius; each centre word draws its radius uniformly in `1...window`
        /// (the "dynamic window", default 5).
        public var window: Int
        /// Negative samples per positive pair, drawn from the unigram distribution raised to
        /// ``negativeExponent`` (default 5).
        public var negative: Int
        /// Exponent of the negative-sampling distribution (default 0.75).
        public var negativeExponent: Double
        /// Sub-sampling threshold `t` of frequent words: a word of corpus share `f` is kept with
        /// probability `min(1, sqrt(t/f) + t/f)` (word2vec's formula; default 1e-4; 0 disables).
        public var sample: Double
        /// Passes over the corpus (default 5).
        public var epochs: Int
        /// Learning rate at the start (default 0.025), decaying linearly to ``minAlpha`` at the end.
        public var alpha: Double
        /// Learning rate at the end (default 1e-4).
        public var minAlpha: Double
        /// Worker threads (default `Parallel.threads`). With one thread a seed gives the same bits
        /// every run; with more, the same random draws and learning rates, but updates race
        /// (Hogwild) and results vary in the last digits.
        public var threads: Int
        /// Seed of the initial vectors and of every thread's random stream (default 0).
        public var seed: UInt64
        /// Which vectors the run outputs (default ``SkipGram/OutputVectors/input``, gensim's `wv`).
        public var vectors: OutputVectors
        /// Also return the context vectors (``SkipGram/Result/contextVectors``; default false).
        public var keepContextVectors: Bool = false
        /// Input vectors start uniform in `[-w/d, w/d)` for this `w` (default 1, gensim 4's range;
        /// word2vec.c's is 0.5; the README gives the scores of both); context vectors start at zero.
        public var initialWidth: Double
        /// An example whose score `|u·v|` reaches this bound makes no update (its loss still
        /// counts): gensim's `MAX_EXP` skip is 6; the default, infinity, updates every example
        /// (σ saturates to exactly 0 or 1 beyond the table's [-8, 8)).
        public var updateBound: Double = .infinity
        /// Iterate averaging (Polyak and Juditsky 1992): when positive, the input vectors `w`
        /// published are the mean of `w` at the end of every job of the last `averageEpochs`
        /// epochs (each thread adds the whole matrix into its own sum after each of its jobs, so
        /// the average is Hogwild-safe and, with one thread, the same bits every run). 0 (the
        /// default): the last iterate, as word2vec and gensim publish it.
        public var averageEpochs: Int = 0
        /// The weight `L` of the context vectors in ``SkipGram/OutputVectors/sum``: the table is
        /// `w + L c` (each element `w + Float(L) * c`, rounded once for the product and once for
        /// the sum). Finite and at least 0; default 1, `w + c` bit for bit; a value other than 1
        /// needs ``vectors`` `sum`.
        public var contextWeight: Double = 1

        /// A configuration with the documented defaults.
        public init(dimension: Int = 100, window: Int = 5, negative: Int = 5, negativeExponent: Double = 0.75,
                    sample: Double = 1e-4, epochs: Int = 5, alpha: Double = 0.025, minAlpha: Double = 1e-4,
                    threads: Int = Parallel.threads, seed: UInt64 = 0, vectors: OutputVectors = .input,
                    initialWidth: Double = 1) {
            self.dimension = dimension; self.window = window; self.negative = negative
            self.negativeExponent = negativeExponent; self.sample = sample; self.epochs = epochs
            self.alpha = alpha; self.minAlpha = minAlpha; self.threads = threads; self.seed = seed
            self.vectors = vectors; self.initialWidth = initialWidth
        }

        func validate(vocabulary: Int) throws {
            func bad(_ s: String) -> WordEmbeddingsError { WordEmbeddingsError("SkipGram: \(s)") }
            if dimension < 1 { throw bad("dimension must be at least 1, got \(dimension)") }
            if window < 1 { throw bad("window must be at least 1, got \(window)") }
            if negative < 1 { throw bad("negative must be at least 1, got \(negative)") }
            if epochs < 1 { throw bad("epochs must be at least 1, got \(epochs)") }
            if threads < 1 { throw bad("threads must be at least 1, got \(threads)") }
            if !(sample >= 0) { throw bad("sample must be >= 0, got \(sample)") }
            if !(alpha > 0) || !(minAlpha >= 0) || minAlpha > alpha { throw bad("need 0 <= minAlpha <= alpha and alpha > 0, got alpha \(alpha), minAlpha \(minAlpha)") }
            if !negativeExponent.isFinite { throw bad("negative exponent must be finite") }
            if !(initialWidth > 0) || !initialWidth.isFinite { throw bad("initial width must be positive and finite, got \(initialWidth)") }
            if !(updateBound > 0) { throw bad("update bound must be positive, got \(updateBound)") }
            if averageEpochs < 0 || averageEpochs > epochs { throw bad("averageEpochs must be in 0...epochs (\(epochs)), got \(averageEpochs)") }
            if !contextWeight.isFinite || !(contextWeight >= 0) { throw bad("context weight must be finite and at least 0, got \(contextWeight)") }
            if contextWeight != 1 && vectors != .sum {
                throw bad("a context weight (\(contextWeight)) applies to the sum table w + L c only: use vectors sum, got \(vectors.rawValue)")
            }
            if vocabulary < dimension {
                throw bad("the vocabulary has \(vocabulary) words, fewer than the dimension \(dimension): lower the dimension or the min count, or give more text")
            }
        }
    }

    /// The table a run outputs: word2vec's two weight matrices are the input vectors `w` (the
    /// rows a word's own occurrences train as context) and the context vectors `c` (its rows as
    /// the predicted word, started at zero); word2vec and gensim publish `w`. Levy, Goldberg and
    /// Dagan (2015, section 3.3) add `c`: the cosine of two `w + c` rows adds the first-order
    /// terms `w_a·c_b + c_a·w_b`, which SGNS trains to be high for words seen together.
    public enum OutputVectors: String, Sendable, CaseIterable {
        /// The input vectors `w` (word2vec's `syn0`, gensim's `wv`).
        case input
        /// `w + c`, each word's input and context vectors added.
        case sum
        /// `w/|w| + c/|c|`: both unit length before they are added, so that each counts equally
        /// in the cosine (a zero row stays zero).
        case normalizedSum = "normalized-sum"
    }

    /// What a run produced.
    public struct Result: Sendable {
        /// `vocabulary x dimension` word vectors (row `i` is the vocabulary's word `i`), as
        /// ``SkipGram/Configuration/vectors`` chooses.
        public let vectors: Matrix<Float>
        /// The context vectors `c` (word2vec's `syn1neg`), when
        /// ``SkipGram/Configuration/keepContextVectors`` asks for them.
        public let contextVectors: Matrix<Float>?
        /// The last iterate's input vectors `w` when ``SkipGram/Configuration/averageEpochs`` is
        /// positive and ``SkipGram/Configuration/keepContextVectors`` asks for the extra tables.
        public let lastInputVectors: Matrix<Float>?
        /// How many snapshots of `w` the average holds (jobs of the averaged epochs; 0: none).
        public let averagedSnapshots: Int
        /// Mean loss per training example (`-log σ(u·v)` for a positive pair, `-log σ(-u·v)` for a
        /// negative one), accumulated in `Double`, one value per epoch.
        public let epochLoss: [Double]
        /// The loss of a fixed sample of examples at the end of each epoch (see
        /// ``SkipGram/train(_:_:progress:)``): the objective with the vectors held still.
        public let epochProbeLoss: [Double]
        /// Words trained on per epoch (after sub-sampling; gensim's "effective words").
        public let epochEffectiveWords: [Int]
        /// Positive (centre, context) pairs per epoch.
        public let epochPairs: [Int]
        /// Training wall time, seconds (the epochs' work; the probe losses are not counted).
        public let seconds: Double
        /// The configuration used.
        public let configuration: Configuration
        /// Per epoch, the jobs trained, ordered by position (recorded only when training for tests).
        let jobTrace: [[JobRecord]]
        /// The snapshots of `w` the average holds, `rows x lanes*4` row-major (recorded only when
        /// training for tests).
        let snapshots: [[Float]]

        /// Effective words (all epochs) per second of training.
        public var effectiveWordsPerSecond: Double { Double(epochEffectiveWords.reduce(0, +)) / max(seconds, 1e-9) }
    }

    /// Trains SGNS vectors on `corpus`.
    ///
    /// Vectors are initialised uniformly in `[-w/d, w/d)`, `w` the configuration's
    /// ``Configuration/initialWidth`` (context vectors at zero). Each epoch is cut into jobs as
    /// gensim's job producer cuts it (whole sentences in corpus order, up to 10,000 tokens a job;
    /// longer sentences in 10,000-token pieces); the threads take the jobs in order from a shared
    /// counter, so they train neighbouring parts of the corpus side by side. A job's random
    /// draws come from its own stream (`seed`, epoch, job) and its learning rate from its position
    /// in the corpus, so neither depends on which thread trains it or when: threads change only
    /// the order in which the updates race (Hogwild). The logistic function and its logarithm are read from 2,048-cell
    /// tables over `[-8, 8]` (exact outside).
    /// Cost: about `epochs * effective words * 2 E[radius] * (negative + 1) * 3 d` flops.
    /// - Parameters:
    ///   - corpus: the tokenised corpus; its vocabulary gives the rows.
    ///   - configuration: the run's parameters.
    ///   - progress: called from one worker now and then with the fraction done.
    /// - Throws: ``WordEmbeddingsError`` for a bad configuration or a vocabulary smaller than the dimension.
    public static func train(_ corpus: Corpus, _ configuration: Configuration = .init(),
                             progress: (@Sendable (Double) -> Void)? = nil) throws -> Result {
        try train(corpus, configuration, progress: progress, serial: false)
    }

    /// ``train(_:_:progress:)``, with `serial` running the threads one after the other on the
    /// calling thread (a scheduler that starves all threads but one: the first takes every job),
    /// and `record` keeping each epoch's ``JobRecord``s in ``Result/jobTrace`` (for tests).
    static func train(_ corpus: Corpus, _ configuration: Configuration, progress: (@Sendable (Double) -> Void)?,
                      serial: Bool, record: Bool = false) throws -> Result {
        let c = configuration
        let vocabularySize = corpus.vocabulary.count
        try c.validate(vocabulary: vocabularySize)
        let d = c.dimension
        let lanes = (d + 3) / 4                   // SIMD4 chunks per row; padding stays zero
        let model = SGNSModel(rows: vocabularySize, lanes: lanes)
        defer { model.deallocate() }
        model.initialise(dimension: d, width: c.initialWidth, seed: c.seed)

        let sampler = AliasSampler(weights: corpus.vocabulary.counts.map { pow(Double($0), c.negativeExponent) })
        let keep = keepThresholds(counts: corpus.vocabulary.counts, sample: c.sample)
        let tables = SigmoidTables()

        // The epoch's jobs (gensim's batches of whole sentences up to 10,000 tokens), taken in
        // order from a shared counter by whichever thread is free.
        let jobs = SGNSJobs(sentenceStarts: corpus.sentenceStarts, size: SGNSJob.piece)
        let threads = max(1, min(c.threads, jobs.count))
        var stats = [ThreadStats](repeating: ThreadStats(record: record), count: threads)
        // Iterate averaging: one running sum of w per thread (added to after each of its jobs).
        let plane = vocabularySize * lanes
        let firstAveraged = c.epochs - c.averageEpochs
        let sums: UnsafeMutablePointer<SIMD4<Float>>? = c.averageEpochs > 0 ? .allocate(capacity: threads * plane) : nil
        sums?.initialize(repeating: .zero, count: threads * plane)
        defer { sums?.deallocate() }
        var averaged = 0
        var snapshots = [[Float]]()

        var loss = [Double](), probeLoss = [Double](), effective = [Int](), pairs = [Int]()
        var trace = [[JobRecord]]()
        var trainNanoseconds: UInt64 = 0
        try corpus.ids.withUnsafeBufferPointer { ids in
            try corpus.sentenceStarts.withUnsafeBufferPointer { sentences in
                try sampler.cells.withUnsafeBufferPointer { cells in
                    try keep.withUnsafeBufferPointer { keep in
                        try tables.withPointers { sig, logsig in
                            for epoch in 0..<c.epochs {
                                try stats.withUnsafeMutableBufferPointer { st in
                                    let job = SGNSJob(ids: ids.baseAddress!, sentences: sentences, jobs: jobs,
                                                      syn0: model.input, syn1: model.output, lanes: lanes,
                                                      cells: cells.baseAddress!, cellCount: sampler.count, keep: keep.baseAddress!,
                                                      sig: sig, logsig: logsig, window: c.window, negative: c.negative,
                                                      alpha: c.alpha, minAlpha: c.minAlpha, epoch: epoch, epochs: c.epochs,
                                                      seed: c.seed, updateBound: Float(c.updateBound),
                                                      sums: epoch >= firstAveraged ? sums : nil, plane: plane,
                                                      stats: st.baseAddress!, progress: progress)
                                    let box = UnsafeSendableBox(job)
                                    let started = DispatchTime.now().uptimeNanoseconds
                                    Parallel.forEachDynamicChunk(count: jobs.count, threads: threads, serial: serial) { t, chunks in
                                        box.value.run(thread: t, chunks: chunks)
                                    }
                                    trainNanoseconds += DispatchTime.now().uptimeNanoseconds - started
                                    var l = 0.0, e = 0, p = 0, examples = 0
                                    var records = [JobRecord]()
                                    for t in 0..<threads {
                                        l += st[t].loss; e += st[t].effective; p += st[t].pairs; examples += st[t].examples
                                        averaged += st[t].snapshots.count
                                        snapshots += st[t].snapshots.list
                                        if record { records += st[t].trace.map { JobRecord(thread: t, job: $0.job, start: $0.start, end: $0.end, rate: $0.rate) } }
                                        st[t] = ThreadStats(record: record)
                                    }
                                    if record { trace.append(records.sorted { $0.start < $1.start }) }
                                    if !l.isFinite {
                                        throw WordEmbeddingsError("SkipGram: the loss became \(l) in epoch \(epoch + 1): lower the learning rate")
                                    }
                                    loss.append(examples > 0 ? l / Double(examples) : 0)
                                    effective.append(e); pairs.append(p)
                                    probeLoss.append(Self.probeLoss(ids: ids, sentences: sentences, model: model,
                                                                    cells: cells.baseAddress!, cellCount: sampler.count,
                                                                    keep: keep.baseAddress!, window: c.window,
                                                                    negative: c.negative, seed: c.seed))
                                }
                            }
                        }
                    }
                }
            }
        }
        let seconds = Double(trainNanoseconds) / 1e9
        var last: Matrix<Float>?
        if let sums, averaged > 0 {
            if c.keepContextVectors { last = model.vectors(dimension: d, .input) }
            model.average(sums: sums, threads: threads, count: averaged)
        }
        let vectors = model.vectors(dimension: d, c.vectors, contextWeight: Float(c.contextWeight))
        let context = c.keepContextVectors ? model.vectors(dimension: d, nil) : nil
        return Result(vectors: vectors, contextVectors: context, lastInputVectors: last, averagedSnapshots: averaged,
                      epochLoss: loss, epochProbeLoss: probeLoss, epochEffectiveWords: effective,
                      epochPairs: pairs, seconds: seconds, configuration: c, jobTrace: trace, snapshots: snapshots)
    }

    /// The mean loss of a fixed sample of training examples under the current vectors, computed
    /// without updating them (exact `log1p(exp(·))` in `Double`). The sample: 8 slices of up to
    /// 2,500 tokens spread over the corpus, sub-sampled, dynamic windows and negatives drawn as in
    /// training, from a stream fixed by `seed` so that every epoch scores the same examples.
    /// Unlike ``Result/epochLoss`` (each example scored just before its own update, while the
    /// vectors move), this is the objective at the epoch's end.
    static func probeLoss(ids: UnsafeBufferPointer<Int32>, sentences: UnsafeBufferPointer<Int>, model: SGNSModel,
                          cells: UnsafePointer<UInt64>, cellCount: Int, keep: UnsafePointer<UInt64>,
                          window: Int, negative: Int, seed: UInt64) -> Double {
        var rng = Xoshiro256.stream(seed: seed, index: 1 << 40)
        let n = ids.count, L = model.lanes
        var kept = [Int](), loss = 0.0, examples = 0
        for k in 0..<8 {
            let start = n * k / 8
            var a = 0, b = sentences.count - 1         // the sentence holding `start`
            while a < b { let m = (a + b + 1) / 2; if sentences[m] <= start { a = m } else { b = m - 1 } }
            let end = min(sentences[min(a + 1, sentences.count - 1)], start + 2_500, n)
            kept.removeAll(keepingCapacity: true)
            for p in start..<max(start, end) {
                let w = Int(ids[p])
                if keep[w] < (UInt64(1) << 32) && (rng.next() >> 32) >= keep[w] { continue }
                kept.append(w)
            }
            for i in kept.indices {
                let radius = window - Int(truncatingIfNeeded: ((rng.next() >> 32) &* UInt64(window)) >> 32)
                for j in max(0, i - radius)...min(kept.count - 1, i + radius) where j != i {
                    let input = model.input + kept[j] * L
                    let f = Double(SGNSKernel.dot(input, model.output + kept[i] * L, L))
                    loss += log1p(exp(-f)); examples += 1
                    for _ in 0..<negative {
                        let target = AliasSampler.draw(rng.next(), cells, cellCount)
                        if target == kept[i] { continue }
                        loss += log1p(exp(Double(SGNSKernel.dot(input, model.output + target * L, L)))); examples += 1
                    }
                }
            }
        }
        return examples > 0 ? loss / Double(examples) : 0
    }

    /// Per-word keep thresholds on a 2^32 scale: word `w` is kept when 32 random bits fall below
    /// `keep[w]` (>= 2^32: always). word2vec's `(sqrt(c/(tT)) + 1) tT/c` with `T` the total count.
    static func keepThresholds(counts: [Int64], sample: Double) -> [UInt64] {
        let total = Double(counts.reduce(0, +))
        return counts.map { count in
            guard sample > 0, count > 0 else { return UInt64(1) << 32 }
            let threshold = sample * total
            let p = ((Double(count) / threshold).squareRoot() + 1) * threshold / Double(count)
            return p >= 1 ? UInt64(1) << 32 : UInt64(p * 4_294_967_296.0)
        }
    }
}

/// An epoch's units of work, as gensim's job producer forms them: whole sentences, in corpus
/// order, up to `size` tokens a job; a sentence longer than `size` is cut into `size`-token
/// pieces, each a job of its own (its last, shorter piece opens the next job). The jobs depend on
/// the corpus alone, so the work of a job (its random draws, its learning rate) does not depend
/// on which thread takes it.
struct SGNSJobs: Sendable {
    /// Job `k` is tokens `starts[k] ..< starts[k + 1]`; `count + 1` entries.
    let starts: [Int]
    /// The sentence holding `starts[k]`.
    let firstSentence: [Int]
    var count: Int { firstSentence.count }

    init(sentenceStarts: [Int], size: Int) {
        var starts = [Int](), first = [Int]()
        var open = false, length = 0
        func close() { if open { open = false; length = 0 } }
        for s in 0..<max(0, sentenceStarts.count - 1) {
            let a = sentenceStarts[s], b = sentenceStarts[s + 1]
            if b <= a { continue }
            if open && length + (b - a) > size { close() }
            var p = a
            if b - a > size {
                while b - p >= size { starts.append(p); first.append(s); p += size }   // whole pieces
                if p == b { continue }
            }
            if !open { starts.append(p); first.append(s); open = true }
            length += b - p
        }
        starts.append(sentenceStarts.last ?? 0)
        self.starts = starts; self.firstSentence = first
    }
}

/// What a thread trained: job `job` (tokens `start ..< end`) at learning rate `rate` (its first
/// piece's), for tests.
struct JobRecord: Sendable, Equatable {
    var thread = 0
    let job: Int, start: Int, end: Int
    let rate: Float
}

/// One thread's totals for an epoch.
struct ThreadStats {
    var loss = 0.0
    var effective = 0
    var pairs = 0
    var examples = 0
    /// Whether to keep ``trace``.
    var record = false
    /// The jobs this thread trained (when ``record``).
    var trace = [JobRecord]()
    /// The snapshots of `w` this thread added to its running sum: their count, and (when
    /// ``record``) copies of them.
    var snapshots = (count: 0, list: [[Float]]())

    init(record: Bool = false) { self.record = record }
}

/// The two weight matrices, rows of `lanes` SIMD4 vectors (`d` rounded up to a multiple of 4;
/// the padding stays zero), 64-byte aligned.
struct SGNSModel {
    let rows: Int, lanes: Int
    let input: UnsafeMutablePointer<SIMD4<Float>>
    let output: UnsafeMutablePointer<SIMD4<Float>>

    init(rows: Int, lanes: Int) {
        self.rows = rows; self.lanes = lanes
        let bytes = rows * lanes * MemoryLayout<SIMD4<Float>>.stride
        input = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64).bindMemory(to: SIMD4<Float>.self, capacity: rows * lanes)
        output = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64).bindMemory(to: SIMD4<Float>.self, capacity: rows * lanes)
        input.initialize(repeating: .zero, count: rows * lanes)
        output.initialize(repeating: .zero, count: rows * lanes)
    }

    func deallocate() {
        UnsafeMutableRawPointer(input).deallocate()
        UnsafeMutableRawPointer(output).deallocate()
    }

    /// Replaces the input rows by `(sums of the threads' running sums) / count`, summed in
    /// `Double` in thread order.
    func average(sums: UnsafePointer<SIMD4<Float>>, threads: Int, count: Int) {
        let plane = rows * lanes
        let scale = 1 / Double(count)
        for i in 0..<plane {
            var s = SIMD4<Double>.zero
            for t in 0..<threads {
                let x = sums[t * plane + i]
                s += SIMD4<Double>(Double(x[0]), Double(x[1]), Double(x[2]), Double(x[3]))
            }
            s *= scale
            input[i] = SIMD4<Float>(Float(s[0]), Float(s[1]), Float(s[2]), Float(s[3]))
        }
    }

    /// Input vectors uniform in [-w/d, w/d), row after row from one seeded stream.
    func initialise(dimension d: Int, width w: Double, seed: UInt64) {
        var rng = Xoshiro256(seed: seed)
        let scale = Float(2 * w) / Float(d)
        for r in 0..<rows {
            let row = UnsafeMutableRawPointer(input + r * lanes).assumingMemoryBound(to: Float.self)
            for k in 0..<d { row[k] = (Float(rng.next() >> 40) * 0x1p-24 - 0.5) * scale }
        }
    }

    /// The `rows x d` column-major output table: the input rows `w`, `w + L c` (`L` the context
    /// weight, 1 by default: `L * c` is then `c` exactly, so the table is `w + c` bit for bit), or
    /// `w/|w| + c/|c|` (norms in `Double`; a zero row counts as zero), `c` the output (context)
    /// rows; `nil`: the context rows `c` alone.
    func vectors(dimension d: Int, _ choice: SkipGram.OutputVectors?, contextWeight: Float = 1) -> Matrix<Float> {
        var m = Matrix<Float>(rows: rows, columns: d)
        m.elements.withUnsafeMutableBufferPointer { e in
            for r in 0..<rows {
                let a = UnsafeRawPointer(input + r * lanes).assumingMemoryBound(to: Float.self)
                let b = UnsafeRawPointer(output + r * lanes).assumingMemoryBound(to: Float.self)
                switch choice {
                case nil:
                    for k in 0..<d { e[r + k * rows] = b[k] }
                case .input:
                    for k in 0..<d { e[r + k * rows] = a[k] }
                case .sum:
                    for k in 0..<d { e[r + k * rows] = a[k] + contextWeight * b[k] }
                case .normalizedSum:
                    func scale(_ x: UnsafePointer<Float>) -> Double {
                        var s = 0.0
                        for k in 0..<d { s += Double(x[k]) * Double(x[k]) }
                        return s > 0 ? 1 / s.squareRoot() : 0
                    }
                    let sa = scale(a), sb = scale(b)
                    for k in 0..<d { e[r + k * rows] = Float(Double(a[k]) * sa + Double(b[k]) * sb) }
                }
            }
        }
        return m
    }
}

/// Walker's alias method (Vose's construction): O(1) draws from a discrete distribution, one
/// 8-byte cell a draw: the cell's alias in the high 32 bits, its acceptance threshold on a 2^32
/// scale in the low 32 (a full cell is its own alias, so a draw of it always returns it).
struct AliasSampler {
    let cells: [UInt64]
    var count: Int { cells.count }

    init(weights: [Double]) {
        let n = weights.count
        let total = weights.reduce(0, +)
        var scaled = weights.map { $0 * Double(n) / total }
        var cells = (0..<n).map { UInt64($0) << 32 | 0xFFFF_FFFF }
        var small = [Int](), large = [Int]()
        for i in 0..<n { if scaled[i] < 1 { small.append(i) } else { large.append(i) } }
        while let s = small.popLast() {
            guard let l = large.last else { break }
            let threshold = min(UInt64(max(0, scaled[s]) * 4_294_967_296.0), 0xFFFF_FFFF)
            cells[s] = UInt64(l) << 32 | threshold
            scaled[l] -= 1 - scaled[s]
            if scaled[l] < 1 { large.removeLast(); small.append(l) }
        }
        self.cells = cells
    }

    /// One draw from 64 random bits: the high 32 pick a cell, the low 32 accept it or its alias.
    @inline(__always) static func draw(_ bits: UInt64, _ cells: UnsafePointer<UInt64>, _ n: Int) -> Int {
        let cell = Int(truncatingIfNeeded: ((bits >> 32) &* UInt64(n)) >> 32)
        let c = cells[cell]
        return (bits & 0xFFFF_FFFF) < (c & 0xFFFF_FFFF) ? cell : Int(truncatingIfNeeded: c >> 32)
    }

    /// The probability of each outcome, from the cells (for tests).
    var probabilities: [Double] {
        var p = [Double](repeating: 0, count: count)
        for (i, c) in cells.enumerated() {
            let accept = Double(c & 0xFFFF_FFFF) / 4_294_967_296.0
            let alias = Int(c >> 32)
            if alias == i { p[i] += 1 } else { p[i] += accept; p[alias] += 1 - accept }
        }
        return p.map { $0 / Double(count) }
    }
}

/// Tables of σ(x) and log σ(x) over [-range, range).
struct SigmoidTables {
    static let size = 2048
    static let range: Float = 8
    let sigmoid: [Float]
    let logSigmoid: [Double]

    init() {
        let n = Self.size
        var s = [Float](), l = [Double]()
        for i in 0..<n {
            let x = (Double(i) + 0.5) / Double(n) * 2 * Double(Self.range) - Double(Self.range)
            s.append(Float(1 / (1 + exp(-x))))
            l.append(-log1p(exp(-x)))
        }
        sigmoid = s; logSigmoid = l
    }

    func withPointers<R>(_ body: (UnsafePointer<Float>, UnsafePointer<Double>) throws -> R) rethrows -> R {
        try sigmoid.withUnsafeBufferPointer { s in try logSigmoid.withUnsafeBufferPointer { l in try body(s.baseAddress!, l.baseAddress!) } }
    }
}

/// Everything one epoch's workers need, as raw pointers (shared, Hogwild).
struct SGNSJob {
    let ids: UnsafePointer<Int32>
    let sentences: UnsafeBufferPointer<Int>
    let jobs: SGNSJobs
    let syn0: UnsafeMutablePointer<SIMD4<Float>>
    let syn1: UnsafeMutablePointer<SIMD4<Float>>
    let lanes: Int
    let cells: UnsafePointer<UInt64>
    let cellCount: Int
    let keep: UnsafePointer<UInt64>
    let sig: UnsafePointer<Float>
    let logsig: UnsafePointer<Double>
    let window: Int
    let negative: Int
    let alpha: Double
    let minAlpha: Double
    let epoch: Int
    let epochs: Int
    let seed: UInt64
    let updateBound: Float
    /// The threads' running sums of `w` (thread `t`'s at `t * plane`), in averaged epochs; else nil.
    let sums: UnsafeMutablePointer<SIMD4<Float>>?
    let plane: Int
    let stats: UnsafeMutablePointer<ThreadStats>
    let progress: (@Sendable (Double) -> Void)?

    /// Tokens a job holds at most (gensim's `batch_words`, word2vec's `MAX_SENTENCE_LEN`).
    static let piece = 10_000

    /// The random stream of job `job` of epoch `epoch`: sub-sampling, windows and negatives of a
    /// job are the same whichever thread trains it.
    static func stream(seed: UInt64, epoch: Int, job: Int) -> Xoshiro256 {
        Xoshiro256.stream(seed: seed, index: (1 << 48) | UInt64(truncatingIfNeeded: epoch) << 32 | UInt64(truncatingIfNeeded: job))
    }

    /// The learning rate at token `position` of epoch `epoch`: linear in the global position
    /// through all epochs, from `alpha` to `minAlpha` (gensim's per-job rate, word2vec's
    /// `word_count_actual` on one thread).
    static func rate(alpha: Double, minAlpha: Double, epoch: Int, epochs: Int, position: Int, tokens: Int) -> Float {
        let done = Double(epoch) * Double(tokens) + Double(position)
        return Float(max(minAlpha, alpha - (alpha - minAlpha) * done / (Double(tokens) * Double(epochs))))
    }

    /// Thread `t`'s work for one epoch: it takes the next untaken job until none is left, so
    /// the threads train neighbouring 10,000-token jobs side by side in corpus order (gensim's
    /// job queue).
    func run(thread t: Int, chunks: DynamicChunks) {
        var st = stats[t]
        let kept = UnsafeMutablePointer<Int32>.allocate(capacity: Self.piece)
        let kernel = SGNSKernel(lanes: lanes, negative: negative, sig: sig, logsig: logsig, bound: updateBound)
        defer { kept.deallocate(); kernel.deallocate() }
        let tokens = jobs.starts[jobs.count]
        let L = lanes
        var nextReport = 0

        while let k = chunks.next()?.lowerBound {   // ranges of one job
            let lo = jobs.starts[k], hi = jobs.starts[k + 1]
            var random = Self.stream(seed: seed, epoch: epoch, job: k)
            var s = jobs.firstSentence[k]
            var position = lo
            while position < hi {
                let sentenceEnd = min(sentences[min(s + 1, sentences.count - 1)], hi)
                if position >= sentenceEnd { s += 1; continue }
                let pieceEnd = min(sentenceEnd, position + Self.piece)
                let lr = Self.rate(alpha: alpha, minAlpha: minAlpha, epoch: epoch, epochs: epochs, position: position, tokens: tokens)
                if st.record && position == lo { st.trace.append(JobRecord(job: k, start: lo, end: hi, rate: lr)) }
                // Sub-sample the piece.
                var count = 0
                for p in position..<pieceEnd {
                    let w = Int(ids[p])
                    let threshold = keep[w]
                    if threshold < (UInt64(1) << 32) && (random.next() >> 32) >= threshold { continue }
                    kept[count] = Int32(w); count += 1
                }
                st.effective += count
                for i in 0..<count {
                    let radius = window - Int(truncatingIfNeeded: ((random.next() >> 32) &* UInt64(window)) >> 32)
                    let center = Int(kept[i])
                    let jLo = max(0, i - radius), jHi = min(count - 1, i + radius)
                    if jLo > jHi { continue }
                    for j in jLo...jHi where j != i {
                        // word2vec's skip-gram: the context word's input vector predicts the centre
                        // word (output vector) against `negative` words drawn from unigram^0.75.
                        kernel.targets[0] = center
                        var m = 1
                        for _ in 0..<negative {
                            let target = AliasSampler.draw(random.next(), cells, cellCount)
                            if target != center { kernel.targets[m] = target; m += 1 }
                        }
                        st.pairs += 1
                        kernel.train(input: syn0 + Int(kept[j]) * L, output: syn1, targets: m, lr: lr, stats: &st)
                    }
                }
                position = pieceEnd
            }
            if let sums {   // iterate averaging: this thread's sum takes w as the job leaves it
                let sum = sums + t * plane
                for i in 0..<plane { sum[i] += syn0[i] }
                st.snapshots.count += 1
                if st.record { st.snapshots.list.append(Array(UnsafeBufferPointer(start: UnsafeRawPointer(syn0).assumingMemoryBound(to: Float.self), count: plane * 4))) }
            }
            if t == 0, let progress, hi >= nextReport {
                nextReport = hi + 200_000
                progress((Double(epoch) * Double(tokens) + Double(hi)) / (Double(tokens) * Double(epochs)))
            }
        }
        stats[t] = st
    }
}

/// One thread's SGNS update of an input vector against its targets (the positive first, then
/// the negatives). word2vec updates each target's output vector at once and the input vector
/// after the last target, so the input vector is the same for every target's dot product and
/// targets that differ do not interact: six of them (the positive and five negatives, the
/// default) go through one pass for the dot products and one for the updates, the input row
/// read once a pass. Padding rows (a per-thread zero row with gradient 0) fill a group of six;
/// a repeated target (where word2vec's second dot product sees the first update) takes the
/// one-target-at-a-time path.
struct SGNSKernel {
    static let group = 6
    let lanes: Int
    let sig: UnsafePointer<Float>
    let logsig: UnsafePointer<Double>
    /// The targets of the current pair (capacity `negative + 1`).
    let targets: UnsafeMutablePointer<Int>
    /// The input vector's accumulated update, for more than one group or repeated targets.
    let work: UnsafeMutablePointer<SIMD4<Float>>
    /// A zero row standing in for absent targets.
    let padding: UnsafeMutablePointer<SIMD4<Float>>
    /// Scores with `|f| >= bound` make no update (``SkipGram/Configuration/updateBound``).
    let bound: Float

    init(lanes: Int, negative: Int, sig: UnsafePointer<Float>, logsig: UnsafePointer<Double>, bound: Float = .infinity) {
        self.lanes = lanes; self.sig = sig; self.logsig = logsig; self.bound = bound
        targets = .allocate(capacity: negative + 1)
        work = .allocate(capacity: lanes)
        padding = .allocate(capacity: lanes)
        padding.initialize(repeating: .zero, count: lanes)
    }

    func deallocate() { targets.deallocate(); work.deallocate(); padding.deallocate() }

    /// σ(f) and the example's loss `-log σ(±f)` (label 1 for the positive), added to `stats`;
    /// returns the gradient step `(label - σ(f)) lr`, or 0 when `|f| >= bound`. Table lookups
    /// inside [-8, 8), exact outside.
    @inline(__always)
    func gradient(_ f: Float, positive: Bool, lr: Float, stats: inout ThreadStats) -> Float {
        let range = SigmoidTables.range
        let sigma: Float
        if f > -range && f < range {
            let cell = Int(truncatingIfNeeded: Int32((f + range) * (Float(SigmoidTables.size) / (2 * range))))
            let c = min(max(cell, 0), SigmoidTables.size - 1)
            sigma = sig[c]
            stats.loss -= positive ? logsig[c] : logsig[SigmoidTables.size - 1 - c]
        } else {
            let x = Double(f)
            sigma = f > 0 ? 1 : 0
            stats.loss += positive ? log1p(exp(-x)) : log1p(exp(x))
        }
        stats.examples += 1
        return abs(f) < bound ? ((positive ? 1 : 0) - sigma) * lr : 0
    }

    /// One pair: `input` (a row of `syn0`) against output rows `targets[0..<count]` of `syn1`.
    @inline(__always)
    func train(input: UnsafeMutablePointer<SIMD4<Float>>, output: UnsafeMutablePointer<SIMD4<Float>>,
               targets count: Int, lr: Float, stats: inout ThreadStats) {
        var repeated = false
        if count > 2 {
            for x in 2..<count { for y in 1..<x where targets[x] == targets[y] { repeated = true } }
        }
        let L = lanes
        if repeated {
            for k in 0..<L { work[k] = .zero }
            for x in 0..<count {
                let row = output + targets[x] * L
                let g = gradient(Self.dot(input, row, L), positive: x == 0, lr: lr, stats: &stats)
                Self.update(input, work, row, g, L)
            }
            for k in 0..<L { input[k] += work[k] }
            return
        }
        let groups = (count + Self.group - 1) / Self.group
        if groups > 1 { for k in 0..<L { work[k] = .zero } }
        for first in stride(from: 0, to: count, by: Self.group) {
            func row(_ x: Int) -> UnsafeMutablePointer<SIMD4<Float>> { first + x < count ? output + targets[first + x] * L : padding }
            let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3), r4 = row(4), r5 = row(5)
            let f = Self.dot6(input, r0, r1, r2, r3, r4, r5, L)
            var g = SIMD8<Float>.zero
            for x in 0..<min(Self.group, count - first) {
                g[x] = gradient(f[x], positive: first + x == 0, lr: lr, stats: &stats)
            }
            Self.update6(input, groups > 1 ? work : nil, r0, r1, r2, r3, r4, r5, g, L)
        }
        if groups > 1 { for k in 0..<L { input[k] += work[k] } }
    }

    /// `a · b` over `lanes` SIMD4 lanes.
    @inline(__always)
    static func dot(_ a: UnsafePointer<SIMD4<Float>>, _ b: UnsafePointer<SIMD4<Float>>, _ lanes: Int) -> Float {
        var s = SIMD4<Float>.zero
        for k in 0..<lanes { s += a[k] * b[k] }
        return (s[0] + s[1]) + (s[2] + s[3])
    }

    /// `work += g b; b += g a` (b's old value feeds `work`, as in word2vec).
    @inline(__always)
    static func update(_ a: UnsafePointer<SIMD4<Float>>, _ work: UnsafeMutablePointer<SIMD4<Float>>,
                       _ b: UnsafeMutablePointer<SIMD4<Float>>, _ g: Float, _ lanes: Int) {
        let gv = SIMD4<Float>(repeating: g)
        for k in 0..<lanes {
            let old = b[k]
            work[k] += gv * old
            b[k] = old + gv * a[k]
        }
    }

    /// The dot products of `a` with six rows, in lanes 0..<6, summed as ``dot(_:_:_:)`` sums.
    @inline(__always)
    static func dot6(_ a: UnsafePointer<SIMD4<Float>>, _ b0: UnsafePointer<SIMD4<Float>>, _ b1: UnsafePointer<SIMD4<Float>>,
                     _ b2: UnsafePointer<SIMD4<Float>>, _ b3: UnsafePointer<SIMD4<Float>>, _ b4: UnsafePointer<SIMD4<Float>>,
                     _ b5: UnsafePointer<SIMD4<Float>>, _ lanes: Int) -> SIMD8<Float> {
        var s0 = SIMD4<Float>.zero, s1 = SIMD4<Float>.zero, s2 = SIMD4<Float>.zero
        var s3 = SIMD4<Float>.zero, s4 = SIMD4<Float>.zero, s5 = SIMD4<Float>.zero
        for k in 0..<lanes {
            let x = a[k]
            s0 += x * b0[k]; s1 += x * b1[k]; s2 += x * b2[k]
            s3 += x * b3[k]; s4 += x * b4[k]; s5 += x * b5[k]
        }
        func total(_ s: SIMD4<Float>) -> Float { (s[0] + s[1]) + (s[2] + s[3]) }
        return SIMD8(total(s0), total(s1), total(s2), total(s3), total(s4), total(s5), 0, 0)
    }

    /// For six rows `b` with steps `g`: `Δ = Σ g b` (old rows), `b += g a`, then `a += Δ`, or
    /// `work += Δ` when `work` is given (more groups follow, `a` must stay as it is).
    @inline(__always)
    static func update6(_ a: UnsafeMutablePointer<SIMD4<Float>>, _ work: UnsafeMutablePointer<SIMD4<Float>>?,
                        _ b0: UnsafeMutablePointer<SIMD4<Float>>, _ b1: UnsafeMutablePointer<SIMD4<Float>>,
                        _ b2: UnsafeMutablePointer<SIMD4<Float>>, _ b3: UnsafeMutablePointer<SIMD4<Float>>,
                        _ b4: UnsafeMutablePointer<SIMD4<Float>>, _ b5: UnsafeMutablePointer<SIMD4<Float>>,
                        _ g: SIMD8<Float>, _ lanes: Int) {
        let g0 = SIMD4<Float>(repeating: g[0]), g1 = SIMD4<Float>(repeating: g[1]), g2 = SIMD4<Float>(repeating: g[2])
        let g3 = SIMD4<Float>(repeating: g[3]), g4 = SIMD4<Float>(repeating: g[4]), g5 = SIMD4<Float>(repeating: g[5])
        for k in 0..<lanes {
            let x = a[k]
            let o0 = b0[k], o1 = b1[k], o2 = b2[k], o3 = b3[k], o4 = b4[k], o5 = b5[k]
            let delta = g0 * o0 + g1 * o1 + g2 * o2 + g3 * o3 + g4 * o4 + g5 * o5
            b0[k] = o0 + g0 * x; b1[k] = o1 + g1 * x; b2[k] = o2 + g2 * x
            b3[k] = o3 + g3 * x; b4[k] = o4 + g4 * x; b5[k] = o5 + g5 * x
            if let work { work[k] += delta } else { a[k] = x + delta }
        }
    }
}
