// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "swift-embeddings",
    products: [
        .library(name: "Embeddings", targets: ["Embeddings"]),
        .library(name: "LinearAlgebra", targets: ["LinearAlgebra"]),
        .library(name: "Solvers", targets: ["Solvers"]),
        .library(name: "GraphData", targets: ["GraphData"]),
        .library(name: "EmbeddingStore", targets: ["EmbeddingStore"]),
        .library(name: "Evaluation", targets: ["Evaluation"]),
        .library(name: "FollowGraph", targets: ["FollowGraph"]),
        .library(name: "Compression", targets: ["Compression"]),
        .executable(name: "follow-graph-svd", targets: ["follow-graph-svd"]),
        .executable(name: "follow-graph-generate", targets: ["follow-graph-generate"]),
        .executable(name: "embedding-benchmark", targets: ["embedding-benchmark"]),
        .executable(name: "compression-eval", targets: ["compression-eval"]),
        .executable(name: "als-embed", targets: ["als-embed"]),
        // Neighbours (issue 13).
        .library(name: "Neighbors", targets: ["Neighbors"]),
        .executable(name: "embedding-neighbors", targets: ["embedding-neighbors"]),
        // Feature store (issue 14).
        .library(name: "FeatureStore", targets: ["FeatureStore"]),
        .library(name: "EmbeddingServer", targets: ["EmbeddingServer"]),
        .executable(name: "embedding-store", targets: ["embedding-store"]),
        // Word embeddings (issue 15).
        .library(name: "WordEmbeddings", targets: ["WordEmbeddings"]),
        .executable(name: "word-embed", targets: ["word-embed"]),
        // Temporal embeddings (issue 17).
        .library(name: "Temporal", targets: ["Temporal"]),
        .executable(name: "embedding-temporal", targets: ["embedding-temporal"]),
        .library(name: "Pipelines", targets: ["Pipelines"]),
        .executable(name: "embedding-pipeline", targets: ["embedding-pipeline"]),
        // Beyond one machine (issue 18): MPI.
        .library(name: "Distributed", targets: ["Distributed"]),
        .library(name: "DistributedJobs", targets: ["DistributedJobs"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        // Feature store (issue 14).
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // Documentation only (scripts/build-docs.sh); no target depends on it, so it never reaches consumers.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // Layer 1: the C bindings. Nothing else includes a C header.
        .systemLibrary(
            name: "CLinearAlgebra",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev", "libarpack2-dev"])]
        ),
        // The wide Float gather of the sparse products with an AVX version chosen at run time
        // (Swift library targets compile for baseline x86-64).
        .target(name: "CSparseKernels"),
        // Layer 2: dense and sparse matrices, BLAS/LAPACK dispatch, linear operators.
        .target(
            name: "LinearAlgebra",
            dependencies: [
                "CLinearAlgebra",
                "CSparseKernels",
                .product(name: "RealModule", package: "swift-numerics"),
            ]
        ),
        // Layer 3: solvers filed by problem (SVD/, Eigen/, ALS/, Common/).
        .target(name: "Solvers", dependencies: ["LinearAlgebra"]),
        // Layer 4: the embeddings domain.
        // Reliability (issue 12): zlib, so that GraphData reads gzip edge lists as a stream.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "GraphData", dependencies: ["LinearAlgebra", "CZlib"]),
        .target(name: "EmbeddingStore", dependencies: ["LinearAlgebra", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Evaluation", dependencies: [
            "LinearAlgebra", "Solvers", "GraphData", "EmbeddingStore", .product(name: "RealModule", package: "swift-numerics"),
        ]),
        .target(name: "FollowGraph", dependencies: [
            "LinearAlgebra", "Solvers", "GraphData", "EmbeddingStore", "Evaluation", .product(name: "RealModule", package: "swift-numerics"),
        ]),
        .target(name: "Compression", dependencies: ["LinearAlgebra", "Solvers"]),
        // Umbrella.
        .target(name: "Embeddings", dependencies: [
            "LinearAlgebra", "Solvers", "GraphData", "EmbeddingStore", "Evaluation", "FollowGraph", "Compression",
            "Neighbors", "WordEmbeddings", "Temporal",
        ]),

        // Layer 5: thin tools, and the options and entry point they share.
        .target(name: "ToolSupport", dependencies: [
            "LinearAlgebra", "EmbeddingStore", "GraphData", "FeatureStore", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "follow-graph-svd", dependencies: [
            "ToolSupport", "FollowGraph", "EmbeddingStore", "LinearAlgebra", "DistributedJobs", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "follow-graph-generate", dependencies: [
            "ToolSupport", "FollowGraph", "LinearAlgebra", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "embedding-benchmark", dependencies: [
            "ToolSupport", "Evaluation", "EmbeddingStore", "GraphData", "LinearAlgebra", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            "CandidateGeneration", "Neighbors",
        ]),
        .executableTarget(name: "als-embed", dependencies: [
            "ToolSupport", "LinearAlgebra", "Solvers", "Evaluation", "EmbeddingStore", "DistributedJobs", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "compression-eval", dependencies: [
            "ToolSupport", "Compression", "EmbeddingStore", "LinearAlgebra", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Neighbours (issue 13): the index library, its tool, the candidate-generation benchmark.
        .target(name: "CNeighbors"),
        .target(name: "Neighbors", dependencies: ["LinearAlgebra", "CLinearAlgebra", "CNeighbors", "EmbeddingStore"]),
        .target(name: "CandidateGeneration", dependencies: ["Neighbors", "FollowGraph", "Solvers", "GraphData", "EmbeddingStore"]),
        .executableTarget(name: "embedding-neighbors", dependencies: [
            "ToolSupport", "Neighbors", "EmbeddingStore", "LinearAlgebra", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "NeighborsTests", dependencies: ["Neighbors", "CNeighbors", "CandidateGeneration", "EmbeddingStore", "LinearAlgebra", "GraphData"]),
        // Feature store (issue 14): layer 4 registry (no HTTP), layer 5 server and tool.
        .target(name: "FeatureStore", dependencies: [
            "EmbeddingStore", "LinearAlgebra", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .target(name: "EmbeddingServer", dependencies: [
            "FeatureStore", "EmbeddingStore", "LinearAlgebra", "Neighbors", .product(name: "Hummingbird", package: "hummingbird"),
        ]),
        .executableTarget(name: "embedding-store", dependencies: [
            "FeatureStore", "EmbeddingServer", "EmbeddingStore", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Layer 6: the Swift side of Benchmarks/store/store_vs_feast.sh.
        .executableTarget(name: "store-bench", dependencies: ["FeatureStore"], path: "Benchmarks/store/StoreBench"),
        .testTarget(name: "FeatureStoreTests", dependencies: [
            "FeatureStore", "EmbeddingStore", "LinearAlgebra", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "EmbeddingServerTests", dependencies: [
            "EmbeddingServer", "FeatureStore", "EmbeddingStore", "LinearAlgebra", .product(name: "Hummingbird", package: "hummingbird"),
        ]),

        .testTarget(name: "LinearAlgebraTests", dependencies: ["LinearAlgebra"]),
        .testTarget(name: "GraphDataTests", dependencies: ["GraphData", "LinearAlgebra", "CZlib"]),
        .testTarget(name: "SolversTests", dependencies: ["Solvers", "LinearAlgebra"]),
        .testTarget(name: "EmbeddingStoreTests", dependencies: ["EmbeddingStore"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Solvers", "GraphData"]),
        .testTarget(name: "FollowGraphTests", dependencies: ["FollowGraph", "GraphData", "EmbeddingStore", "Solvers"]),
        .testTarget(name: "CompressionTests", dependencies: ["Compression"]),
        .testTarget(name: "EmbeddingsTests", dependencies: ["Embeddings"]),
        // Reliability (issue 12): the tools as child processes under memory limits and kill -9,
        // run-level atomic output, bad inputs.
        .testTarget(name: "ReliabilityTests", dependencies: ["FollowGraph", "GraphData", "EmbeddingStore", "LinearAlgebra", "Solvers"]),

        // Word embeddings (issue 15): layer 4 module, layer 5 tool, tests.
        .target(name: "WordEmbeddings", dependencies: ["LinearAlgebra", "Solvers", "EmbeddingStore", "Evaluation"]),
        .executableTarget(name: "word-embed", dependencies: [
            "ToolSupport", "WordEmbeddings", "Evaluation", "LinearAlgebra", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "WordEmbeddingsTests", dependencies: ["WordEmbeddings", "Evaluation", "EmbeddingStore", "LinearAlgebra"]),

        // Temporal embeddings (issue 17): layer 4 module, layer 5 tool, tests.
        .target(name: "Temporal", dependencies: [
            "LinearAlgebra", "Solvers", "GraphData", "FollowGraph", "EmbeddingStore", "Evaluation",
        ]),
        .executableTarget(name: "embedding-temporal", dependencies: [
            "Temporal", "EmbeddingStore", "LinearAlgebra", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "TemporalTests", dependencies: ["Temporal", "LinearAlgebra", "EmbeddingStore", "GraphData"]),
        // Pipelines (issue 17): declarative cached runs from YAML (layer 5 library and tool).
        .target(name: "Pipelines", dependencies: [
            "Temporal", "FollowGraph", "Evaluation", "GraphData", "EmbeddingStore", "FeatureStore", "WordEmbeddings",
            .product(name: "Yams", package: "Yams"), .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .executableTarget(name: "embedding-pipeline", dependencies: [
            "Pipelines", "LinearAlgebra", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "PipelinesTests", dependencies: [
            "Pipelines", "EmbeddingStore", "FeatureStore", .product(name: "GRDB", package: "GRDB.swift"),
        ]),

        // Beyond one machine (issue 18): Open MPI and PARPACK (layer 1, only Distributed imports
        // it), row-partitioned operators and solvers (layer 3), the check tool the tests run
        // under mpirun, and the tests.
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev", "openmpi-bin", "libparpack2-dev"])]),
        .target(name: "Distributed", dependencies: ["CMPI", "LinearAlgebra", "Solvers"]),
        // Layer 4: the tools' jobs over Distributed (follow-graph-svd and als-embed --distributed).
        .target(name: "DistributedJobs", dependencies: ["Distributed", "FollowGraph", "EmbeddingStore", "LinearAlgebra", "Solvers"]),
        .executableTarget(name: "distributed-check", dependencies: ["Distributed", "DistributedJobs", "LinearAlgebra", "Solvers", "GraphData", "FollowGraph", "EmbeddingStore", "Evaluation"]),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "LinearAlgebra", "Solvers", "distributed-check"]),

        // Layer 6: the Swift side of Benchmarks/solvers_vs_python.sh.
        .executableTarget(name: "solvers-compare", dependencies: ["Solvers", "GraphData"], path: "Benchmarks/SolversCompare"),
        // Layer 6: kernel benchmarks (swift package --allow-writing-to-package-directory benchmark).
        .executableTarget(
            name: "Kernels",
            dependencies: [
                "LinearAlgebra", "GraphData",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Kernels",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
