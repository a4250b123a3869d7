import ArgumentParser
import Evaluation
import Foundation

/// `--protocol`: which evaluation protocol the benchmarks follow.
enum BenchmarkProtocol: String, ExpressibleByArgument, CaseIterable {
    case standard, judge

    var prediction: PredictionProtocol { self == .judge ? .judge : .standard }
    var sampling: JaccardSampling { self == .judge ? .judge : .accounts }
}

/// The warning for labels the prediction benchmark left out (fewer positives than folds).
func warnLeftOut(_ leftOut: [String: Int], folds: Int) {
    guard !leftOut.isEmpty else { return }
    let names = leftOut.keys.sorted()
    let shown = names.prefix(10).map { "\($0) (\(leftOut[$0]!))" }.joined(separator: ", ")
    let more = names.count > 10 ? " and \(names.count - 10) more" : ""
    FileHandle.standardError.write(Data("embedding-benchmark: warning: \(names.count) labels have fewer positives than the \(folds) folds and were left out: \(shown)\(more)\n".utf8))
}

extension BenchmarkProtocol {
    static let help: ArgumentHelp = """
        standard (per-fold standardised features, iterative stratification; jaccard: pairs among users \
        who follow someone) or judge (../shared/judge/peer_eval.py's: raw features, scikit-learn's \
        StratifiedKFold(shuffle=True, random_state=--seed) folds on each node's first label, drawn with \
        numpy's RandomState, samples in table-row order; jaccard: its edge-weighted pair sampling over \
        every node, self-loops kept).
        """
}
