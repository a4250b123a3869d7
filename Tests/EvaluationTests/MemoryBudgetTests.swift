import Foundation
import LinearAlgebra
import Solvers
import Testing
@testable import Evaluation

/// The heavy jobs in Evaluation check their memory budget after reading and before fitting.
@Suite struct ALSMemoryBudgetTests {
    func interactions() throws -> (file: URL, directory: URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("als-budget-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var text = ""
        for u in 0..<200 { for j in 0..<5 { text += "u\(u)\ti\((u * 7 + j * 13) % 150)\n" } }
        let file = directory.appendingPathComponent("interactions.tsv")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return (file, directory)
    }

    @Test func aRunThatCannotFitStopsBeforeFittingAndSaysWhatToChange() throws {
        let (file, directory) = try interactions()
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = ALSExperimentOptions(interactions: file, output: directory.appendingPathComponent("out"),
                                           configuration: ALSConfiguration(factors: 512, iterations: 2, threads: 1))
        // 512 factors over 350 rows is 0.7 MiB of factors; allow 256 KiB above what is in use.
        options.memoryLimits = MemoryLimits(addressSpaceLimit: nil, addressSpaceInUse: 0, cgroupLimit: 100 << 20, cgroupInUse: (100 << 20) - (256 << 10))
        #expect {
            _ = try ALSExperiment.run(options)
        } throws: { error in
            guard let e = error as? MemoryBudgetError else { return false }
            return e.description.contains("--factors, now 512") && e.description.contains("memory.max")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("out").path))
        // With room, the same run fits and writes both tables.
        options.memoryLimits = MemoryLimits(addressSpaceLimit: nil, addressSpaceInUse: 0, cgroupLimit: nil, cgroupInUse: 0)
        _ = try ALSExperiment.run(options)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("out/users/vectors.npy").path))
    }

    @Test func theBudgetCountsFactorsTransposeAndWorkspaces() {
        let c = ALSConfiguration(factors: 64, threads: 2)
        let b = ALS.memoryBudget(users: 1_000_000, items: 500_000, nonzeros: 20_000_000, configuration: c)
        let factors = 4 * 64 * 1_500_000, transpose = 8 * 500_001 + 8 * 20_000_000
        #expect(b.peak.bytes >= factors + transpose && b.peak.bytes < 3 * (factors + transpose))
    }
}
