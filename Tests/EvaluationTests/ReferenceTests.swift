import LinearAlgebra
import Testing
@testable import Evaluation

/// Inputs and results printed by `Benchmarks/reference/evaluation_reference.py`
/// (scikit-learn / scipy); regenerate by running that script and pasting its output.
enum Reference {
    // numpy 2.4.6, scipy 1.17.1, scikit-learn 1.9.1
    static let binaryScores: [Double] = [1.75, 0.5, 0.75, 0.5, 0.25, 0.0, 0.25, 0.25, 0.0, 0.5, 0.25, 0.5, 1.5, 0.75, 0.25, 0.5, 1.75, 1.0, 1.25, 0.25, 0.0, 0.0, 1.5, 0.25, 1.25, 0.0, 1.75, 1.75, 1.75, 0.75, 0.0, 1.5, 0.75, 0.0, 0.0, 1.5, 1.75, 1.25, 0.75, 0.25]
    static let binaryLabels: [Bool] = [true, false, false, false, true, false, false, true, false, false, true, true, false, true, true, false, false, false, true, false, true, true, false, false, true, false, true, false, false, true, false, false, false, false, false, false, true, false, false, false]
    static let binaryAUC = 0.5260989010989011
    static let multiScoresRowMajor: [Double] = [-0.2, 0.6, -0.2, -0.3, 2.8, -0.2, -2.1, 1.6, 1.7, 1.4, 1.2, -0.5, -0.8, 0.8, 0.7, -0.0, 0.4, 1.5, -1.5, 1.7, 0.4, 1.1, -0.8, 1.2, 1.5, -0.5, 1.6, -1.5, -2.6, 0.2, 0.6, -0.5, -0.8, -0.1, 0.2, 1.2, 1.5, -0.5, -0.9, 1.1, 1.3, 1.5, 1.6, -0.1, 0.8, -0.4, -0.3, 0.5, -2.1, -1.7, -0.1, 1.0, 2.4, -0.6, 0.5, 0.5, -0.9, 0.1, -0.1, 0.8, -1.2, -2.9, 1.0, 1.1, -0.7, 0.6, 1.4, 0.9, 1.5, 0.6, -1.0, 0.1, 0.4, -0.5, -0.9, 0.7, -1.7, 0.4, -1.1, 0.9, -1.2, -0.4, 0.5, -1.0, -1.3, 2.3, -2.4, -0.7, 1.4, 1.6, 1.6, 0.9, -1.2, 0.4, 1.2, 0.6, 0.3, -0.1, 0.7, -1.1, 1.0, 0.1, 0.3, -1.0, 0.4, 1.5, -0.1, -1.2, -1.0, -0.4, -0.4, 0.9, -0.1, 0.7, 1.6, 0.9, -1.2, -0.2, 2.0, 0.3]
    static let multiTruthRowMajor: [Bool] = [false, false, false, true, false, true, false, true, true, true, true, true, true, false, false, false, false, true, false, true, true, false, false, true, false, true, true, false, false, true, false, true, false, true, true, false, false, false, false, true, false, false, true, true, false, false, false, true, false, false, false, true, false, true, true, true, false, false, false, true, false, false, false, true, false, false, true, true, true, true, true, true, false, false, false, true, false, false, false, true, false, true, false, false, false, true, true, false, false, true, false, true, false, true, true, false, false, true, true, true, false, true, false, false, false, true, true, true, false, false, false, false, false, true, true, true, true, false, true, false]
    static let macroAUC = 0.669669740866432
    static let microAUC = 0.6721678321678322
    static let spearmanX: [Double] = [-1.3, 2.0, -1.2, 0.2, 0.4, -0.8, -0.3, 1.7, 0.1, 1.8, -0.3, -0.8, 1.2, -1.4, 0.2, 0.9, -1.0, 0.7, -2.5, -0.7, 0.0, -1.9, 0.1, 0.3, -0.3]
    static let spearmanY: [Double] = [-2.0, 1.0, 0.0, 1.0, -0.0, -1.0, 1.0, 1.0, 0.0, 2.0, -0.0, -1.0, 3.0, 0.0, 2.0, 2.0, -1.0, 1.0, -4.0, 0.0, -1.0, -2.0, -0.0, 2.0, -0.0]
    static let spearman = 0.8180986560274114
    static let lrXRowMajor: [Double] = [0.494, -1.362, -0.49, -0.103, 2.37, 0.198, 1.522, -0.752, -0.159, 1.787, -1.811, -0.356, 0.328, 0.587, -0.633, 0.387, -4.214, -0.565, -0.549, -3.343, 0.149, -0.779, 1.084, -0.36, -1.814, -0.603, 0.081, 1.29, 3.595, -0.548, -0.558, -0.839, -0.794, -1.508, 1.538, -0.017, 2.208, 1.158, -0.275, -1.263, 1.089, -0.567, -0.897, -1.23, 0.267, -1.007, 0.894, 0.332, -0.559, -2.756, -0.379, 1.587, 1.236, 1.022, 0.569, 0.293, -0.316, 0.142, 1.418, 0.773, 0.114, -0.407, 0.026, -0.315, 1.033, 0.965, -0.351, -0.855, 0.42, 0.183, -0.635, 1.219, 0.894, -3.925, -0.111, 0.677, -1.97, 0.603, 0.072, 0.986, -0.336, 0.611, -2.303, 0.337, 0.044, -0.002, 0.575, -1.108, -3.689, 0.411, -0.331, 0.993, 0.029, 0.395, -4.039, -0.117, -2.319, -0.913, -0.024, 0.342, 1.027, 0.376, 0.937, -0.926, 0.527, 1.118, 2.077, 0.528, -1.323, -0.946, 0.068, -0.444, -1.799, 0.1, -0.806, -1.289, -0.557, 1.115, -1.194, 0.37, -1.08, 0.867, 0.221, -1.323, 0.766, 0.181, 0.926, -3.217, -0.051, 1.548, 3.732, 0.085, 1.317, -1.723, -0.131, 0.143, 0.047, 0.156, 0.358, 2.026, -0.131, 0.65, 0.507, -0.771, 0.49, -1.2, 0.669, -0.852, 2.137, 0.791, 1.531, -1.58, 0.506, -0.86, 1.357, 0.201, 0.418, -1.09, 0.546, 1.72, 0.697, 0.652, -0.03, -2.24, -0.135, 0.682, 1.231, 0.501, 0.451, -1.397, -0.591, 1.52, 0.601, -1.101, 0.916, 2.736, 0.216, -0.41, -1.548, -0.505]
    static let lrY: [Bool] = [true, false, true, true, false, true, true, false, true, false, false, false, true, false, true, false, true, true, true, true, true, true, true, true, true, true, true, false, false, false, false, true, false, true, true, true, false, true, true, true, false, false, true, false, true, true, true, false, true, false, true, false, true, true, true, true, true, true, false, false]
    static let lrCoefC1: [Double] = [1.2287860250436815, -0.6643080264560669, 0.7860427412671295]
    static let lrInterceptC1 = 0.4376861538238485
    static let lrProbabilityC1: [Double] = [0.8269742369016627, 0.24830881899113033, 0.9359847186386324]
    static let lrCoefC005: [Double] = [0.4011603552697655, -0.33653470570453153, 0.10708784732638199]
    static let lrInterceptC005 = 0.44988146318856076
    static let lrProbabilityC005: [Double] = [0.7415311339619719, 0.40906742903528803, 0.7852444481160278]
}

