import ArgumentParser
import Neighbors
import ToolSupport

/// `embedding-neighbors`: argument parsing for the Neighbors module's indexes and evaluation.
@main
struct EmbeddingNeighbors: EmbeddingsCommand {
    static let configuration = CommandConfiguration(
        commandName: "embedding-neighbors",
        abstract: "Build, query and evaluate nearest-neighbour indexes (exact, IVF, HNSW) over embedding tables.",
        discussion: """
        An index is one file that opens by memory map: a 1M x 64 index opens in milliseconds and \
        pages in as queries touch it.

        Examples:
          embedding-neighbors build --embeddings emb/consumers --kind hnsw --output consumers.hnsw
          embedding-neighbors query --index consumers.hnsw --id 12 --k 10
          embedding-neighbors query --index consumers.hnsw --vectors q.npy --ef 128 --json out.json
          embedding-neighbors evaluate --index consumers.hnsw --ef 16,64,256 --threads 1,2 --json eval.json
        """,
        subcommands: [Build.self, Query.self, Evaluate.self])
}

extension Metric: ExpressibleByArgument {}
extension NeighborIndexKind: ExpressibleByArgument {}
