import ArgumentParser
import EmbeddingStore
import Foundation
import LinearAlgebra
import Neighbors

BLAS.useAVX512KernelsIfAvailable()

struct EmbeddingNeighbors: ParsableCommand {
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

/// Threads for a run: validated, and BLAS limited to the same count.
func applyThreads(_ threads: Int?) throws -> Int {
    if let t = threads {
        guard t >= 1 else { throw ValidationError("--threads must be at least 1") }
        Parallel.threads = t
        BLAS.threads = t
    }
    return Parallel.threads
}

/// Writes `object` as pretty JSON to `path` (atomically).
func writeJSON(_ object: Any, to path: String) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    try data.write(to: URL(fileURLWithPath: path), options: .atomic)
}

/// Parses a comma-separated list of positive integers.
func positiveList(_ text: String, _ name: String) throws -> [Int] {
    let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else {
        throw ValidationError("\(name) must be a comma-separated list of positive integers (got \(text.debugDescription))")
    }
    return values.map { $0! }
}

/// Size of a file in bytes.
func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
}

EmbeddingNeighbors.main()
