// Compression: what feature compression buys. A small multilayer perceptron trained on GEMM
// against online heads over stored bottleneck embeddings and PCA projections of the raw
// features (datasets, training, experiment and report).
import Foundation
import LinearAlgebra

/// Embeddings computed offline for every row of a dataset, ready to be stored as an embedding
/// table (DESIGN.md: `vectors.npy` float32 one row per entity, `ids.tsv`, `meta.json`).
public struct StoredEmbeddings: Sendable {
    /// The dataset name.
    public let dataset: String
    /// How they were made: `subnetwork` (the frozen bottleneck) or `svd` (PCA projection).
    public let method: String
    /// Entity ids, one per row (`ids.tsv`).
    public let ids: [String]
    /// The vectors, `d x count`, entity `i` in column `i`. Column-major `d x count` is the same
    /// memory as C-order `count x d`, i.e. exactly the float32 payload of `vectors.npy`.
    public let vectors: Matrix<Float>
    /// Parameters for `meta.json` (architecture, seed, epochs...).
    public let parameters: [String: String]
    /// Seconds spent computing the vectors for every row.
    public let seconds: Double

    /// The embedding dimension `d`.
    public var dimension: Int { vectors.rows }
}

/// The settings of a ``CompressionExperiment``.
public struct CompressionConfiguration: Sendable {
    /// Bottleneck widths to evaluate. Default 8, 16, 32, 64.
    public var dimensions: [Int] = [8, 16, 32, 64]
    /// Hidden widths of the full model on raw features. Default 256, 128.
    public var fullHidden: [Int] = [256, 128]
    /// Hidden widths of the subnetwork before its linear bottleneck. Default 256.
    public var subnetworkHidden: [Int] = [256]
    /// Hidden width of the end-to-end head and of the one-hidden-layer MLP heads. Default 128.
    public var headHidden: Int = 128
    /// Training of the full model and of the subnetwork with its head.
    public var training = TrainingConfiguration(epochs: 12, batchSize: 128, learningRate: 1e-3, l2: 1e-5, patience: 3)
    /// Training of the heads on stored embeddings, PCA projections and (transfer) raw features.
    public var headTraining = TrainingConfiguration(epochs: 30, batchSize: 256, learningRate: 2e-3, l2: 1e-5, patience: 4)
    /// Requests timed at batch size 1 (the median is reported). Default 2000.
    public var latencyRequests = 2000
    /// Requests timed at batch size 256. Default 100.
    public var latencyRequestsLarge = 100
    /// BLAS threads for training and offline embedding (online requests run on one). Default 2.
    public var threads = 2
    /// Seed of every initialisation, shuffle and request draw. Default 1.
    public var seed: UInt64 = 1

    /// The defaults.
    public init() {}
}

/// One row of the report.
public struct CompressionResult: Sendable, Codable, Equatable {
    /// Dataset name.
    public var dataset: String
    /// `full`, `subnetwork`, `svd`, `transfer-subnetwork` or `transfer-raw`.
    public var method: String
    /// The online model's input dimension (`d`, or the raw feature count).
    public var dim: Int
    /// `mlp` (full network or one-hidden-layer head), `logistic`, or `end-to-end` (the
    /// subnetwork's own head, frozen).
    public var head: String
    /// `classes` (the dataset's labels) or `class-parity` (transfer: odd vs even class index).
    public var task: String
    /// Test accuracy.
    public var accuracy: Double
    /// Test macro one-vs-rest ROC-AUC.
    public var macroAUC: Double
    /// Parameters of the online model (what runs per request; stored embeddings excluded).
    public var parameters: Int
    /// Median milliseconds per request of 1 row: lookup (stored embedding or raw features) + model.
    public var latencyMsBatch1: Double
    /// Median milliseconds per request of 256 rows.
    public var latencyMsBatch256: Double
    /// Seconds to embed every row offline (stored-embedding methods), else nil.
    public var offlineSeconds: Double?
    /// Seconds spent training the online model (and fitting the PCA for `svd`).
    public var trainingSeconds: Double
    /// Epochs run in training (the head's, for stored-embedding methods).
    public var epochs: Int

    enum CodingKeys: String, CodingKey {
        case dataset, method, dim, head, task, accuracy, parameters, epochs
        case macroAUC = "macro_auc"
        case latencyMsBatch1 = "latency_ms_batch1"
        case latencyMsBatch256 = "latency_ms_batch256"
        case offlineSeconds = "offline_seconds"
        case trainingSeconds = "training_seconds"
    }
}

