import Foundation
import LinearAlgebra

/// How ``Trainer`` fits a network. Defaults suit the small MLPs of feature compression.
public struct TrainingConfiguration: Sendable, Codable, Equatable {
    /// Maximum passes over the training rows. Default 20.
    public var epochs: Int = 20
    /// Samples per mini-batch. Default 128.
    public var batchSize: Int = 128
    /// Adam step size. Default 1e-3.
    public var learningRate: Double = 1e-3
    /// L2 penalty coefficient on weights. Default 1e-5.
    public var l2: Double = 1e-5
    /// Early stopping: stop after this many epochs without a better validation loss, and
    /// restore the best weights. Default 3. Ignored without validation rows.
    public var patience: Int = 3
    /// Seed of the mini-batch shuffling. Default 1.
    public var seed: UInt64 = 1

    /// The defaults, with any field overridden.
    public init(epochs: Int = 20, batchSize: Int = 128, learningRate: Double = 1e-3, l2: Double = 1e-5,
                patience: Int = 3, seed: UInt64 = 1) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.l2 = l2
        self.patience = patience
        self.seed = seed
    }
}

/// What a training run did.
public struct TrainingReport: Sendable, Codable, Equatable {
    /// Epochs run (at most the configured number).
    public var epochsRun: Int
    /// The epoch (1-based) whose weights were kept: the best validation loss, else the last.
    public var bestEpoch: Int
    /// Mean training loss of each epoch.
    public var trainingLosses: [Double]
    /// Validation loss after each epoch (empty without validation rows).
    public var validationLosses: [Double]
    /// Wall-clock seconds.
    public var seconds: Double
    /// The shuffling seed.
    public var seed: UInt64
}

/// Mini-batch training with Adam, L2 and early stopping on a validation split.
public enum Trainer {
    /// Trains `network` in place on `features`' rows `trainRows` with `labels`, and keeps the
    /// weights of the epoch with the lowest validation loss on `validationRows`.
    ///
    /// Each epoch shuffles `trainRows` with a generator seeded by `configuration.seed` and the
    /// epoch number, so the same seed and initial network give the same weights.
    /// - Parameters:
    ///   - network: the network to train, updated in place.
    ///   - loss: the loss minimised (and the one that scores the validation rows).
    ///   - features: the inputs, one row per sample.
    ///   - labels: one label per row of `features` (indexed by row, not by position in `trainRows`).
    ///   - trainRows: the rows trained on, shuffled every epoch.
    ///   - validationRows: the rows whose loss picks the kept epoch (none: the last epoch is kept).
    ///   - configuration: epochs, batch size, learning rate, L2, patience and seed.
    /// - Precondition: `features.dimension == network.inputs`, `labels.count == features.count`,
    ///   rows in range, labels valid for `loss` and `network.outputs`.
    /// - Complexity: epochs x (forward + backward) over the training rows, plus one forward
    ///   pass over the validation rows per epoch.
    @discardableResult
    public static func fit<Scalar: BLASScalar>(_ network: inout Network<Scalar>, loss: Loss,
                                               features: FeatureMatrix<Scalar>, labels: [Int],
                                               trainRows: [Int], validationRows: [Int] = [],
                                               configuration: TrainingConfiguration) -> TrainingReport {
        precondition(labels.count == features.count, "Trainer: \(labels.count) labels for \(features.count) rows")
        precondition(features.dimension == network.inputs, "Trainer: features have \(features.dimension) dimensions, network takes \(network.inputs)")
        let start = DispatchTime.now().uptimeNanoseconds
        var adam = Adam<Scalar>(learningRate: Scalar(configuration.learningRate), l2: Scalar(configuration.l2))
        var order = trainRows
        var best = network
        var bestLoss = Double.infinity, bestEpoch = 0, sinceBest = 0
        var trainLosses = [Double](), validationLosses = [Double]()
        let validationX = validationRows.isEmpty ? nil : features.gather(validationRows)
        let validationY = validationRows.map { labels[$0] }
        let batch = max(1, configuration.batchSize)
        var epoch = 0
        while epoch < configuration.epochs {
            epoch += 1
            var rng = Xoshiro256.stream(seed: configuration.seed, index: UInt64(epoch))
            order.shuffle(using: &rng)
            var sum = 0.0, batches = 0
            var lo = 0
            while lo < order.count {
                let hi = min(order.count, lo + batch)
                let rows = order[lo..<hi]
                let x = features.gather(rows)
                let trace = network.trace(x)
                let (value, g) = loss.evaluate(logits: trace.last!, labels: rows.map { labels[$0] })
                let grads = network.gradients(input: x, trace: trace, outputGradient: g)
                adam.update(&network, gradients: grads)
                sum += Double(value); batches += 1
                lo = hi
            }
            trainLosses.append(sum / Double(max(batches, 1)))
            if let validationX {
                let v = Double(loss.evaluate(logits: network.predict(validationX), labels: validationY).loss)
                validationLosses.append(v)
                if v < bestLoss {
                    bestLoss = v; bestEpoch = epoch; best = network; sinceBest = 0
                } else {
                    sinceBest += 1
                    if sinceBest >= configuration.patience { break }
                }
            } else {
                best = network; bestEpoch = epoch
            }
        }
        network = best
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return TrainingReport(epochsRun: epoch, bestEpoch: bestEpoch, trainingLosses: trainLosses,
                              validationLosses: validationLosses, seconds: seconds, seed: configuration.seed)
    }
}
