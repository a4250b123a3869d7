import EmbeddingStore
import Foundation
import GraphData
import LinearAlgebra
import Solvers

// The `als-embed` job as one library call: read an interaction edge list, hold out or read a
// test set, fit ALS, score its recommendations, write the user and item tables, report.

/// What ``ALSExperiment/run(_:)`` does.
public struct ALSExperimentOptions: Sendable {
    /// The interaction edge list (`user item [weight]`; repeated pairs are summed).
    public var interactions: URL
    /// The directory that receives the `users` and `items` tables.
    public var output: URL
    /// The ALS settings.
    public var configuration: ALSConfiguration
    /// Hold out this fraction of each user's interactions (``ALSHoldout``) and evaluate on them.
    public var holdout: Double?
    /// Or evaluate on these held-out interactions (same format; unknown users and items skipped).
    public var test: URL?
    /// Evaluate a seeded random sample of this many test users (default: all).
    public var evaluationUsers: Int?
    /// The limits the memory budget is checked against (default: those in force,
    /// `MemoryLimits.current()`).
    public var memoryLimits: MemoryLimits?

    /// Options; without `holdout` or `test` nothing is evaluated.
    public init(interactions: URL, output: URL, configuration: ALSConfiguration = .init(), holdout: Double? = nil,
                test: URL? = nil, evaluationUsers: Int? = nil) {
        self.interactions = interactions; self.output = output; self.configuration = configuration
        self.holdout = holdout; self.test = test; self.evaluationUsers = evaluationUsers
    }
}

/// The typed report of an ``ALSExperiment`` run (`als-embed --report`; snake_case JSON keys).
public struct ALSReport: Codable, Sendable, Equatable {
    public var secondsPerIteration: Double, fitSeconds: Double, readSeconds: Double, iterationSeconds: [Double]
    public var users: Int, items: Int, trainingInteractions: Int
    public var factors: Int, regularization: Double, alpha: Double, iterations: Int, solver: String, cgSteps: Int
    public var feedback: String, seed: UInt64, threads: Int
    /// The objective after each sweep (when `ALSConfiguration.computeLoss` was set).
    public var loss: [Double]?
    public var precisionAt10: Double?, ndcgAt10: Double?, mapAt10: Double?
    public var evaluatedUsers: Int?, testInteractions: Int?
    /// The fit's full diagnostics.
    public var diagnostics: SolverDiagnostics

    enum CodingKeys: String, CodingKey {
        case secondsPerIteration = "seconds_per_iteration", fitSeconds = "fit_seconds", readSeconds = "read_seconds"
        case iterationSeconds = "iteration_seconds", users, items, trainingInteractions = "training_interactions"
        case factors, regularization, alpha, iterations, solver, cgSteps = "cg_steps", feedback, seed, threads, loss
        case precisionAt10 = "precision_at_10", ndcgAt10 = "ndcg_at_10", mapAt10 = "map_at_10"
        case evaluatedUsers = "evaluated_users", testInteractions = "test_interactions", diagnostics
    }

    /// The lines `als-embed` prints.
    public var summary: [String] {
        var lines = ["als-embed: \(users) users x \(items) items, \(trainingInteractions) training interactions; "
            + String(format: "read %.2f s, fit %.2f s, median %.4f s per iteration", readSeconds, fitSeconds, secondsPerIteration)]
        if let p = precisionAt10, let n = ndcgAt10, let m = mapAt10, let u = evaluatedUsers, let t = testInteractions {
            lines.append("als-embed: \(u) test users, \(t) held-out interactions: "
                + String(format: "P@10 %.4f, nDCG@10 %.4f, MAP@10 %.4f", p, n, m))
        }
        return lines
    }
}

