// The umbrella module: `import Embeddings` brings in the whole toolkit.
@_exported import LinearAlgebra
@_exported import Solvers
@_exported import GraphData