/// The feature-compression experiment on one dataset: a full model on raw features against
/// online heads over stored embeddings (a learned bottleneck subnetwork, or a PCA projection),
/// plus a transfer task, measuring accuracy, macro AUC, online parameters, online latency and
/// offline cost.
public struct CompressionExperiment: Sendable {
    /// The settings.
    public let configuration: CompressionConfiguration
    /// Called with each embedding set computed offline (e.g. to write an embedding table).
    public let store: (@Sendable (StoredEmbeddings) throws -> Void)?
    /// Progress messages (e.g. to stderr).
    public let log: @Sendable (String) -> Void

    /// An experiment with `configuration`, an optional embedding sink and a logger.
    public init(configuration: CompressionConfiguration, store: (@Sendable (StoredEmbeddings) throws -> Void)? = nil,
                log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.configuration = configuration
        self.store = store
        self.log = log
    }

    /// Runs every method on `dataset` and returns one result per (method, dim, head).
    /// - Throws: what ``store`` throws, or `LAPACKError` from the PCA.
    /// - Precondition: every dimension is in `1 ... dataset.features.dimension`; the dataset
    ///   has at least 2 classes and non-empty train and test splits.
    public func run(_ dataset: CompressionDataset) throws -> [CompressionResult] {
        let cfg = configuration
        let previousThreads = BLAS.threads
        BLAS.threads = cfg.threads
        defer { BLAS.threads = previousThreads }
        let x = dataset.features, y = dataset.labels
        let classes = dataset.classCount, p = x.dimension
        var results = [CompressionResult]()
        var training = cfg.training
        training.seed = cfg.seed

        // 1. The full model on raw features.
        var full = Network<Float>.mlp(inputs: p, hidden: cfg.fullHidden, outputs: classes, seed: cfg.seed)
        let fullReport = Trainer.fit(&full, loss: .softmaxCrossEntropy, features: x, labels: y,
                                     trainRows: dataset.trainRows, validationRows: dataset.validationRows, configuration: training)
        let fullLatency = latency(model: full, loss: .softmaxCrossEntropy, lookup: x, rows: dataset.testRows)
        results.append(evaluate(dataset, "full", dim: p, head: "mlp", task: "classes", model: full, loss: .softmaxCrossEntropy,
                                inputs: x, labels: y, latency: fullLatency, offline: nil, report: fullReport))
        log("\(dataset.name): full model \(fullReport.epochsRun) epochs, \(fmt(fullReport.seconds)) s, accuracy \(fmt(results.last!.accuracy))")

        // 4 (raw side). The transfer task's heads on raw features.
        let parity = dataset.parityLabels
        for (headName, hidden) in [("logistic", [Int]()), ("mlp", [cfg.headHidden])] {
            var headTraining = cfg.headTraining
            headTraining.seed = cfg.seed
            var head = Network<Float>.mlp(inputs: p, hidden: hidden, outputs: 1, seed: cfg.seed &+ 7)
            let report = Trainer.fit(&head, loss: .sigmoidCrossEntropy, features: x, labels: parity,
                                     trainRows: dataset.trainRows, validationRows: dataset.validationRows, configuration: headTraining)
            let lat = latency(model: head, loss: .sigmoidCrossEntropy, lookup: x, rows: dataset.testRows)
            results.append(evaluate(dataset, "transfer-raw", dim: p, head: headName, task: "class-parity", model: head,
                                    loss: .sigmoidCrossEntropy, inputs: x, labels: parity, latency: lat, offline: nil, report: report))
        }

        for d in cfg.dimensions {
            // 2. The subnetwork trained end to end with a head, then frozen.
            let sub = Network<Float>.mlp(inputs: p, hidden: cfg.subnetworkHidden, outputs: d, seed: cfg.seed &+ UInt64(d))
            let endHead = Network<Float>.mlp(inputs: d, hidden: [cfg.headHidden], outputs: classes, seed: cfg.seed &+ UInt64(d) &+ 1)
            var joined = sub.joined(with: endHead)
            let report = Trainer.fit(&joined, loss: .softmaxCrossEntropy, features: x, labels: y,
                                     trainRows: dataset.trainRows, validationRows: dataset.validationRows, configuration: training)
            let (frozen, trainedHead) = joined.split(at: sub.layers.count)
            let start = DispatchTime.now().uptimeNanoseconds
            let vectors = frozen.predict(x)
            let embedSeconds = seconds(since: start)
            try store?(StoredEmbeddings(dataset: dataset.name, method: "subnetwork", ids: dataset.ids, vectors: vectors,
                                        parameters: ["architecture": "\(p)-\(cfg.subnetworkHidden.map(String.init).joined(separator: "-"))-\(d) ReLU, linear bottleneck",
                                                     "head": "\(d)-\(cfg.headHidden)-\(classes)", "seed": "\(cfg.seed)",
                                                     "epochs": "\(report.epochsRun)", "best_epoch": "\(report.bestEpoch)"],
                                        seconds: embedSeconds))
            log("\(dataset.name): d=\(d) subnetwork \(report.epochsRun) epochs, \(fmt(report.seconds)) s; embedded \(x.count) rows in \(fmt(embedSeconds)) s")
            let stored = FeatureMatrix<Float>.dense(vectors)
            let endLatency = latency(model: trainedHead, loss: .softmaxCrossEntropy, lookup: stored, rows: dataset.testRows)
            results.append(evaluate(dataset, "subnetwork", dim: d, head: "end-to-end", task: "classes", model: trainedHead,
                                    loss: .softmaxCrossEntropy, inputs: stored, labels: y, latency: endLatency,
                                    offline: embedSeconds, report: report))
            results += trainHeads(dataset, method: "subnetwork", stored: vectors, labels: y, task: "classes",
                                  loss: .softmaxCrossEntropy, outputs: classes, offline: embedSeconds, extraSeconds: 0)
            // 4. Transfer: a different task on the same stored embeddings.
            results += trainHeads(dataset, method: "transfer-subnetwork", stored: vectors, labels: parity, task: "class-parity",
                                  loss: .sigmoidCrossEntropy, outputs: 1, offline: embedSeconds, extraSeconds: 0)

            // 3. The same heads on a PCA compression at the same d.
            let fitStart = DispatchTime.now().uptimeNanoseconds
            let pca = try PCAProjection.fit(x, rows: dataset.trainRows, dimension: d, seed: cfg.seed)
            let fitSeconds = seconds(since: fitStart)
            let projectStart = DispatchTime.now().uptimeNanoseconds
            var projected = Matrix<Float>(rows: d, columns: x.count)
            var lo = 0
            while lo < x.count {
                let hi = min(x.count, lo + 4096)
                let block = pca.project(x.gather(lo..<hi))
                projected.elements.replaceSubrange((lo * d)..<(hi * d), with: block.elements)
                lo = hi
            }
            let projectSeconds = seconds(since: projectStart)
            try store?(StoredEmbeddings(dataset: dataset.name, method: "svd", ids: dataset.ids, vectors: projected,
                                        parameters: ["algorithm": pca.randomized ? "covariance randomized subspace iteration + syevd" : "covariance syevd",
                                                     "seed": "\(cfg.seed)"], seconds: projectSeconds))
            log("\(dataset.name): d=\(d) PCA fit \(fmt(fitSeconds)) s (\(pca.randomized ? "randomized" : "exact")), projected in \(fmt(projectSeconds)) s")
            results += trainHeads(dataset, method: "svd", stored: projected, labels: y, task: "classes",
                                  loss: .softmaxCrossEntropy, outputs: classes, offline: projectSeconds, extraSeconds: fitSeconds)
        }
        return results
    }

