import Foundation
import Testing
@testable import GraphData
import LinearAlgebra

/// The binary CSR format: round trip, 64-bit layout arithmetic, and clear errors for damaged files.
@Suite struct GraphCSRFileTests {
    static let text = "a\tb\na\tc\nb\tc\nc\ta\nd\ta\nd\tb\nd\tc\ne\td\n"

    func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("csr-\(getpid())-\(UInt32.random(in: 0 ... .max))-\(name)").path
    }

    @Test(arguments: [false, true])
    func roundTripKeepsArraysIdsAndTranspose(weighted: Bool) throws {
        let input = weighted ? Self.text.replacingOccurrences(of: "\n", with: "\t2.5\n") : Self.text
        let edges = try EdgeList.read(string: input)
        let path = temporary("g.csr")
        defer { unlink(path) }
        try GraphCSRFile.write(edges, to: path)
        #expect(GraphCSRFile.isCSRFile(path: path))
        let file = try GraphCSRFile(path: path)
        #expect(file.nodeCount == edges.nodeCount && file.edgeCount == edges.edgeCount && file.directed && file.weighted == weighted)
        let csr: (rowOffsets: [Int64], columnIndices: [Int32], values: [Float]) = edges.adjacencyCSR()
        #expect(Array(UnsafeBufferPointer(start: file.rowOffsets, count: file.nodeCount + 1)) == csr.rowOffsets)
        #expect(Array(UnsafeBufferPointer(start: file.columnIndices, count: file.edgeCount)) == csr.columnIndices)
        #expect(file.csrMatrix().values == csr.values)
        #expect((0..<file.nodeCount).map(file.id) == edges.sourceIDs.ids)
        // The stored transpose is the CSC form of the same matrix.
        let a = try CSRMatrix<Float>(rows: edges.nodeCount, columns: edges.nodeCount, rowOffsets: csr.rowOffsets,
                                     columnIndices: csr.columnIndices, values: csr.values)
        let t = a.toCSC()
        #expect(Array(UnsafeBufferPointer(start: file.columnOffsets, count: file.nodeCount + 1)) == t.columnOffsets)
        #expect(Array(UnsafeBufferPointer(start: file.rowIndices, count: file.edgeCount)) == t.rowIndices)
        #expect(file.transposeValues.map { Array(UnsafeBufferPointer(start: $0, count: file.edgeCount)) } == (weighted ? t.values : nil))
        #expect(file.csrMatrix() == a)
    }

    @Test func layoutUsesSixtyFourBitOffsetsPastTwoToThe31() {
        // 3e9 edges, as a 10-node graph would never have: only the arithmetic is exercised.
        let nnz = 3_000_000_000
        let layout = GraphCSRFile.Layout(nodes: 10, nonzeros: nnz, weighted: true, idBytes: 100)
        #expect(layout.columnIndices == 64 + 128)
        #expect(layout.values == layout.columnIndices + 4 * nnz)      // 12e9: past 2^32
        #expect(layout.columnOffsets == layout.values + 4 * nnz)
        #expect(layout.end > 3 * 4 * nnz && layout.end % 64 == 0)
    }

    /// Writes a valid file, damages it with `damage`, and returns the error's text.
    func error(_ damage: (inout [UInt8]) -> Void, verify: Bool = true) throws -> String {
        let path = temporary("bad.csr")
        defer { unlink(path) }
        try GraphCSRFile.write(try EdgeList.read(string: Self.text), to: path)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        damage(&bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try GraphCSRFile(path: path, verifyChecksum: verify)
            return "no error"
        } catch {
            #expect(error.description.hasPrefix(path), "the error names the file: \(error)")
            return error.description
        }
    }

    @Test func damagedFilesGiveErrorsNamingFileAndProblem() throws {
        #expect(try error { $0.removeLast(64) }.contains("truncated"))
        #expect(try error { $0.removeLast($0.count - 40) }.contains("shorter than the 64-byte header"))
        #expect(try error { $0[0] = UInt8(ascii: "X") }.contains("not a binary CSR file"))
        #expect(try error { $0[8] = 9 }.contains("version 9"))
        #expect(try error { $0.append(contentsOf: [0, 0, 0]) }.contains("after the end"))
        // A count past 2^31 in the header: the 64-bit size arithmetic reports it, nothing is allocated.
        #expect(try error { bytes in
            withUnsafeBytes(of: UInt64(3_000_000_000).littleEndian) { for k in 0..<8 { bytes[32 + k] = $0[k] } }
        }.contains("corrupt header"))
        // A flipped bit in the column indices: the checksum catches it; without the checksum the
        // bounds check still refuses an index outside the graph.
        let indexByte = 64 + 64 * ((8 * 6 + 63) / 64)
        #expect(try error { $0[indexByte] ^= 1 }.contains("checksum mismatch"))
        #expect(try error({ $0[indexByte + 3] = 0x40 }, verify: false).contains("outside 0..<5"))
    }

    @Test func aTextFileIsNotTakenForACSRFile() throws {
        let path = temporary("edges.tsv")
        defer { unlink(path) }
        try Self.text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(!GraphCSRFile.isCSRFile(path: path))
        #expect(throws: GraphDataError.self) { try GraphCSRFile(path: path) }
    }

    /// The write goes through the package's atomic writer: a rewrite replaces the file whole and
    /// leaves no temporary; a file that cannot be written is an error naming it, and an old file
    /// in its place is kept.
    @Test func writesAreAtomicAndFailuresNameTheFile() throws {
        let dir = temporary("dir")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/g.csr"
        try GraphCSRFile.write(try EdgeList.read(string: "a\tb\n"), to: path)
        try GraphCSRFile.write(try EdgeList.read(string: Self.text), to: path)
        #expect(try GraphCSRFile(path: path).edgeCount == 8)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["g.csr"])
        let missing = dir + "/none/g.csr"
        let error = #expect(throws: GraphDataError.self) { try GraphCSRFile.write(try EdgeList.read(string: Self.text), to: missing) }
        #expect(error?.file == missing)
        #expect("\(error.map { "\($0)" } ?? "")".contains("its directory \(dir)/none does not exist"))
        // A directory where the file should go: the rename fails, the directory and the old file stay.
        try FileManager.default.createDirectory(atPath: dir + "/taken.csr", withIntermediateDirectories: false)
        #expect(throws: GraphDataError.self) { try GraphCSRFile.write(try EdgeList.read(string: Self.text), to: dir + "/taken.csr") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["g.csr", "taken.csr"])
        #expect(try GraphCSRFile(path: path).edgeCount == 8)
    }
}