@Suite struct ReferenceTests {
    @Test func binaryROCAUCMatchesScikitLearn() throws {
        let auc = try ROCAUC.score(Reference.binaryScores, labels: Reference.binaryLabels)
        #expect(abs(auc - Reference.binaryAUC) <= 1e-12)
    }

    @Test func macroAndMicroROCAUCMatchScikitLearn() throws {
        let n = 30, labels = 4
        var scores = Matrix<Double>(rows: n, columns: labels)
        var truth = [[Bool]](repeating: [Bool](repeating: false, count: n), count: labels)
        for i in 0..<n {
            for l in 0..<labels {
                scores[i, l] = Reference.multiScoresRowMajor[i * labels + l]
                truth[l][i] = Reference.multiTruthRowMajor[i * labels + l]
            }
        }
        let result = try ROCAUC.multiLabel(scores: scores, truth: truth)
        #expect(abs(result.macro - Reference.macroAUC) <= 1e-12)
        #expect(abs(result.micro - Reference.microAUC) <= 1e-12)
    }

    @Test func spearmanMatchesScipy() throws {
        let rho = try Ranking.spearman(Reference.spearmanX, Reference.spearmanY)
        #expect(abs(rho - Reference.spearman) <= 1e-12)
    }

    @Test(arguments: [1.0, 0.05])
    func logisticRegressionMatchesScikitLearn(C: Double) throws {
        let n = Reference.lrY.count, d = 3
        var x = Matrix<Double>(rows: n, columns: d)
        for i in 0..<n { for j in 0..<d { x[i, j] = Reference.lrXRowMajor[i * d + j] } }
        let model = try LogisticRegression(C: C, tolerance: 1e-10).fit(x: x, y: Reference.lrY)
        #expect(model.diagnostics.allConverged)
        let coef = C == 1 ? Reference.lrCoefC1 : Reference.lrCoefC005
        let intercept = C == 1 ? Reference.lrInterceptC1 : Reference.lrInterceptC005
        let probabilities = C == 1 ? Reference.lrProbabilityC1 : Reference.lrProbabilityC005
        // scikit-learn was run with tol=1e-12; both optima agree to far better than 1e-6.
        for j in 0..<d { #expect(abs(model.weights[j] - coef[j]) <= 1e-6) }
        #expect(abs(model.intercept - intercept) <= 1e-6)
        let p = model.predictProbabilities(PredictionBenchmark.gatherRows(x, [0, 1, 2]))
        for i in 0..<3 { #expect(abs(p[i] - probabilities[i]) <= 1e-7) }
    }
}
