import Foundation
import LinearAlgebra
import Testing
@testable import EmbeddingStore

/// A fresh empty directory under the system temporary directory.
func makeScratchDirectory(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("embeddingstore-tests-\(label)-\(UInt32.random(in: 0 ... .max))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct NPYTests {
    @Test func headerMatchesNumpyByteForByte() {
        // np.save(f, np.arange(12, dtype=np.float32).reshape(3, 4)) with numpy 2.4.6 starts with
        // these 128 bytes: magic, version 1.0, header length 0x76, the dict, spaces, newline.
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"
        var expected: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00]
        expected += Array(dict.utf8)
        expected += [UInt8](repeating: 0x20, count: 128 - 1 - expected.count) + [0x0A]
        let header = NPY.headerBytes(descr: "<f4", rows: 3, columns: 4)
        #expect(header == expected)
        #expect(header.count % 64 == 0)
    }

    @Test func headerParsesAndDataIsAligned() throws {
        for (rows, columns) in [(0, 0), (1, 1), (3, 4), (1_000_000, 64), (123_456_789, 1024)] {
            let bytes = NPY.headerBytes(descr: "<f8", rows: rows, columns: columns)
            let header = try NPY.parseHeader(bytes)
            #expect(header.descr == "<f8")
            #expect(header.shape == [rows, columns])
            #expect(!header.fortranOrder)
            #expect(header.dataOffset == bytes.count)
            #expect(header.dataOffset % 64 == 0)
        }
    }

    @Test func parsesOtherWritersHeaders() throws {
        // Double quotes, no trailing comma, Python 2 long integers, version 2.0 length field.
        let dict = "{\"descr\": \"<f4\", \"shape\": (2L, 5L), \"fortran_order\": True}\n"
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x02, 0x00]
        let length = dict.utf8.count
        bytes += [UInt8(length & 0xFF), UInt8(length >> 8), 0, 0] + Array(dict.utf8)
        let header = try NPY.parseHeader(bytes)
        #expect(header.version.major == 2)
        #expect(header.shape == [2, 5])
        #expect(header.fortranOrder)
        #expect(header.dataOffset == 12 + length)
    }

    @Test func malformedHeadersThrow() {
        #expect(throws: NPYError.self) { try NPY.parseHeader(Array("not numpy at all".utf8)) }
        var bad = NPY.headerBytes(descr: "<f4", rows: 2, columns: 2)
        bad[6] = 9 // version 9.0
        #expect(throws: NPYError.self) { try NPY.parseHeader(bad) }
        let dict = "{'descr': '<f4', 'shape': (2, 2), }\n" // no fortran_order
        let noOrder: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(dict.utf8.count), 0] + Array(dict.utf8)
        #expect(throws: NPYError.self) { try NPY.parseHeader(noOrder) }
    }

    @Test(arguments: [(0, 3), (1, 1), (5, 3), (70, 1000), (1000, 70)])
    func roundTripFloatAndDouble(rows: Int, columns: Int) throws {
        let dir = try makeScratchDirectory("npy")
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = Matrix<Float>.gaussian(rows: rows, columns: columns, seed: 11)
        let d = Matrix<Double>.gaussian(rows: rows, columns: columns, seed: 12)
        let fu = dir.appendingPathComponent("f.npy"), du = dir.appendingPathComponent("d.npy")
        try NPY.write(f, to: fu)
        try NPY.write(d, to: du)
        #expect(try NPY.read(Float.self, from: fu) == f)
        #expect(try NPY.read(Double.self, from: du) == d)
        guard case .float64(let any) = try NPY.readAny(from: du) else {
            Issue.record("readAny returned the wrong dtype"); return
        }
        #expect(any == d)
        // The data is C order: element (i, j) at offset dataOffset + 4 * (i * columns + j).
        let raw = try Data(contentsOf: fu)
        let header = try NPY.readHeader(from: fu)
        #expect(raw.count == header.dataOffset + 4 * rows * columns)
        if rows > 1 && columns > 1 {
            let (i, j) = (rows - 1, 1)
            let offset = header.dataOffset + 4 * (i * columns + j)
            let bits = raw[offset..<(offset + 4)].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
            #expect(Float(bitPattern: bits) == f[i, j])
        }
    }

    @Test func readsFortranOrderFiles() throws {
        let dir = try makeScratchDirectory("fortran")
        defer { try? FileManager.default.removeItem(at: dir) }
        let m = Matrix<Double>(rows: [[1, 2, 3], [4, 5, 6]])
        let dict = "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }"
        var header: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 0, 0] + Array(dict.utf8)
        while (header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        header[8] = UInt8(header.count - 10)
        var data = Data(header)
        m.elements.withUnsafeBytes { data.append(contentsOf: $0) } // column-major = Fortran order
        let url = dir.appendingPathComponent("f.npy")
        try data.write(to: url)
        #expect(try NPY.read(Double.self, from: url) == m)
    }

    @Test func wrongDtypeShapeAndTruncationThrow() throws {
        let dir = try makeScratchDirectory("npybad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("d.npy")
        try NPY.write(Matrix<Double>.gaussian(rows: 4, columns: 3, seed: 1), to: url)
        #expect(throws: NPYError.self) { try NPY.read(Float.self, from: url) }
        // Truncate the data by one element.
        var data = try Data(contentsOf: url)
        data.removeLast(8)
        try data.write(to: url)
        let error = #expect(throws: NPYError.self) { try NPY.read(Double.self, from: url) }
        #expect(error?.problem.contains("truncated") == true)
        // A 1-D array.
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }"
        var header: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(dict.utf8.count + 1), 0] + Array(dict.utf8) + [0x0A]
        header += [UInt8](repeating: 0, count: 16)
        try Data(header).write(to: url)
        let shapeError = #expect(throws: NPYError.self) { try NPY.read(Float.self, from: url) }
        #expect(shapeError?.problem.contains("2-D") == true)
        #expect(throws: NPYError.self) { try NPY.read(Float.self, from: dir.appendingPathComponent("missing.npy")) }
    }
}

