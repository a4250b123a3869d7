import ArgumentParser
import EmbeddingStore
import Evaluation
import Foundation
import GraphData
import LinearAlgebra
import ToolSupport

/// `embedding-benchmark`: argument parsing for Evaluation's prediction and follow-Jaccard benchmarks.
@main
struct EmbeddingBenchmark: EmbeddingsCommand {
    static let configuration = CommandConfiguration(
        commandName: "embedding-benchmark",
        abstract: "Benchmark an embedding table: label prediction ROC-AUC and follow-Jaccard rank correlation.",
        discussion: """
        An embedding table is a directory with vectors.npy, ids.tsv and meta.json (as follow-graph-svd \
        writes). With --write-scores the scores are also stored in the table's meta.json.

        Examples:
          embedding-benchmark prediction --embeddings emb/consumers --labels labels.tsv --json scores.json
          embedding-benchmark jaccard --embeddings emb/consumers --edges edges.tsv --pairs 20000
        """,
        subcommands: [Prediction.self, Jaccard.self, Candidates.self, WordsBenchmark.self])
}

struct CommonOptions: ParsableArguments {
    @OptionGroup var table: EmbeddingTableOptions

    @OptionGroup var seedOption: SeedOptions
    @OptionGroup var output: JSONOutputOptions
    @OptionGroup var threads: ThreadOptions

    @Option(name: .customLong("protocol"), help: BenchmarkProtocol.help) var evaluationProtocol: BenchmarkProtocol = .standard

    /// The seed of the fold split or pair sampling.
    var seed: UInt64 { seedOption.seed }

    func setUp() throws -> EmbeddingTable {
        try threads.apply()
        return try table.read()
    }

    func finish<Report: Encodable>(_ report: Report, scores: [String: Double]) throws {
        try output.write(report)
        try table.storeScores(scores)
    }
}

extension EmbeddingBenchmark {
    struct Prediction: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Topic or metadata prediction: one-vs-rest L2 logistic regression, stratified k-fold, macro and micro ROC-AUC.",
            discussion: """
            Labels are `node<TAB>label` lines (several lines per node for multi-label data; `#` comments). \
            Each fold standardises the features on its training rows, fits one L2-regularised logistic \
            regression per label (L-BFGS, C as in scikit-learn) and scores the held-out rows. Nodes in the \
            labels but not in the table are counted and reported; labels of nodes absent from the table are skipped.
            """)

        @OptionGroup var common: CommonOptions

        @Option(help: "The labels file.") var labels: String
        @Option(help: "Number of stratified folds.") var folds: Int = 5
        @Option(name: .customLong("C"), help: "Inverse regularisation strength (scikit-learn's C).") var c: Double = 1

        func run() throws {
            guard folds >= 2 else { throw ValidationError("--folds must be at least 2") }
            guard c > 0 else { throw ValidationError("--C must be positive") }
            let table = try common.setUp(), labelTable = try LabelTable.read(path: labels)
            let result = try PredictionBenchmark.run(embeddings: table, labelTable: labelTable,
                                                     folds: folds, seed: common.seed, C: c,
                                                     evaluationProtocol: common.evaluationProtocol.prediction)
            warnLeftOut(result.labelsLeftOut, folds: folds)
            print("prediction: \(result.nodesEvaluated) nodes, \(result.labels.count) labels, \(result.folds) folds")
            print(String(format: "  macro ROC-AUC %.4f   micro ROC-AUC %.4f", result.macroAUC, result.microAUC))
            if result.nodesMissing > 0 {
                print("  \(result.nodesMissing) labelled nodes are not in the table (e.g. \(result.missingExamples.prefix(3).joined(separator: ", ")))")
            }
            let report = PredictionReport(result, C: c)
            try common.finish(report, scores: report.scores)
        }
    }

    struct Jaccard: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Follow-Jaccard: Spearman correlation between embedding cosine and the Jaccard index of followed sets.",
            discussion: """
            Samples --pairs user pairs (half sharing at least one followed account, half uniformly random; \
            seeded) and reports Spearman's rho between the cosine similarity of their embeddings and the \
            Jaccard index of the sets of accounts they follow in --edges.
            """)

        @OptionGroup var common: CommonOptions

        @Option(help: "The follow graph (`follower<TAB>followed` lines).") var edges: String
        @Option(help: "Number of user pairs to sample.") var pairs: Int = 20_000
        @OptionGroup var edgeList: EdgeListOptions

        func run() throws {
            let table = try common.setUp()
            // The judge's protocol keeps self-loops in the followed sets.
            let graph = try edgeList.read(edges, keepSelfLoops: common.evaluationProtocol == .judge ? true : nil)
            let csr: (rowOffsets: [Int64], columnIndices: [Int32], values: [Float]) = graph.adjacencyCSR()
            let followed = try FollowSets(rowOffsets: csr.rowOffsets, columnIndices: csr.columnIndices)
            let result = try JaccardBenchmark.run(embeddings: table, followed: followed, rowIDs: graph.sourceIDs.ids,
                                                  pairs: pairs, seed: common.seed, sampling: common.evaluationProtocol.sampling)
            print("jaccard: \(result.pairs) pairs (\(result.sharedPairs) sharing a followed account, \(result.randomPairs) random)")
            print(String(format: "  Spearman rho %.4f", result.spearman))
            let report = JaccardReport(result, seed: common.seed)
            try common.finish(report, scores: report.scores)
        }
    }
}

