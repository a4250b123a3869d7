import EmbeddingStore
import GraphData
import LinearAlgebra

/// The outcome of ``PredictionBenchmark/run(embeddings:labels:folds:seed:C:tolerance:maxIterations:evaluationProtocol:)``.
public struct PredictionResult: Sendable, Codable, Equatable {
    /// Mean over folds of the fold's macro ROC-AUC (mean over labels with both classes in the fold's test set).
    public let macroAUC: Double
    /// Mean over folds of the fold's micro ROC-AUC (all test (sample, label) pairs pooled).
    public let microAUC: Double
    /// Macro ROC-AUC of each fold.
    public let foldMacroAUC: [Double]
    /// Micro ROC-AUC of each fold.
    public let foldMicroAUC: [Double]
    /// Number of folds.
    public let folds: Int
    /// The label names, sorted.
    public let labels: [String]
    /// Mean test ROC-AUC of each label over the folds where it had both classes (absent if none).
    public let perLabel: [String: Double]
    /// Whether every node had exactly one label (stratified by class) rather than several
    /// (iterative stratification).
    public let singleLabel: Bool
    /// Labelled nodes found in the table and evaluated.
    public let nodesEvaluated: Int
    /// Labelled nodes missing from the table (skipped).
    public let nodesMissing: Int
    /// Up to 5 of the missing node ids, for the report.
    public let missingExamples: [String]
    /// Largest L-BFGS iteration count of any per-label fit, and whether all fits converged.
    public let maxIterations: Int
    /// Whether every non-constant per-label fit met its gradient tolerance.
    public let allConverged: Bool
    /// The regularisation parameter used.
    public let C: Double
    /// The seed of the fold shuffles.
    public let seed: UInt64
    /// Labels left out because they had fewer positives than ``PredictionProtocol/minimumPositives``
    /// (by default the number of folds), with their positive counts; sorted by name.
    public let labelsLeftOut: [String: Int]
    /// Labelled nodes left out because all their labels were left out.
    public let nodesLeftOut: Int
    /// The protocol used.
    public let evaluationProtocol: PredictionProtocol
}

/// How ``PredictionBenchmark`` prepares features and folds. The default is the toolkit's own
/// protocol; ``judge`` is the one of `../shared/judge/peer_eval.py` (raw vectors, folds stratified
/// on each node's first label), so that both report the same numbers.
public struct PredictionProtocol: Sendable, Codable, Equatable {
    /// Standardise every feature on the fold's training rows (mean 0, unit variance) before fitting.
    public var standardize: Bool = true
    /// `true`: stratify multi-label data on each node's first label (by label name order), as
    /// scikit-learn's `StratifiedKFold` on the first label; `false`: iterative stratification.
    public var stratifyOnFirstLabel: Bool = false
    /// Labels with fewer positives are left out (named in the result); `nil`: the number of folds,
    /// so that every fold can hold a positive.
    public var minimumPositives: Int? = nil
    /// `true`: the folds are scikit-learn's `StratifiedKFold(shuffle=True, random_state=seed)`
    /// (``StratifiedKFold/scikitLearnSplit(classes:)``) on each node's first label, with the
    /// samples in table-row order and labels numbered by first appearance in the labels (a node's
    /// first label is its earliest-appearing one), as the judge orders them: the judge's exact
    /// folds when the table's rows are in the edge list's first-appearance order (as
    /// follow-graph-svd writes them) and every labelled node is in the table. Implies
    /// stratification on the first label. `false`: the toolkit's own fold assignment.
    public var scikitLearnFolds: Bool = false

    public init(standardize: Bool = true, stratifyOnFirstLabel: Bool = false, minimumPositives: Int? = nil,
                scikitLearnFolds: Bool = false) {
        self.standardize = standardize; self.stratifyOnFirstLabel = stratifyOnFirstLabel
        self.minimumPositives = minimumPositives; self.scikitLearnFolds = scikitLearnFolds
    }

    enum CodingKeys: String, CodingKey { case standardize, stratifyOnFirstLabel, minimumPositives, scikitLearnFolds }

    /// Decodes a protocol; `scikitLearnFolds` may be absent (reports written before it existed).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        standardize = try c.decode(Bool.self, forKey: .standardize)
        stratifyOnFirstLabel = try c.decode(Bool.self, forKey: .stratifyOnFirstLabel)
        minimumPositives = try c.decodeIfPresent(Int.self, forKey: .minimumPositives)
        scikitLearnFolds = try c.decodeIfPresent(Bool.self, forKey: .scikitLearnFolds) ?? false
    }

    /// The toolkit's protocol: standardised features, iterative stratification.
    public static let standard = PredictionProtocol()
    /// The judge's protocol: raw features, scikit-learn's folds stratified on the first label,
    /// samples and labels in the judge's order.
    public static let judge = PredictionProtocol(standardize: false, stratifyOnFirstLabel: true, scikitLearnFolds: true)
}

