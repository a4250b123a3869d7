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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
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
        // Layer 2: dense and sparse matrices, BLAS/LAPACK dispatch, linear operators.
        .target(
            name: "LinearAlgebra",
            dependencies: [
                "CLinearAlgebra",
                .product(name: "RealModule", package: "swift-numerics"),
            ]
        ),
        // Layer 3: solvers filed by problem (SVD/, Eigen/, ALS/, Common/).
        .target(name: "Solvers", dependencies: ["LinearAlgebra"]),
        // Layer 4: the embeddings domain.
        .target(name: "GraphData", dependencies: ["LinearAlgebra"]),
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
        ]),

        // Layer 5: thin tools.
        .executableTarget(name: "follow-graph-svd", dependencies: [
            "FollowGraph", "EmbeddingStore", "LinearAlgebra", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "follow-graph-generate", dependencies: [
            "FollowGraph", "LinearAlgebra", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "embedding-benchmark", dependencies: [
            "Evaluation", "EmbeddingStore", "GraphData", "LinearAlgebra", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "als-embed", dependencies: [
            "LinearAlgebra", "Solvers", "Evaluation", "EmbeddingStore", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "compression-eval", dependencies: [
            "Compression", "EmbeddingStore", "LinearAlgebra", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "LinearAlgebraTests", dependencies: ["LinearAlgebra"]),
        .testTarget(name: "GraphDataTests", dependencies: ["GraphData", "LinearAlgebra"]),
        .testTarget(name: "SolversTests", dependencies: ["Solvers", "LinearAlgebra"]),
        .testTarget(name: "EmbeddingStoreTests", dependencies: ["EmbeddingStore"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Solvers", "GraphData"]),
        .testTarget(name: "FollowGraphTests", dependencies: ["FollowGraph", "GraphData", "EmbeddingStore", "Solvers"]),
        .testTarget(name: "CompressionTests", dependencies: ["Compression"]),
        .testTarget(name: "EmbeddingsTests", dependencies: ["Embeddings"]),

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
