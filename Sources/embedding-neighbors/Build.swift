import ArgumentParser
import Foundation
import LinearAlgebra
import Neighbors
import ToolSupport

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build an index over an embedding table and save it.",
        discussion: """
        --kind exact: blocked GEMM with a fused top-k (no parameters). --kind ivf: k-means coarse \
        quantiser with --lists lists (default round(sqrt(n))), seeded k-means++. --kind hnsw: \
        navigable small-world graph with --m links per vector (2M at level 0) and beam width \
        --ef-construction while inserting; built on --threads threads (deterministic with one).
        """)

    @OptionGroup var input: TableInputOptions
    @Option(help: "Index kind: exact, ivf or hnsw.") var kind: NeighborIndexKind = .hnsw
    @Option(help: "Metric: cosine, ip (inner product) or l2 (squared Euclidean distance).") var metric: Metric = .cosine
    @Option(help: "HNSW: links per vector.") var m: Int = 16
    @Option(help: "HNSW: beam width while inserting.") var efConstruction: Int = 200
    @Option(help: "IVF: number of lists (0: round(sqrt(n))).") var lists: Int = 0
    @OptionGroup var seed: SeedOptions
    @OptionGroup var threads: ThreadOptions
    @Option(help: "The index file to write.") var output: String

    func run() throws {
        let t = try threads.apply()
        let start = Date()
        let table = try input.read()
        ToolOutput.standardError("read \(table.count) x \(table.dimension) vectors in \(String(format: "%.2f", Date().timeIntervalSince(start))) s; building \(kind.rawValue) (\(metric.rawValue)) on \(t) threads")
        do {
            try NeighborIndexes.memoryBudget(kind: kind, count: table.count, dimension: table.dimension, m: m, lists: lists, threads: t).check()
        } catch { error.exitImmediately() }
        let index = try NeighborIndexes.make(kind: kind, dimension: table.dimension, metric: metric, m: m,
                                             efConstruction: efConstruction, lists: lists, seed: seed.seed)
        try index.add(table, threads: t)
        try index.save(to: URL(fileURLWithPath: output))
        let bytes = ToolOutput.fileSize(output)
        print(String(format: "%@ index of %d vectors built in %.2f s; %@: %d bytes (%.1f per vector)",
                     kind.rawValue, index.count, index.buildSeconds, output, bytes, Double(bytes) / Double(max(1, index.count))))
    }
}
