// ToolSupport: what every command-line tool of this package parses and does the same way (layer 5).
// One home for `--threads`, `--json`, the embedding-table input, progress and verbosity, the
// entry point that picks the BLAS kernels, and small argument helpers; the tools hold only glue.

import ArgumentParser
import EmbeddingStore
import Foundation
import LinearAlgebra

/// A tool's command: `@main` on a type conforming to this gets an entry point that selects the
/// AVX-512 BLAS kernels when the CPU has them (``BLAS/useAVX512KernelsIfAvailable()``), then
/// parses the arguments and runs the command.
public protocol EmbeddingsCommand: ParsableCommand {}

extension EmbeddingsCommand {
    /// Selects the BLAS kernels, then runs the command as `ParsableCommand.main(nil)` does.
    public static func main() {
        BLAS.useAVX512KernelsIfAvailable()
        main(nil)
    }
}

/// `--threads`: how many threads the parallel loops and BLAS use.
public struct ThreadOptions: ParsableArguments {
    @Option(help: "Threads for the parallel parts and BLAS (default: all cores, or EMBEDDINGS_THREADS).")
    public var threads: Int?

    public init() {}

    public func validate() throws {
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// Sets ``Parallel/threads`` and ``BLAS/threads`` to `--threads` when it was given; returns
    /// the thread count in force.
    @discardableResult
    public func apply() throws -> Int {
        try validate()
        if let t = threads { Parallel.threads = t; BLAS.threads = t }
        return Parallel.threads
    }
}

/// `--json FILE`: where a command writes its report.
public struct JSONOutputOptions: ParsableArguments {
    @Option(help: "Write the result as JSON to this file.")
    public var json: String?

    public init() {}

    /// Writes `report` (Codable, keys sorted) when `--json` was given.
    public func write<Report: Encodable>(_ report: Report) throws {
        if let json { try JSONReport.write(report, to: URL(fileURLWithPath: json)) }
    }

    /// Writes a JSONSerialization object (dictionaries, arrays, numbers, strings) when `--json`
    /// was given, pretty-printed with sorted keys, atomically.
    public func write(object: Any) throws {
        if let json { try ToolOutput.writeJSON(object, to: json) }
    }
}

/// `--embeddings DIR` (an embedding table) and `--write-scores` (store scores in its meta.json).
public struct EmbeddingTableOptions: ParsableArguments {
    @Option(help: "The embedding table directory (vectors.npy, ids.tsv, meta.json).")
    public var embeddings: String

    @Flag(help: "Store the scores in the table's meta.json.")
    public var writeScores = false

    public init() {}

    /// The table at `--embeddings`.
    public func read() throws -> EmbeddingTable {
        try EmbeddingTable.read(from: URL(fileURLWithPath: embeddings))
    }

    /// Stores `scores` in the table's meta.json when `--write-scores` was given.
    public func storeScores(_ scores: [String: Double]) throws {
        if writeScores { _ = try EmbeddingTable.updateScores(in: URL(fileURLWithPath: embeddings), scores: scores) }
    }
}

/// `--embeddings DIR` or `--vectors FILE.npy`: the vectors a command reads, as a table.
public struct TableInputOptions: ParsableArguments {
    @Option(help: "The embedding table directory (vectors.npy, ids.tsv, meta.json).")
    public var embeddings: String?

    @Option(help: "Instead of --embeddings: a .npy float32 matrix, one vector a row; ids are the row numbers 0, 1, ...")
    public var vectors: String?

    public init() {}

    public func validate() throws {
        if (embeddings == nil) == (vectors == nil) { throw ValidationError("give exactly one of --embeddings, --vectors") }
    }

    /// The table at `--embeddings`, or the `--vectors` matrix with row numbers as ids.
    public func read() throws -> EmbeddingTable { try ToolInput.table(embeddings: embeddings, vectors: vectors) }
}

/// `--verbose` and `--quiet`: progress lines on stderr, shown on a terminal (or with `--verbose`),
/// never with `--quiet`.
public struct ProgressOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print progress lines on stderr even when it is not a terminal.")
    public var verbose = false

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    public var quiet = false

    public init() {}

    public func validate() throws {
        if verbose && quiet { throw ValidationError("--verbose and --quiet exclude each other") }
    }

    /// Whether progress lines are shown.
    public var showsProgress: Bool { !quiet && (verbose || isatty(STDERR_FILENO) != 0) }

    /// A sink for progress lines: each is written to stderr as `tool: line` when shown.
    public func reporter(_ tool: String) -> @Sendable (String) -> Void {
        let show = showsProgress
        return { line in if show { ToolOutput.standardError("\(tool): \(line)") } }
    }
}

/// Small helpers the tools share.
public enum ToolOutput {
    /// Writes `line` and a newline to stderr.
    public static func standardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Writes `object` (a JSONSerialization object) as pretty JSON with sorted keys to `path`, atomically.
    public static func writeJSON(_ object: Any, to path: String) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Parses a comma-separated list of positive integers given to option `name`
    /// (a `ValidationError` naming the option and the text otherwise).
    public static func positiveIntegers(_ text: String, option name: String) throws -> [Int] {
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ValidationError("\(name) must be a comma-separated list of positive integers (got \(text.debugDescription))")
        }
        return values.map { $0! }
    }

    /// Size of the file at `path` in bytes (0 when it cannot be read).
    public static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }
}

/// Input files the tools read the same way.
public enum ToolInput {
    /// The non-empty lines of a UTF-8 text file (LF or CRLF).
    public static func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
    }

    /// A float32 or float64 `.npy` matrix as `Float` (one vector a row).
    public static func floatMatrix(npy path: String) throws -> Matrix<Float> {
        switch try NPY.readAny(from: URL(fileURLWithPath: path)) {
        case .float32(let f): return f
        case .float64(let d): return d.converted(to: Float.self)
        }
    }

    /// The embedding table at `embeddings`, or the `.npy` matrix at `vectors` as a table whose ids
    /// are the row numbers; exactly one of the two must be given.
    public static func table(embeddings: String?, vectors: String?) throws -> EmbeddingTable {
        switch (embeddings, vectors) {
        case (let e?, nil):
            return try EmbeddingTable.read(from: URL(fileURLWithPath: e))
        case (nil, let v?):
            let m = try floatMatrix(npy: v)
            return try EmbeddingTable(ids: (0..<m.rows).map(String.init), vectors: m,
                                      metadata: EmbeddingMetadata(entityType: "row", algorithm: "npy"))
        default:
            throw ValidationError("give exactly one of --embeddings, --vectors")
        }
    }
}
