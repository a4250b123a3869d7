import Foundation
import Testing
@testable import GraphData

/// Inputs that used to be read silently wrong (issue 12): a byte-order mark in the first id, a
/// bad first line taken for a header, non-positive weights taken as 1, gzip read as text,
/// control bytes echoed raw.
@Suite struct MisreadTests {
    @Test func byteOrderMarkIsNotPartOfTheFirstID() throws {
        let g = try EdgeList.read(data: [0xEF, 0xBB, 0xBF] + Array("a\tb\nb\tc\n".utf8), options: .init(duplicates: .keepAll))
        #expect(g.sourceIDs.ids == ["a", "b", "c"])
        let labels = try LabelTable.read(data: [0xEF, 0xBB, 0xBF] + Array("a\tx\n".utf8))
        #expect(labels.nodeIDs.ids == ["a"])
        // Line numbers are unchanged.
        do {
            _ = try EdgeList.read(data: [0xEF, 0xBB, 0xBF] + Array("a\tb\nc\n".utf8), name: "e.tsv")
            Issue.record("expected an error")
        } catch { #expect(error.line == 2) }
    }

    @Test func aFirstLineIsAHeaderOnlyWhenThatIsCertain() throws {
        // A non-numeric weight on line 1 is the same error as on line 2, with a hint.
        expectError("a b x\nb c 2\n", line: 1, lineText: "a b x", .badWeight("x"))
        expectError("a b 1\nb c x\n", line: 2, lineText: "b c x", .badWeight("x"))
        do {
            _ = try EdgeList.read(string: "a b x\nb c 2\n")
        } catch { #expect(error.description.contains("--header")) }
        // Column names are certain; --header (.present) skips any first line.
        #expect(try EdgeList.read(string: "source target weight\n1 2 3\n").statistics.headerSkipped)
        let asked = try EdgeList.read(string: "a b x\nb c 2\n", options: .init(header: .present))
        #expect(asked.statistics.headerSkipped && asked.edgeCount == 1)
    }

    @Test func nonPositiveAndSubnormalWeightsAreErrorsUnlessAllowed() throws {
        for bad in ["0", "-1", "1e-50", "-0", "1e-40"] {
            expectError("a b 1\nb c \(bad)\n", line: 2, lineText: "b c \(bad)", .nonPositiveWeight(bad))
            let g = try EdgeList.read(string: "a b 1\nb c \(bad)\n", options: .init(allowNonPositiveWeights: true))
            #expect(g.edgeCount == 2)
        }
        #expect(try EdgeList.read(string: "a b 1e-30\n").weights == [1e-30])
    }

    @Test func gzipInputIsNamedAsSuch() throws {
        do {
            _ = try EdgeList.read(data: [0x1F, 0x8B, 0x08, 0x00, 0x41, 0x0A], name: "edges.tsv.gz")
            Issue.record("expected an error")
        } catch {
            #expect(error.problem == .compressed("gzip"))
            #expect(error.description.contains("gzip-compressed"))
        }
        #expect(throws: GraphDataError.self) { try LabelTable.read(data: [0x1F, 0x8B, 0x0A]) }
    }

    @Test func controlBytesAreEscapedInMessages() throws {
        do {
            _ = try EdgeList.read(string: "a\tb\nx\u{1B}[2J\u{07}\n", name: "e.tsv")
            Issue.record("expected an error")
        } catch {
            #expect(error.lineText == "x\u{1B}[2J\u{07}")  // the data keeps the bytes
            #expect(error.description.hasSuffix("\"x\\u{1B}[2J\\u{7}\""))
            #expect(!error.description.unicodeScalars.contains { $0.value < 0x20 && $0 != "\t" })
        }
    }
}
