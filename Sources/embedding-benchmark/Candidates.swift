import ArgumentParser
import CandidateGeneration
import Foundation
import GraphData
import LinearAlgebra
import Neighbors
import ToolSupport

extension EmbeddingBenchmark {
    struct Candidates: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Candidate generation: recall of held-out follows from a producer index queried with consumer vectors.",
            discussion: """
            Holds out round(--holdout x degree) of each user's follows (seeded; every user keeps at least \
            one), embeds the rest with follow-graph-svd (--dim, --seed), indexes the producer vectors \
            (HNSW, inner product) and, for --users sampled users with held-out follows, queries the index \
            with the user's consumer vector, already-followed accounts filtered out during the search. \
            Reports recall@10 and recall@100 of the held-out follows, beside the most-followed accounts \
            (popularity) and ALS (implicit, same dimension) recommendations.

            Example:
              embedding-benchmark candidates --edges ../shared/data/slashdot/edges.txt --json candidates.json
            """)

        @Option(help: "The follow graph (`follower<TAB>followed` lines).") var edges: String
        @Option(help: "Fraction of each user's follows held out.") var holdout: Double = 0.1
        @Option(help: "Embedding dimension.") var dim: Int = 64
        @Option(help: "Users evaluated (0: all users with held-out follows).") var users: Int = 10_000
        @Option(help: "Producer index: hnsw or exact.") var index: String = "hnsw"
        @Option(help: "ALS sweeps for the ALS baseline (0: skip it).") var alsIterations: Int = 10
        @OptionGroup var seed: SeedOptions
        @OptionGroup var threads: ThreadOptions
        @OptionGroup var output: JSONOutputOptions

        func run() throws {
            try threads.apply()
            guard let kind = NeighborIndexKind(rawValue: index), kind != .ivf else { throw ValidationError("--index must be hnsw or exact") }
            var options = EdgeListReader.Options()
            options.selfLoops = .drop
            let graph = try EdgeList.read(path: edges, options: options)
            var c = CandidateGenerationBenchmark.Configuration()
            c.holdout = holdout; c.dimension = dim; c.seed = seed.seed; c.users = users; c.index = kind
            c.alsIterations = alsIterations; c.threads = threads.threads
            let r = try CandidateGenerationBenchmark.run(edges: graph, configuration: c) { ToolOutput.standardError($0) }
            print("candidates: \(r.users) users, \(r.heldOutEdges) held-out follows, \(r.trainingEdges) training edges")
            print(String(format: "  follow-graph SVD + %@   recall@10 %.4f   recall@100 %.4f", index, r.embedding.at10, r.embedding.at100))
            print(String(format: "  popularity            recall@10 %.4f   recall@100 %.4f", r.popularity.at10, r.popularity.at100))
            if let a = r.als { print(String(format: "  ALS                   recall@10 %.4f   recall@100 %.4f", a.at10, a.at100)) }
            try output.write(CandidatesReport(r, holdout: holdout, dim: dim, seed: seed.seed, index: index, alsIterations: alsIterations))
        }
    }
}

/// The `--json` report of `embedding-benchmark candidates`.
struct CandidatesReport: Encodable {
    struct Recall: Encodable {
        var at10, at100: Double
        var iterations: Int?
        enum CodingKeys: String, CodingKey { case at10 = "recall_at_10", at100 = "recall_at_100", iterations }
    }
    var embedding: Recall, popularity: Recall, als: Recall?
    var users, heldOutEdges, trainingEdges: Int
    var holdout: Double, dim: Int, seed: UInt64, index: String, seconds: [String: Double]

    init(_ r: CandidateGenerationBenchmark.Result, holdout: Double, dim: Int, seed: UInt64, index: String, alsIterations: Int) {
        embedding = Recall(at10: r.embedding.at10, at100: r.embedding.at100)
        popularity = Recall(at10: r.popularity.at10, at100: r.popularity.at100)
        als = r.als.map { Recall(at10: $0.at10, at100: $0.at100, iterations: alsIterations) }
        users = r.users; heldOutEdges = r.heldOutEdges; trainingEdges = r.trainingEdges
        self.holdout = holdout; self.dim = dim; self.seed = seed; self.index = index; seconds = r.seconds
    }

    enum CodingKeys: String, CodingKey {
        case popularity = "baseline_popularity", als, users, heldOutEdges = "held_out_edges"
        case trainingEdges = "training_edges", holdout, dim, seed, index, seconds
    }

    /// The embedding's recall at the top level (`recall_at_10`, `recall_at_100`), as before.
    func encode(to encoder: Encoder) throws {
        try embedding.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(popularity, forKey: .popularity)
        try c.encodeIfPresent(als, forKey: .als)
        try c.encode(users, forKey: .users); try c.encode(heldOutEdges, forKey: .heldOutEdges)
        try c.encode(trainingEdges, forKey: .trainingEdges); try c.encode(holdout, forKey: .holdout)
        try c.encode(dim, forKey: .dim); try c.encode(seed, forKey: .seed)
        try c.encode(index, forKey: .index); try c.encode(seconds, forKey: .seconds)
    }
}
