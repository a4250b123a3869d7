import Foundation
import Testing
@testable import GraphData

@Suite struct FileReadingTests {
    func withTemporaryFile(_ bytes: [UInt8], _ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("graphdata-\(UUID().uuidString).tsv").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    /// A CRLF file without a final newline, padded with comment lines to `size` bytes.
    func text(size: Int) -> [UInt8] {
        let edges = Array("a\tb\r\nb\tc\r\nc\ta".utf8)
        var head = [UInt8]()
        while head.count + edges.count < size {
            let remaining = size - edges.count - head.count
            head += remaining == 1 ? [UInt8(ascii: "\n")]
                : Array(("#" + String(repeating: "x", count: min(remaining, 100) - 2) + "\n").utf8)
        }
        precondition(head.count + edges.count == size)
        return head + edges
    }

    @Test(arguments: [15, 1000, 4096, 8192, 4096 - 3, 4096 * 3 - 17, 65_536 + 5])
    func mappedAndReadFilesGiveTheSameGraph(size: Int) throws {
        let bytes = text(size: size)
        try withTemporaryFile(bytes) { path in
            let g = try EdgeList.read(path: path, options: .init(duplicates: .keepAll))
            #expect(g.sourceIDs.ids == ["a", "b", "c"])
            #expect(g.sources == [0, 1, 2] && g.targets == [1, 2, 0])
            let m = try EdgeList.read(data: bytes, options: .init(duplicates: .keepAll))
            #expect(m.sources == g.sources && m.targets == g.targets)
        }
    }

    @Test func errorsFromFilesNameThePath() throws {
        try withTemporaryFile(Array("# h\na b\r\nc".utf8)) { path in
            do {
                _ = try EdgeList.read(path: path)
                Issue.record("expected an error")
            } catch let error as GraphDataError {
                #expect(error.file == path && error.line == 3 && error.lineText == "c")
                #expect(error.description == "\(path):3: too few columns: expected 2 (source, target), found 1: \"c\"")
            }
        }
        do {
            _ = try EdgeList.read(path: FileManager.default.temporaryDirectory.path)
            Issue.record("expected an error")
        } catch {
            #expect(error.problem == .cannotRead(reason: "is a directory"))
        }
    }

    @Test func labelFilesRead() throws {
        try withTemporaryFile(Array("x\tred\nx\tblue\ny\tred".utf8)) { path in
            let t = try LabelTable.read(path: path)
            #expect(t.nodeIDs.ids == ["x", "y"] && t.labelNames.ids == ["red", "blue"])
            #expect(t.labelsPerNode == [[0, 1], [0]])
        }
    }
}
