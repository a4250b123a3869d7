import Foundation
import Testing
@testable import WordEmbeddings

@Suite struct TokenizerTests {
    @Test func lettersMatchesTheJudge() {
        var t = Tokenizer(mode: .letters)
        // Python: re.findall("[a-z]+", text.lower())
        #expect(t.tokens("Don't STOP: 3rd-place x2 <doc id=\"7\">") == ["don", "t", "stop", "rd", "place", "x", "doc", "id"])
        // Unicode lower-casing that yields ASCII letters: Kelvin sign -> k; dotted capital I -> i + U+0307.
        #expect(t.tokens("\u{212A}elvin \u{130}stanbul café naïve") == ["kelvin", "i", "stanbul", "caf", "na", "ve"])
        // Invalid UTF-8 separates tokens.
        let bytes: [UInt8] = Array("ab".utf8) + [0xFF] + Array("cd".utf8)
        var out = [String]()
        bytes.withUnsafeBufferPointer { b in
            let invalid = t.tokenize(line: b) { out.append(String(decoding: $0, as: UTF8.self)) }
            #expect(invalid == 1)
        }
        #expect(out == ["ab", "cd"])
    }

    @Test func tweetKeepsSocialTokensWhole() {
        var t = Tokenizer(mode: .tweet)
        #expect(t.tokens("RT @User_1: Loving #SwiftLang! See https://t.co/AbC?x=1. Don't stop") ==
                ["rt", "@user_1", "loving", "#swiftlang", "see", "https://t.co/abc?x=1", "don't", "stop"])
        #expect(t.tokens("state-of-the-art covid-19 3.14 1,000 end. -dash- a--b") ==
                ["state-of-the-art", "covid-19", "3.14", "1,000", "end", "dash", "a", "b"])
        #expect(t.tokens("great 👍🏽 job 👩‍💻! ❤️ www.Example.com/Path, # @ ok") ==
                ["great", "👍🏽", "job", "👩‍💻", "❤️", "www.example.com/path", "ok"])
        #expect(t.tokens("Ça VA? don’t ÉCOLE") == ["ça", "va", "don't", "école"])
    }
}

@Suite struct VocabularyTests {
    @Test func countsOrderAndFiltering() throws {
        let text = "b a c a\nb a d d\n\na c e b a\n"
        let corpus = try Corpus(text: text, options: .init(tokenizer: .letters, sentences: .lines, minCount: 2))
        #expect(corpus.tokenCount == 13 && corpus.typeCount == 5 && corpus.lineCount == 4)
        #expect(corpus.vocabulary.words == ["a", "b", "c", "d"])   // 5, 3, 2, 2: ties by word
        #expect(corpus.vocabulary.counts == [5, 3, 2, 2])
        // "e" (once) is deleted; lines are sentences, the empty line is not one.
        #expect(corpus.ids == [1, 0, 2, 0, 1, 0, 3, 3, 0, 2, 1, 0])
        #expect(corpus.sentenceStarts == [0, 4, 8, 12])
        let capped = try Corpus(text: text, options: .init(tokenizer: .letters, sentences: .chunks(5), minCount: 1, maxVocabulary: 2))
        #expect(capped.vocabulary.words == ["a", "b"])
        #expect(capped.sentenceStarts == [0, 4, 6, 8])   // 5-token chunks (b a c a b | a d d a c | e b a), then filtered
    }

