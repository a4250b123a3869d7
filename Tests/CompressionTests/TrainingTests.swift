import Testing
import LinearAlgebra
@testable import Compression

/// Two Gaussian blobs per class around well separated centres: linearly separable in practice.
private func blobs(classes: Int, perClass: Int, dimension: Int, seed: UInt64) -> (FeatureMatrix<Float>, [Int]) {
    var rng = Xoshiro256(seed: seed)
    let centres = Matrix<Float>.gaussian(rows: dimension, columns: classes, using: &rng)
    var x = Matrix<Float>(rows: dimension, columns: classes * perClass)
    var labels = [Int]()
    for c in 0..<classes {
        for s in 0..<perClass {
            let col = c * perClass + s
            for i in 0..<dimension { x[i, col] = 4 * centres[i, c] + 0.3 * Float(rng.nextGaussian()) }
            labels.append(c)
        }
    }
    return (.dense(x), labels)
}

@Test func trainingReachesNearPerfectAccuracyOnSeparableData() {
    let (x, y) = blobs(classes: 3, perClass: 200, dimension: 10, seed: 21)
    var rng = Xoshiro256(seed: 22)
    let order = Array(0..<x.count).shuffled(using: &rng)
    let train = Array(order[..<400]), validation = Array(order[400..<500]), test = Array(order[500...])
    var net = Network<Float>.mlp(inputs: 10, hidden: [16, 4], outputs: 3, seed: 23)
    let report = Trainer.fit(&net, loss: .softmaxCrossEntropy, features: x, labels: y, trainRows: train, validationRows: validation,
                             configuration: TrainingConfiguration(epochs: 30, batchSize: 32, learningRate: 3e-3, l2: 1e-5, patience: 5, seed: 24))
    let scores = Loss.softmaxCrossEntropy.probabilities(net.predict(x.gather(test)))
    let accuracy = ClassificationMetrics.accuracy(scores: scores, labels: test.map { y[$0] })
    #expect(accuracy >= 0.99, "accuracy \(accuracy)")
    #expect(report.trainingLosses.last! < report.trainingLosses.first!)
    #expect(ClassificationMetrics.macroAUC(scores: scores, labels: test.map { y[$0] }) >= 0.99)
}

@Test func binarySigmoidTrainingOnSparseInputs() {
    // Class 1 iff feature 0 is present; other features are noise.
    var rng = Xoshiro256(seed: 31)
    var lists = [[Int]](), labels = [Int]()
    for _ in 0..<600 {
        let positive = rng.next() % 2 == 0
        var list = positive ? [0] : [1]
        for _ in 0..<3 { list.append(2 + Int(rng.next() % 40)) }
        lists.append(Array(Set(list)).sorted())
        labels.append(positive ? 1 : 0)
    }
    let x = FeatureMatrix<Float>.sparse(SparseSamples(dimension: 42, featureLists: lists))
    var net = Network<Float>.mlp(inputs: 42, hidden: [8], outputs: 1, seed: 32)
    Trainer.fit(&net, loss: .sigmoidCrossEntropy, features: x, labels: labels, trainRows: Array(0..<500), validationRows: Array(500..<550),
                configuration: TrainingConfiguration(epochs: 20, batchSize: 32, learningRate: 1e-2, seed: 33))
    let test = Array(550..<600)
    let scores = Loss.sigmoidCrossEntropy.probabilities(net.predict(x.gather(test)))
    #expect(ClassificationMetrics.accuracy(scores: scores, labels: test.map { labels[$0] }) == 1)
}

@Test func theSameSeedGivesTheSameWeights() {
    let (x, y) = blobs(classes: 3, perClass: 50, dimension: 6, seed: 41)
    let config = TrainingConfiguration(epochs: 4, batchSize: 16, seed: 42)
    func train(_ netSeed: UInt64, _ config: TrainingConfiguration) -> Network<Float> {
        var net = Network<Float>.mlp(inputs: 6, hidden: [8], outputs: 3, seed: netSeed)
        Trainer.fit(&net, loss: .softmaxCrossEntropy, features: x, labels: y, trainRows: Array(0..<120),
                    validationRows: Array(120..<150), configuration: config)
        return net
    }
    #expect(train(43, config) == train(43, config))
    #expect(train(43, config) != train(44, config))
    var other = config
    other.seed = 45
    #expect(train(43, config) != train(43, other))
}

