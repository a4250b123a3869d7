import LinearAlgebra

/// Classification metrics on score matrices (`classes x samples`, or `1 x samples` for a
/// binary task scored by one sigmoid output).
public enum ClassificationMetrics {
    /// The fraction of samples whose predicted class equals the label: the arg-max row, or for
    /// one row, `score > 0.5` meaning class 1. Scores must be probabilities for the one-row case.
    /// - Precondition: `labels.count == scores.columns`.
    public static func accuracy<Scalar: BLASScalar>(scores: Matrix<Scalar>, labels: [Int]) -> Double {
        precondition(labels.count == scores.columns, "accuracy: \(labels.count) labels for \(scores.columns) samples")
        guard !labels.isEmpty else { return 0 }
        var correct = 0
        for s in 0..<scores.columns where predictedClass(scores, s) == labels[s] { correct += 1 }
        return Double(correct) / Double(labels.count)
    }

    /// The predicted class of sample `s`.
    static func predictedClass<Scalar: BLASScalar>(_ scores: Matrix<Scalar>, _ s: Int) -> Int {
        let k = scores.rows
        if k == 1 { return scores.elements[s] > 0.5 ? 1 : 0 }
        var best = 0
        for i in 1..<k where scores.elements[i + s * k] > scores.elements[best + s * k] { best = i }
        return best
    }

    /// Macro-averaged one-vs-rest ROC-AUC: the mean over classes (that have both positive and
    /// negative samples) of the AUC of that class's score. With one score row (binary task) it
    /// is the AUC of that row for class 1. Returns `nan` when no class qualifies.
    /// - Complexity: O(classes * n log n).
    public static func macroAUC<Scalar: BLASScalar>(scores: Matrix<Scalar>, labels: [Int]) -> Double {
        precondition(labels.count == scores.columns, "macroAUC: \(labels.count) labels for \(scores.columns) samples")
        let k = scores.rows, n = scores.columns
        if k == 1 {
            return rocAUC(scores: scores.elements.map { Double($0) }, positive: labels.map { $0 == 1 }) ?? .nan
        }
        var sum = 0.0, counted = 0
        for c in 0..<k {
            let column = (0..<n).map { Double(scores.elements[c + $0 * k]) }
            if let auc = rocAUC(scores: column, positive: labels.map { $0 == c }) { sum += auc; counted += 1 }
        }
        return counted == 0 ? .nan : sum / Double(counted)
    }

    /// The area under the ROC curve: the probability that a random positive scores above a
    /// random negative, ties counting one half (Mann-Whitney U with mid-ranks).
    /// Returns `nil` when there are no positives or no negatives. Cost: O(n log n).
    public static func rocAUC(scores: [Double], positive: [Bool]) -> Double? {
        precondition(scores.count == positive.count, "rocAUC: \(scores.count) scores, \(positive.count) labels")
        let positives = positive.reduce(0) { $0 + ($1 ? 1 : 0) }
        let negatives = positive.count - positives
        guard positives > 0 && negatives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let midRank = Double(i + j) / 2 + 1
            for t in i...j where positive[order[t]] { rankSum += midRank }
            i = j + 1
        }
        let u = rankSum - Double(positives) * Double(positives + 1) / 2
        return u / (Double(positives) * Double(negatives))
    }
}
