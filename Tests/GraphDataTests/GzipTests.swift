import Foundation
import LinearAlgebra
import Testing
@testable import GraphData

/// gzip edge lists and label files (issue 12, defect 6): inflated as a stream, read exactly as
/// the plain file, errors naming the line, damaged data refused.
@Suite struct GzipTests {
    /// Writes `text` plain and gzip-compressed (by the system's gzip) into a fresh directory.
    func files(_ text: String, _ body: (_ plain: String, _ gz: String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = dir.appendingPathComponent("edges.tsv").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: plain))
        let gz = try gzip(plain)
        try body(plain, gz)
    }

    func gzip(_ path: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-k", "-f", "-6", path]
        try p.run(); p.waitUntilExit()
        try #require(p.terminationStatus == 0, "gzip failed")
        return path + ".gz"
    }

    /// A seeded edge list with CRLF and LF lines, comments, weights, long ids and a BOM.
    func sampleText(lines: Int, seed: UInt64) -> String {
        var rng = Xoshiro256(seed: seed)
        var text = "\u{FEFF}# generated\n"
        for i in 0..<lines {
            let a = rng.next() % 500, b = rng.next() % 500
            let long = i % 97 == 0 ? String(repeating: "z", count: 300) : ""
            text += "u\(a)\(long)\tv\(b)\t\(1 + rng.next() % 9)" + (i % 3 == 0 ? "\r\n" : "\n")
            if i % 50 == 0 { text += "% comment\n\n" }
        }
        return text
    }

    func expectSame(_ a: EdgeList, _ b: EdgeList) {
        #expect(a.sourceIDs.ids == b.sourceIDs.ids)
        #expect(a.sources == b.sources && a.targets == b.targets && a.weights == b.weights)
        #expect(a.statistics.dataLines == b.statistics.dataLines)
    }

    @Test(arguments: [1, 7, 64, 4096, GzipTextStream.blockSize])
    func aGzipFileReadsAsThePlainFile(blockSize: Int) throws {
        try files(sampleText(lines: 3000, seed: 12)) { plain, gz in
            let options = EdgeListReader.Options(duplicates: .keepAll)
            let expected = try EdgeList.read(path: plain, options: options)
            #expect(expected.edgeCount == 3000 && expected.sourceIDs[0].hasPrefix("u"))
            let streamed = EdgeList(try EdgeListReader.parse(.gzip(GzipTextStream(path: gz, blockSize: blockSize)), options), options)
            expectSame(streamed, expected)
            if blockSize == GzipTextStream.blockSize { expectSame(try EdgeList.read(path: gz, options: options), expected) }
        }
    }

    @Test func headerAndUnweightedInputInGzip() throws {
        try files("source\ttarget\nb\tc\nc\td\n") { _, gz in
            let g = try EdgeList.read(path: gz)
            #expect(g.statistics.headerSkipped && g.edgeCount == 2 && g.weights == nil)
        }
        try files("") { _, gz in
            let g = try EdgeList.read(path: gz)
            #expect(g.edgeCount == 0)
        }
    }

    @Test func errorsInsideAGzipFileNameItsLine() throws {
        var text = ""
        for i in 0..<2000 { text += "a\(i)\tb\(i)\n" }
        text += "only-one-column\n"
        try files(text) { _, gz in
            for blockSize in [5, 100, GzipTextStream.blockSize] {
                do {
                    _ = try EdgeListReader.parse(.gzip(GzipTextStream(path: gz, blockSize: blockSize)), .init())
                    Issue.record("expected an error")
                } catch let error as GraphDataError {
                    #expect(error.file == gz && error.line == 2001 && error.lineText == "only-one-column")
                }
            }
        }
    }

    @Test func concatenatedMembersAreOneText() throws {
        try files("a\tb\nb\tc\n") { plain, gz in
            let first = try Data(contentsOf: URL(fileURLWithPath: gz))
            try Data("c\td\n".utf8).write(to: URL(fileURLWithPath: plain))
            let second = try Data(contentsOf: URL(fileURLWithPath: try gzip(plain)))
            try (first + second).write(to: URL(fileURLWithPath: gz))
            let g = try EdgeList.read(path: gz, options: .init(duplicates: .keepAll))
            #expect(g.sourceIDs.ids == ["a", "b", "c", "d"] && g.edgeCount == 3)
        }
    }

    func expectDamaged(_ bytes: Data, _ name: String, reason: String, line: Int? = nil) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gz-\(UUID().uuidString)-\(name)").path
        try bytes.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try EdgeList.read(path: path)
            Issue.record("\(name): expected an error")
        } catch {
            guard case .damagedCompressedData(let format, let why) = error.problem else {
                Issue.record("\(name): \(error)"); return
            }
            #expect(format == "gzip" && (reason.isEmpty || why.contains(reason)), "\(name): \(why)")
            #expect(error.file == path && error.line != nil)
            if let line { #expect(error.line == line, "\(name)") }
            #expect(error.description.hasPrefix(path + ":") && error.description.contains("damaged gzip data"))
        }
    }

    @Test func damagedGzipIsAnErrorNamingTheFile() throws {
        try files(sampleText(lines: 5000, seed: 3)) { _, gz in
            let whole = try Data(contentsOf: URL(fileURLWithPath: gz))
            try expectDamaged(whole.prefix(whole.count / 2), "truncated", reason: "truncated")
            try expectDamaged(whole.prefix(whole.count - 4), "no-trailer", reason: "truncated")
            var flipped = whole
            flipped[whole.count / 2] ^= 0x55
            try expectDamaged(flipped, "flipped", reason: "")
            var badCRC = whole
            badCRC[whole.count - 6] ^= 0x01
            try expectDamaged(badCRC, "crc", reason: "incorrect data check", line: 5000 + 5000 / 50 * 2 + 2)
            try expectDamaged(whole + Data("garbage\n".utf8), "trailing", reason: "not gzip data")
        }
    }

    @Test func gzipLabelFiles() throws {
        var text = "node\tlabel\n"
        for i in 0..<3000 { text += "n\(i % 700)\tl\(i % 13)\n" }
        try files(text) { plain, gz in
            let a = try LabelTable.read(path: plain), b = try LabelTable.read(path: gz)
            #expect(a.nodeIDs.ids == b.nodeIDs.ids && a.labelNames.ids == b.labelNames.ids)
            #expect(a.rowOffsets == b.rowOffsets && a.labelIndices == b.labelIndices)
            #expect(b.statistics.headerSkipped && b.statistics.dataLines == 3000)
        }
        try files("a\tx\nb\n") { _, gz in
            do { _ = try LabelTable.read(path: gz); Issue.record("expected an error") } catch let error as GraphDataError {
                #expect(error.file == gz && error.line == 2)
            }
        }
    }
}
