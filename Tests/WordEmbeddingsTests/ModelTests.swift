import Foundation
import Testing
import EmbeddingStore
import LinearAlgebra
@testable import WordEmbeddings

/// A corpus with planted topics: every sentence draws its words from one topic.
func plantedTopicCorpus(topics: Int, wordsPerTopic: Int, sentences: Int, length: Int, seed: UInt64) throws -> Corpus {
    var rng = Xoshiro256(seed: seed)
    var lines = [String]()
    for _ in 0..<sentences {
        let topic = Int(rng.next() % UInt64(topics))
        lines.append((0..<length).map { _ in "t\(topic)w\(rng.next() % UInt64(wordsPerTopic))" }.joined(separator: " "))
    }
    return try Corpus(text: lines.joined(separator: "\n"), options: .init(tokenizer: .tweet, sentences: .lines, minCount: 1))
}

/// Mean cosine within topics and across topics (topic of a word = its "tK" prefix).
func topicSeparation(_ corpus: Corpus, _ v: Matrix<Float>) -> (within: Double, across: Double, nearestSameTopic: Double) {
    let words = corpus.vocabulary.words
    let n = v.rows, d = v.columns
    func cos(_ a: Int, _ b: Int) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for k in 0..<d {
            let x = Double(v[a, k]), y = Double(v[b, k])
            dot += x * y; na += x * x; nb += y * y
        }
        return dot / (na * nb).squareRoot()
    }
    let topic = words.map { $0.split(separator: "w")[0] }
    var within = [Double](), across = [Double]()
    var hits = 0
    for a in 0..<n {
        var best = -2.0, bestRow = -1
        for b in 0..<n where b != a {
            let c = cos(a, b)
            if topic[a] == topic[b] { within.append(c) } else { across.append(c) }
            if c > best { best = c; bestRow = b }
        }
        if topic[bestRow] == topic[a] { hits += 1 }
    }
    return (within.reduce(0, +) / Double(within.count), across.reduce(0, +) / Double(across.count), Double(hits) / Double(n))
}

@Suite struct SkipGramTests {
    @Test func plantedTopicsEndUpTogether() throws {
        let corpus = try plantedTopicCorpus(topics: 4, wordsPerTopic: 12, sentences: 1_500, length: 12, seed: 11)
        let result = try SkipGram.train(corpus, .init(dimension: 16, window: 3, negative: 5, sample: 0, epochs: 5, threads: 1, seed: 5))
        let s = topicSeparation(corpus, result.vectors)
        #expect(s.within > s.across + 0.3, "within \(s.within), across \(s.across)")
        #expect(s.nearestSameTopic >= 0.95)
        #expect(result.epochLoss.count == 5 && result.epochLoss.last! < result.epochLoss.first!)
        // The objective with the vectors held still ends at its lowest (once the topics are
        // learnt, SGD noise can lift one epoch's value a little while the rate is still high).
        let probe = result.epochProbeLoss
        #expect(probe.last! == probe.min()! && probe.last! < probe.first! - 0.01, "\(probe)")
        #expect(result.epochEffectiveWords.allSatisfy { $0 == corpus.ids.count })   // sample 0 keeps all
    }

    @Test func oneThreadIsReproducibleToTheBit() throws {
        let corpus = try plantedTopicCorpus(topics: 3, wordsPerTopic: 8, sentences: 300, length: 10, seed: 2)
        let c = SkipGram.Configuration(dimension: 20, window: 4, negative: 3, sample: 1e-3, epochs: 2, threads: 1, seed: 9)
        let a = try SkipGram.train(corpus, c), b = try SkipGram.train(corpus, c)
        #expect(a.vectors.elements == b.vectors.elements)
        #expect(a.epochLoss == b.epochLoss)
        var other = c
        other.seed = 10
        #expect(try SkipGram.train(corpus, other).vectors.elements != a.vectors.elements)
    }

