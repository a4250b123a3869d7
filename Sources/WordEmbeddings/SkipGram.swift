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
        /// every run; with more, updates race (Hogwild) and results vary in the last digits.
        public var threads: Int
        /// Seed of the initial vectors and of every thread's random stream (default 0).
        public var seed: UInt64
        /// Output `input + context` vectors instead of the input vectors alone (default false).
        public var addContextVectors: Bool

        /// A configuration with the documented defaults.
        public init(dimension: Int = 100, window: Int = 5, negative: Int = 5, negativeExponent: Double = 0.75,
                    sample: Double = 1e-4, epochs: Int = 5, alpha: Double = 0.025, minAlpha: Double = 1e-4,
                    threads: Int = Parallel.threads, seed: UInt64 = 0, addContextVectors: Bool = false) {
            self.dimension = dimension; self.window = window; self.negative = negative
            self.negativeExponent = negativeExponent; self.sample = sample; self.epochs = epochs
            self.alpha = alpha; self.minAlpha = minAlpha; self.threads = threads; self.seed = seed
            self.addContextVectors = addContextVectors
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
            if vocabulary < dimension {
                throw bad("the vocabulary has \(vocabulary) words, fewer than the dimension \(dimension): lower the dimension or the min count, or give more text")
            }
        }
    }

    /// What a run produced.
    public struct Result: Sendable {
        /// `vocabulary x dimension` word vectors (row `i` is the vocabulary's word `i`).
        public let vectors: Matrix<Float>
        /// Mean loss per training example (`-log σ(u·v)` for a positive pair, `-log σ(-u·v)` for a
        /// negative one), accumulated in `Double`, one value per epoch.
        public let epochLoss: [Double]
        /// Words trained on per epoch (after sub-sampling; gensim's "effective words").
        public let epochEffectiveWords: [Int]
        /// Positive (centre, context) pairs per epoch.
        public let epochPairs: [Int]
        /// Training wall time, seconds.
        public let seconds: Double
        /// The configuration used.
        public let configuration: Configuration

        /// Effective words (all epochs) per second of training.
        public var effectiveWordsPerSecond: Double { Double(epochEffectiveWords.reduce(0, +)) / max(seconds, 1e-9) }
    }

    /// Trains SGNS vectors on `corpus`.
    ///
    /// Vectors are initialised uniformly in `[-0.5/d, 0.5/d)` (context vectors at zero); each thread
    /// trains a contiguous share of the tokens, one epoch after another, with its own random
    /// stream (`seed`, thread index), and sentences longer than 10,000 tokens are processed in
    /// 10,000-token pieces. The logistic function and its logarithm are read from 2,048-cell
    /// tables over `[-8, 8]` (exact outside).
    /// Cost: about `epochs * effective words * 2 E[radius] * (negative + 1) * 3 d` flops.
    /// - Parameter progress: called from one worker now and then with the fraction done.
    /// - Throws: ``WordEmbeddingsError`` for a bad configuration or a vocabulary smaller than the dimension.
    public static func train(_ corpus: Corpus, _ configuration: Configuration = .init(),
                             progress: (@Sendable (Double) -> Void)? = nil) throws -> Result {
        let c = configuration
        let vocabularySize = corpus.vocabulary.count
        try c.validate(vocabulary: vocabularySize)
        let d = c.dimension
        let lanes = (d + 7) / 8                   // SIMD8 chunks per row; padding stays zero
        let model = SGNSModel(rows: vocabularySize, lanes: lanes)
        defer { model.deallocate() }
        model.initialise(dimension: d, seed: c.seed)

        let sampler = AliasSampler(weights: corpus.vocabulary.counts.map { pow(Double($0), c.negativeExponent) })
        let keep = keepThresholds(counts: corpus.vocabulary.counts, sample: c.sample)
        let tables = SigmoidTables()

        // Token shares per thread.
        let n = corpus.ids.count
        let threads = max(1, min(c.threads, n))
        let shares = (0...threads).map { n * $0 / threads }
        var rngs = (0..<threads).map { Xoshiro256.stream(seed: c.seed, index: UInt64($0) + 1) }
        var stats = [ThreadStats](repeating: ThreadStats(), count: threads)

        var loss = [Double](), effective = [Int](), pairs = [Int]()
        let start = DispatchTime.now().uptimeNanoseconds
        try corpus.ids.withUnsafeBufferPointer { ids in
            try corpus.sentenceStarts.withUnsafeBufferPointer { sentences in
                try sampler.withPointers { prob, alias in
                    try keep.withUnsafeBufferPointer { keep in
                        try tables.withPointers { sig, logsig in
                            for epoch in 0..<c.epochs {
                                try rngs.withUnsafeMutableBufferPointer { rng in
                                    try stats.withUnsafeMutableBufferPointer { st in
                                        let job = SGNSJob(ids: ids.baseAddress!, sentences: sentences, shares: shares,
                                                          syn0: model.input, syn1: model.output, lanes: lanes,
                                                          prob: prob, alias: alias, aliasCount: sampler.count, keep: keep.baseAddress!,
                                                          sig: sig, logsig: logsig, window: c.window, negative: c.negative,
                                                          alpha: c.alpha, minAlpha: c.minAlpha, epoch: epoch, epochs: c.epochs,
                                                          rng: rng.baseAddress!, stats: st.baseAddress!, progress: progress)
                                        let box = UnsafeSendableBox(job)
                                        if threads == 1 {
                                            box.value.run(thread: 0)
                                        } else {
                                            DispatchQueue.concurrentPerform(iterations: threads) { t in box.value.run(thread: t) }
                                        }
                                        var l = 0.0, e = 0, p = 0, examples = 0
                                        for t in 0..<threads {
                                            l += st[t].loss; e += st[t].effective; p += st[t].pairs; examples += st[t].examples
                                            st[t] = ThreadStats()
                                        }
                                        if !l.isFinite {
                                            throw WordEmbeddingsError("SkipGram: the loss became \(l) in epoch \(epoch + 1): lower the learning rate")
                                        }
                                        loss.append(examples > 0 ? l / Double(examples) : 0)
                                        effective.append(e); pairs.append(p)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let vectors = model.vectors(dimension: d, addContext: c.addContextVectors)
        return Result(vectors: vectors, epochLoss: loss, epochEffectiveWords: effective, epochPairs: pairs,
                      seconds: seconds, configuration: c)
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

/// One thread's totals for an epoch.
struct ThreadStats {
    var loss = 0.0
    var effective = 0
    var pairs = 0
    var examples = 0
}

/// The two weight matrices, rows of `lanes` SIMD8 vectors, 64-byte aligned.
struct SGNSModel {
    let rows: Int, lanes: Int
    let input: UnsafeMutablePointer<SIMD8<Float>>
    let output: UnsafeMutablePointer<SIMD8<Float>>

    init(rows: Int, lanes: Int) {
        self.rows = rows; self.lanes = lanes
        let bytes = rows * lanes * MemoryLayout<SIMD8<Float>>.stride
        input = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64).bindMemory(to: SIMD8<Float>.self, capacity: rows * lanes)
        output = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64).bindMemory(to: SIMD8<Float>.self, capacity: rows * lanes)
        input.initialize(repeating: .zero, count: rows * lanes)
        output.initialize(repeating: .zero, count: rows * lanes)
    }

    func deallocate() {
        UnsafeMutableRawPointer(input).deallocate()
        UnsafeMutableRawPointer(output).deallocate()
    }

    /// Input vectors uniform in [-0.5/d, 0.5/d), row after row from one seeded stream.
    func initialise(dimension d: Int, seed: UInt64) {
        var rng = Xoshiro256(seed: seed)
        let scale = 1 / Float(d)
        for r in 0..<rows {
            let row = UnsafeMutableRawPointer(input + r * lanes).assumingMemoryBound(to: Float.self)
            for k in 0..<d { row[k] = (Float(rng.next() >> 40) * 0x1p-24 - 0.5) * scale }
        }
    }

    /// The `rows x d` column-major vectors (input, or input + output).
    func vectors(dimension d: Int, addContext: Bool) -> Matrix<Float> {
        var m = Matrix<Float>(rows: rows, columns: d)
        m.elements.withUnsafeMutableBufferPointer { e in
            for r in 0..<rows {
                let a = UnsafeRawPointer(input + r * lanes).assumingMemoryBound(to: Float.self)
                let b = UnsafeRawPointer(output + r * lanes).assumingMemoryBound(to: Float.self)
                for k in 0..<d { e[r + k * rows] = addContext ? a[k] + b[k] : a[k] }
            }
        }
        return m
    }
}

/// Walker's alias method (Vose's construction): O(1) draws from a discrete distribution.
struct AliasSampler {
    /// Acceptance thresholds on a 2^32 scale.
    let probability: [UInt64]
    let alias: [Int32]
    var count: Int { alias.count }

    init(weights: [Double]) {
        let n = weights.count
        let total = weights.reduce(0, +)
        var scaled = weights.map { $0 * Double(n) / total }
        var alias = [Int32](repeating: 0, count: n)
        var probability = [UInt64](repeating: UInt64(1) << 32, count: n)
        var small = [Int](), large = [Int]()
        for i in 0..<n { if scaled[i] < 1 { small.append(i) } else { large.append(i) } }
        while let s = small.popLast() {
            guard let l = large.last else { break }
            probability[s] = UInt64(max(0, scaled[s]) * 4_294_967_296.0)
            alias[s] = Int32(l)
            scaled[l] -= 1 - scaled[s]
            if scaled[l] < 1 { large.removeLast(); small.append(l) }
        }
        for i in 0..<n where alias[i] == 0 && probability[i] == UInt64(1) << 32 { alias[i] = Int32(i) }
        self.probability = probability
        self.alias = alias
    }

    func withPointers<R>(_ body: (UnsafePointer<UInt64>, UnsafePointer<Int32>) throws -> R) rethrows -> R {
        try probability.withUnsafeBufferPointer { p in try alias.withUnsafeBufferPointer { a in try body(p.baseAddress!, a.baseAddress!) } }
    }

    /// One draw from 64 random bits: the high 32 pick a cell, the low 32 accept it or its alias.
    @inline(__always) static func draw(_ bits: UInt64, _ prob: UnsafePointer<UInt64>, _ alias: UnsafePointer<Int32>, _ n: Int) -> Int {
        let cell = Int(truncatingIfNeeded: ((bits >> 32) &* UInt64(n)) >> 32)
        return (bits & 0xFFFF_FFFF) < prob[cell] ? cell : Int(alias[cell])
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
    let shares: [Int]
    let syn0: UnsafeMutablePointer<SIMD8<Float>>
    let syn1: UnsafeMutablePointer<SIMD8<Float>>
    let lanes: Int
    let prob: UnsafePointer<UInt64>
    let alias: UnsafePointer<Int32>
    let aliasCount: Int
    let keep: UnsafePointer<UInt64>
    let sig: UnsafePointer<Float>
    let logsig: UnsafePointer<Double>
    let window: Int
    let negative: Int
    let alpha: Double
    let minAlpha: Double
    let epoch: Int
    let epochs: Int
    let rng: UnsafeMutablePointer<Xoshiro256>
    let stats: UnsafeMutablePointer<ThreadStats>
    let progress: (@Sendable (Double) -> Void)?

    static let piece = 10_000

    /// Trains thread `t`'s share of the tokens for one epoch.
    func run(thread t: Int) {
        let lo = shares[t], hi = shares[t + 1]
        guard hi > lo else { return }
        var random = rng[t]
        var st = stats[t]
        let kept = UnsafeMutablePointer<Int32>.allocate(capacity: Self.piece)
        let work = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: lanes)
        defer { kept.deallocate(); work.deallocate() }
        let shareLength = Double(hi - lo)
        let totalWork = shareLength * Double(epochs)
        let alpha0 = alpha, alphaSpan = alpha - minAlpha
        let tableScale = Float(SigmoidTables.size) / (2 * SigmoidTables.range)
        let tableRange = SigmoidTables.range
        let L = lanes

        // First sentence overlapping the share.
        var s = 0
        var a = 0, b = sentences.count - 1
        while a < b { let m = (a + b + 1) / 2; if sentences[m] <= lo { a = m } else { b = m - 1 } }
        s = a
        var nextReport = 0
        var position = lo
        while position < hi {
            let sentenceEnd = min(sentences[min(s + 1, sentences.count - 1)], hi)
            if position >= sentenceEnd { s += 1; continue }
            let pieceEnd = min(sentenceEnd, position + Self.piece)
            // Learning rate: linear in this thread's progress through all epochs.
            let done = Double(epoch) * shareLength + Double(position - lo)
            let lr = Float(max(minAlpha, alpha0 - alphaSpan * done / totalWork))
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
                    let l1 = syn0 + Int(kept[j]) * L
                    for k in 0..<L { work[k] = .zero }
                    st.pairs += 1
                    for dIndex in 0...negative {
                        let target: Int
                        let label: Float
                        if dIndex == 0 {
                            target = center; label = 1
                        } else {
                            target = AliasSampler.draw(random.next(), prob, alias, aliasCount)
                            if target == center { continue }
                            label = 0
                        }
                        let l2 = syn1 + target * L
                        var acc = SIMD8<Float>.zero
                        for k in 0..<L { acc += l1[k] * l2[k] }
                        // Tree reduction (a serial lane sum would be a long dependency chain).
                        let acc4 = acc.lowHalf + acc.highHalf
                        let acc2 = acc4.lowHalf + acc4.highHalf
                        let f = acc2[0] + acc2[1]
                        // σ(f) and the example's loss -log σ(±f).
                        let sigma: Float
                        let logLikelihood: Double
                        if f > -tableRange && f < tableRange {
                            let cell = Int(truncatingIfNeeded: Int32((f + tableRange) * tableScale))
                            let c = min(max(cell, 0), SigmoidTables.size - 1)
                            sigma = sig[c]
                            logLikelihood = label > 0 ? logsig[c] : logsig[SigmoidTables.size - 1 - c]
                        } else {
                            let x = Double(f)
                            sigma = f > 0 ? 1 : 0
                            logLikelihood = label > 0 ? -log1p(exp(-x)) : -log1p(exp(x))
                        }
                        st.loss -= logLikelihood
                        st.examples += 1
                        let g = (label - sigma) * lr
                        let gv = SIMD8<Float>(repeating: g)
                        for k in 0..<L {
                            work[k] += gv * l2[k]
                            l2[k] += gv * l1[k]
                        }
                    }
                    for k in 0..<L { l1[k] += work[k] }
                }
            }
            position = pieceEnd
            if t == 0, let progress, position - lo >= nextReport {
                nextReport += 200_000
                progress((Double(epoch) * shareLength + Double(position - lo)) / totalWork)
            }
        }
        rng[t] = random
        stats[t] = st
    }
}