/// Node-label prediction from embeddings: one-vs-rest L2 logistic regression under stratified
/// k-fold cross-validation, scored by macro and micro ROC-AUC (the "topic prediction" and
/// "metadata prediction" tasks).
///
/// Per fold, features are standardised with the training rows' mean and standard deviation
/// (a constant feature is only centred), one ``LogisticRegression`` is fitted per label, and the
/// test rows' decision values are scored with ``ROCAUC/multiLabel(scores:truth:)``. A label absent
/// (or universal) in a fold's training rows gets a constant prior model for that fold.
public enum PredictionBenchmark {
    /// Runs the benchmark with labels given as `node id -> label names`.
    ///
    /// - Parameters:
    ///   - embeddings: the table; nodes are matched to rows by id.
    ///   - labels: each labelled node's labels (a node with an empty list is ignored).
    ///   - folds: number of cross-validation folds, `>= 2`.
    ///   - seed: seed of the fold shuffles.
    ///   - C: inverse regularisation strength.
    ///   - tolerance: L-BFGS stopping rule: relative gradient norm (see ``LogisticRegression``).
    ///   - maxIterations: L-BFGS iteration budget per fit.
    ///   - evaluationProtocol: feature standardisation, stratification and the minimum positives
    ///     of a label (labels with fewer are left out and named in ``PredictionResult/labelsLeftOut``).
    /// - Returns: the scores and what was evaluated (missing nodes are counted, not fatal).
    /// - Throws: ``EvaluationError`` if no labelled node is in the table, fewer than two labels
    ///   have enough positives, there are fewer nodes than folds, or a fold's test set has no label
    ///   with both classes.
    /// - Complexity: `folds * L` logistic-regression fits on about `n (folds-1)/folds x d` data.
    public static func run(embeddings: EmbeddingTable, labels: [String: [String]], folds: Int = 5,
                           seed: UInt64 = 0, C: Double = 1, tolerance: Double = 1e-6,
                           maxIterations: Int = 1000,
                           evaluationProtocol: PredictionProtocol = .standard) throws -> PredictionResult {
        // A dictionary has no order: under scikit-learn's folds the labels are numbered by name.
        let names = Set(labels.values.joined()).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return try run(embeddings: embeddings, labelPairs: labels.flatMap { node, names in names.map { (node: node, label: $0) } },
                       labelRank: Dictionary(uniqueKeysWithValues: names.enumerated().map { (Array($1.utf8), $0) }),
                       folds: folds, seed: seed, C: C, tolerance: tolerance, maxIterations: maxIterations,
                       evaluationProtocol: evaluationProtocol)
    }

    /// Runs the benchmark with labels given as `(node, label)` pairs, e.g. the lines of a
    /// `labels.tsv`; a node may appear on several lines. See
    /// ``run(embeddings:labels:folds:seed:C:tolerance:maxIterations:evaluationProtocol:)``.
    ///
    /// Node ids and label names are bytes: they are matched by their UTF-8 bytes, as the table's
    /// ids are, so `Zürich` in NFC and in NFD are two nodes (or two labels), never merged by
    /// Swift's canonical-equivalence `String` comparison. Under
    /// ``PredictionProtocol/scikitLearnFolds`` labels are numbered by first appearance in `labelPairs`.
    /// - Throws: as the dictionary form.
    public static func run(embeddings: EmbeddingTable, labelPairs: [(node: String, label: String)], folds: Int = 5,
                           seed: UInt64 = 0, C: Double = 1, tolerance: Double = 1e-6,
                           maxIterations: Int = 1000,
                           evaluationProtocol: PredictionProtocol = .standard) throws -> PredictionResult {
        try run(embeddings: embeddings, labelPairs: labelPairs, labelRank: nil, folds: folds, seed: seed, C: C,
                tolerance: tolerance, maxIterations: maxIterations, evaluationProtocol: evaluationProtocol)
    }

