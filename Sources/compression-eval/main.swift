import ArgumentParser
import Compression
import EmbeddingStore
import Foundation
import LinearAlgebra
import ToolSupport

/// Measures what feature compression buys: a full model on raw features against online heads
/// over stored bottleneck embeddings (and PCA projections), on Fashion-MNIST and MUSAE Facebook.
@main
struct CompressionEval: EmbeddingsCommand {
    static let configuration = CommandConfiguration(
        commandName: "compression-eval",
        abstract: "Compare a full network on raw features with heads on stored embeddings (accuracy, AUC, latency, offline cost).")

    @Option(help: "Comma-separated datasets: fashion-mnist, musae-facebook.") var datasets = "fashion-mnist,musae-facebook"
    @Option(help: "Comma-separated bottleneck widths.") var dims: String?
    @Option(help: "Maximum epochs of the full model and the subnetwork (heads get the head default).") var epochs: Int?
    @Option(help: "Seed of every random choice.") var seed: UInt64 = 1
    @OptionGroup var threads: ThreadOptions
    @Option(help: "Directory of the Fashion-MNIST IDX files.") var fashionMnist = "/usr/share/datasets/fashion-mnist"
    @Option(help: "Directory of musae-facebook (features.json, labels.tsv).") var musaeFacebook = "../shared/data/musae-facebook"
    @OptionGroup var output: JSONOutputOptions
    @Option(help: "Store the offline embeddings as tables DIR/<dataset>-<method>-d<dim> (vectors.npy, ids.tsv, meta.json).") var embeddingsDir: String?
    @Flag(help: "Small smoke run: subsampled data, few epochs, d in {8, 32}, fewer latency requests.") var quick = false

    func run() throws {
        var config = CompressionConfiguration()
        config.seed = seed
        config.threads = try threads.apply()
        config.training.seed = seed
        config.headTraining.seed = seed
        if quick {
            config.dimensions = [8, 32]
            config.training.epochs = 3
            config.headTraining.epochs = 5
            config.latencyRequests = 300
            config.latencyRequestsLarge = 20
        }
        if let dims { config.dimensions = try ToolOutput.positiveIntegers(dims, option: "--dims") }
        if let epochs {
            guard epochs > 0 else { throw ValidationError("--epochs must be positive") }
            config.training.epochs = epochs
        }
        let log: @Sendable (String) -> Void = { ToolOutput.standardError($0) }
        // Stored embeddings become embedding tables: the subnetwork's (and PCA's) output for every row.
        var store: (@Sendable (StoredEmbeddings) throws -> Void)? = nil
        if let embeddingsDir {
            let root = URL(fileURLWithPath: embeddingsDir)
            store = { stored in
                let meta = EmbeddingMetadata(entityType: "\(stored.dataset) row", algorithm: "compression-eval \(stored.method)",
                                             parameters: stored.parameters.mapValues { JSONValue.string($0) },
                                             scores: ["offline_seconds": stored.seconds])
                // `vectors` is d x n column-major; the table wants n x d.
                let table = try EmbeddingTable(ids: stored.ids, vectors: stored.vectors.transposed(), metadata: meta)
                try table.write(to: root.appendingPathComponent("\(stored.dataset)-\(stored.method)-d\(stored.dimension)"))
            }
        }
        let experiment = CompressionExperiment(configuration: config, store: store, log: log)
        var results = [CompressionResult]()
        for name in datasets.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            var dataset: CompressionDataset
            do {
                switch name {
                case "fashion-mnist":
                    guard FileManager.default.fileExists(atPath: fashionMnist) else {
                        log("skipping fashion-mnist: \(fashionMnist) not found (apt-get install dataset-fashion-mnist)"); continue
                    }
                    dataset = try CompressionDataset.fashionMNIST(directory: fashionMnist, seed: seed)
                case "musae-facebook":
                    let features = musaeFacebook + "/features.json", labels = musaeFacebook + "/labels.tsv"
                    guard FileManager.default.fileExists(atPath: features), FileManager.default.fileExists(atPath: labels) else {
                        log("skipping musae-facebook: \(features) or \(labels) not found"); continue
                    }
                    dataset = try CompressionDataset.musae(featuresPath: features, labelsPath: labels, seed: seed)
                default:
                    throw ValidationError("unknown dataset \(name) (fashion-mnist, musae-facebook)")
                }
            } catch let error as CompressionError {
                log("skipping \(name): \(error)"); continue
            }
            if quick { dataset = dataset.subsampled(train: 4000, validation: 1000, test: 2000, seed: seed) }
            log("\(name): \(dataset.features.count) rows, \(dataset.features.dimension) features, \(dataset.classCount) classes; train/val/test \(dataset.trainRows.count)/\(dataset.validationRows.count)/\(dataset.testRows.count)")
            results += try experiment.run(dataset)
        }
        print(CompressionReport.table(results))
        for line in CompressionReport.goalSummary(results) { print(line) }
        if let json = output.json {
            let data = try CompressionReport.json(results, configuration: [
                "seed": "\(seed)", "threads": "\(config.threads)", "quick": "\(quick)",
                "dims": config.dimensions.map(String.init).joined(separator: ","),
                "epochs": "\(config.training.epochs)", "head_epochs": "\(config.headTraining.epochs)",
                "latency": "median over \(config.latencyRequests) (batch 1) / \(config.latencyRequestsLarge) (batch 256) requests, 1 BLAS thread",
            ])
            try data.write(to: URL(fileURLWithPath: json), options: .atomic)
        }
    }
}
