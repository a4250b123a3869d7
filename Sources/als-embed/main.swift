import ArgumentParser
import DistributedJobs
import EmbeddingStore
import Evaluation
import Foundation
import LinearAlgebra
import Solvers
import ToolSupport

/// `als-embed`: argument parsing for Evaluation's ``ALSExperiment``, which does the work.
@main
struct ALSEmbed: EmbeddingsCommand {
    static let configuration = CommandConfiguration(
        commandName: "als-embed",
        abstract: "Factorizes a user x item interaction matrix by alternating least squares.",
        discussion: """
        INTERACTIONS is an edge list (`user item [weight]`, `#` comments, tabs or spaces); repeated
        pairs are summed. Writes DIR/users and DIR/items embedding tables. With --holdout (or
        --test), also reports precision@10, nDCG@10 and MAP@10 of the recommendations.

        On the ranks of an MPI job: mpirun -np N als-embed INTERACTIONS --output DIR --distributed
        (every rank reads its part of the file; Cholesky row solves; the same tables as one
        process with --solver cholesky; README: Distributed (MPI)).
        """)

    @Argument(help: "Interaction edge list: `user item [weight]` per line.")
    var interactions: String

    @Option(name: .long, help: "Output directory (gets `users` and `items` tables).")
    var output: String

    @Option(help: "Latent factors.") var factors = 64
    @Option(help: "Regularization lambda (weighted by counts with --explicit).") var regularization: Float = 0.01
    @Option(help: "Confidence slope: c = 1 + alpha * weight (implicit feedback).") var alpha: Float = 1
    @Option(help: "Alternating sweeps.") var iterations = 15
    @Option(help: "Row solver: cg or cholesky (default: cg; cholesky with --distributed).") var solver: ALSConfiguration.Solver?
    @Option(name: .customLong("cg-steps"), help: "Conjugate-gradient steps per row and sweep.") var cgSteps = 3
    @Flag(help: "Treat weights as explicit ratings (default: implicit feedback).") var explicit = false
    @Option(help: "Seed of the initial factors and of the holdout split.") var seed: UInt64 = 0
    @Option(help: "Hold out this fraction of each user's interactions and evaluate on them.") var holdout: Double?
    @Option(help: "Evaluate on these held-out interactions (same format; unknown users/items are skipped) instead of --holdout.")
    var test: String?
    @Option(name: .customLong("eval-users"), help: "Evaluate on a random sample of this many test users (default: all).")
    var evalUsers: Int?
    @OptionGroup var threads: ThreadOptions
    @Flag(help: "Compute the training loss after every sweep (into the report).") var loss = false
    @Option(help: "Write a JSON report here.") var report: String?
    @Flag(help: "Run on the ranks of an MPI job (mpirun -np N als-embed ... --distributed).") var distributed = false
    @OptionGroup var publishing: PublishingOptions

    func validate() throws {
        if let h = holdout, !(h > 0 && h < 1) { throw ValidationError("--holdout must be in (0, 1), got \(h)") }
        if holdout != nil && test != nil { throw ValidationError("--holdout and --test exclude each other") }
        if let e = evalUsers, e < 1 { throw ValidationError("--eval-users must be positive") }
        if distributed {
            if solver == .conjugateGradient { throw ValidationError("--distributed solves the rows exactly: use --solver cholesky (the default there)") }
            if holdout != nil || test != nil || evalUsers != nil || loss || publishing.publish != nil {
                throw ValidationError("--distributed writes the tables only: --holdout, --test, --eval-users, --loss and --publish go with a single-process run")
            }
        }
    }

    func run() throws {
        try threads.apply()
        let configuration = ALSConfiguration(
            factors: factors, regularization: regularization, alpha: alpha, iterations: iterations,
            feedback: explicit ? .explicit : .implicit, solver: solver ?? (distributed ? .cholesky : .conjugateGradient),
            cgSteps: cgSteps, seed: seed, computeLoss: loss, threads: threads.threads)
        if distributed {
            return DistributedALSEmbedding.runTool(interactions: URL(fileURLWithPath: interactions), output: URL(fileURLWithPath: output),
                                                   configuration: configuration, report: report, progress: true)
        }
        let options = ALSExperimentOptions(interactions: URL(fileURLWithPath: interactions), output: URL(fileURLWithPath: output),
                                           configuration: configuration, holdout: holdout,
                                           test: test.map { URL(fileURLWithPath: $0) }, evaluationUsers: evalUsers)
        let result: ALSReport
        do { result = try ALSExperiment.run(options) } catch let error as MemoryBudgetError { error.exitImmediately() }
        result.summary.forEach { print($0) }
        if let report { try JSONReport.write(result, to: URL(fileURLWithPath: report)) }
        try publishing.publishIfAsked([("users", output + "/users"), ("items", output + "/items")],
                                      description: "ALS factors of \(interactions)", lineage: [interactions]).forEach { print($0) }
    }
}

extension ALSConfiguration.Solver: ExpressibleByArgument {}
