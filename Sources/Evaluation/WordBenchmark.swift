import Dispatch
import EmbeddingStore
import Foundation
import LinearAlgebra

/// Intrinsic evaluation of word vectors: word similarity (Spearman's rho between gold scores and
/// cosines) and analogies (3CosAdd and 3CosMul), with the protocol of the judge's
/// `peer_words.py`, so that the two agree on the same vectors.
///
/// Rows are taken in the table's order as frequency order (the most frequent word first, as
/// `word-embed` writes them): the analogy search runs over the first `restrict` rows.
///
/// ```swift
/// let table = try EmbeddingTable.read(from: URL(fileURLWithPath: "out/words"))
/// let result = try WordBenchmark.run(table: table, dataDirectory: URL(fileURLWithPath: "../shared/data/text/word-similarity"))
/// print(result.similarity.map { ($0.name, $0.spearman) }, result.add.overall.accuracy)
/// ```
public enum WordBenchmark {
    /// The similarity sets read by ``run(table:dataDirectory:restrict:)``, by file stem.
    public static let similaritySets = ["ws353", "simlex999", "men3k", "rw"]

    /// One gold pair: two lower-cased words and a score.
    public struct Pair: Sendable, Equatable {
        public let first: String, second: String, score: Double
        /// A pair.
        public init(_ first: String, _ second: String, _ score: Double) { self.first = first; self.second = second; self.score = score }
    }

    /// One analogy question `a : b :: c : d` of a section.
    public struct Question: Sendable, Equatable {
        public let section: String, a: String, b: String, c: String, d: String
        /// A question.
        public init(section: String, _ a: String, _ b: String, _ c: String, _ d: String) {
            self.section = section; self.a = a; self.b = b; self.c = c; self.d = d
        }
        /// Whether it belongs to a syntactic (`gram*`) section.
        public var isSyntactic: Bool { section.hasPrefix("gram") }
    }

    /// A similarity score.
    public struct Similarity: Sendable {
        /// Set name (file stem).
        public let name: String
        /// Spearman's rho over the pairs used, or `nil` with fewer than 3 pairs (or constant inputs).
        public let spearman: Double?
        /// Pairs with both words in the table, and all pairs.
        public let pairsUsed: Int, pairsTotal: Int
        /// `pairsUsed / pairsTotal`.
        public var coverage: Double { pairsTotal > 0 ? Double(pairsUsed) / Double(pairsTotal) : 0 }
    }

    /// Correct answers out of the questions answered.
    public struct Accuracy: Sendable, Equatable {
        public var correct = 0, answered = 0
        /// A tally.
        public init(correct: Int = 0, answered: Int = 0) { self.correct = correct; self.answered = answered }
        /// `correct / answered`, or `nil` when nothing was answered.
        public var accuracy: Double? { answered > 0 ? Double(correct) / Double(answered) : nil }
    }

    /// Analogy accuracies of one method.
    public struct AnalogyScores: Sendable {
        public var overall = Accuracy(), semantic = Accuracy(), syntactic = Accuracy()
        /// By section, in file order.
        public var sections: [(name: String, accuracy: Accuracy)] = []
    }

    /// Everything measured.
    public struct Result: Sendable {
        public let similarity: [Similarity]
        /// 3CosAdd and 3CosMul.
        public let add: AnalogyScores, mul: AnalogyScores
        /// Questions in the file, and answered (all four words among the first `restrict` rows).
        public let questionsTotal: Int, questionsAnswered: Int
        /// The analogy vocabulary size used.
        public let restrict: Int
        /// Rows that are all zero.
        public let zeroVectors: Int

        /// The JSON object `embedding-benchmark words --json` writes: `ws353`, `simlex999`, `men3k`,
        /// `rw` (Spearman's rho), `analogy_3cosadd`, `analogy_3cosmul` (overall accuracy),
        /// `coverage` (share of pairs used per set, share of questions answered), and details.
        public func jsonObject() -> [String: Any] {
            var o = [String: Any]()
            var coverage = [String: Any]()
            var details = [String: Any]()
            for s in similarity {
                o[s.name] = s.spearman ?? NSNull()
                coverage[s.name] = s.coverage
                details[s.name] = ["spearman": s.spearman ?? NSNull(), "pairs_used": s.pairsUsed, "pairs_total": s.pairsTotal] as [String: Any]
            }
            coverage["analogies"] = questionsTotal > 0 ? Double(questionsAnswered) / Double(questionsTotal) : 0
            func acc(_ a: Accuracy) -> [String: Any] { ["accuracy": a.accuracy ?? NSNull(), "correct": a.correct, "answered": a.answered] }
            func scores(_ s: AnalogyScores) -> [String: Any] {
                ["overall": acc(s.overall), "semantic": acc(s.semantic), "syntactic": acc(s.syntactic),
                 "sections": Dictionary(uniqueKeysWithValues: s.sections.map { ($0.name, acc($0.accuracy)) })]
            }
            o["analogy_3cosadd"] = add.overall.accuracy ?? NSNull()
            o["analogy_3cosmul"] = mul.overall.accuracy ?? NSNull()
            o["coverage"] = coverage
            o["similarity"] = details
            o["analogies"] = ["3CosAdd": scores(add), "3CosMul": scores(mul), "restrict_vocab": restrict,
                              "questions_total": questionsTotal, "questions_answered": questionsAnswered] as [String: Any]
            o["n_zero_vectors"] = zeroVectors
            return o
        }
    }