/// ALS embeddings of an interaction edge list, evaluated on held-out interactions.
public enum ALSExperiment {
    /// Runs the job and returns its report.
    /// - Throws: `MemoryBudgetError` (LinearAlgebra) when the fit would not fit the memory limits
    ///   (checked after reading, before anything large is allocated);
    ///   `GraphData.GraphDataError` for unreadable input (naming file, line and problem),
    ///   `Solvers.SolverError` for bad settings or values, ``EvaluationError`` for a bad holdout,
    ///   `EmbeddingStore.EmbeddingStoreError` when a table cannot be written.
    public static func run(_ options: ALSExperimentOptions) throws -> ALSReport {
        let c = options.configuration
        if options.memoryLimits == nil {
            // Under an address-space limit, OpenBLAS must map its work buffers now or never (it spins).
            MemoryLimits.adaptAllocatorToLimits()
            try BLAS.reserveWorkBuffers(threads: c.resolvedThreads)
        }
        let readOptions = EdgeListReader.Options(duplicates: .sum, separateIDMaps: true)
        let readStart = Date()
        let list = try EdgeList.read(path: options.interactions.path, options: readOptions)
        var train = try interactionMatrix(list.sources, list.targets, list.weights, rows: list.rowCount, columns: list.columnCount)
        let readSeconds = Date().timeIntervalSince(readStart)
        try ALS.memoryBudget(users: train.rows, items: train.columns, nonzeros: train.nonzeroCount, configuration: c)
            .check(options.memoryLimits ?? .current())
        var test: CSRMatrix<Float>? = nil
        if let fraction = options.holdout {
            (train, test) = try ALSHoldout.split(train, fraction: fraction, seed: c.seed)
        } else if let url = options.test {
            // The test file's ids mapped to the training matrix's rows and columns; unknown ones skipped.
            let t = try EdgeList.read(path: url.path, options: readOptions)
            var rows = [Int32](), columns = [Int32](), values = [Float]()
            for k in 0..<t.edgeCount {
                guard let u = list.sourceIDs.index(ofID: t.sourceIDs[Int(t.sources[k])]),
                      let i = list.targetIDs.index(ofID: t.targetIDs[Int(t.targets[k])]) else { continue }
                rows.append(Int32(u)); columns.append(Int32(i)); values.append(t.weights?[k] ?? 1)
            }
            test = try interactionMatrix(rows, columns, values, rows: train.rows, columns: train.columns)
        }
        let fitStart = Date()
        let model = try ALS.fit(train, configuration: c)
        let fitSeconds = Date().timeIntervalSince(fitStart)
        let sweeps = model.diagnostics.iterationSeconds ?? []

        var metrics: ALSRankingMetrics? = nil
        if let test {
            var users: [Int]? = nil
            if let n = options.evaluationUsers {
                var candidates = (0..<test.rows).filter { test.rowOffsets[$0 + 1] > test.rowOffsets[$0] }
                var rng = Xoshiro256(seed: c.seed &+ 1)
                candidates.shuffle(using: &rng)
                users = Array(candidates.prefix(n)).sorted()
            }
            metrics = try model.rankingMetrics(test: test, k: 10, users: users)
        }
        let scores = metrics.map { ["precision_at_10": $0.precision, "ndcg_at_10": $0.ndcg, "map_at_10": $0.map] } ?? [:]
        let parameters: [String: JSONValue] = [
            "factors": .int(Int64(c.factors)), "regularization": .double(Double(c.regularization)),
            "alpha": .double(Double(c.alpha)), "iterations": .int(Int64(c.iterations)), "solver": .string(c.solver.rawValue),
            "cg_steps": .int(Int64(c.cgSteps)), "feedback": .string(c.feedback.rawValue),
        ]
        for (name, entity, ids, vectors) in [("users", "user", list.sourceIDs.ids, model.userFactors),
                                             ("items", "item", list.targetIDs.ids, model.itemFactors)] {
            let metadata = EmbeddingMetadata(entityType: entity, algorithm: "als", parameters: parameters,
                                             inputFile: options.interactions.path, scores: scores, seed: c.seed)
            let table = try EmbeddingTable(ids: ids, vectors: vectors.transposed(), metadata: metadata)
            try table.write(to: options.output.appendingPathComponent(name))
        }
        return ALSReport(
            secondsPerIteration: Summary.median(sweeps), fitSeconds: fitSeconds, readSeconds: readSeconds,
            iterationSeconds: sweeps, users: train.rows, items: train.columns, trainingInteractions: train.nonzeroCount,
            factors: c.factors, regularization: Double(c.regularization), alpha: Double(c.alpha), iterations: c.iterations,
            solver: c.solver.rawValue, cgSteps: c.cgSteps, feedback: c.feedback.rawValue, seed: c.seed,
            threads: c.resolvedThreads, loss: model.diagnostics.objective, precisionAt10: metrics?.precision,
            ndcgAt10: metrics?.ndcg, mapAt10: metrics?.map, evaluatedUsers: metrics?.users,
            testInteractions: test?.nonzeroCount, diagnostics: model.diagnostics)
    }

    /// A users x items CSR matrix from (row, column, value) triplets, repeated pairs summed
    /// (values default to 1).
    static func interactionMatrix(_ rows: [Int32], _ columns: [Int32], _ values: [Float]?, rows m: Int, columns n: Int) throws
        -> CSRMatrix<Float> {
        let coo = try COOMatrix<Float>(rows: m, columns: n, rowIndices: rows, columnIndices: columns,
                                       values: values ?? [Float](repeating: 1, count: rows.count))
        return try coo.toCSR(duplicates: .sum)
    }
}
