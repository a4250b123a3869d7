import ArgumentParser
import Foundation
import LinearAlgebra
import EmbeddingStore
import Temporal

/// `embedding-temporal`: embeddings over time from a timestamped event list.
@main
struct EmbeddingTemporal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embedding-temporal",
        abstract: "Embeddings over time: windows, alignment, drift, fold-in and temporal link prediction.",
        discussion: """
        EVENTS is `src<TAB>dst<TAB>unix_time[<TAB>weight]` per line (`#` comments; out-of-order lines
        are sorted). Durations are written 180d, 12h, 2w, 1y. Typical use:
          embedding-temporal windows events.tsv --window 180d --step 90d --output run
          embedding-temporal linkpred events.tsv --horizon 90d
          embedding-temporal foldin events.tsv --recent 90d
          embedding-temporal drift run/window-003 run/window-004
        """,
        subcommands: [Windows.self, Drift.self, LinkPred.self, FoldIn.self])

    static func main() {
        BLAS.useAVX512KernelsIfAvailable()
        main(nil)
    }
}

struct EmbeddingOptions: ParsableArguments {
    @Option(help: "Embedding dimension (SVD rank).") var dim = 32
    @Flag(help: "Directed follow-graph SVD ([U S^1/2 | V S^1/2] per account) instead of the symmetrised graph.") var directed = false
    @Option(help: "How a pair's events become one entry: binary, count or log.") var weighting: EventWeighting = .binary
    @Flag(name: .customLong("event-weights"), help: "Multiply by the events' weight column (events with weight <= 0 are dropped).") var eventWeights = false
    @Option(name: .customLong("min-degree"), help: "Embed accounts with at least this many partners in the window.") var minDegree = 1
    @Option(help: "Seed of the randomized SVD and of every sample.") var seed: UInt64 = 0
    @Flag(name: .shortAndLong, help: "Progress lines on stderr (default when stderr is a terminal).") var verbose = false

    var configuration: TemporalEmbeddingConfiguration {
        var c = TemporalEmbeddingConfiguration()
        c.dimension = dim; c.symmetric = !directed; c.weighting = weighting
        c.useEventWeights = eventWeights; c.minimumDegree = minDegree; c.seed = seed
        return c
    }
    func log(_ line: String) {
        if verbose || isatty(2) != 0 { FileHandle.standardError.write(Data(("embedding-temporal: " + line + "\n").utf8)) }
    }
    func read(_ path: String) throws -> TemporalEvents {
        let events = try TemporalEvents.read(path: path)
        log("\(path): \(events.count) events, \(events.nodeCount) accounts" + (events.outOfOrderLines > 0 ? ", \(events.outOfOrderLines) lines out of time order (sorted)" : ""))
        return events
    }
}

extension EventWeighting: ExpressibleByArgument {}
extension TimeSpan: ExpressibleByArgument { public init?(argument: String) { self.init(argument) } }
extension TemporalSetting: ExpressibleByArgument { public init?(argument: String) { self.init(argument) } }

struct Windows: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "One embedding per time window, aligned onto the previous one, with a drift report per pair.",
        discussion: "Writes OUTPUT/window-NNN/ (aligned tables; meta.json has valid_from/valid_to), OUTPUT/windows.json and OUTPUT/drift.json.")
    @Argument(help: "Event list.") var events: String
    @Option(help: "Window kind: sliding (tumbling when --window equals --step), cumulative or decayed.") var kind = "sliding"
    @Option(help: "Window width (sliding).") var window = TimeSpan(seconds: 180 * 86_400)
    @Option(help: "Distance between window ends.") var step = TimeSpan(seconds: 90 * 86_400)
    @Option(name: .customLong("half-life"), help: "Half-life of the decayed weights.") var halfLife = TimeSpan(seconds: 180 * 86_400)
    @Option(help: "File of anchor ids (one per line): fit each alignment on these only.") var anchors: String?
    @Option(help: "Output directory.") var output: String
    @OptionGroup var options: EmbeddingOptions

    func run() throws {
        guard let k = WindowKind(named: kind, width: window, step: step, halfLife: halfLife) else {
            throw ValidationError("--kind must be sliding, cumulative or decayed (got \(kind))")
        }
        let list = try options.read(events)
        var o = DynamicEmbedding.Options(windowing: Windowing(kind: k))
        o.embedding = options.configuration
        o.drift.seed = options.seed
        if let anchors { o.anchors = try DynamicEmbedding.readAnchors(URL(fileURLWithPath: anchors)) }
        let result = try DynamicEmbedding.run(list, options: o, log: options.log)
        try TemporalOutput.write(result, events: list, options: o, to: URL(fileURLWithPath: output))
        print(TemporalOutput.driftTable(result.drift))
        print(String(format: "%d windows (%d embedded) in %.2f s: embed %.2f, align %.2f, drift %.2f; wrote ",
                     result.windows.count, result.tables.count, result.totalSeconds, result.embedSeconds,
                     result.alignSeconds, result.driftSeconds) + output)
    }
}