@Test func earlyStoppingKeepsTheBestValidationEpoch() {
    let (x, y) = blobs(classes: 2, perClass: 40, dimension: 4, seed: 51)
    var net = Network<Float>.mlp(inputs: 4, hidden: [32], outputs: 2, seed: 52)
    let report = Trainer.fit(&net, loss: .softmaxCrossEntropy, features: x, labels: y, trainRows: Array(0..<60), validationRows: Array(60..<80),
                             configuration: TrainingConfiguration(epochs: 200, batchSize: 8, learningRate: 1e-2, l2: 0, patience: 2, seed: 53))
    let best = report.validationLosses.min()!
    #expect(report.validationLosses[report.bestEpoch - 1] == best)
    #expect(report.epochsRun <= 200)
    let final = Double(Loss.softmaxCrossEntropy.evaluate(logits: net.predict(x.gather(60..<80)), labels: Array(y[60..<80])).loss)
    #expect(abs(final - best) <= 1e-6 * max(1, best))
}

@Test func rocAUCHandlesTiesAndDegenerateCases() {
    #expect(ClassificationMetrics.rocAUC(scores: [0.1, 0.4, 0.35, 0.8], positive: [false, true, false, true]) == 1)
    #expect(ClassificationMetrics.rocAUC(scores: [0.5, 0.5], positive: [true, false]) == 0.5)
    #expect(ClassificationMetrics.rocAUC(scores: [0.5, 0.1, 0.8], positive: [false, true, true]) == 0.5)
    #expect(ClassificationMetrics.rocAUC(scores: [0.1, 0.2], positive: [true, true]) == nil)
}

@Test func pcaMatchesTheSVDOfCenteredData() throws {
    var x = Matrix<Double>.gaussian(rows: 12, columns: 200, seed: 61)
    for s in 0..<200 { for i in 0..<12 { x[i, s] = x[i, s] * Double(12 - i) + Double(i) } } // distinct variances, nonzero mean
    var centred = x
    for i in 0..<12 {
        let m = (0..<200).reduce(0.0) { $0 + x[i, $1] } / 200
        for s in 0..<200 { centred[i, s] -= m }
    }
    let svd = try centred.svd()
    for exactLimit in [100, 4] { // exact syevd path, then the RandomizedSVD path
        let pca = try PCAProjection.fit(.dense(x), rows: Array(0..<200), dimension: 3, exactLimit: exactLimit, powerIterations: 20, seed: 62)
        #expect(pca.randomized == (exactLimit == 4))
        for j in 0..<3 {
            let expected = svd.s[j] * svd.s[j] / 200
            #expect(abs(pca.variances[j] - expected) <= 1e3 * Double.ulpOfOne.squareRoot() * expected, "variance \(j)")
            let alignment = abs(zip(pca.components.column(j), svd.u.column(j)).reduce(0) { $0 + $1.0 * $1.1 })
            #expect(abs(alignment - 1) <= 1e3 * Double.ulpOfOne.squareRoot(), "component \(j) alignment \(alignment)")
        }
        let z = pca.project(.dense(x))
        let reference = Matrix.product(svd.u.columns(0..<3), .transpose, centred)
        for j in 0..<3 {
            let sign: Double = z[j, 0] * reference[j, 0] >= 0 ? 1 : -1
            for s in 0..<200 { #expect(abs(z[j, s] - sign * reference[j, s]) <= 1e-6 * svd.s[0]) }
        }
    }
}

@Test func sparsePCAEqualsDensePCA() throws {
    var rng = Xoshiro256(seed: 71)
    let lists = (0..<100).map { _ in Array(Set((0..<4).map { _ in Int(rng.next() % 15) })).sorted() }
    let sparse = SparseSamples<Double>(dimension: 15, featureLists: lists)
    let a = try PCAProjection.fit(.sparse(sparse), rows: Array(0..<100), dimension: 2)
    let b = try PCAProjection.fit(.dense(sparse.densified()), rows: Array(0..<100), dimension: 2)
    for j in 0..<2 { #expect(abs(a.variances[j] - b.variances[j]) <= 1e-10) }
    for i in 0..<15 { #expect(abs(a.mean[i] - b.mean[i]) <= 1e-12) }
}
