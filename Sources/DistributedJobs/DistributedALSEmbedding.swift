import Distributed
import EmbeddingStore
import Foundation
import LinearAlgebra
import Solvers

/// The report of `als-embed --distributed` (snake_case JSON keys).
public struct DistributedALSReport: Codable, Sendable {
    public var ranks: Int
    public var users: Int, items: Int, interactions: Int
    public var factors: Int, iterations: Int, regularization: Double, alpha: Double, feedback: String, seed: UInt64
    /// Seconds of the read, fit and write phases and in all (`total`).
    public var seconds: [String: Double]
    /// Seconds of each sweep (both half-sweeps).
    public var sweepSeconds: [Double]
    /// The tables written: path, rows, columns.
    public var tables: [DistributedFollowGraphReport.Table]
    /// Bytes sent and received per rank, by label (`ALS user half-sweep`, `ALS item half-sweep`, ...).
    public var traffic: [[String: TrafficCount]]
    /// Users and items per rank.
    public var localUsers: [Int], localItems: [Int]

    enum CodingKeys: String, CodingKey {
        case ranks, users, items, interactions, factors, iterations, regularization, alpha, feedback, seed, seconds
        case sweepSeconds = "sweep_seconds", tables, traffic, localUsers = "local_users", localItems = "local_items"
    }

    /// The lines `als-embed --distributed` prints.
    public var summary: [String] {
        let sent = traffic.map { $0.values.reduce(0) { $0 + $1.sentBytes } }
        return ["als-embed: \(users) users x \(items) items, \(interactions) interactions on \(ranks) ranks; "
                    + String(format: "read %.2f s, fit %.2f s, write %.2f s", seconds["read"] ?? 0, seconds["fit"] ?? 0, seconds["write"] ?? 0),
                "als-embed: bytes sent per rank: " + sent.map(String.init).joined(separator: ", ")]
            + tables.map { "als-embed: wrote \($0.name) (\($0.rows) x \($0.columns))" }
    }
}

/// `als-embed --distributed`: the interaction list read by every rank
/// (Distributed's `DistributedEdgeList.readInteractions(path:comm:options:)`), `DistributedALS` (Cholesky
/// row solves), and the `users` and `items` tables written by every rank at its offsets, with
/// the single-process tables' ids, order and metadata (`als-embed` without `--distributed`,
/// `--solver cholesky`, writes the same vectors to rounding). The output directory appears
/// whole or not at all (rank 0 stages and commits it).
public enum DistributedALSEmbedding {
    /// Runs the job on every rank of `comm`; `log` is called on rank 0 only.
    /// - Throws: Distributed's `DistributedError` (input named with file and line; output problems),
    ///   `SolverError` (Solvers) for a bad configuration or a diverging fit.
    public static func run(interactions: URL, output: URL, configuration c: ALSConfiguration, comm: Communicator,
                           log: (String) -> Void = { _ in }) throws -> DistributedALSReport {
        let start = Date()
        func say(_ s: String) { if comm.rank == 0 { log(s) } }
        guard c.solver == .cholesky else {
            throw DistributedError("--distributed solves the rows exactly: use --solver cholesky (not \(c.solver.rawValue))")
        }
        var run: OutputRun? = nil
        if comm.rank == 0 { run = try OutputRun(destination: output, tool: "als-embed", entries: ["users", "items"]) }
        let staging = URL(fileURLWithPath: String(decoding: comm.allgatherv(Array((run?.staging.path ?? "").utf8)).values, as: UTF8.self))
        var seconds = [String: Double]()
        var clock = Date()
        func lap(_ name: String) { seconds[name] = Date().timeIntervalSince(clock); clock = Date() }

        let data = try DistributedEdgeList.readInteractions(path: interactions.path, comm: comm)
        guard data.interactionCount > 0 else { throw DistributedError("\(interactions.path): no interactions") }
        lap("read")
        say("read \(data.interactionCount) interactions of \(data.userCount) users and \(data.itemCount) items from \(interactions.path) on \(comm.size) ranks in \(String(format: "%.2f", seconds["read"]!)) s")

        let model = try DistributedALS.fit(data.matrix, configuration: c)
        lap("fit")
        say("fitted \(c.factors) factors in \(c.iterations) sweeps in \(String(format: "%.2f", seconds["fit"]!)) s")

        let parameters: [String: JSONValue] = [
            "factors": .int(Int64(c.factors)), "regularization": .double(Double(c.regularization)),
            "alpha": .double(Double(c.alpha)), "iterations": .int(Int64(c.iterations)), "solver": .string(c.solver.rawValue),
            "cg_steps": .int(Int64(c.cgSteps)), "feedback": .string(c.feedback.rawValue),
        ]
        var tables = [DistributedFollowGraphReport.Table]()
        for (name, entity, ids, factors) in [("users", "user", data.localUserIDs, model.userFactors),
                                             ("items", "item", data.localItemIDs, model.itemFactors)] {
            tables.append(try DistributedFollowGraph.writeTable(name, factors.transposed(), ids, comm: comm, staging: staging, metadata: { count in
                EmbeddingMetadata(entityType: entity, algorithm: "als", parameters: parameters, inputFile: interactions.path,
                                  seed: c.seed, count: count, dimension: c.factors)
            }))
        }
        try comm.commitAfterEveryRank(run)
        lap("write")
        seconds["total"] = Date().timeIntervalSince(start)

        let traffic = try comm.trafficOfEveryRank()
        return DistributedALSReport(
            ranks: comm.size, users: data.userCount, items: data.itemCount, interactions: data.interactionCount,
            factors: c.factors, iterations: c.iterations, regularization: Double(c.regularization), alpha: Double(c.alpha),
            feedback: c.feedback.rawValue, seed: c.seed, seconds: seconds, sweepSeconds: model.diagnostics.iterationSeconds ?? [],
            tables: tables.map { .init(name: output.appendingPathComponent($0.name).path, rows: $0.rows, columns: $0.columns) },
            traffic: traffic, localUsers: comm.allgather(Int64(data.localUserIDs.count)).map { Int($0) },
            localItems: comm.allgather(Int64(data.localItemIDs.count)).map { Int($0) })
    }

    /// The `als-embed --distributed` tool: runs the job on the ranks of the MPI job this process
    /// belongs to; rank 0 prints the summary (and writes the JSON report, if asked). Any rank's
    /// error is printed with its rank and ends every rank with status 1.
    public static func runTool(interactions: URL, output: URL, configuration: ALSConfiguration, report: String?, progress: Bool) {
        Communicator.run { comm in
            let result = try run(interactions: interactions, output: output, configuration: configuration, comm: comm) { line in
                if progress { FileHandle.standardError.write(Data(("als-embed: " + line + "\n").utf8)) }
            }
            if comm.rank == 0 {
                result.summary.forEach { print($0) }
                if let report { try JSONReport.write(result, to: URL(fileURLWithPath: report)) }
            }
        }
    }
}
