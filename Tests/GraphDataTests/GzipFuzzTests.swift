import CZlib
import Foundation
import LinearAlgebra
import Testing
@testable import GraphData

/// The fuzz test of ``ReaderFuzzTests`` through the gzip path (issue 12's "keep it that way"):
/// seeded corrupted texts, compressed by zlib at random levels (one member or two), read back
/// from a file, intact or with the compressed stream damaged (cut short, a byte flipped, bytes
/// inserted or appended), in blocks of random size. An intact stream must read exactly as the
/// plain text does (the same graph or the same error); a damaged one must read as the plain
/// text or fail with an error naming the file and a line of the text, never crash or hang.
@Suite struct GzipFuzzTests {
    /// `bytes` as one gzip member compressed at `level` (zlib's deflate with the gzip wrapper).
    static func gzip(_ bytes: [UInt8], level: Int32) -> [UInt8] {
        var stream = z_stream()
        precondition(czlib_deflate_init_gzip(&stream, level) == Z_OK)
        defer { deflateEnd(&stream) }
        var input = bytes
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))) + 64)
        let produced = input.withUnsafeMutableBufferPointer { inp in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = inp.baseAddress; stream.avail_in = uInt(inp.count)
                stream.next_out = out.baseAddress; stream.avail_out = uInt(out.count)
                precondition(deflate(&stream, Z_FINISH) == Z_STREAM_END)
                return out.count - Int(stream.avail_out)
            }
        }
        return Array(output.prefix(produced))
    }

    enum Damage: CaseIterable { case none, truncated, flipped, inserted, appended }

    /// The compressed bytes of `text` with `damage` done to them.
    static func compressed(_ text: [UInt8], _ damage: Damage, _ rng: inout Xoshiro256) -> [UInt8] {
        let level = Int32(rng.next() % 10)
        // Two members (as `cat a.gz b.gz` makes) read as one text.
        let cut = damage == .none && rng.next() % 3 == 0 ? Int(rng.next() % UInt64(text.count + 1)) : text.count
        var bytes = gzip(Array(text[..<cut]), level: level)
        if cut < text.count { bytes += gzip(Array(text[cut...]), level: level) }
        // Damage past the magic bytes, so that the file is still taken for gzip.
        let position = 2 + Int(rng.next() % UInt64(bytes.count - 2))
        switch damage {
        case .none: break
        case .truncated: bytes.removeSubrange(position...)
        case .flipped: bytes[position] ^= UInt8(1 + rng.next() % 255)
        case .inserted: bytes.insert(contentsOf: (0..<(1 + rng.next() % 8)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: position)
        case .appended: bytes += (0..<(1 + rng.next() % 8)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        }
        return bytes
    }

    /// Checks an error of the gzip read: it names the file (and a line, when it has one, from
    /// 1), and has no raw control bytes.
    static func expectClear(_ error: GraphDataError, path: String, _ context: String) {
        #expect(error.file == path, "\(context)")
        if let line = error.line { #expect(line >= 1, "\(context): line \(line)") }
        #expect(error.description.hasPrefix(path + ":"), "\(context): \(error)")
        #expect(!error.description.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }, "\(context)")
    }

    /// Reads `read()` and compares with the plain reading of the text. An intact stream: the
    /// same value or the same failure (line and problem). Cut short or followed by garbage: a
    /// damaged-data error within the text's lines, or the text's own error before the damage
    /// (the plain reading's); never a value. A flipped or inserted byte: the plain value, or
    /// any clear error (the stream may inflate to other text before zlib or the CRC notices).
    static func check<T>(_ damage: Damage, plain: Result<T, GraphDataError>, path: String, lines: Int, context: String,
                         same: (T, T) -> Bool, _ read: () throws(GraphDataError) -> T) {
        let got: Result<T, GraphDataError>
        do throws(GraphDataError) { got = .success(try read()) } catch { got = .failure(error) }
        switch (got, plain) {
        case (.success(let a), .success(let b)):
            #expect(same(a, b), "\(context): read differently from the plain text")
            #expect(damage == .none || damage == .flipped || damage == .inserted, "\(context): damage \(damage) went unnoticed")
        case (.success, .failure(let error)):
            Issue.record("\(context): the plain text fails (\(error)) but the gzip file reads")
        case (.failure(let error), let plain):
            expectClear(error, path: path, context)
            var asPlain = false
            if case .failure(let p) = plain { asPlain = error.line == p.line && error.problem == p.problem }
            var damaged = false
            if case .damagedCompressedData = error.problem { damaged = true }
            switch damage {
            case .none:
                #expect(asPlain, "\(context): the intact gzip file fails with \(error), the plain text with \(plain)")
            case .truncated, .appended:
                #expect(damaged || asPlain, "\(context): \(error), the plain text: \(plain)")
                if damaged, let line = error.line { #expect(line <= lines + 1, "\(context): line \(line) of \(lines)") }
            case .flipped, .inserted:
                break
            }
        }
    }

    @Test func gzipInputsReadAsTheirTextOrFailClearly() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gzfuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("f.tsv.gz").path
        var counts: [Damage: Int] = [:]
        let n = try ReaderFuzzTests.runFor(seconds: 3) { rng in
            let text = rng.next() % 2 == 0 ? ReaderFuzzTests.corrupted(&rng) : Array(ReaderFuzzTests.generate(&rng).text.utf8)
            let damage = Damage.allCases[Int(rng.next() % UInt64(Damage.allCases.count))]
            counts[damage, default: 0] += 1
            try Data(Self.compressed(text, damage, &rng)).write(to: URL(fileURLWithPath: path))
            let lines = text.filter { $0 == 0x0A }.count + 1
            let blockSize = [1, 7, 64, 4096, GzipTextStream.blockSize][Int(rng.next() % 5)]
            let context = "case \(counts.values.reduce(0, +)) (\(damage), block \(blockSize)): \(String(decoding: text, as: UTF8.self).debugDescription)"

            let options = EdgeListReader.Options(duplicates: .keepAll)
            let plainGraph: Result<EdgeList, GraphDataError>
            do throws(GraphDataError) { plainGraph = .success(try EdgeList.read(data: text, name: path, options: options)) } catch { plainGraph = .failure(error) }
            if case .failure(let e) = plainGraph, case .compressed = e.problem { return }   // text that is itself gzip
            Self.check(damage, plain: plainGraph, path: path, lines: lines, context: "edges " + context, same: {
                $0.sourceIDs.ids == $1.sourceIDs.ids && $0.sources == $1.sources && $0.targets == $1.targets && $0.weights == $1.weights
            }) { () throws(GraphDataError) -> EdgeList in
                EdgeList(try EdgeListReader.parse(.gzip(GzipTextStream(path: path, blockSize: blockSize)), options), options)
            }

            let plainLabels: Result<LabelTable, GraphDataError>
            do throws(GraphDataError) { plainLabels = .success(try LabelTable.read(data: text, name: path)) } catch { plainLabels = .failure(error) }
            Self.check(damage, plain: plainLabels, path: path, lines: lines, context: "labels " + context, same: {
                $0.nodeIDs.ids == $1.nodeIDs.ids && $0.labelNames.ids == $1.labelNames.ids
                    && $0.rowOffsets == $1.rowOffsets && $0.labelIndices == $1.labelIndices
            }) { () throws(GraphDataError) -> LabelTable in try LabelTable.read(path: path) }
        }
        #expect(n > 50 && Damage.allCases.allSatisfy { counts[$0, default: 0] > 5 }, "\(n) cases: \(counts)")
    }
}