    /// Logistic and one-hidden-layer MLP heads trained on stored vectors (standardised with
    /// the training rows' statistics, folded back into the first layer afterwards).
    func trainHeads(_ dataset: CompressionDataset, method: String, stored: Matrix<Float>, labels: [Int], task: String,
                    loss: Loss, outputs: Int, offline: Double, extraSeconds: Double) -> [CompressionResult] {
        let d = stored.rows
        var mean = [Float](repeating: 0, count: d), variance = [Float](repeating: 0, count: d)
        for r in dataset.trainRows { for i in 0..<d { mean[i] += stored.elements[i + r * d] } }
        for i in 0..<d { mean[i] /= Float(dataset.trainRows.count) }
        for r in dataset.trainRows { for i in 0..<d { let t = stored.elements[i + r * d] - mean[i]; variance[i] += t * t } }
        let scale = variance.map { v -> Float in let s = (v / Float(dataset.trainRows.count)).squareRoot(); return s > 1e-12 ? s : 1 }
        var standardized = stored
        for c in 0..<standardized.columns { for i in 0..<d { standardized.elements[i + c * d] = (standardized.elements[i + c * d] - mean[i]) / scale[i] } }
        var out = [CompressionResult]()
        for (headName, hidden) in [("logistic", [Int]()), ("mlp", [configuration.headHidden])] {
            var headTraining = configuration.headTraining
            headTraining.seed = configuration.seed
            var head = Network<Float>.mlp(inputs: d, hidden: hidden, outputs: outputs, seed: configuration.seed &+ 11)
            let report = Trainer.fit(&head, loss: loss, features: .dense(standardized), labels: labels,
                                     trainRows: dataset.trainRows, validationRows: dataset.validationRows, configuration: headTraining)
            head.foldInputStandardization(mean: mean, scale: scale)
            let lat = latency(model: head, loss: loss, lookup: .dense(stored), rows: dataset.testRows)
            var r = evaluate(dataset, method, dim: d, head: headName, task: task, model: head, loss: loss,
                             inputs: .dense(stored), labels: labels, latency: lat, offline: offline, report: report)
            r.trainingSeconds += extraSeconds
            out.append(r)
        }
        return out
    }

