// The umbrella module: `import Embeddings` brings in every library module of the toolkit that
// needs nothing beyond the toolkit's own system libraries (FeatureStore, Pipelines and
// EmbeddingServer bring SQLite, YAML and an HTTP server, Distributed needs Open MPI: import them
// by name), and takes Foundation `URL`s wherever a module's reader takes a path.
@_exported import Compression
@_exported import EmbeddingStore
@_exported import Evaluation
@_exported import FollowGraph
@_exported import GraphData
@_exported import LinearAlgebra
@_exported import Neighbors
@_exported import Solvers
@_exported import Temporal
@_exported import WordEmbeddings
import Foundation

extension EdgeList {
    /// Reads the edge list at `url` (a file URL); see ``GraphData/EdgeList/read(path:options:)``.
    /// - Throws: ``GraphData/GraphDataError`` naming the file, line and problem.
    public static func read(_ url: URL, options: EdgeListReader.Options = .init()) throws(GraphDataError) -> EdgeList {
        try read(path: url.path, options: options)
    }
}

extension LabelTable {
    /// Reads the label file at `url` (a file URL); see ``GraphData/LabelTable/read(path:nodes:options:)``.
    /// - Throws: ``GraphData/GraphDataError`` naming the file, line and problem.
    public static func read(_ url: URL, nodes: IDMap? = nil, options: LabelReader.Options = .init()) throws(GraphDataError) -> LabelTable {
        try read(path: url.path, nodes: nodes, options: options)
    }
}