    /// A thread that the scheduler starves (here: the second runs after the first has taken every
    /// job) changes nothing: job k's random draws and learning rate are the same whichever thread
    /// trains it, so two serialised threads give one thread's bits.
    @Test func starvedThreadsGiveOneThreadsBits() throws {
        let corpus = try plantedTopicCorpus(topics: 3, wordsPerTopic: 8, sentences: 3_000, length: 10, seed: 2)
        var c = SkipGram.Configuration(dimension: 12, window: 3, negative: 3, sample: 1e-3, epochs: 2, threads: 1, seed: 4)
        let one = try SkipGram.train(corpus, c)
        c.threads = 2
        let serial = try SkipGram.train(corpus, c, progress: nil, serial: true, record: true)
        #expect(serial.vectors.elements == one.vectors.elements)
        #expect(serial.epochLoss == one.epochLoss)
        #expect(serial.jobTrace.allSatisfy { $0.count == 3 && $0.allSatisfy { $0.thread == 0 } })   // 30,000 tokens
    }

    /// Two threads side by side: every token is trained exactly once per epoch (the jobs taken by
    /// both threads tile the corpus), with the same sub-sampling and windows as one thread (equal
    /// effective words and pairs), and the learning rate falls with the global position.
    @Test func twoThreadsTrainEveryTokenOncePerEpoch() throws {
        // Lines of 1 to 599 tokens and two longer than a job (21,000 and 10,000 tokens).
        var rng = Xoshiro256(seed: 8)
        var lines = (0..<40).map { _ in (0..<Int(1 + rng.next() % 599)).map { _ in "w\(rng.next() % 50)" }.joined(separator: " ") }
        lines.insert((0..<21_000).map { "w\($0 % 50)" }.joined(separator: " "), at: 7)
        lines.insert((0..<10_000).map { "w\($0 % 40)" }.joined(separator: " "), at: 30)
        let corpus = try Corpus(text: lines.joined(separator: "\n"), options: .init(tokenizer: .tweet, sentences: .lines, minCount: 1))
        let n = corpus.ids.count
        var c = SkipGram.Configuration(dimension: 8, window: 2, negative: 3, sample: 1e-3, epochs: 3,
                                       alpha: 0.025, minAlpha: 1e-4, threads: 2, seed: 3)
        let two = try SkipGram.train(corpus, c, progress: nil, serial: false, record: true)
        c.threads = 1
        let one = try SkipGram.train(corpus, c)
        #expect(two.epochEffectiveWords == one.epochEffectiveWords && two.epochPairs == one.epochPairs)
        let starts = Set(corpus.sentenceStarts)
        #expect(two.jobTrace.count == 3)
        var last = Float.infinity
        for (epoch, jobs) in two.jobTrace.enumerated() {
            #expect(jobs.map(\.job) == Array(0..<jobs.count), "each job once")
            #expect(jobs.first?.start == 0 && jobs.last?.end == n)
            for (a, b) in zip(jobs, jobs.dropFirst()) { #expect(a.end == b.start) }   // a tiling of the tokens
            for job in jobs {
                #expect(job.end - job.start <= 10_000 && job.end > job.start)
                // A job starts at a sentence or inside one longer than a job, at a multiple of 10,000.
                #expect(starts.contains(job.start) || (job.start > corpus.sentenceStarts[7] && (job.start - corpus.sentenceStarts[7]) % 10_000 == 0))
                let expected = Float(max(1e-4, 0.025 - (0.025 - 1e-4) * (Double(epoch * n + job.start) / Double(3 * n))))
                #expect(abs(job.rate - expected) <= 2 * expected.ulp, "\(job)")
                #expect(job.rate <= last)
                last = job.rate
            }
        }
        #expect(two.jobTrace[0][0].rate == 0.025 && last > 1e-4)
        // Gensim's batching: lines fill a job up to 10,000 tokens, the 25,000-token line is two
        // whole jobs and a remainder that opens the next job, the 10,000-token one a job alone.
        let jobs = SGNSJobs(sentenceStarts: [0, 3, 9_003, 11_003, 36_003, 36_503, 36_503, 46_503, 46_504], size: 10_000)
        #expect(jobs.starts == [0, 9_003, 11_003, 21_003, 31_003, 36_503, 46_503, 46_504])
        #expect(jobs.firstSentence == [0, 2, 3, 3, 3, 6, 7])
    }

    /// Input vectors start uniform in [-w/d, w/d) (word2vec.c w = 0.5, gensim 4 w = 1), the
    /// padding lanes and the context vectors at zero.
    @Test(arguments: [0.5, 1.0])
    func initialVectorsFillTheirRange(width: Double) {
        let d = 10, lanes = 3, rows = 500
        let model = SGNSModel(rows: rows, lanes: lanes)
        defer { model.deallocate() }
        model.initialise(dimension: d, width: width, seed: 7)
        let input = UnsafeMutableRawPointer(model.input).assumingMemoryBound(to: Float.self)
        let output = UnsafeMutableRawPointer(model.output).assumingMemoryBound(to: Float.self)
        let bound = Float(width) / Float(d)
        var low = Float.infinity, high = -Float.infinity, sum = 0.0
        for r in 0..<rows {
            for k in 0..<(4 * lanes) {
                let x = input[r * 4 * lanes + k]
                #expect(output[r * 4 * lanes + k] == 0)
                if k >= d { #expect(x == 0); continue }
                low = min(low, x); high = max(high, x); sum += Double(x)
            }
        }
        #expect(low >= -bound && high < bound, "\(low) \(high) vs \(bound)")
        #expect(low < -0.99 * bound && high > 0.99 * bound, "\(low) \(high) vs \(bound)")
        #expect(abs(sum / Double(rows * d)) < 0.05 * Double(bound))
        #expect(throws: WordEmbeddingsError.self) {
            try SkipGram.Configuration(initialWidth: 0).validate(vocabulary: 1_000)
        }
    }

    /// The three output tables and the context table of a small model, against values worked
    /// out by hand: `w`, `w + c`, `w/|w| + c/|c|` (a zero row counts as zero) and `c`.
    @Test func outputTablesByHand() {
        let model = SGNSModel(rows: 3, lanes: 1)          // d = 3: one SIMD4 lane, one padding float
        defer { model.deallocate() }
        model.input[0] = [3, 4, 0, 0]; model.input[1] = [1, 0, 0, 0]; model.input[2] = [0, 0, 0, 0]
        model.output[0] = [0, 0, 0, 0]; model.output[1] = [0, 2, 0, 0]; model.output[2] = [1, 2, 2, 0]
        let expected: [SkipGram.OutputVectors?: [[Float]]] = [
            .input: [[3, 4, 0], [1, 0, 0], [0, 0, 0]],
            .sum: [[3, 4, 0], [1, 2, 0], [1, 2, 2]],
            .normalizedSum: [[0.6, 0.8, 0], [1, 1, 0], [1.0 / 3, 2.0 / 3, 2.0 / 3]],
            nil: [[0, 0, 0], [0, 2, 0], [1, 2, 2]],
        ]
        for (choice, rows) in expected {
            let m = model.vectors(dimension: 3, choice)
            #expect(m.rows == 3 && m.columns == 3)
            for r in 0..<3 {
                for k in 0..<3 {
                    #expect(abs(m[r, k] - rows[r][k]) <= 2 * Float.ulpOfOne, "\(String(describing: choice)) row \(r): \(m[r, k]) vs \(rows[r][k])")
                }
            }
        }
        let half = model.vectors(dimension: 3, .sum, contextWeight: 0.5)   // w + 0.5 c: exact in Float
        #expect(half.elements == [3, 1, 0.5, 4, 1, 1, 0, 0, 1])
        #expect(model.vectors(dimension: 3, .sum, contextWeight: 0).elements == model.vectors(dimension: 3, .input).elements)
    }

    /// One run's tables agree: with one thread (same bits every run), `sum` is the input table
    /// plus the context table exactly, `normalized-sum` their unit rows added (to float rounding);
    /// the context table is returned only when asked for.
    @Test func outputTablesComeFromOneModel() throws {
        let corpus = try plantedTopicCorpus(topics: 3, wordsPerTopic: 8, sentences: 300, length: 10, seed: 2)
        var c = SkipGram.Configuration(dimension: 20, window: 4, negative: 3, sample: 1e-3, epochs: 2, threads: 1, seed: 9)
        #expect(try SkipGram.train(corpus, c).contextVectors == nil)
        c.keepContextVectors = true
        let plain = try SkipGram.train(corpus, c)
        let w = plain.vectors, ctx = try #require(plain.contextVectors)
        #expect(ctx.rows == w.rows && ctx.columns == 20 && ctx.elements.contains { $0 != 0 })
        c.vectors = .sum
        let sum = try SkipGram.train(corpus, c)
        #expect(sum.vectors.elements == zip(w.elements, ctx.elements).map { $0 + $1 })
        #expect(sum.contextVectors?.elements == ctx.elements)
        c.vectors = .normalizedSum
        let unit = try SkipGram.train(corpus, c).vectors
        for r in 0..<w.rows {
            func norm(_ m: Matrix<Float>) -> Double { (0..<20).map { Double(m[r, $0]) * Double(m[r, $0]) }.reduce(0, +).squareRoot() }
            let nw = norm(w), nc = norm(ctx)
            for k in 0..<20 {
                let hand = Double(w[r, k]) / nw + Double(ctx[r, k]) / nc
                #expect(abs(Double(unit[r, k]) - hand) <= 4 * Double(Float.ulpOfOne), "row \(r) column \(k)")
            }
        }
        let s = topicSeparation(corpus, unit)
        #expect(s.within > s.across + 0.3)
    }

    /// `WordEmbed` writes the context table beside the output table when asked (sgns only).
    @Test func theContextTableIsWrittenBesideTheTable() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("word-context-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = (0..<400).map { "the cat sat on the mat number \($0 % 7) while a dog ran to the park" }.joined(separator: "\n")
        let corpus = directory.appendingPathComponent("corpus.txt")
        try text.write(to: corpus, atomically: true, encoding: .utf8)
        var job = WordEmbed.Job(inputs: [corpus.path], output: directory.appendingPathComponent("w").path, method: .sgns,
                                sgns: .init(dimension: 4, epochs: 1, threads: 1, seed: 1, vectors: .sum))
        job.corpus.minCount = 1
        job.contextOutput = directory.appendingPathComponent("c").path
        let outcome = try WordEmbed.run(job) { _ in }
        let table = try EmbeddingTable.read(from: URL(fileURLWithPath: job.output))
        let context = try EmbeddingTable.read(from: URL(fileURLWithPath: job.contextOutput!))
        #expect(context.ids == table.ids && context.dimension == 4 && table.metadata.parameters["vectors"] == "sum")
        #expect(context.metadata.parameters["vectors"] == "context" && outcome.report["context_output"] as? String == job.contextOutput)
        job.method = .ppmiSVD
        #expect(throws: WordEmbeddingsError.self) { try WordEmbed.run(job) { _ in } }
    }

    /// `contextWeight` L: the sum table `WordEmbed` writes is `w + L c` from the `--context-output`
    /// table `c` and the input table `w` of the same run (one thread: the same bits every run), to
    /// the two roundings of `w + Float(L) * c` (`eps (|w| + L |c|)` against the sum in `Double`);
    /// L = 1, given or not, is today's `sum` bit for bit (`w + c` exactly); L = 0 gives `w`
    /// exactly; the weight is recorded in meta.json.
    @Test func contextWeightGivesWPlusLTimesC() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("word-weight-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = (0..<600).map { "the cat sat on the mat number \($0 % 7) while a dog ran to the park \($0 % 5)" }.joined(separator: "\n")
        let corpus = directory.appendingPathComponent("corpus.txt")
        try text.write(to: corpus, atomically: true, encoding: .utf8)
        func run(_ vectors: SkipGram.OutputVectors, _ weight: Double?, _ name: String) throws -> (EmbeddingTable, EmbeddingTable) {
            var job = WordEmbed.Job(inputs: [corpus.path], output: directory.appendingPathComponent(name).path, method: .sgns,
                                    sgns: .init(dimension: 10, window: 3, sample: 0, epochs: 2, threads: 1, seed: 3, vectors: vectors))
            if let weight { job.sgns.contextWeight = weight }
            job.corpus.minCount = 1
            job.contextOutput = directory.appendingPathComponent(name + ".context").path
            _ = try WordEmbed.run(job) { _ in }
            return (try EmbeddingTable.read(from: URL(fileURLWithPath: job.output)),
                    try EmbeddingTable.read(from: URL(fileURLWithPath: job.contextOutput!)))
        }
        let (w, c) = try run(.input, nil, "w")
        #expect(c.vectors.elements.contains { $0 != 0 } && w.metadata.parameters["context_weight"] == nil)
        let L = 0.05
        let (weighted, c2) = try run(.sum, L, "weighted")
        #expect(c2.vectors.elements == c.vectors.elements && weighted.ids == w.ids)
        #expect(weighted.metadata.parameters["context_weight"] == .double(L) && weighted.metadata.parameters["vectors"] == "sum")
        var worst = 0.0
        for (i, t) in weighted.vectors.elements.enumerated() {
            let a = Double(w.vectors.elements[i]), b = Double(c.vectors.elements[i])
            let exact = a + Double(Float(L)) * b
            let bound = Double(Float.ulpOfOne) * (abs(a) + Double(Float(L)) * abs(b))
            worst = max(worst, abs(Double(t) - exact) / max(bound, Double(Float.leastNormalMagnitude)))
        }
        #expect(worst <= 1, "w + L c off by \(worst) of its rounding bound")
        #expect(weighted.vectors.elements != w.vectors.elements)
        let (plainSum, _) = try run(.sum, nil, "sum")
        let (one, _) = try run(.sum, 1, "one")
        #expect(plainSum.vectors.elements == zip(w.vectors.elements, c.vectors.elements).map { $0 + $1 })
        #expect(one.vectors.elements.map(\.bitPattern) == plainSum.vectors.elements.map(\.bitPattern))
        #expect([.double(1), .int(1)].contains(one.metadata.parameters["context_weight"]))   // JSON reads 1.0 back as an integer
        let (zero, _) = try run(.sum, 0, "zero")
        #expect(zero.vectors.elements == w.vectors.elements)
    }

    /// The context weight is checked before training: finite, at least 0, and other than 1 only
    /// with the sum table.
    @Test func contextWeightIsValidated() throws {
        for bad in [-0.1, .nan, .infinity, -.infinity] {
            var c = SkipGram.Configuration(vectors: .sum)
            c.contextWeight = bad
            #expect(throws: WordEmbeddingsError.self) { try c.validate(vocabulary: 1_000) }
        }
        for other in [SkipGram.OutputVectors.input, .normalizedSum] {
            var c = SkipGram.Configuration(vectors: other)
            c.contextWeight = 0.05
            #expect(throws: WordEmbeddingsError.self) { try c.validate(vocabulary: 1_000) }
            c.contextWeight = 1
            try c.validate(vocabulary: 1_000)
        }
        var c = SkipGram.Configuration(vectors: .sum)
        for good in [0, 0.05, 1, 3] { c.contextWeight = good; try c.validate(vocabulary: 1_000) }
    }

    /// Iterate averaging: the published w is the mean of w at the end of each job of the last
    /// epoch (30,000 tokens: three jobs), training itself unchanged (the last iterate is the
    /// plain run's w, bit for bit), and two serialised threads give one thread's average.
    @Test func averagedVectorsAreTheMeanOfTheJobEnds() throws {
        let corpus = try plantedTopicCorpus(topics: 3, wordsPerTopic: 8, sentences: 3_000, length: 10, seed: 2)
        var c = SkipGram.Configuration(dimension: 12, window: 3, negative: 3, sample: 1e-3, epochs: 2, threads: 1, seed: 4)
        c.keepContextVectors = true
        let plain = try SkipGram.train(corpus, c)
        #expect(plain.averagedSnapshots == 0 && plain.lastInputVectors == nil)
        c.averageEpochs = 1
        let averaged = try SkipGram.train(corpus, c, progress: nil, serial: false, record: true)
        let last = try #require(averaged.lastInputVectors)
        #expect(last.elements == plain.vectors.elements)
        #expect(averaged.contextVectors != nil && averaged.contextVectors?.elements == plain.contextVectors?.elements)
        #expect(averaged.averagedSnapshots == 3 && averaged.snapshots.count == 3)
        let w = averaged.vectors, rows = w.rows, width = 12   // 12 = 3 SIMD4 lanes, no padding
        #expect(averaged.snapshots.allSatisfy { $0.count == rows * width })
        var moved = false
        for r in 0..<rows {
            for k in 0..<12 {
                let xs = averaged.snapshots.map { Double($0[r * width + k]) }
                #expect(Float(xs[2]) == last[r, k])                 // the last job's end is the last iterate
                let hand = xs.reduce(0, +) / 3
                // Float running sums of 3 terms, then one rounding: |error| <= 2u sum |x| (u = eps/2).
                let tolerance = Double(Float.ulpOfOne) * xs.map(abs).reduce(0, +)
                #expect(abs(Double(w[r, k]) - hand) <= tolerance, "row \(r) column \(k)")
                if w[r, k] != last[r, k] { moved = true }
            }
        }
        #expect(moved)
        c.threads = 2
        let serial = try SkipGram.train(corpus, c, progress: nil, serial: true)
        #expect(serial.vectors.elements == w.elements)
        c.averageEpochs = 2
        #expect(try SkipGram.train(corpus, c).averagedSnapshots == 6)
        c.averageEpochs = 3
        #expect(throws: WordEmbeddingsError.self) { try SkipGram.train(corpus, c) }
    }

    @Test func hogwildThreadsLearnTheSameStructure() throws {
        let corpus = try plantedTopicCorpus(topics: 4, wordsPerTopic: 12, sentences: 1_500, length: 12, seed: 11)
        let result = try SkipGram.train(corpus, .init(dimension: 16, window: 3, sample: 0, epochs: 5, threads: 2, seed: 5, vectors: .sum))
        let s = topicSeparation(corpus, result.vectors)
        #expect(s.within > s.across + 0.3 && s.nearestSameTopic >= 0.95)
        #expect(result.vectors.elements.allSatisfy { $0.isFinite })
    }
}

/// word2vec's update of one pair, one target after another, in Double: `a` against rows `b[t]`.
/// Examples with `|f| >= bound` make no update (gensim's skip); returns how many did not.
@discardableResult
func referencePairUpdate(_ a: inout [Double], _ rows: inout [[Double]], targets: [Int], lr: Double, bound: Double = .infinity,
                         sigma: (Double) -> Double = { 1 / (1 + exp(-$0)) }) -> Int {
    var work = [Double](repeating: 0, count: a.count)
    var skipped = 0
    for (x, t) in targets.enumerated() {
        let f = zip(a, rows[t]).map { $0 * $1 }.reduce(0, +)
        if abs(f) >= bound { skipped += 1; continue }
        let g = ((x == 0 ? 1 : 0) - sigma(f)) * lr
        for k in a.indices { work[k] += g * rows[t][k]; rows[t][k] += g * a[k] }
    }
    for k in a.indices { a[k] += work[k] }
    return skipped
}

@Suite struct SGNSKernelTests {
    /// The kernel's grouped passes against the one-target-at-a-time Double reference, for a full
    /// group, a short group (padding), two groups, and a repeated negative (sequential path);
    /// with every example updating, and with gensim's skip of `|f| >= bound` (a bound of 0.5
    /// here, where the scores are of order 1: every example of the 3-target case is skipped, the
    /// others mix skipped and updated examples).
    @Test(arguments: [[0, 1, 2, 3, 4, 5], [0, 3, 5], [0, 1, 2, 3, 4, 5, 6, 7, 8], [0, 2, 4, 2, 1, 7]], [Float.infinity, 0.5])
    func groupedUpdateMatchesWord2vecOrder(targets: [Int], bound: Float) {
        let d = 10, lanes = 3, rows = 9
        var rng = Xoshiro256(seed: 3)
        func random() -> Double { (rng.nextUniform() - 0.5) * 2 }
        var a = (0..<d).map { _ in random() }
        var out = (0..<rows).map { _ in (0..<d).map { _ in random() } }
        let tables = SigmoidTables()
        let input = UnsafeMutablePointer<SIMD4<Float>>.allocate(capacity: lanes)
        let output = UnsafeMutablePointer<SIMD4<Float>>.allocate(capacity: lanes * rows)
        defer { input.deallocate(); output.deallocate() }
        input.initialize(repeating: .zero, count: lanes); output.initialize(repeating: .zero, count: lanes * rows)
        let inputFloats = UnsafeMutableRawPointer(input).assumingMemoryBound(to: Float.self)
        let outputFloats = UnsafeMutableRawPointer(output).assumingMemoryBound(to: Float.self)
        for k in 0..<d { inputFloats[k] = Float(a[k]) }
        for r in 0..<rows { for k in 0..<d { outputFloats[r * 4 * lanes + k] = Float(out[r][k]) } }
        var stats = ThreadStats()
        tables.withPointers { sig, logsig in
            let kernel = SGNSKernel(lanes: lanes, negative: targets.count - 1, sig: sig, logsig: logsig, bound: bound)
            defer { kernel.deallocate() }
            for (x, t) in targets.enumerated() { kernel.targets[x] = t }
            kernel.train(input: input, output: output, targets: targets.count, lr: 0.5, stats: &stats)
        }
        // σ read from the kernel's table (the rest in Double): what is left is Float rounding.
        let skipped = referencePairUpdate(&a, &out, targets: targets, lr: 0.5, bound: Double(bound)) { f in
            Double(tables.sigmoid[min(max(Int((f + 8) * 128), 0), SigmoidTables.size - 1)])
        }
        #expect(bound.isFinite ? skipped > 0 : skipped == 0, "\(skipped) skipped")
        if bound.isFinite && targets.count > 3 { #expect(skipped < targets.count, "\(skipped) skipped") }   // some update, some not
        let tolerance = 64 * Double(Float.ulpOfOne)
        for k in 0..<d { #expect(abs(Double(inputFloats[k]) - a[k]) < tolerance, "input \(k)") }
        for r in 0..<rows { for k in 0..<d { #expect(abs(Double(outputFloats[r * 4 * lanes + k]) - out[r][k]) < tolerance, "row \(r) \(k)") } }
        for k in d..<(4 * lanes) { #expect(inputFloats[k] == 0) }   // padding lanes stay zero
        #expect(stats.examples == targets.count)
        #expect(stats.loss > 0 && stats.loss.isFinite)
    }

    @Test func aliasTableReproducesTheWeights() {
        let weights = (1...300).map { pow(Double($0), 0.75) } + [0, 1e-9, 5000]
        let sampler = AliasSampler(weights: weights)
        let total = weights.reduce(0, +)
        for (p, w) in zip(sampler.probabilities, weights) { #expect(abs(p - w / total) < 1e-8) }
        var rng = Xoshiro256(seed: 4)
        var hits = [Int](repeating: 0, count: weights.count)
        sampler.cells.withUnsafeBufferPointer { cells in
            for _ in 0..<200_000 { hits[AliasSampler.draw(rng.next(), cells.baseAddress!, cells.count)] += 1 }
        }
        #expect(hits[300] == 0)                                   // weight 0 is never drawn
        let last = Double(hits[302]) / 200_000, expected = 5000 / total
        #expect(abs(last - expected) < 4 * (expected / 200_000).squareRoot())
    }
}

@Suite struct PPMITests {
    /// Corpus "a b c a b" / "c a": window 2, dynamic weights (1, 0.5).
    static let text = "a b c a b\nc a\n"

    @Test func cooccurrenceCountsByHand() throws {
        let corpus = try Corpus(text: Self.text, options: .init(tokenizer: .letters, sentences: .lines, minCount: 1))
        #expect(corpus.vocabulary.words == ["a", "b", "c"])
        let c = PPMISVD.cooccurrences(corpus, window: 2, weighting: .dynamic, threads: 2).toDense()
        // Sentence 1: a b c a b (positions 0..4); sentence 2: c a.
        // d=1 pairs: ab, bc, ca, ab | ca -> weight 1; d=2 pairs: ac, ba, cb -> weight 0.5 (each both ways).
        let expected: [[Double]] = [
            // a      b      c
            [0.0, 2.5, 2.5],   // a: b(1+1) + b(0.5, d=2 from "b c a"), c(1 + 1 + 0.5)
            [2.5, 0.0, 1.5],   // b: a, c(1) + c(0.5)
            [2.5, 1.5, 0.0],
        ]
        for i in 0..<3 { for j in 0..<3 { #expect(abs(c[i, j] - expected[i][j]) < 8 * Double.ulpOfOne, "(\(i), \(j)): \(c[i, j])") } }
        let uniform = PPMISVD.cooccurrences(corpus, window: 2, weighting: .uniform, threads: 1).toDense()
        #expect(uniform[0, 1] == 3 && uniform[0, 2] == 3 && uniform[1, 2] == 2 && uniform[0, 0] == 0)
    }

    @Test func ppmiByHand() throws {
        let corpus = try Corpus(text: Self.text, options: .init(tokenizer: .letters, sentences: .lines, minCount: 1))
        let counts = PPMISVD.cooccurrences(corpus, window: 2, weighting: .dynamic, threads: 1)
        let dense = counts.toDense()
        for shift in [1.0, 1.2] {
            let p = PPMISVD.ppmi(counts, contextSmoothing: 0.75, shift: shift, threads: 2).toDense()
            // Row sums 5, 4, 4; smoothed column sums 5^.75, 4^.75, 4^.75.
            let rows = [5.0, 4, 4], cols = [5.0, 4, 4].map { pow($0, 0.75) }
            let total = cols.reduce(0, +)
            for i in 0..<3 {
                for j in 0..<3 {
                    let pmi = dense[i, j] > 0 ? log(dense[i, j] * total / (rows[i] * cols[j])) - log(shift) : 0
                    let expected = Float(max(pmi, 0))
                    #expect(abs(p[i, j] - expected) <= 4 * Float.ulpOfOne * max(1, expected), "(\(i), \(j)) shift \(shift): \(p[i, j]) vs \(expected)")
                }
            }
        }
    }

    @Test func largerCountsMatchANaiveDenseCount() throws {
        let corpus = try plantedTopicCorpus(topics: 3, wordsPerTopic: 10, sentences: 200, length: 9, seed: 4)
        let v = corpus.vocabulary.count
        var naive = [Double](repeating: 0, count: v * v)
        let s = corpus.sentenceStarts
        for k in 0..<(s.count - 1) {
            for i in s[k]..<s[k + 1] {
                for d in 1...4 where i + d < s[k + 1] {
                    let a = Int(corpus.ids[i]), b = Int(corpus.ids[i + d])
                    naive[a * v + b] += 1 / Double(d); naive[b * v + a] += 1 / Double(d)
                }
            }
        }
        let sparse = PPMISVD.cooccurrences(corpus, window: 4, weighting: .harmonic, threads: 2)
        let dense = sparse.toDense()
        for a in 0..<v { for b in 0..<v { #expect(abs(dense[a, b] - naive[a * v + b]) <= 1e-12 * max(1, naive[a * v + b])) } }
        // The CSR is canonical: columns strictly increasing in each row.
        #expect(throws: Never.self) { try CSRMatrix(rows: v, columns: v, rowOffsets: sparse.rowOffsets, columnIndices: sparse.columnIndices, values: sparse.values) }
    }

    @Test func plantedTopicsEndUpTogether() throws {
        let corpus = try plantedTopicCorpus(topics: 4, wordsPerTopic: 12, sentences: 1_500, length: 12, seed: 11)
        let result = try PPMISVD.train(corpus, .init(dimension: 8, window: 3, seed: 1, threads: 2))
        let s = topicSeparation(corpus, result.vectors)
        #expect(s.within > s.across + 0.3, "within \(s.within), across \(s.across)")
        #expect(s.nearestSameTopic >= 0.95)
        #expect(result.singularValues.count == 8 && zip(result.singularValues, result.singularValues.dropFirst()).allSatisfy { $0 >= $1 })
    }
}
