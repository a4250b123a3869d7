import Foundation
import LinearAlgebra
import Testing
@testable import WordEmbeddings

/// word-embed checks its memory budget after reading the corpus and before allocating the model.
@Suite struct WordEmbedMemoryBudgetTests {
    @Test(arguments: [WordEmbed.Method.sgns, .ppmiSVD])
    func aJobThatCannotFitStopsBeforeTrainingAndSaysWhatToChange(method: WordEmbed.Method) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("word-budget-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let words = (0..<300).map { "w\($0)" }
        var text = ""
        for i in 0..<6000 { text += words[(i * 7919) % 300] + (i % 20 == 19 ? "\n" : " ") }
        let corpus = directory.appendingPathComponent("corpus.txt")
        try text.write(to: corpus, atomically: true, encoding: .utf8)
        let output = directory.appendingPathComponent("table").path
        var job = WordEmbed.Job(inputs: [corpus.path], output: output, method: method)
        job.sgns = SkipGram.Configuration(dimension: 256, epochs: 1, threads: 1, seed: 1)
        job.ppmi = PPMISVD.Configuration(dimension: 256, seed: 1, threads: 1)
        job.corpus.minCount = 1
        // 300 words x 256 dimensions need several hundred KiB: allow 64 KiB above what is in use.
        job.memoryLimits = MemoryLimits(addressSpaceLimit: nil, addressSpaceInUse: 0, cgroupLimit: 1 << 30, cgroupInUse: (1 << 30) - (64 << 10))
        #expect {
            _ = try WordEmbed.run(job) { _ in }
        } throws: { error in
            guard let e = error as? MemoryBudgetError else { return false }
            return e.description.contains("--dim (now 256)") && e.description.contains("memory.max")
        }
        #expect(!FileManager.default.fileExists(atPath: output))
        let budget = WordEmbed.memoryBudget(job, vocabulary: 300, tokens: 6000)
        #expect(budget.peak.bytes >= 4 * 256 * 300)
    }
}
