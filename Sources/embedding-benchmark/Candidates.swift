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

        @Option(help: "The follow graph (`follower<TAB>followed` lines).")
        var edges: String
        @Option(help: "Fraction of each user's follows held out.")
        var holdout: Double = 0.1
        @Option(help: "Embedding dimension.")
        var dim: Int = 64
        @Option(help: "Seed of the split, the SVD, the index and ALS.")
        var seed: UInt64 = 0
        @Option(help: "Users evaluated (0: all users with held-out follows).")
        var users: Int = 10_000
        @Option(help: "Producer index: hnsw or exact.")
        var index: String = "hnsw"
        @Option(help: "ALS sweeps for the ALS baseline (0: skip it).")
        var alsIterations: Int = 10
        @OptionGroup var threads: ThreadOptions
        @OptionGroup var output: JSONOutputOptions

        func run() throws {
            try threads.apply()
            guard let kind = NeighborIndexKind(rawValue: index), kind != .ivf else { throw ValidationError("--index must be hnsw or exact") }
            var options = EdgeListReader.Options()
            options.selfLoops = .drop
            let graph = try EdgeList.read(path: edges, options: options)
            var c = CandidateGenerationBenchmark.Configuration()
            c.holdout = holdout; c.dimension = dim; c.seed = seed; c.users = users; c.index = kind
            c.alsIterations = alsIterations; c.threads = threads.threads
            let r = try CandidateGenerationBenchmark.run(edges: graph, configuration: c) { ToolOutput.standardError($0) }
            print("candidates: \(r.users) users, \(r.heldOutEdges) held-out follows, \(r.trainingEdges) training edges")
            print(String(format: "  follow-graph SVD + %@   recall@10 %.4f   recall@100 %.4f", index, r.embedding.at10, r.embedding.at100))
            print(String(format: "  popularity            recall@10 %.4f   recall@100 %.4f", r.popularity.at10, r.popularity.at100))
            if let a = r.als { print(String(format: "  ALS                   recall@10 %.4f   recall@100 %.4f", a.at10, a.at100)) }
            do {
                var object: [String: Any] = [
                    "recall_at_10": r.embedding.at10, "recall_at_100": r.embedding.at100,
                    "baseline_popularity": ["recall_at_10": r.popularity.at10, "recall_at_100": r.popularity.at100],
                    "users": r.users, "held_out_edges": r.heldOutEdges, "training_edges": r.trainingEdges,
                    "holdout": holdout, "dim": dim, "seed": seed, "index": index, "seconds": r.seconds,
                ]
                if let a = r.als { object["als"] = ["recall_at_10": a.at10, "recall_at_100": a.at100, "iterations": alsIterations] }
                try output.write(object: object)
            }
        }
    }
}
