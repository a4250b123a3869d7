import ArgumentParser
import EmbeddingStore
import Evaluation
import Foundation
import LinearAlgebra
import ToolSupport

/// `embedding-benchmark words`: word similarity and analogies (the judge's peer_words.py protocol).
struct WordsBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "words",
        abstract: "Word similarity (Spearman rho on WS-353, SimLex-999, MEN, RW) and analogies (3CosAdd, 3CosMul).",
        discussion: """
        The table's rows are words, most frequent first (as word-embed writes them). Similarity: Spearman's rho \
        between the gold scores and the cosines of the pairs whose two words are in the table, with the share of \
        pairs covered. Analogies (analogies.txt, "a b c d"): a question is answered when its four words are among \
        the --restrict first rows; the answer is searched among those rows without a, b and c, by 3CosAdd \
        (cos(x,b) - cos(x,a) + cos(x,c)) and 3CosMul (Levy and Goldberg 2014); semantic and syntactic (gram*) \
        accuracy and the count answered. The protocol is the judge's peer_words.py, so the two agree.

        JSON keys: ws353, simlex999, men3k, rw, analogy_3cosadd, analogy_3cosmul, coverage, plus details.

        Example:
          embedding-benchmark words --embeddings words --data ../shared/data/text/word-similarity --json w.json
        """)

    @OptionGroup var table: EmbeddingTableOptions

    @Option(help: "The directory with ws353.tsv, simlex999.tsv, men3k.tsv, rw.tsv and analogies.txt.") var data: String
    @Option(help: "Analogy vocabulary: the first (most frequent) rows searched.") var restrict: Int = 30_000
    @OptionGroup var output: JSONOutputOptions
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        guard restrict >= 1 else { throw ValidationError("--restrict must be at least 1") }
        try threads.apply()
        let words = try table.read()
        let result = try WordBenchmark.run(table: words, dataDirectory: URL(fileURLWithPath: data), restrict: restrict)
        func f(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "n/a" }
        print("words: \(words.count) words x \(words.dimension)")
        for s in result.similarity {
            print("  \(s.name.padding(toLength: 10, withPad: " ", startingAt: 0)) Spearman \(f(s.spearman))  (\(s.pairsUsed)/\(s.pairsTotal) pairs)")
        }
        for (name, a) in [("3CosAdd", result.add), ("3CosMul", result.mul)] {
            print("  analogies \(name): \(f(a.overall.accuracy)) (semantic \(f(a.semantic.accuracy)), syntactic \(f(a.syntactic.accuracy)); \(a.overall.answered)/\(result.questionsTotal) answered)")
        }
        try output.write(object: result.jsonObject())
        var scores = [String: Double]()
        for s in result.similarity { if let rho = s.spearman { scores["words.\(s.name)"] = rho } }
        if let a = result.add.overall.accuracy { scores["words.analogy_3cosadd"] = a }
        if let a = result.mul.overall.accuracy { scores["words.analogy_3cosmul"] = a }
        try table.storeScores(scores)
    }
}
