// The typed JSON reports `embedding-benchmark` writes (`--json`): the benchmark results with the
// run's settings, under snake_case keys that scripts (Benchmarks/quality/run.sh) read.

/// The `--json` report of a label-prediction run.
public struct PredictionReport: Codable, Sendable, Equatable {
    public var macroAUC: Double, microAUC: Double, folds: Int, labels: [String]
    public var foldMacroAUC: [Double], foldMicroAUC: [Double], perLabelAUC: [String: Double]
    public var nodesEvaluated: Int, nodesMissing: Int, seed: UInt64, C: Double
    /// Labels with fewer positives than the folds (left out, with their counts), and the nodes
    /// left without any label by that.
    public var labelsLeftOut: [String: Int], nodesLeftOut: Int
    /// The protocol: standardised features or not, stratification.
    public var evaluationProtocol: PredictionProtocol

    enum CodingKeys: String, CodingKey {
        case macroAUC = "macro_auc", microAUC = "micro_auc", folds, labels, foldMacroAUC = "fold_macro_auc"
        case foldMicroAUC = "fold_micro_auc", perLabelAUC = "per_label_auc", nodesEvaluated = "nodes_evaluated"
        case nodesMissing = "nodes_missing", seed, C, labelsLeftOut = "labels_left_out", nodesLeftOut = "nodes_left_out"
        case evaluationProtocol = "protocol"
    }

    /// The report of `result`, made with `C`.
    public init(_ result: PredictionResult, C: Double) {
        macroAUC = result.macroAUC; microAUC = result.microAUC; folds = result.folds; labels = result.labels
        foldMacroAUC = result.foldMacroAUC; foldMicroAUC = result.foldMicroAUC; perLabelAUC = result.perLabel
        nodesEvaluated = result.nodesEvaluated; nodesMissing = result.nodesMissing; seed = result.seed; self.C = C
        labelsLeftOut = result.labelsLeftOut; nodesLeftOut = result.nodesLeftOut; evaluationProtocol = result.evaluationProtocol
    }

    /// The scores stored in the table's `meta.json`.
    public var scores: [String: Double] { ["prediction_macro_auc": macroAUC, "prediction_micro_auc": microAUC] }
}

/// The `--json` report of a follow-Jaccard run.
public struct JaccardReport: Codable, Sendable, Equatable {
    public var spearman: Double, pairs: Int, sharedPairs: Int, randomPairs: Int, seed: UInt64
    public var meanJaccardShared: Double, meanJaccardRandom: Double, usersMissing: Int
    /// How the pairs were drawn.
    public var sampling: JaccardSampling

    enum CodingKeys: String, CodingKey {
        case spearman, pairs, sharedPairs = "shared_pairs", randomPairs = "random_pairs", seed
        case meanJaccardShared = "mean_jaccard_shared", meanJaccardRandom = "mean_jaccard_random", usersMissing = "users_missing"
        case sampling
    }

    /// The report of `result`, sampled with `seed`.
    public init(_ result: JaccardResult, seed: UInt64) {
        spearman = result.spearman; pairs = result.pairs; sharedPairs = result.sharedPairs; randomPairs = result.randomPairs
        self.seed = seed; meanJaccardShared = result.meanJaccardShared; meanJaccardRandom = result.meanJaccardRandom
        usersMissing = result.usersMissing; sampling = result.sampling
    }

    /// The scores stored in the table's `meta.json`.
    public var scores: [String: Double] { ["jaccard_spearman": spearman] }
}