    /// The benchmark; `labelRank` numbers the labels (by their UTF-8 bytes) for scikit-learn's
    /// folds, `nil`: by first appearance in `labelPairs`.
    static func run(embeddings: EmbeddingTable, labelPairs: [(node: String, label: String)], labelRank: [[UInt8]: Int]?,
                    folds: Int, seed: UInt64, C: Double, tolerance: Double, maxIterations: Int,
                    evaluationProtocol: PredictionProtocol) throws -> PredictionResult {
        typealias Key = [UInt8]
        var rank = labelRank ?? [:]
        var nodeText = [Key: String](), labelText = [Key: String](), given = [Key: [Key]]()
        for pair in labelPairs {
            let node = Array(pair.node.utf8), label = Array(pair.label.utf8)
            nodeText[node] = pair.node; labelText[label] = pair.label
            if labelRank == nil, rank[label] == nil { rank[label] = rank.count }
            given[node, default: []].append(label)
        }
        // Positives per label among the nodes in the table; labels with too few are left out.
        var positives = [Key: Int]()
        for (node, names) in given where embeddings.row(of: nodeText[node]!) != nil {
            for name in Set(names) { positives[name, default: 0] += 1 }
        }
        let minimum = evaluationProtocol.minimumPositives ?? folds
        let leftOutKeys = positives.filter { $0.value < minimum }
        let leftOut = Dictionary(leftOutKeys.map { (labelText[$0.key]!, $0.value) }, uniquingKeysWith: +)
        var labelled = [Key: [Key]]()
        var nodesLeftOut = 0
        for (node, names) in given {
            let kept = names.filter { leftOutKeys[$0] == nil }
            if kept.isEmpty { nodesLeftOut += 1 } else { labelled[node] = kept }
        }
        let labelKeys = Set(labelled.values.joined()).sorted { $0.lexicographicallyPrecedes($1) }
        let labelNames = labelKeys.map { labelText[$0]! }
        guard labelNames.count >= 2 else {
            let note = leftOut.isEmpty ? "" : " (\(leftOut.count) labels with fewer than \(minimum) positives were left out)"
            throw EvaluationError("PredictionBenchmark: needs at least 2 distinct labels, got \(labelNames)\(note)")
        }
        let labelIndex = Dictionary(uniqueKeysWithValues: labelKeys.enumerated().map { ($1, $0) })
        var present = [(node: Key, row: Int)]()
        var missing = [String]()
        for node in labelled.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            if let row = embeddings.row(of: nodeText[node]!) { present.append((node, row)) } else { missing.append(nodeText[node]!) }
        }
        // scikit-learn's folds depend on the sample order: the judge's is the table's row order.
        if evaluationProtocol.scikitLearnFolds { present.sort { $0.row < $1.row } }
        guard !present.isEmpty else {
            throw EvaluationError("PredictionBenchmark: none of the \(labelled.count) labelled nodes is in the embedding table (e.g. \(missing.prefix(3).joined(separator: ", ")))")
        }
        let n = present.count, d = embeddings.dimension, labelCount = labelNames.count
        var features = Matrix<Double>(rows: n, columns: d)
        embeddings.vectors.elements.withUnsafeBufferPointer { v in
            let rows = embeddings.count
            for j in 0..<d {
                for (i, item) in present.enumerated() { features.elements[i + j * n] = Double(v[item.row + j * rows]) }
            }
        }
        let sets: [[Int]] = present.map { Array(Set(labelled[$0.node]!.map { labelIndex[$0]! })).sorted() }
        var truth = [[Bool]](repeating: [Bool](repeating: false, count: n), count: labelCount)
        for (i, s) in sets.enumerated() { for l in s { truth[l][i] = true } }
        let singleLabel = sets.allSatisfy { $0.count == 1 }
        let splitter = StratifiedKFold(folds: folds, seed: seed)
        let splits: [Fold]
        if evaluationProtocol.scikitLearnFolds {
            // Each node's first label: its earliest-appearing (lowest-ranked) one.
            guard labelKeys.allSatisfy({ rank[$0] != nil }) else {
                throw EvaluationError("PredictionBenchmark: the label numbering for scikit-learn's folds lacks some labels")
            }
            splits = try splitter.scikitLearnSplit(classes: sets.map { s in s.map { rank[labelKeys[$0]]! }.min()! })
        } else if singleLabel || evaluationProtocol.stratifyOnFirstLabel {
            splits = try splitter.split(classes: sets.map { $0[0] })
        } else {
            splits = try splitter.split(labelSets: sets)
        }
        let model = LogisticRegression(C: C, tolerance: tolerance, maxIterations: maxIterations)