@Suite struct FileChecksumTests {
    @Test func standardVectorsFromFiles() throws {
        let dir = try makeScratchDirectory("sha")
        defer { try? FileManager.default.removeItem(at: dir) }
        let vectors: [([UInt8], String)] = [
            ([], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (Array("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            ([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
            // Two and a bit of the reader's 1 MiB chunks (digest from Python's hashlib).
            ([UInt8](repeating: UInt8(ascii: "a"), count: 2_500_000), "38a637965059125eeb67f54c30e7f48a61859a467a800ba09740ba48a924f2b9"),
        ]
        for (k, (bytes, digest)) in vectors.enumerated() {
            let url = dir.appendingPathComponent("v\(k)")
            try Data(bytes).write(to: url)
            #expect(try FileChecksum.sha256(of: url) == digest)
        }
        #expect(throws: EmbeddingStoreError.self) { try FileChecksum.sha256(of: dir.appendingPathComponent("missing")) }
    }
}

/// `StreamedFile`'s direct-I/O path (the large tables' `vectors.npy`): the same bytes as plain
/// writes whatever the sizes of the appends and of the file (block boundaries, the unaligned
/// tail), and every whole 4 KiB block written directly where the file system allows it.
@Suite struct StreamedFileTests {
    /// Whether the scratch directory's file system accepts `O_DIRECT` (ext4 does, so CI's does).
    static func directSupported(in directory: URL) -> Bool {
        guard StreamedFile.directFlag != 0 else { return false }
        let path = directory.appendingPathComponent("probe").path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | StreamedFile.directFlag, 0o644)
        defer { unlink(path) }
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }

    @Test(arguments: [0, 1, 127, 4095, 4096, 4097, 4 << 20, (4 << 20) + 1, (9 << 20) + 4096 * 3 + 123])
    func directWritesTheSameBytes(size: Int) throws {
        let directory = try makeScratchDirectory("streamed-\(size)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var rng = Xoshiro256(seed: UInt64(size))
        let bytes = (0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        // Appends of uneven sizes (1 byte to 3 MiB), as the table writer's blocks and header are.
        var chunks: [Range<Int>] = []
        var start = 0
        while start < size {
            let n = min(size - start, Int(rng.next() % 3_000_000) + 1)
            chunks.append(start..<start + n)
            start += n
        }
        let plainURL = directory.appendingPathComponent("plain"), directURL = directory.appendingPathComponent("direct")
        let plainDirect = try StreamedFile.write(plainURL) { out in
            for c in chunks { try bytes[c].withUnsafeBytes { try out.append($0) } }
        }
        let directBytes = try StreamedFile.write(directURL, direct: true) { out in
            for c in chunks { try bytes[c].withUnsafeBytes { try out.append($0) } }
        }
        #expect(plainDirect == 0)
        #expect(try Data(contentsOf: plainURL) == Data(bytes))
        #expect(try Data(contentsOf: directURL) == Data(bytes))
        if Self.directSupported(in: directory) {
            #expect(directBytes == size / 4096 * 4096)
        } else {
            #expect(directBytes == 0)
        }
    }
}