    /// Reads `word1<TAB>word2<TAB>score` lines; words are lower-cased; lines with fewer than three
    /// fields or a score that is not a number (a header) are skipped, as the judge does.
    /// - Throws: ``EvaluationError`` naming the file when it cannot be read.
    public static func readPairs(_ url: URL) throws -> [Pair] {
        let text = try readText(url)
        var pairs = [Pair]()
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count >= 3, let score = Double(f[2].trimmingCharacters(in: .whitespaces)) else { continue }
            pairs.append(Pair(f[0].lowercased(), f[1].lowercased(), score))
        }
        return pairs
    }

    /// Reads the Google analogy format: `: section` lines, then `a b c d` lines (lower-cased;
    /// lines without four words are skipped).
    /// - Throws: ``EvaluationError`` naming the file when it cannot be read.
    public static func readQuestions(_ url: URL) throws -> [Question] {
        let text = try readText(url)
        var section = ""
        var questions = [Question]()
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(":") { section = line.dropFirst().trimmingCharacters(in: .whitespaces); continue }
            let w = line.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if w.count == 4 { questions.append(Question(section: section, String(w[0]), String(w[1]), String(w[2]), String(w[3]))) }
        }
        return questions
    }

    static func readText(_ url: URL) throws -> String {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw EvaluationError("\(url.path): cannot read the file")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Unit-length rows in `Float` (zero rows stay zero), as the judge's `normalise`.
    public static func normalizedRows(_ vectors: Matrix<Float>) -> Matrix<Float> {
        var m = vectors
        let n = m.rows, d = m.columns
        var norms = [Float](repeating: 0, count: n)
        m.withUnsafeMutableBufferPointer { e in
            for j in 0..<d { for i in 0..<n { norms[i] += e[i + j * n] * e[i + j * n] } }
            for i in 0..<n { norms[i] = norms[i] > 0 ? norms[i].squareRoot() : 1 }
            for j in 0..<d { for i in 0..<n { e[i + j * n] /= norms[i] } }
        }
        return m
    }

    /// Spearman's rho between the gold scores of the pairs whose words are both in `words` and
    /// the cosines of their vectors.
    public static func similarity(name: String, pairs: [Pair], normalized: Matrix<Float>, row: [String: Int]) -> Similarity {
        var gold = [Double](), cosine = [Double]()
        let n = normalized.rows, d = normalized.columns
        normalized.withUnsafeBufferPointer { e in
            for p in pairs {
                guard let a = row[p.first], let b = row[p.second] else { continue }
                var dot: Float = 0
                for j in 0..<d { dot += e[a + j * n] * e[b + j * n] }
                gold.append(p.score); cosine.append(Double(dot))
            }
        }
        let rho = gold.count >= 3 ? try? Ranking.spearman(gold, cosine) : nil
        return Similarity(name: name, spearman: rho, pairsUsed: gold.count, pairsTotal: pairs.count)
    }

    /// 3CosAdd and 3CosMul accuracy over the first `restrict` rows (questions with a word outside
    /// them are not answered; the three question words are excluded from the answers).
    /// Cosines come from one GEMM of the question words against the restricted rows.
    public static func analogies(_ questions: [Question], normalized: Matrix<Float>, row: [String: Int], restrict: Int)
        -> (add: AnalogyScores, mul: AnalogyScores, answered: Int) {
        let r = min(restrict, normalized.rows)
        let ok = questions.filter { q in [q.a, q.b, q.c, q.d].allSatisfy { row[$0].map { $0 < r } ?? false } }
        var add = AnalogyScores(), mul = AnalogyScores()
        var sectionOrder = [String]()
        for q in questions where !sectionOrder.contains(q.section) { sectionOrder.append(q.section) }
        var addSections = [String: Accuracy](), mulSections = [String: Accuracy]()
        if !ok.isEmpty {
            let unique = Array(Set(ok.flatMap { [row[$0.a]!, row[$0.b]!, row[$0.c]!] })).sorted()
            let column = Dictionary(uniqueKeysWithValues: unique.enumerated().map { ($1, $0) })
            let n = normalized.rows, d = normalized.columns
            var restricted = Matrix<Float>(rows: r, columns: d)
            var queries = Matrix<Float>(rows: unique.count, columns: d)
            for j in 0..<d {
                for i in 0..<r { restricted.elements[i + j * r] = normalized.elements[i + j * n] }
                for (k, u) in unique.enumerated() { queries.elements[k + j * unique.count] = normalized.elements[u + j * n] }
            }
            var cosines = Matrix<Float>(rows: r, columns: unique.count)   // column k: cosines of unique[k]
            Matrix.gemm(restricted, .none, queries, .transpose, into: &cosines)
            var predictions = [(Int, Int)](repeating: (0, 0), count: ok.count)
            let qs = ok.map { (row[$0.a]!, row[$0.b]!, row[$0.c]!) }
            cosines.withUnsafeBufferPointer { s in
                predictions.withUnsafeMutableBufferPointer { out in
                    let box = UnsafeSendableBox((s.baseAddress!, out.baseAddress!))
                    Parallel.forEachChunk(count: qs.count) { range in
                        let (s, out) = box.value
                        for i in range {
                            let (a, b, c) = qs[i]
                            let sa = s + column[a]! * r, sb = s + column[b]! * r, sc = s + column[c]! * r
                            var bestAdd = -Float.infinity, bestMul = -Float.infinity
                            var argAdd = 0, argMul = 0
                            for x in 0..<r where x != a && x != b && x != c {
                                let vAdd = sb[x] - sa[x] + sc[x]
                                if vAdd > bestAdd { bestAdd = vAdd; argAdd = x }
                                let vMul = ((sb[x] + 1) * 0.5) * ((sc[x] + 1) * 0.5) / ((sa[x] + 1) * 0.5 + 1e-3)
                                if vMul > bestMul { bestMul = vMul; argMul = x }
                            }
                            out[i] = (argAdd, argMul)
                        }
                    }
                }
            }
            for (i, q) in ok.enumerated() {
                let gold = row[q.d]!
                let rightAdd = predictions[i].0 == gold ? 1 : 0, rightMul = predictions[i].1 == gold ? 1 : 0
                func tally(_ s: inout AnalogyScores, _ sections: inout [String: Accuracy], _ right: Int) {
                    s.overall.correct += right; s.overall.answered += 1
                    if q.isSyntactic { s.syntactic.correct += right; s.syntactic.answered += 1 } else { s.semantic.correct += right; s.semantic.answered += 1 }
                    sections[q.section, default: Accuracy()].correct += right
                    sections[q.section, default: Accuracy()].answered += 1
                }
                tally(&add, &addSections, rightAdd)
                tally(&mul, &mulSections, rightMul)
            }
        }
        add.sections = sectionOrder.map { ($0, addSections[$0] ?? Accuracy()) }
        mul.sections = sectionOrder.map { ($0, mulSections[$0] ?? Accuracy()) }
        return (add, mul, ok.count)
    }

    /// Scores a table of word vectors on the sets in `dataDirectory` (`ws353.tsv`, `simlex999.tsv`,
    /// `men3k.tsv`, `rw.tsv`, `analogies.txt`; absent similarity files are skipped, a missing
    /// analogy file is an error).
    /// - Parameters:
    ///   - table: word vectors, one row per word, most frequent first.
    ///   - dataDirectory: the directory with the similarity sets and `analogies.txt`.
    ///   - restrict: the analogy vocabulary, the first rows of the table (default 30,000).
    /// - Throws: ``EvaluationError`` when the directory holds none of the files or a file cannot be read.
    public static func run(table: EmbeddingTable, dataDirectory: URL, restrict: Int = 30_000) throws -> Result {
        let fm = FileManager.default
        let normalized = normalizedRows(table.vectors)
        var row = [String: Int](minimumCapacity: table.count)
        for (i, w) in table.ids.enumerated() { row[w] = i }
        var sims = [Similarity]()
        for name in similaritySets {
            let url = dataDirectory.appendingPathComponent(name + ".tsv")
            guard fm.fileExists(atPath: url.path) else { continue }
            sims.append(similarity(name: name, pairs: try readPairs(url), normalized: normalized, row: row))
        }
        let analogyURL = dataDirectory.appendingPathComponent("analogies.txt")
        guard fm.fileExists(atPath: analogyURL.path) else {
            throw EvaluationError("\(analogyURL.path): no such file (expected the word-similarity directory with \(similaritySets.map { $0 + ".tsv" }.joined(separator: ", ")) and analogies.txt)")
        }
        let questions = try readQuestions(analogyURL)
        let (add, mul, answered) = analogies(questions, normalized: normalized, row: row, restrict: restrict)
        let zero = table.rowNorms().filter { $0 == 0 }.count
        return Result(similarity: sims, add: add, mul: mul, questionsTotal: questions.count, questionsAnswered: answered,
                      restrict: min(restrict, table.count), zeroVectors: zero)
    }
}
