import LinearAlgebra

/// An evaluation input that cannot be scored, with the reason in words.
public struct EvaluationError: Error, CustomStringConvertible, Sendable {
    /// What is wrong.
    public let problem: String

    /// Creates an error saying `problem`.
    public init(_ problem: String) { self.problem = problem }

    /// The problem.
    public var description: String { problem }
}

/// Ranks and rank correlation.
public enum Ranking {
    /// The 1-based ranks of `values`, ties getting the average of the ranks they span
    /// (`scipy.stats.rankdata(method="average")`).
    /// Cost: O(n log n).
    /// - Throws: ``EvaluationError`` if a value is NaN.
    public static func averageRanks(_ values: [Double]) throws -> [Double] {
        if values.contains(where: { $0.isNaN }) { throw EvaluationError("averageRanks: input contains NaN") }
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count && values[order[end]] == values[order[start]] { end += 1 }
            // positions start..<end hold ranks start+1 ... end; their mean is (start + 1 + end) / 2
            let rank = Double(start + 1 + end) / 2
            for p in start..<end { ranks[order[p]] = rank }
            start = end
        }
        return ranks
    }

    /// The Pearson correlation of `x` and `y`, computed in two passes (means, then centred sums).
    /// - Throws: ``EvaluationError`` if the lengths differ, there are fewer than 2 points, or
    ///   either input is constant (the correlation is undefined).
    public static func pearson(_ x: [Double], _ y: [Double]) throws -> Double {
        guard x.count == y.count else { throw EvaluationError("pearson: \(x.count) and \(y.count) values") }
        guard x.count >= 2 else { throw EvaluationError("pearson: needs at least 2 points, got \(x.count)") }
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in x.indices {
            let dx = x[i] - mx, dy = y[i] - my
            sxy += dx * dy; sxx += dx * dx; syy += dy * dy
        }
        guard sxx > 0, syy > 0 else { throw EvaluationError("pearson: an input is constant; the correlation is undefined") }
        return max(-1, min(1, sxy / (sxx * syy).squareRoot()))
    }

    /// Spearman's rank correlation: the Pearson correlation of the average ranks
    /// (`scipy.stats.spearmanr`). Cost: O(n log n).
    /// - Throws: ``EvaluationError`` on NaN, length mismatch, fewer than 2 points, or a constant input.
    public static func spearman(_ x: [Double], _ y: [Double]) throws -> Double {
        guard x.count == y.count else { throw EvaluationError("spearman: \(x.count) and \(y.count) values") }
        return try pearson(averageRanks(x), averageRanks(y))
    }
}

/// Area under the ROC curve.
public enum ROCAUC {
    /// The exact ROC-AUC of `scores` against the binary `labels`: the Mann-Whitney statistic
    /// `(R+ - n+(n+ + 1)/2) / (n+ n-)` with `R+` the sum of the positives' average ranks, so a tie
    /// between a positive and a negative counts one half (as `sklearn.metrics.roc_auc_score`).
    /// Cost: O(n log n).
    /// - Throws: ``EvaluationError`` if the lengths differ, a score is NaN, or one class is absent.
    public static func score(_ scores: [Double], labels: [Bool]) throws -> Double {
        guard scores.count == labels.count else {
            throw EvaluationError("ROC-AUC: \(scores.count) scores for \(labels.count) labels")
        }
        let positives = labels.reduce(0) { $0 + ($1 ? 1 : 0) }
        let negatives = labels.count - positives
        guard positives > 0, negatives > 0 else {
            throw EvaluationError("ROC-AUC: undefined with \(positives) positives and \(negatives) negatives")
        }
        let ranks = try Ranking.averageRanks(scores)
        var rankSum = 0.0
        for i in ranks.indices where labels[i] { rankSum += ranks[i] }
        let p = Double(positives), q = Double(negatives)
        return (rankSum - p * (p + 1) / 2) / (p * q)
    }

    /// Macro and micro ROC-AUC of a multi-label (or one-vs-rest multi-class) score matrix.
    ///
    /// - Parameters:
    ///   - scores: `n x L`, column `l` scoring label `l` for the `n` samples.
    ///   - truth: `truth[l][i]`: whether sample `i` has label `l`; `L` arrays of `n`.
    /// - Returns: `macro`, the mean AUC over labels with both classes present; `micro`, the AUC
    ///   of all `n * L` (score, truth) pairs pooled; `perLabel[l]`, or `nil` when label `l` has a
    ///   single class.
    /// - Throws: ``EvaluationError`` on shape mismatch, NaN scores, or when no label has both classes.
    /// - Complexity: O(nL log(nL)).
    public static func multiLabel(scores: Matrix<Double>, truth: [[Bool]]) throws
        -> (macro: Double, micro: Double, perLabel: [Double?]) {
        guard truth.count == scores.columns, truth.allSatisfy({ $0.count == scores.rows }) else {
            throw EvaluationError("ROC-AUC: scores are \(scores.rows) x \(scores.columns) but truth has \(truth.count) labels of \(truth.map(\.count).max() ?? 0) samples")
        }
        var perLabel = [Double?]()
        for l in 0..<scores.columns {
            let positives = truth[l].reduce(0) { $0 + ($1 ? 1 : 0) }
            if positives == 0 || positives == scores.rows {
                perLabel.append(nil)
            } else {
                perLabel.append(try score(scores.column(l), labels: truth[l]))
            }
        }
        let defined = perLabel.compactMap { $0 }
        guard !defined.isEmpty else { throw EvaluationError("ROC-AUC: no label has both classes present") }
        let micro = try score(scores.elements, labels: truth.flatMap { $0 })
        return (defined.reduce(0, +) / Double(defined.count), micro, perLabel)
    }
}

extension Xoshiro256 {
    /// A uniform integer in `0..<bound` (multiply-high; bias below 2^-40 for bounds under 2^24).
    @inlinable mutating func nextInt(below bound: Int) -> Int {
        Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// Shuffles `array` in place (Fisher-Yates), reproducibly for a given generator state.
    mutating func shuffle<T>(_ array: inout [T]) {
        if array.count < 2 { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, nextInt(below: i + 1))
        }
    }
}

/// Summary statistics of measurements.
public enum Summary {
    /// The median of `values` (the mean of the two middle values for an even count); 0 when empty.
    /// Cost: O(n log n).
    public static func median(_ values: [Double]) -> Double {
        if values.isEmpty { return 0 }
        let sorted = values.sorted()
        return (sorted[(sorted.count - 1) / 2] + sorted[sorted.count / 2]) / 2
    }
}
