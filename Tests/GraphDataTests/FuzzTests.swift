import Foundation
import LinearAlgebra
import Testing
@testable import GraphData

/// A seeded property test of the edge-list and label readers over many generated inputs, for
/// a bounded time (about 2 s a test): valid files must read exactly as a reference reading of
/// the same lines says; corrupted ones must either read or fail with an error naming a line of
/// the file, never crash, hang or print raw control bytes.
@Suite struct ReaderFuzzTests {
    static let alphabet: [String] = ["a", "b", "7", "0", "Z\u{FC}", "u\u{308}", "\u{1F600}", "_", "-", ".", "x9", "@"]
    static let separators = ["\t", " ", ",", " , ", "  \t "]

    struct Generated { var text: String; var ids: [String]; var edges: [(String, String)] }

    static func generate(_ rng: inout Xoshiro256) -> Generated {
        var text = "", ids: [String] = [], seen = Set<[UInt8]>(), edges: [(String, String)] = []
        let lines = Int(rng.next() % 40)
        func id() -> String { (0..<(1 + Int(rng.next() % 3))).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }.joined() }
        for _ in 0..<lines {
            switch rng.next() % 8 {
            case 0: text += "# comment \(rng.next())\n"
            case 1: text += (rng.next() % 2 == 0 ? "\n" : " \t\r\n")
            default:
                let (s, t) = (id(), id())
                text += s + separators[Int(rng.next() % UInt64(separators.count))] + t
                text += rng.next() % 3 == 0 ? "\r\n" : "\n"
                for v in [s, t] where seen.insert(Array(v.utf8)).inserted { ids.append(v) }
                edges.append((s, t))
            }
        }
        if rng.next() % 4 == 0 && text.hasSuffix("\n") { text.removeLast() }
        return Generated(text: text, ids: ids, edges: edges)
    }

    static func runFor(seconds: Double, _ body: (inout Xoshiro256) throws -> Void) rethrows -> Int {
        var rng = Xoshiro256(seed: 2026)
        let start = Date()
        var n = 0
        while Date().timeIntervalSince(start) < seconds && n < 200_000 {
            try body(&rng)
            n += 1
        }
        return n
    }

    @Test func validFilesReadExactly() throws {
        let n = try Self.runFor(seconds: 2) { rng in
            let g = Self.generate(&rng)
            let graph = try EdgeList.read(string: g.text, options: .init(duplicates: .keepAll, header: .absent, weighted: .absent, threads: 1))
            #expect((0..<graph.sourceIDs.count).map { graph.sourceIDs.idBytes(at: $0) } == g.ids.map { Array($0.utf8) }, "\(g.text.debugDescription)")
            #expect(graph.edgeCount == g.edges.count)
            for (k, e) in g.edges.enumerated() {
                let got = graph.edgeIDs(k)
                #expect(Array(got.source.utf8) == Array(e.0.utf8) && Array(got.target.utf8) == Array(e.1.utf8))
            }
        }
        #expect(n > 100)
    }

    /// A generated text with one to four random changes (a byte replaced, a huge weight or a
    /// control byte inserted, a byte removed), sometimes behind a byte-order mark.
    static func corrupted(_ rng: inout Xoshiro256) -> [UInt8] {
        var bytes = Array(generate(&rng).text.utf8)
        if rng.next() % 5 == 0 { bytes = [0xEF, 0xBB, 0xBF] + bytes }
        for _ in 0..<(1 + Int(rng.next() % 4)) where !bytes.isEmpty {
            let i = Int(rng.next() % UInt64(bytes.count))
            switch rng.next() % 4 {
            case 0: bytes[i] = UInt8(truncatingIfNeeded: rng.next())
            case 1: bytes.insert(contentsOf: Array("\t1e40".utf8), at: i)
            case 2: bytes.insert(UInt8(rng.next() % 32), at: i)
            default: bytes.remove(at: i)
            }
        }
        return bytes
    }

    @Test func corruptedFilesReadOrFailWithALineNumber() {
        let n = Self.runFor(seconds: 2) { rng in
            let bytes = Self.corrupted(&rng)
            let lineCount = bytes.filter { $0 == 0x0A }.count + 1
            do throws(GraphDataError) {
                let g = try EdgeList.read(data: bytes, name: "f.tsv")
                #expect(g.edgeCount <= lineCount)
            } catch {
                #expect(error.file == "f.tsv")
                if let line = error.line { #expect(line >= 1 && line <= lineCount) }
                #expect(!error.description.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F })
            }
            do throws(GraphDataError) { _ = try LabelTable.read(data: bytes, name: "l.tsv") } catch {
                if let line = error.line { #expect(line >= 1 && line <= lineCount) }
            }
        }
        #expect(n > 100)
    }
}
