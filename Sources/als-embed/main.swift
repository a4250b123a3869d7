import ArgumentParser
import EmbeddingStore
import Foundation
import GraphData
import LinearAlgebra
import Evaluation
import Solvers

/// `als-embed`: ALS user and item embeddings from an interaction edge list.
@main
struct ALSEmbed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "als-embed",
        abstract: "Factorizes a user x item interaction matrix by alternating least squares.",
        discussion: """
        INTERACTIONS is an edge list (`user item [weight]`, `#` comments, tabs or spaces); repeated
        pairs are summed. Writes DIR/users and DIR/items embedding tables. With --holdout (or
        --test), also reports precision@10, nDCG@10 and MAP@10 of the recommendations.
        """)

    enum SolverChoice: String, ExpressibleByArgument, CaseIterable { case cg, cholesky }

    @Argument(help: "Interaction edge list: `user item [weight]` per line.")
    var interactions: String

    @Option(name: .long, help: "Output directory (gets `users` and `items` tables).")
    var output: String

    @Option(help: "Latent factors.") var factors = 64
    @Option(help: "Regularization lambda (weighted by counts with --explicit).") var regularization: Float = 0.01
    @Option(help: "Confidence slope: c = 1 + alpha * weight (implicit feedback).") var alpha: Float = 1
    @Option(help: "Alternating sweeps.") var iterations = 15
    @Option(help: "Row solver: cg or cholesky.") var solver: SolverChoice = .cg
    @Option(name: .customLong("cg-steps"), help: "Conjugate-gradient steps per row and sweep.") var cgSteps = 3
    @Flag(help: "Treat weights as explicit ratings (default: implicit feedback).") var explicit = false
    @Option(help: "Seed of the initial factors and of the holdout split.") var seed: UInt64 = 0
    @Option(help: "Hold out this fraction of each user's interactions and evaluate on them.") var holdout: Double?
    @Option(help: "Evaluate on these held-out interactions (same format; unknown users/items are skipped) instead of --holdout.")
    var test: String?
    @Option(name: .customLong("eval-users"), help: "Evaluate on a random sample of this many test users (default: all).")
    var evalUsers: Int?
    @Option(help: "Threads for the solver and BLAS (default: all cores).") var threads: Int?
    @Flag(help: "Compute the training loss after every sweep (into the report).") var loss = false
    @Option(help: "Write a JSON report here.") var report: String?

    func validate() throws {
        if let h = holdout, !(h > 0 && h < 1) { throw ValidationError("--holdout must be in (0, 1), got \(h)") }
        if holdout != nil && test != nil { throw ValidationError("--holdout and --test exclude each other") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be positive") }
        if let e = evalUsers, e < 1 { throw ValidationError("--eval-users must be positive") }
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// The edge list as a users x items CSR matrix (weights default to 1, repeats summed).
    static func matrix(_ list: EdgeList) throws -> CSRMatrix<Float> {
        let coo = try COOMatrix<Float>(rows: list.sourceIDs.count, columns: list.targetIDs.count,
                                       rowIndices: list.sources, columnIndices: list.targets,
                                       values: list.weights ?? [Float](repeating: 1, count: list.edgeCount))
        return try coo.toCSR(duplicates: .sum)
    }

    func run() throws {
        if let t = threads {
            Parallel.threads = t
            BLAS.threads = t
        }
        let options = EdgeListReader.Options(duplicates: .sum, separateIDMaps: true)
        var start = Self.now()
        let list = try EdgeList.read(path: interactions, options: options)
        var full = try Self.matrix(list)
        let readSeconds = Self.now() - start
        var testMatrix: CSRMatrix<Float>? = nil
        if let fraction = holdout {
            let parts = try ALSHoldout.split(full, fraction: fraction, seed: seed)
            full = parts.train
            testMatrix = parts.test
        } else if let path = test {
            let t = try EdgeList.read(path: path, options: options)
            var coo = COOMatrix<Float>(rows: full.rows, columns: full.columns)
            for k in 0..<t.edgeCount {
                guard let u = list.sourceIDs.index(ofID: t.sourceIDs[Int(t.sources[k])]),
                      let i = list.targetIDs.index(ofID: t.targetIDs[Int(t.targets[k])]) else { continue }
                coo.append(row: Int(u), column: Int(i), value: t.weights?[k] ?? 1)
            }
            testMatrix = try coo.toCSR(duplicates: .sum)
        }
        let configuration = ALSConfiguration(
            factors: factors, regularization: regularization, alpha: alpha, iterations: iterations,
            feedback: explicit ? .explicit : .implicit, solver: solver == .cg ? .conjugateGradient : .cholesky,
            cgSteps: cgSteps, seed: seed, computeLoss: loss, threads: threads)
        start = Self.now()
        let model = try ALS.fit(full, configuration: configuration)
        let fitSeconds = Self.now() - start
        let sorted = (model.diagnostics.iterationSeconds ?? []).sorted()
        let median = sorted.isEmpty ? 0 : (sorted[(sorted.count - 1) / 2] + sorted[sorted.count / 2]) / 2
        print("als-embed: \(full.rows) users x \(full.columns) items, \(full.nonzeroCount) training interactions; "
              + "read \(String(format: "%.2f", readSeconds)) s, fit \(String(format: "%.2f", fitSeconds)) s, "
              + "median \(String(format: "%.4f", median)) s per iteration")

        var scores: [String: Double] = [:]
        var evaluatedUsers = 0
        if let testMatrix {
            var users: [Int]? = nil
            if let n = evalUsers {
                var candidates = (0..<testMatrix.rows).filter { testMatrix.rowOffsets[$0 + 1] > testMatrix.rowOffsets[$0] }
                var rng = Xoshiro256(seed: seed &+ 1)
                candidates.shuffle(using: &rng)
                users = Array(candidates.prefix(n)).sorted()
            }
            let metrics = try model.rankingMetrics(test: testMatrix, k: 10, users: users)
            evaluatedUsers = metrics.users
            scores = ["precision_at_10": metrics.precision, "ndcg_at_10": metrics.ndcg, "map_at_10": metrics.map]
            print("als-embed: \(metrics.users) test users, \(testMatrix.nonzeroCount) held-out interactions: "
                  + "P@10 \(String(format: "%.4f", metrics.precision)), nDCG@10 \(String(format: "%.4f", metrics.ndcg)), "
                  + "MAP@10 \(String(format: "%.4f", metrics.map))")
        }

        let parameters: [String: JSONValue] = [
            "factors": .int(Int64(factors)), "regularization": .double(Double(regularization)),
            "alpha": .double(Double(alpha)), "iterations": .int(Int64(iterations)), "solver": .string(solver.rawValue),
            "cg_steps": .int(Int64(cgSteps)), "feedback": .string(explicit ? "explicit" : "implicit"),
        ]
        let directory = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, ids, vectors) in [("users", list.sourceIDs.ids, model.userFactors), ("items", list.targetIDs.ids, model.itemFactors)] {
            let metadata = EmbeddingMetadata(entityType: name == "users" ? "user" : "item", algorithm: "als",
                                             parameters: parameters, inputFile: interactions, scores: scores, seed: seed)
            let table = try EmbeddingTable(ids: ids, vectors: vectors.transposed(), metadata: metadata)
            try table.write(to: directory.appendingPathComponent(name))
        }

        if let report {
            var json: [String: Any] = [
                "seconds_per_iteration": median, "fit_seconds": fitSeconds, "read_seconds": readSeconds,
                "iteration_seconds": (model.diagnostics.iterationSeconds ?? []), "users": full.rows, "items": full.columns,
                "training_interactions": full.nonzeroCount, "factors": factors, "regularization": Double(regularization),
                "alpha": Double(alpha), "iterations": iterations, "solver": solver.rawValue, "cg_steps": cgSteps,
                "feedback": explicit ? "explicit" : "implicit", "seed": seed, "threads": threads ?? Parallel.threads,
            ]
            if loss { json["loss"] = model.diagnostics.objective ?? [] }
            if testMatrix != nil {
                json["precision_at_10"] = scores["precision_at_10"]
                json["ndcg_at_10"] = scores["ndcg_at_10"]
                json["map_at_10"] = scores["map_at_10"]
                json["evaluated_users"] = evaluatedUsers
                json["test_interactions"] = testMatrix!.nonzeroCount
            }
            let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: report))
        }
    }
}
