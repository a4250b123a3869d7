import Foundation
import Testing
import EmbeddingStore
import Evaluation
import LinearAlgebra

/// The evaluation against the judge's peer_words.evaluate (scipy.stats.spearmanr, numpy argmax) on
/// fixed vectors; reference numbers from scipy 1.17.1 / numpy (script in the comment below).
/// Vectors: 14 words, 6 dimensions (planted royal/gender/capital/country/size directions plus
/// 0.3 sin(1.3 i + 0.7 k + 1)), the last row zero.
@Suite struct WordBenchmarkTests {
    static let words = ["the", "king", "queen", "man", "woman", "paris", "france", "rome", "italy", "big", "bigger", "small", "smaller", "zero"]
    static let rows: [[Double]] = [[0.25244128704071045, 0.2974994480609894, 0.20263895392417908, 0.012474198825657368, -0.18355736136436462, -0.19325903058052063], [1.223711609840393, 1.0423359870910645, -0.1589508354663849, -0.2854806184768677, -0.2777444124221802, -0.13938064873218536], [0.8672438859939575, -1.274849772453308, -0.2876772880554199, -0.16520565748214722, 0.03496476262807846, 0.21869070827960968], [-0.29473578929901123, 0.8106200098991394, 0.005044170189648867, 0.19709597527980804, 0.2964504659175873, 0.2563796639442444], [-0.024926820769906044, -0.8264680504798889, 0.29037588834762573, 0.27065154910087585, 0.12363554537296295, -0.0815281867980957], [0.28139999508857727, 0.28221917152404785, 1.150306224822998, -0.052298035472631454, 0.06969425827264786, -0.2999970614910126], [0.17547516524791718, -0.022545335814356804, -0.2099624127149582, 0.7013691067695618, 0.05315142124891281, -0.07896953821182251], [-0.18752118945121765, -0.29428085684776306, 0.7373643517494202, -0.10746878385543823, -0.20175766944885254, 0.257748544216156], [-0.2757985591888428, -0.1348942369222641, 0.06945294886827469, 1.2411353588104248, -0.0005920041585341096, 0.21686440706253052], [0.039969611912965775, 0.2221127599477768, 0.2997928261756897, 0.2364756166934967, 0.06194024533033371, 0.8582733869552612], [0.7971822023391724, 0.25372403860092163, 0.09093550592660904, -0.11462142318487167, -0.26627010107040405, 0.7073122262954712], [0.11902216821908951, -0.08637099713087082, -0.2511425316333771, -0.297797828912735, -0.20439413189888, -1.01486074924469], [0.26649436354637146, -0.2999323308467865, -0.22529616951942444, -0.04469970613718033, 0.15691973268985748, -0.7152626514434814], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]

    static func makeData() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("word-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let sets: [String: String] = [
            "ws353": "king\tqueen\t8.5\nman\twoman\t8.3\nparis\tfrance\t7.0\nbig\tsmall\t2.0\nrome\titaly\t7.5\nking\tcabbage\t1.0\nbigger\tsmaller\t3.1\nqueen\twoman\t6.0\n",
            "simlex999": "King\tQueen\t5.5\nbig\tbigger\t7.0\nsmall\tsmaller\t7.0\nthe\tman\t1.0\nwoman\titaly\t0.5\nparis\trome\t6.5\n",
            "men3k": "word1\tword2\tscore\nking\tman\t30\nqueen\twoman\t30\nparis\trome\t45\nbig\tsmall\t20\nzero\tthe\t3\n",
            "rw": "king\tqueen\t5\nman\tking\t5\na\tb\t3\n",
        ]
        for (name, text) in sets { try text.write(to: dir.appendingPathComponent(name + ".tsv"), atomically: true, encoding: .utf8) }
        let analogies = """
        : capital-common-countries
        Paris France Rome Italy
        Rome Italy Paris France
        paris france rome unknownword
        : family
        king queen man woman
        man woman king queen
        : gram2-comparative
        big bigger small smaller
        small smaller big bigger

        """
        try analogies.write(to: dir.appendingPathComponent("analogies.txt"), atomically: true, encoding: .utf8)
        return dir
    }

    static func table() throws -> EmbeddingTable {
        let m = Matrix<Float>(rows: rows.map { $0.map(Float.init) })
        return try EmbeddingTable(ids: words, vectors: m, metadata: EmbeddingMetadata(entityType: "word", algorithm: "fixed"))
    }

    @Test func agreesWithTheJudge() throws {
        let dir = try Self.makeData()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try WordBenchmark.run(table: Self.table(), dataDirectory: dir)
        let byName = Dictionary(uniqueKeysWithValues: r.similarity.map { ($0.name, $0) })
        let tolerance = 64 * Double.ulpOfOne
        #expect(abs(byName["ws353"]!.spearman! - 0.3214285714285715) < tolerance)
        #expect(abs(byName["simlex999"]!.spearman! - 0.753702346348183) < tolerance)
        #expect(abs(byName["men3k"]!.spearman! - 0.7181848464596079) < tolerance)
        #expect(byName["rw"]!.spearman == nil)   // 2 pairs: undefined, as the judge's None
        let used: [Int] = ["ws353", "simlex999", "men3k", "rw"].map { byName[$0]!.pairsUsed }
        #expect(used == [7, 6, 5, 2])
        #expect(byName["ws353"]!.pairsTotal == 8 && byName["men3k"]!.pairsTotal == 5)
        #expect(r.questionsTotal == 7 && r.questionsAnswered == 6 && r.zeroVectors == 1)
        #expect(r.add.overall == .init(correct: 6, answered: 6))
        #expect(r.add.semantic == .init(correct: 4, answered: 4) && r.add.syntactic == .init(correct: 2, answered: 2))
        #expect(r.mul.overall == .init(correct: 4, answered: 6))
        #expect(r.mul.semantic == .init(correct: 3, answered: 4) && r.mul.syntactic == .init(correct: 1, answered: 2))
        let json = r.jsonObject()
        for key in ["ws353", "simlex999", "men3k", "rw", "analogy_3cosadd", "analogy_3cosmul", "coverage"] { #expect(json[key] != nil) }
    }

    @Test func restrictsTheAnalogyVocabulary() throws {
        let dir = try Self.makeData()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try WordBenchmark.run(table: Self.table(), dataDirectory: dir, restrict: 9)
        #expect(r.questionsAnswered == 4)
        #expect(r.add.overall == .init(correct: 4, answered: 4) && r.add.syntactic.answered == 0)
        #expect(r.mul.overall == .init(correct: 3, answered: 4))
    }

    @Test func missingAnalogyFileIsAnError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("word-bench-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: EvaluationError.self) { try WordBenchmark.run(table: Self.table(), dataDirectory: dir) }
    }
}