    func evaluate(_ dataset: CompressionDataset, _ method: String, dim: Int, head: String, task: String,
                  model: Network<Float>, loss: Loss, inputs: FeatureMatrix<Float>, labels: [Int],
                  latency: (Double, Double), offline: Double?, report: TrainingReport) -> CompressionResult {
        let scores = loss.probabilities(model.predict(inputs.gather(dataset.testRows)))
        let testLabels = dataset.testRows.map { labels[$0] }
        return CompressionResult(dataset: dataset.name, method: method, dim: dim, head: head, task: task,
                                 accuracy: ClassificationMetrics.accuracy(scores: scores, labels: testLabels),
                                 macroAUC: ClassificationMetrics.macroAUC(scores: scores, labels: testLabels),
                                 parameters: model.parameterCount, latencyMsBatch1: latency.0, latencyMsBatch256: latency.1,
                                 offlineSeconds: offline, trainingSeconds: report.seconds, epochs: report.epochsRun)
    }

    /// Median online latency (ms) at batch sizes 1 and 256: each request gathers its rows from
    /// `lookup` (stored embeddings or raw features) and runs `model` and its output function,
    /// on one BLAS thread.
    func latency(model: Network<Float>, loss: Loss, lookup: FeatureMatrix<Float>, rows: [Int]) -> (Double, Double) {
        BLAS.withThreads(1) {
            (OnlineLatency.median(requests: configuration.latencyRequests, batchSize: 1, rows: rows, seed: configuration.seed) {
                loss.probabilities(model.forward(lookup.gather($0)))
            },
             OnlineLatency.median(requests: configuration.latencyRequestsLarge, batchSize: 256, rows: rows, seed: configuration.seed) {
                loss.probabilities(model.forward(lookup.gather($0)))
            })
        }
    }
}

/// Timing of online requests.
public enum OnlineLatency {
    /// The median wall-clock milliseconds (monotonic clock) of `requests` calls of `serve`,
    /// each on `batchSize` rows drawn at random (seeded) from `rows`, after a short warm-up.
    /// - Precondition: `rows` is non-empty.
    public static func median(requests: Int, batchSize: Int, rows: [Int], seed: UInt64,
                              _ serve: ([Int]) -> Matrix<Float>) -> Double {
        precondition(!rows.isEmpty, "OnlineLatency: no rows")
        var rng = Xoshiro256(seed: seed)
        var batch = [Int](repeating: 0, count: batchSize)
        var times = [Double]()
        times.reserveCapacity(requests)
        var sink: Float = 0
        let warmUp = max(3, requests / 20)
        for k in 0..<(warmUp + max(1, requests)) {
            for i in 0..<batchSize { batch[i] = rows[Int(rng.next() % UInt64(rows.count))] }
            let start = DispatchTime.now().uptimeNanoseconds
            let out = serve(batch)
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            sink += out.elements.first ?? 0
            if k >= warmUp { times.append(Double(elapsed) / 1e6) }
        }
        if sink.isNaN { FileHandle.standardError.write(Data("(latency sink is NaN)\n".utf8)) }
        times.sort()
        return times[times.count / 2]
    }
}

private func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
private func fmt(_ x: Double) -> String { String(format: "%.3f", x) }
