import EmbeddingStore
import LinearAlgebra
import Testing
@testable import Evaluation

func table(_ vectors: Matrix<Float>, ids: [String]? = nil) throws -> EmbeddingTable {
    try EmbeddingTable(ids: ids ?? (0..<vectors.rows).map { "u\($0)" }, vectors: vectors,
                       metadata: EmbeddingMetadata(entityType: "user", algorithm: "test"))
}

@Suite struct StratifiedKFoldTests {
    func checkPartition(_ folds: [Fold], n: Int) {
        var seen = [Int](repeating: 0, count: n)
        for fold in folds {
            for i in fold.test { seen[i] += 1 }
            #expect(Set(fold.train).isDisjoint(with: fold.test))
            #expect(fold.train.count + fold.test.count == n)
            #expect(fold.test == fold.test.sorted())
        }
        #expect(seen.allSatisfy { $0 == 1 })
    }

    @Test func singleLabelFoldsAreStratifiedAndSeeded() throws {
        var rng = Xoshiro256(seed: 1)
        let classes = (0..<103).map { _ in rng.nextUniform() < 0.15 ? 2 : (rng.nextUniform() < 0.5 ? 0 : 7) }
        let folds = try StratifiedKFold(folds: 5, seed: 3).split(classes: classes)
        checkPartition(folds, n: classes.count)
        for c in Set(classes) {
            let total = classes.filter { $0 == c }.count
            for fold in folds {
                let inFold = fold.test.filter { classes[$0] == c }.count
                #expect(inFold == total / 5 || inFold == (total + 4) / 5)
            }
        }
        let sizes = folds.map(\.test.count)
        #expect(sizes.max()! - sizes.min()! <= 1)
        #expect(try StratifiedKFold(folds: 5, seed: 3).split(classes: classes) == folds)
        #expect(try StratifiedKFold(folds: 5, seed: 4).split(classes: classes) != folds)
        #expect(throws: EvaluationError.self) { try StratifiedKFold(folds: 5).split(classes: [0, 1, 0]) }
        #expect(throws: EvaluationError.self) { try StratifiedKFold(folds: 1).split(classes: [0, 1, 0]) }
    }

    @Test func multiLabelIterativeStratificationSpreadsRareLabels() throws {
        var rng = Xoshiro256(seed: 2)
        let rates = [0.02, 0.05, 0.2, 0.5]
        var sets = (0..<400).map { _ in (0..<4).filter { rng.nextUniform() < rates[$0] } }
        sets[0] = [] // an unlabelled sample
        let folds = try StratifiedKFold(folds: 5, seed: 9).split(labelSets: sets)
        checkPartition(folds, n: sets.count)
        for l in 0..<4 {
            let total = sets.filter { $0.contains(l) }.count
            for fold in folds {
                let inFold = fold.test.filter { sets[$0].contains(l) }.count
                #expect(abs(Double(inFold) - Double(total) / 5) <= 1.5, "label \(l): \(inFold) of \(total)")
            }
        }
        let sizes = folds.map(\.test.count)
        #expect(sizes.max()! - sizes.min()! <= 3)
        #expect(try StratifiedKFold(folds: 5, seed: 9).split(labelSets: sets) == folds)
    }
}

@Suite struct PredictionBenchmarkTests {
    /// Nodes whose label is decided by the sign of one coordinate (plus noise dimensions).
    func separableData(n: Int, seed: UInt64) -> (Matrix<Float>, [String: [String]]) {
        let vectors = Matrix<Float>.gaussian(rows: n, columns: 6, seed: seed)
        var labels = [String: [String]]()
        for i in 0..<n {
            var set = [String]()
            if vectors[i, 0] > 0.3 { set.append("sports") }
            if vectors[i, 1] + 0.2 * vectors[i, 2] < -0.5 { set.append("music") }
            if vectors[i, 3] > 1 { set.append("rare") }
            if set.isEmpty { set.append("other") }
            labels["u\(i)"] = set
        }
        return (vectors, labels)
    }

    @Test func learnableLabelsScoreHighAndRandomOnesNearHalf() throws {
        let (vectors, labels) = separableData(n: 600, seed: 5)
        var withMissing = labels
        withMissing["ghost-1"] = ["sports"]
        withMissing["ghost-2"] = ["music"]
        let result = try PredictionBenchmark.run(embeddings: table(vectors), labels: withMissing, folds: 5, seed: 1)
        #expect(!result.singleLabel)
        #expect(result.labels == ["music", "other", "rare", "sports"])
        #expect(result.nodesEvaluated == 600 && result.nodesMissing == 2)
        #expect(result.missingExamples == ["ghost-1", "ghost-2"])
        #expect(result.macroAUC > 0.95 && result.microAUC > 0.95)
        #expect(result.perLabel["sports"]! > 0.97)
        #expect(result.foldMacroAUC.count == 5)
        #expect(result.allConverged)

        // Same labels, embeddings independent of them: chance level.
        let noise = Matrix<Float>.gaussian(rows: 600, columns: 6, seed: 77)
        let chance = try PredictionBenchmark.run(embeddings: table(noise), labels: labels, folds: 5, seed: 1)
        #expect(abs(chance.macroAUC - 0.5) < 0.08)

        // Reproducible.
        let again = try PredictionBenchmark.run(embeddings: table(vectors), labels: withMissing, folds: 5, seed: 1)
        #expect(again == result)
    }

