import Foundation
import LinearAlgebra

/// A classification dataset for the compression experiments: every row's raw features, its
/// label, its entity id, and a train / validation / test split.
public struct CompressionDataset: Sendable {
    /// A short name (`fashion-mnist`, `musae-facebook`).
    public let name: String
    /// Raw features of every row.
    public let features: FeatureMatrix<Float>
    /// Class index of every row.
    public let labels: [Int]
    /// Names of the classes.
    public let classNames: [String]
    /// Entity id of every row (the `ids.tsv` of a stored embedding table).
    public let ids: [String]
    /// Rows to train on.
    public let trainRows: [Int]
    /// Rows for early stopping.
    public let validationRows: [Int]
    /// Rows to report on.
    public let testRows: [Int]

    /// A dataset from parts.
    /// - Precondition: one label and id per row; split rows in range.
    public init(name: String, features: FeatureMatrix<Float>, labels: [Int], classNames: [String], ids: [String],
                trainRows: [Int], validationRows: [Int], testRows: [Int]) {
        precondition(labels.count == features.count && ids.count == features.count, "CompressionDataset: counts differ")
        precondition((trainRows + validationRows + testRows).allSatisfy { $0 >= 0 && $0 < features.count }, "CompressionDataset: split row out of range")
        self.name = name
        self.features = features
        self.labels = labels
        self.classNames = classNames
        self.ids = ids
        self.trainRows = trainRows
        self.validationRows = validationRows
        self.testRows = testRows
    }

    /// Number of classes.
    public var classCount: Int { classNames.count }

    /// The transfer task: a binary split of the classes, class index parity (odd = 1).
    public var parityLabels: [Int] { labels.map { $0 % 2 } }

    /// A smaller dataset: at most `train` training, `validation` validation and `test` test
    /// rows, drawn at random (seeded); the rows are renumbered. Used by quick runs.
    public func subsampled(train: Int, validation: Int, test: Int, seed: UInt64) -> CompressionDataset {
        var rng = Xoshiro256(seed: seed)
        let tr = Array(trainRows.shuffled(using: &rng).prefix(train))
        let va = Array(validationRows.shuffled(using: &rng).prefix(validation))
        let te = Array(testRows.shuffled(using: &rng).prefix(test))
        let rows = tr + va + te
        return CompressionDataset(name: name, features: features.gather(rows), labels: rows.map { labels[$0] },
                                  classNames: classNames, ids: rows.map { ids[$0] },
                                  trainRows: Array(0..<tr.count), validationRows: Array(tr.count..<(tr.count + va.count)),
                                  testRows: Array((tr.count + va.count)..<rows.count))
    }

    /// Fashion-MNIST from its four IDX files (gzip-compressed or not) in `directory`:
    /// pixels scaled to [0, 1], 784 dense features; the 60,000 training images split into
    /// train and validation (`validationFraction`, seeded), the 10,000 test images for test.
    /// Ids are `train-<i>` and `test-<i>`.
    /// - Throws: ``CompressionError`` when a file is missing, truncated or malformed, or image
    ///   and label counts disagree.
    public static func fashionMNIST(directory: String, validationFraction: Double = 0.1, seed: UInt64 = 1) throws -> CompressionDataset {
        func load(_ stem: String) throws -> IDXArray {
            for candidate in [stem + ".gz", stem] {
                let path = directory + "/" + candidate
                if FileManager.default.fileExists(atPath: path) { return try IDXArray(contentsOf: path) }
            }
            throw CompressionError(file: directory + "/" + stem + "[.gz]", "Fashion-MNIST file not found")
        }
        let trainImages = try load("train-images-idx3-ubyte"), trainLabels = try load("train-labels-idx1-ubyte")
        let testImages = try load("t10k-images-idx3-ubyte"), testLabels = try load("t10k-labels-idx1-ubyte")
        for (images, labels, part) in [(trainImages, trainLabels, "train"), (testImages, testLabels, "t10k")] {
            guard images.dimensions.count >= 2, images.dimensions[0] == labels.dimensions[0] else {
                throw CompressionError(file: directory, "\(part): \(images.dimensions) images but \(labels.dimensions) labels")
            }
        }
        guard trainImages.itemSize == testImages.itemSize else {
            throw CompressionError(file: directory, "train images have \(trainImages.itemSize) pixels, test images \(testImages.itemSize)")
        }
        let p = trainImages.itemSize
        let nTrain = trainImages.dimensions[0], nTest = testImages.dimensions[0]
        let pixels = trainImages.floats(scale: 1 / 255) + testImages.floats(scale: 1 / 255)
        let labels = try trainLabels.integers() + testLabels.integers()
        let classCount = (labels.max() ?? 0) + 1
        guard labels.allSatisfy({ $0 >= 0 }) else { throw CompressionError(file: directory, "negative class label") }
        var rng = Xoshiro256(seed: seed)
        let shuffled = Array(0..<nTrain).shuffled(using: &rng)
        let nValidation = Int(Double(nTrain) * validationFraction)
        let names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
        return CompressionDataset(
            name: "fashion-mnist",
            features: .dense(Matrix(rows: p, columns: nTrain + nTest, elements: pixels)),
            labels: labels,
            classNames: classCount == names.count ? names : (0..<classCount).map { "class \($0)" },
            ids: (0..<nTrain).map { "train-\($0)" } + (0..<nTest).map { "test-\($0)" },
            trainRows: Array(shuffled[nValidation...]).sorted(), validationRows: Array(shuffled[..<nValidation]).sorted(),
            testRows: Array(nTrain..<(nTrain + nTest)))
    }

    /// The MUSAE Facebook page-page data: sparse binary page features (`features.json`,
    /// node -> feature ids) and the page type (`labels.tsv`, 4 classes). Nodes without a label
    /// are dropped; rows are split at random (seeded) into train / validation / test by
    /// `fractions` (default 70 / 10 / 20 percent).
    /// - Throws: ``CompressionError`` for a missing or malformed file.
    public static func musae(name: String = "musae-facebook", featuresPath: String, labelsPath: String,
                             fractions: (train: Double, validation: Double) = (0.7, 0.1), seed: UInt64 = 1) throws -> CompressionDataset {
        let (ids, lists, dimension) = try FeatureReaders.readSparseFeatures(path: featuresPath)
        let labelMap = try FeatureReaders.readLabels(path: labelsPath)
        let (kept, entities) = try FeatureReaders.attachLabels(ids: ids, labels: labelMap, source: labelsPath)
        let samples = SparseSamples<Float>(dimension: dimension, featureLists: kept.map { lists[$0] })
        let n = kept.count
        var rng = Xoshiro256(seed: seed)
        let order = Array(0..<n).shuffled(using: &rng)
        let nTrain = Int(Double(n) * fractions.train), nValidation = Int(Double(n) * fractions.validation)
        return CompressionDataset(
            name: name, features: .sparse(samples), labels: entities.labels, classNames: entities.classNames,
            ids: entities.ids,
            trainRows: Array(order[..<nTrain]).sorted(),
            validationRows: Array(order[nTrain..<(nTrain + nValidation)]).sorted(),
            testRows: Array(order[(nTrain + nValidation)...]).sorted())
    }
}
