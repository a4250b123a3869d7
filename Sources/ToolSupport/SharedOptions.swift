import ArgumentParser
import GraphData

/// `--seed`: the seed of every random draw a command makes. Its help says exactly what is
/// reproducible, as the README's reliability section does (tested by
/// `ReliabilityTests/ReproducibilityTests`).
public struct SeedOptions: ParsableArguments {
    /// What a seed makes reproducible, in the words of `--help`.
    public static let reproducibility = "The same seed, input, options and --threads on the same kind of CPU give the same bytes; another --threads count splits float32 sums differently, so results then agree to within 1e-3 relative (about 1e-4 on real graphs), not bit for bit. Give --threads to reproduce a run elsewhere (the default is the machine's cores)."

    @Option(help: ArgumentHelp("Seed of every random draw. \(SeedOptions.reproducibility)"))
    public var seed: UInt64 = 0

    public init() {}
}

/// How a command reads an edge list (``GraphData/EdgeListReader``): direction, header, weights
/// and self-loops. `--directed` is the default and is accepted for old scripts.
public struct EdgeListOptions: ParsableArguments {
    @Flag(name: .customLong("directed"), help: "A line `a b` means a follows b (the default).")
    public var directedFlag = false

    @Flag(help: "Edges have no direction: the graph is symmetrised.")
    public var undirected = false

    @Flag(help: "The first line is a header (without it, a header is skipped only when certain, and then said on stderr).")
    public var header = false

    @Flag(help: "Accept zero, negative and subnormal weights in a third column (an error naming file and line by default).")
    public var allowNonpositiveWeights = false

    @Flag(help: "Keep self-loops (dropped by default: following oneself says nothing).")
    public var keepSelfLoops = false

    public init() {}

    public func validate() throws {
        if directedFlag && undirected { throw ValidationError("--directed and --undirected exclude each other") }
    }

    /// Whether `a b` is an edge from `a` to `b` only.
    public var directed: Bool { !undirected }

    /// The reader's options for these flags; `keepSelfLoops` overrides `--keep-self-loops` when given.
    public func readerOptions(keepSelfLoops keep: Bool? = nil) -> EdgeListReader.Options {
        EdgeListReader.Options(directed: directed, selfLoops: (keep ?? keepSelfLoops) ? .keep : .drop,
                               header: header ? .present : .auto, allowNonPositiveWeights: allowNonpositiveWeights)
    }

    /// The edge list at `path`, read with ``readerOptions(keepSelfLoops:)``.
    public func read(_ path: String, keepSelfLoops keep: Bool? = nil) throws -> EdgeList {
        try EdgeList.read(path: path, options: readerOptions(keepSelfLoops: keep))
    }
}