    @Test func singleLabelAndPairInput() throws {
        let vectors = Matrix<Float>.gaussian(rows: 300, columns: 4, seed: 8)
        var pairs = [(node: String, label: String)]()
        for i in 0..<300 { pairs.append(("u\(i)", vectors[i, 2] > 0 ? "f" : "m")) }
        let result = try PredictionBenchmark.run(embeddings: table(vectors), labelPairs: pairs, folds: 3, seed: 2)
        #expect(result.singleLabel)
        #expect(result.macroAUC > 0.97)
        #expect(result.folds == 3)
    }

    @Test func nodeIDsAndLabelNamesAreBytesNotCanonicalStrings() throws {
        // "Zürich" in NFC (U+00FC) and in NFD (u + U+0308) are different ids and different labels.
        let nfc = "Z\u{00FC}rich", nfd = "Zu\u{0308}rich"
        #expect(nfc == nfd && Array(nfc.utf8) != Array(nfd.utf8))   // what Swift's String == would merge
        let (vectors, labels) = separableData(n: 600, seed: 5)
        var ids = (0..<600).map { "u\($0)" }
        ids[0] = nfc; ids[1] = nfd
        var pairs = [(node: String, label: String)]()
        for (node, names) in labels.sorted(by: { $0.key < $1.key }) {
            let i = Int(node.dropFirst())!
            for name in names { pairs.append((ids[i], name)) }
        }
        // Five positives each for two labels whose names differ only in normal form.
        for i in 10..<15 { pairs.append((ids[i], "label-" + nfc)) }
        for i in 15..<20 { pairs.append((ids[i], "label-" + nfd)) }
        let result = try PredictionBenchmark.run(embeddings: table(vectors, ids: ids), labelPairs: pairs, folds: 5, seed: 1)
        #expect(result.nodesEvaluated == 600 && result.nodesMissing == 0)
        #expect(result.labels.count == 6, "\(result.labels)")
        #expect(result.labels.filter { $0.hasPrefix("label-") }.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
                == [Array(("label-" + nfd).utf8), Array(("label-" + nfc).utf8)])
    }

    @Test func labelsWithFewerPositivesThanFoldsAreLeftOutAndNamed() throws {
        let (vectors, labels) = separableData(n: 600, seed: 5)
        var extended = labels
        // 3 singleton labels, and a label with 2 positives: fewer than 5 folds can hold.
        extended["u0"]!.append("solo-a"); extended["u1"]!.append("solo-b"); extended["u2"]!.append("solo-c")
        extended["u3"]!.append("pair"); extended["u4"]!.append("pair")
        extended["u5"] = ["solo-d"] // its only label is left out: the node is too
        let result = try PredictionBenchmark.run(embeddings: table(vectors), labels: extended, folds: 5, seed: 1)
        #expect(result.labelsLeftOut == ["solo-a": 1, "solo-b": 1, "solo-c": 1, "solo-d": 1, "pair": 2])
        #expect(result.labels == ["music", "other", "rare", "sports"])
        #expect(result.nodesLeftOut == 1 && result.nodesEvaluated == 599)
        // The rest is scored as without the rare labels (u5 aside).
        var without = labels
        without["u5"] = nil
        let reference = try PredictionBenchmark.run(embeddings: table(vectors), labels: without, folds: 5, seed: 1)
        #expect(result.macroAUC == reference.macroAUC)
        #expect(reference.labelsLeftOut.isEmpty)
        // With 2 folds the pair label is kept (2 positives), singletons still left out.
        let twoFolds = try PredictionBenchmark.run(embeddings: table(vectors), labels: extended, folds: 2, seed: 1)
        #expect(twoFolds.labelsLeftOut.keys.sorted() == ["solo-a", "solo-b", "solo-c", "solo-d"])
        #expect(twoFolds.labels.contains("pair"))
    }

    @Test func judgeProtocolUsesRawFeatures() throws {
        let (vectors, labels) = separableData(n: 400, seed: 6)
        // The informative columns tiny, the noise columns large.
        var scaled = vectors
        scaled.scaleColumns(by: [1e-4, 1e-4, 1e-4, 1, 10, 10])
        let standard = try PredictionBenchmark.run(embeddings: table(scaled), labels: labels, folds: 5, seed: 1)
        let raw = try PredictionBenchmark.run(embeddings: table(scaled), labels: labels, folds: 5, seed: 1,
                                              evaluationProtocol: .judge)
        // Standardised features ignore the scale; raw tiny features are swamped by the L2 penalty.
        #expect(standard.perLabel["sports"]! > 0.95)
        #expect(raw.perLabel["sports"]! < standard.perLabel["sports"]! - 0.1)
        #expect(raw.evaluationProtocol == .judge)
    }

    @Test func noOverlapOrOneLabelThrows() throws {
        let t = try table(.gaussian(rows: 10, columns: 2, seed: 1))
        #expect(throws: EvaluationError.self) {
            try PredictionBenchmark.run(embeddings: t, labels: ["x1": ["a"], "x2": ["b"]])
        }
        #expect(throws: EvaluationError.self) {
            try PredictionBenchmark.run(embeddings: t, labels: ["u1": ["a"], "u2": ["a"]])
        }
    }
}