        var foldMacro = [Double](), foldMicro = [Double]()
        var labelSums = [Double](repeating: 0, count: labelCount), labelCounts = [Int](repeating: 0, count: labelCount)
        var worstIterations = 0
        var allConverged = true
        for (f, split) in splits.enumerated() {
            var train = gatherRows(features, split.train)
            var test = gatherRows(features, split.test)
            if evaluationProtocol.standardize { standardize(train: &train, test: &test) }
            let fitted = try model.fitOneVsRest(x: train, targets: truth.map { t in split.train.map { t[$0] } })
            for m in fitted.models where !m.constant {
                worstIterations = max(worstIterations, m.diagnostics.iterations)
                allConverged = allConverged && m.diagnostics.allConverged
            }
            let scores = fitted.decisionFunction(test)
            let testTruth = truth.map { t in split.test.map { t[$0] } }
            let auc: (macro: Double, micro: Double, perLabel: [Double?])
            do { auc = try ROCAUC.multiLabel(scores: scores, truth: testTruth) } catch let error as EvaluationError {
                throw EvaluationError("PredictionBenchmark fold \(f): \(error.problem)")
            }
            foldMacro.append(auc.macro)
            foldMicro.append(auc.micro)
            for (l, value) in auc.perLabel.enumerated() {
                if let value { labelSums[l] += value; labelCounts[l] += 1 }
            }
        }
        var perLabel = [String: Double]()
        for l in 0..<labelCount where labelCounts[l] > 0 { perLabel[labelNames[l]] = perLabel[labelNames[l]] ?? labelSums[l] / Double(labelCounts[l]) }
        return PredictionResult(
            macroAUC: foldMacro.reduce(0, +) / Double(foldMacro.count),
            microAUC: foldMicro.reduce(0, +) / Double(foldMicro.count),
            foldMacroAUC: foldMacro, foldMicroAUC: foldMicro, folds: folds, labels: labelNames,
            perLabel: perLabel, singleLabel: singleLabel, nodesEvaluated: n, nodesMissing: missing.count,
            missingExamples: Array(missing.prefix(5)), maxIterations: worstIterations,
            allConverged: allConverged, C: C, seed: seed, labelsLeftOut: leftOut,
            nodesLeftOut: nodesLeftOut, evaluationProtocol: evaluationProtocol)
    }

    /// The rows `rows` of `x` as a new matrix.
    static func gatherRows(_ x: Matrix<Double>, _ rows: [Int]) -> Matrix<Double> {
        var out = Matrix<Double>(rows: rows.count, columns: x.columns)
        let m = x.rows, k = rows.count
        x.elements.withUnsafeBufferPointer { src in
            out.elements.withUnsafeMutableBufferPointer { dst in
                for j in 0..<x.columns {
                    for (i, r) in rows.enumerated() { dst[i + j * k] = src[r + j * m] }
                }
            }
        }
        return out
    }

    /// Standardises both matrices' columns with `train`'s mean and (population) standard deviation.
    static func standardize(train: inout Matrix<Double>, test: inout Matrix<Double>) {
        let n = train.rows, t = test.rows
        guard n > 0 else { return }
        for j in 0..<train.columns {
            var mean = 0.0
            for i in 0..<n { mean += train.elements[i + j * n] }
            mean /= Double(n)
            var variance = 0.0
            for i in 0..<n { let v = train.elements[i + j * n] - mean; variance += v * v }
            let sd = (variance / Double(n)).squareRoot()
            let scale = sd > 0 ? 1 / sd : 1
            for i in 0..<n { train.elements[i + j * n] = (train.elements[i + j * n] - mean) * scale }
            for i in 0..<t { test.elements[i + j * t] = (test.elements[i + j * t] - mean) * scale }
        }
    }
}

extension PredictionBenchmark {
    /// Runs the benchmark on a `LabelTable` as read from a `labels.tsv`: its node ids and label
    /// names stay bytes end to end (see ``run(embeddings:labelPairs:folds:seed:C:tolerance:maxIterations:evaluationProtocol:)``).
    /// - Throws: as the dictionary form.
    public static func run(embeddings: EmbeddingTable, labelTable: LabelTable, folds: Int = 5,
                           seed: UInt64 = 0, C: Double = 1, tolerance: Double = 1e-6,
                           maxIterations: Int = 1000,
                           evaluationProtocol: PredictionProtocol = .standard) throws -> PredictionResult {
        var pairs = [(node: String, label: String)]()
        pairs.reserveCapacity(labelTable.labelIndices.count)
        for node in 0..<labelTable.nodeCount {
            let id = labelTable.nodeIDs[node]
            for label in labelTable.labels(of: node) { pairs.append((id, labelTable.labelNames[Int(label)])) }
        }
        // Labels numbered as the table numbers them: by first appearance in the file.
        var rank = [[UInt8]: Int]()
        for j in 0..<labelTable.labelCount {
            let key = Array(labelTable.labelNames[j].utf8)
            if rank[key] == nil { rank[key] = j }
        }
        return try run(embeddings: embeddings, labelPairs: pairs, labelRank: rank, folds: folds, seed: seed, C: C,
                       tolerance: tolerance, maxIterations: maxIterations, evaluationProtocol: evaluationProtocol)
    }
}
