import Foundation
import GraphData
import LinearAlgebra
import Testing
@testable import CandidateGeneration

@Suite struct CandidateGenerationTests {
    /// Six planted communities of 100 accounts; each account follows 20 others in its own
    /// community (seeded). A 10% holdout is then predictable from the embedding (the held-out
    /// follows are in the user's community) and not from global popularity.
    @Test func embeddingBeatsPopularityOnPlantedCommunities() throws {
        var rng = Xoshiro256(seed: 5)
        var text = ""
        for u in 0..<600 {
            let community = u / 100
            var follows = Set<Int>()
            while follows.count < 20 {
                let v = community * 100 + Int(rng.next() % 100)
                if v != u { follows.insert(v) }
            }
            for v in follows.sorted() { text += "u\(u)\tu\(v)\n" }
        }
        let edges = try EdgeList.read(string: text, name: "planted")
        var c = CandidateGenerationBenchmark.Configuration()
        c.dimension = 8
        c.users = 0
        c.alsIterations = 3
        c.threads = 2
        let r = try CandidateGenerationBenchmark.run(edges: edges, configuration: c)
        #expect(r.users == 600)
        #expect(r.heldOutEdges == 1200 && r.trainingEdges == 10_800)
        for recall in [r.embedding, r.popularity, r.als!] {
            #expect(recall.at10 >= 0 && recall.at10 <= recall.at100 && recall.at100 <= 1)
        }
        #expect(r.embedding.at100 > 0.7, "embedding recall@100 \(r.embedding.at100)")
        #expect(r.embedding.at100 > r.popularity.at100 + 0.3, "embedding \(r.embedding.at100) vs popularity \(r.popularity.at100)")
        #expect(throws: (any Error).self) {
            var bad = c
            bad.holdout = 1.5
            _ = try CandidateGenerationBenchmark.run(edges: edges, configuration: bad)
        }
    }
}