@Suite struct JaccardBenchmarkTests {
    /// A random follow graph: `users` users, each following 1-12 of `accounts` accounts, with
    /// popularity skewed towards low account numbers.
    func followGraph(users: Int, accounts: Int, seed: UInt64) throws -> FollowSets {
        var rng = Xoshiro256(seed: seed)
        var offsets: [Int64] = [0], columns = [Int32]()
        for _ in 0..<users {
            let k = 1 + rng.nextInt(below: 12)
            var set = Set<Int32>()
            while set.count < k {
                let u = rng.nextUniform()
                set.insert(Int32(Double(accounts) * u * u))
            }
            columns.append(contentsOf: set.shuffled(using: &rng)) // deliberately unsorted
            offsets.append(Int64(columns.count))
        }
        return try FollowSets(rowOffsets: offsets, columnIndices: columns)
    }

    @Test func embeddingsOfTheFollowSetsCorrelateAndNoiseDoesNot() throws {
        let users = 400, accounts = 60
        let follows = try followGraph(users: users, accounts: accounts, seed: 4)
        // Embedding = the user's row of the adjacency matrix: cosine tracks Jaccard closely.
        var adjacency = Matrix<Float>(rows: users, columns: accounts)
        for u in 0..<users {
            for k in Int(follows.rowOffsets[u])..<Int(follows.rowOffsets[u + 1]) { adjacency[u, Int(follows.columnIndices[k])] = 1 }
        }
        let good = try JaccardBenchmark.run(embeddings: table(adjacency), followed: follows, pairs: 2000, seed: 1)
        #expect(good.spearman > 0.8)
        #expect(good.sharedPairs == 1000 && good.randomPairs == 1000)
        #expect(good.meanJaccardShared > good.meanJaccardRandom)
        #expect(good.eligibleUsers == users)
        let noise = try JaccardBenchmark.run(embeddings: table(.gaussian(rows: users, columns: 8, seed: 3)),
                                             followed: follows, pairs: 2000, seed: 1)
        #expect(abs(noise.spearman) < 0.1)
        #expect(try JaccardBenchmark.run(embeddings: table(adjacency), followed: follows, pairs: 2000, seed: 1) == good)
    }

    @Test func rowIDMappingSkipsUnknownUsers() throws {
        let follows = try FollowSets(rowOffsets: [0, 2, 4, 5, 7], columnIndices: [0, 1, 1, 2, 0, 2, 2])
        let vectors = Matrix<Float>(rows: [[1, 0], [1, 1], [0, 1]])
        // Follow rows are users c, a, zzz, b; the table has a, b, c.
        let result = try JaccardBenchmark.run(embeddings: table(vectors, ids: ["a", "b", "c"]), followed: follows,
                                              rowIDs: ["c", "a", "zzz", "b"], pairs: 10, seed: 5)
        #expect(result.usersMissing == 1)
        #expect(result.eligibleUsers == 3)
        #expect(throws: EvaluationError.self) {
            try JaccardBenchmark.run(embeddings: table(vectors), followed: follows, pairs: 10)
        }
    }

    @Test func sortedJaccardMatchesSets() {
        let columns: [Int32] = [1, 3, 5, 7, 2, 3, 7, 9, 11]
        columns.withUnsafeBufferPointer { c in
            #expect(JaccardBenchmark.sortedJaccard(c, 0..<4, 4..<9) == 2.0 / 7.0)
            #expect(JaccardBenchmark.sortedJaccard(c, 0..<4, 0..<4) == 1)
            #expect(JaccardBenchmark.sortedJaccard(c, 0..<0, 0..<0) == 0)
        }
    }

    @Test func malformedFollowSetsThrow() {
        #expect(throws: EvaluationError.self) { try FollowSets(rowOffsets: [1, 2], columnIndices: [0]) }
        #expect(throws: EvaluationError.self) { try FollowSets(rowOffsets: [0, 2, 1], columnIndices: [0]) }
        #expect(throws: EvaluationError.self) { try FollowSets(rowOffsets: [0, 1], columnIndices: [-3]) }
        #expect(throws: EvaluationError.self) { try FollowSets(rowOffsets: [0, 1], columnIndices: [0, 1]) }
    }
}