    @Test func readsFilesAsOneStream() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vocab-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.txt"), b = dir.appendingPathComponent("b.txt")
        try "x y x\r\nz".write(to: a, atomically: true, encoding: .utf8)
        try "x z y".write(to: b, atomically: true, encoding: .utf8)
        let corpus = try Corpus.read(paths: [a.path, b.path], options: .init(tokenizer: .tweet, minCount: 2))
        #expect(corpus.vocabulary.words == ["x", "y", "z"] && corpus.vocabulary.counts == [3, 2, 2])
        #expect(corpus.tokenCount == 7 && corpus.byteCount == 13)
    }

    @Test func subsamplingThresholdsMatchGensim() {
        // gensim 4.4 sample_int for counts 50, 30, 20, 5, 5 with sample = 0.05 (min_count 5).
        let keep = SkipGram.keepThresholds(counts: [50, 30, 20, 5, 5], sample: 0.05)
        let gensim: [UInt64] = [1_896_925_902, 2_626_405_798, 3_433_415_856, 4_294_967_295, 4_294_967_295]
        for (ours, theirs) in zip(keep, gensim) { #expect(Int64(min(ours, 4_294_967_295)) - Int64(theirs) <= 1 && Int64(theirs) - Int64(min(ours, 4_294_967_295)) <= 1) }
        #expect(SkipGram.keepThresholds(counts: [50, 1], sample: 0) == [1 << 32, 1 << 32])
    }

    @Test func subsamplingKeepsTheExpectedShare() throws {
        // One word makes up 90% of the text: with sample t its keep probability is (sqrt(f/t) + 1) t/f.
        var words = [String]()
        for i in 0..<20_000 { words.append(i % 10 == 0 ? "w\(i % 70)" : "the") }
        let corpus = try Corpus(text: words.joined(separator: " "), options: .init(tokenizer: .tweet, minCount: 1))
        let result = try SkipGram.train(corpus, .init(dimension: 4, window: 1, negative: 1, sample: 1e-2, epochs: 3, threads: 1, seed: 3))
        let f = 18_000.0 / 20_000.0, t = 1e-2
        let pThe = ((f / t).squareRoot() + 1) * t / f
        let expected = 3 * (18_000 * pThe + 2_000)   // the rare words are always kept
        let kept = Double(result.epochEffectiveWords.reduce(0, +))
        let sd = (3 * 18_000 * pThe * (1 - pThe)).squareRoot()
        #expect(abs(kept - expected) < 5 * sd, "kept \(kept), expected \(expected) +- \(sd)")
    }
}

@Suite struct BadInputTests {
    @Test func emptyCorpus() throws {
        #expect(throws: WordEmbeddingsError.self) { try Corpus(text: "  \n ... \n", options: .init(tokenizer: .letters)) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let empty = dir.appendingPathComponent("empty.txt")
        try Data().write(to: empty)
        do {
            _ = try Corpus.read(paths: [empty.path])
            Issue.record("an empty file was accepted")
        } catch let e as WordEmbeddingsError {
            #expect(e.description.contains("empty.txt") && e.description.contains("no tokens"))
        }
        #expect(throws: WordEmbeddingsError.self) { try Corpus.read(paths: [dir.appendingPathComponent("missing.txt").path]) }
        #expect(throws: WordEmbeddingsError.self) { try Corpus.read(paths: [dir.path]) }
    }

    @Test func binaryFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let binary = dir.appendingPathComponent("model.bin")
        try (Data("line one\nline two\n".utf8) + Data([0x7F, 0x45, 0x4C, 0x46, 0x00, 0x01, 0xFE, 0xFF])).write(to: binary)
        do {
            _ = try Corpus.read(paths: [binary.path])
            Issue.record("a binary file was accepted")
        } catch let e as WordEmbeddingsError {
            #expect(e.file == binary.path && e.line == 3 && e.problem.contains("binary"))
        }
        // Mostly invalid UTF-8 without NUL bytes is also refused.
        let noise = dir.appendingPathComponent("noise.dat")
        try Data((0..<4096).map { UInt8(0x80 + ($0 * 37) % 64) }).write(to: noise)
        #expect(throws: WordEmbeddingsError.self) { try Corpus.read(paths: [noise.path]) }
    }

    @Test func vocabularySmallerThanTheDimension() throws {
        let corpus = try Corpus(text: String(repeating: "a b c d e ", count: 10), options: .init(minCount: 1))
        do {
            _ = try PPMISVD.train(corpus, .init(dimension: 10))
            Issue.record("PPMI-SVD accepted 5 words for 10 dimensions")
        } catch let e as WordEmbeddingsError {
            #expect(e.problem.contains("5 words") && e.problem.contains("dimension 10"))
        }
        #expect(throws: WordEmbeddingsError.self) { try SkipGram.train(corpus, .init(dimension: 10)) }
        #expect(throws: WordEmbeddingsError.self) { try Corpus(text: "a b c", options: .init(minCount: 2)) }
        #expect(throws: WordEmbeddingsError.self) { try SkipGram.train(corpus, .init(dimension: 2, epochs: 0)) }
    }
}
