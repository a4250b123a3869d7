import ArgumentParser
import Foundation
import LinearAlgebra
import Pipelines

/// `embedding-pipeline`: declarative, cached embedding runs from a YAML spec.
@main
struct EmbeddingPipeline: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embedding-pipeline",
        abstract: "Runs embedding pipelines (select -> preprocess -> fit -> benchmark, and external commands) from a YAML spec, with cached steps and lineage.",
        discussion: """
        A spec names its steps in order; each has a `kind` (select, preprocess, fit, benchmark,
        command), the earlier steps it `uses`, and typed parameters under `with:`; a command step
        gives `run: [program, args...]` ({output}, {input:STEP}, {spec_dir} are substituted), its
        `inputs` (files hashed into the cache key) and `outputs` (files it must write). Examples:
        examples/*.yaml. A step whose inputs, parameters and tool version are unchanged is taken
        from the store; --force reruns every step. A failing step stops the run, is named, and
        leaves no partial output.
          embedding-pipeline run examples/sx-mathoverflow-dynamic.yaml --store runs
          embedding-pipeline show latest --store runs
        """,
        subcommands: [Run.self, Show.self])

    static func main() {
        BLAS.useAVX512KernelsIfAvailable()
        main(nil)
    }
}

struct StoreOption: ParsableArguments {
    @Option(help: "Store directory: step outputs (steps/KEY/) and run records (runs/RUN.json).") var store = "pipeline-store"
    @Option(name: .customLong("feature-store"), help: "Feature store that publish steps write to (default: STORE/feature-store; a step's `store:` overrides).")
    var featureStore: String?
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Runs a spec, reusing unchanged steps from the store.")
    @Argument(help: "The pipeline spec (YAML).") var spec: String
    @OptionGroup var store: StoreOption
    @Flag(help: "Rerun every step even when its outputs are in the store.") var force = false
    @Flag(name: .shortAndLong, help: "Quiet: print only the run id and status.") var quiet = false

    func run() throws {
        let parsed = try PipelineSpec.load(path: spec)
        let runner = PipelineRunner(store: URL(fileURLWithPath: store.store), featureStore: store.featureStore.map { URL(fileURLWithPath: $0) }, force: force,
                                    log: { line in if !quiet { FileHandle.standardError.write(Data(("embedding-pipeline: " + line + "\n").utf8)) } })
        do {
            let record = try runner.run(parsed, specPath: spec)
            print(quiet ? "\(record.run) \(record.status)" : PipelineRunner.describe(record))
        } catch let error as PipelineError {
            FileHandle.standardError.write(Data(("embedding-pipeline: \(error)\n").utf8))
            throw ExitCode(1)
        }
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Prints a run's record: spec, steps, cache hits, lineage.")
    @Argument(help: "Run id (or a unique prefix, or `latest`).") var runID: String
    @OptionGroup var store: StoreOption
    @Flag(help: "Print the record as JSON.") var json = false

    func run() throws {
        let record = try PipelineRunner(store: URL(fileURLWithPath: store.store)).record(runID)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(record), as: UTF8.self))
        } else {
            print(PipelineRunner.describe(record))
        }
    }
}