struct Drift: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Aligns table LATER onto EARLIER (Procrustes over shared ids) and reports the drift.")
    @Argument(help: "Earlier embedding table directory.") var earlier: String
    @Argument(help: "Later embedding table directory.") var later: String
    @Option(help: "Neighbours compared per account.") var k = 10
    @Option(help: "Write the report as JSON here.") var json: String?

    func run() throws {
        let a = try EmbeddingTable.read(from: URL(fileURLWithPath: earlier)), b = try EmbeddingTable.read(from: URL(fileURLWithPath: later))
        let start = Date(), (aligned, fit) = try Procrustes.align(b, onto: a), alignSeconds = Date().timeIntervalSince(start)
        var o = Temporal.Drift.Options(); o.k = k
        let report = try Temporal.Drift.measure(earlier: a, later: aligned, alignment: fit, options: o)
        print(TemporalOutput.driftTable([report]))
        print(String(format: "aligned %d x %d onto %d rows (fitted on %d shared ids, relative residual %.3g) in %.2f s; drift %.2f s",
                     b.count, b.dimension, a.count, fit.fittedOn, fit.relativeResidual, alignSeconds, Date().timeIntervalSince(start) - alignSeconds))
        if let json { try TemporalOutput.writeJSON(report, to: URL(fileURLWithPath: json)) }
    }
}

struct LinkPred: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "linkpred", abstract: "Temporal link prediction: embed events before t, score pairs first meeting in [t, t + horizon) against random pairs (cosine, ROC-AUC).")
    @Argument(help: "Event list.") var events: String
    @Option(help: "Prediction horizon.") var horizon = TimeSpan(seconds: 90 * 86_400)
    @Option(help: "Split times (evenly spaced over the timeline's second half).") var splits = 4
    @Option(parsing: .upToNextOption, help: "Settings compared: window:365d (events of the last 365 days), decayed:180d (all events, half-life 180 days), active:365d (all events, accounts active in the last 365 days; the default dynamic setting), cumulative.")
    var settings: [TemporalSetting] = LinkPrediction.Options().settings
    @Option(name: .customLong("max-pairs"), help: "New pairs sampled per split at most.") var maxPairs = 20_000
    @Option(help: "Write the report as JSON here.") var json: String?
    @OptionGroup var options: EmbeddingOptions

    func run() throws {
        var o = LinkPrediction.Options()
        o.horizon = horizon; o.splitCount = splits; o.settings = settings; o.maximumPairs = maxPairs
        o.embedding = options.configuration; o.seed = options.seed
        let report = try LinkPrediction.run(try options.read(events), options: o, log: options.log)
        print(TemporalOutput.linkPredictionTable(report))
        if let json { try TemporalOutput.writeJSON(report, to: URL(fileURLWithPath: json)) }
    }
}

struct FoldIn: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "foldin", abstract: "Folds accounts new in the last --recent into the embedding of the events before, and compares with a refit.")
    @Argument(help: "Event list.") var events: String
    @Option(help: "The new accounts' period, ending at --end.") var recent = TimeSpan(seconds: 90 * 86_400)
    @Option(parsing: .upToNextOption, help: "Ends of the fitted history, yyyy-mm-dd or unix seconds (default: 4 evenly spaced over the timeline's second half).")
    var end: [String] = []
    @Option(help: "Link-prediction horizon after --end.") var horizon = TimeSpan(seconds: 90 * 86_400)
    @Option(help: "Events the base and the refit see: cumulative, window:365d, decayed:180d or active:365d.") var setting: TemporalSetting = .cumulative
    @Flag(name: .customLong("new-only"), help: "Fold in only the new accounts (default: also the base's accounts that interacted in --recent, from their updated rows).") var newOnly = false
    @Option(help: "Write the report as JSON here.") var json: String?
    @OptionGroup var options: EmbeddingOptions

    func run() throws {
        let list = try options.read(events)
        let ends = try LinkPrediction.splitTimes(list, given: end, count: 4, horizon: horizon)
        let reports = try ends.map { try Temporal.FoldIn.benchmark(list, end: $0, recent: recent, horizon: horizon, setting: setting,
                                                                    configuration: options.configuration, refoldChanged: !newOnly,
                                                                    seed: options.seed, log: options.log) }
        print(TemporalOutput.foldInTable(reports))
        if let json { try TemporalOutput.writeJSON(reports, to: URL(fileURLWithPath: json)) }
    }
}
