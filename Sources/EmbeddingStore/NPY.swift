import Foundation
import LinearAlgebra

/// A scalar type that has a little-endian numpy dtype: `Float` (`'<f4'`) and `Double` (`'<f8'`).
public protocol NPYScalar: BLASScalar {
    /// The numpy `descr` string of this type, e.g. `"<f4"`.
    static var npyDescr: String { get }
}

extension Float: NPYScalar {
    /// `"<f4"`: little-endian IEEE single precision.
    public static var npyDescr: String { "<f4" }
}

extension Double: NPYScalar {
    /// `"<f8"`: little-endian IEEE double precision.
    public static var npyDescr: String { "<f8" }
}

/// The parsed header of a `.npy` file.
public struct NPYHeader: Sendable, Equatable {
    /// The format version `(major, minor)`, e.g. `(1, 0)`.
    public var version: (major: UInt8, minor: UInt8)
    /// The numpy dtype string, e.g. `"<f4"`.
    public var descr: String
    /// Whether the data is stored in Fortran (column-major) order.
    public var fortranOrder: Bool
    /// The array's shape.
    public var shape: [Int]
    /// The byte offset at which the data starts.
    public var dataOffset: Int

    /// Compares every field.
    public static func == (lhs: NPYHeader, rhs: NPYHeader) -> Bool {
        lhs.version == rhs.version && lhs.descr == rhs.descr && lhs.fortranOrder == rhs.fortranOrder
            && lhs.shape == rhs.shape && lhs.dataOffset == rhs.dataOffset
    }
}

/// A 2-D floating-point array read from a `.npy` file whose dtype was not known in advance.
public enum NPYMatrix: Sendable {
    /// A `'<f4'` array.
    case float32(Matrix<Float>)
    /// A `'<f8'` array.
    case float64(Matrix<Double>)
}

/// A malformed, truncated or unreadable `.npy` file: the package's one file error type
/// (``EmbeddingStoreError``), naming the file and the problem.
public typealias NPYError = EmbeddingStoreError

/// Reader and writer for numpy's `.npy` format (versions 1.0, 2.0 and 3.0 on read; 1.0, or 2.0
/// when the header does not fit in 65535 bytes, on write) for 2-D `float32` and `float64` arrays.
///
/// Files written here load with `numpy.load` as C-ordered arrays: the header is
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }` padded with spaces and a
/// newline so that the data starts at a multiple of 64 bytes. `Matrix` (LinearAlgebra) is column-major, so the
/// writer transposes in row blocks on the way out and the reader transposes on the way in
/// (a `fortran_order: True` file is read without the transpose).
public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59] // \x93NUMPY

    /// The header bytes (magic, version, length, dictionary, padding) for a C-ordered 2-D array.
    /// The result's length is a multiple of 64.
    public static func headerBytes(descr: String, rows: Int, columns: Int) -> [UInt8] {
        let dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        var version: UInt8 = 1
        var prefix = magic.count + 2 + 2
        var total = prefix + dict.utf8.count + 1
        var padded = (total + 63) / 64 * 64
        if padded - prefix > Int(UInt16.max) {
            version = 2
            prefix = magic.count + 2 + 4
            total = prefix + dict.utf8.count + 1
            padded = (total + 63) / 64 * 64
        }
        let headerLength = padded - prefix
        var bytes = magic
        bytes.append(version)
        bytes.append(0)
        if version == 1 {
            bytes.append(UInt8(headerLength & 0xFF))
            bytes.append(UInt8(headerLength >> 8))
        } else {
            for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8((headerLength >> shift) & 0xFF)) }
        }
        bytes.append(contentsOf: Array(dict.utf8))
        bytes.append(contentsOf: [UInt8](repeating: 0x20, count: padded - total))
        bytes.append(0x0A)
        return bytes
    }

    /// Parses the header at the start of `bytes` (at least the first few hundred bytes of a file).
    /// - Throws: ``NPYError`` naming `path` when the magic string, version, length or dictionary
    ///   is malformed.
    public static func parseHeader(_ bytes: [UInt8], path: String = "<memory>") throws -> NPYHeader {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw NPYError(path: path, problem: "not a .npy file (missing \\x93NUMPY magic string)")
        }
        let major = bytes[6], minor = bytes[7]
        let headerLength: Int
        let prefix: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            prefix = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw NPYError(path: path, problem: "truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            prefix = 12
        default:
            throw NPYError(path: path, problem: "unsupported .npy format version \(major).\(minor)")
        }
        guard bytes.count >= prefix + headerLength else {
            throw NPYError(path: path, problem: "truncated .npy header: \(headerLength) header bytes announced, \(bytes.count - prefix) present")
        }
        guard let text = String(bytes: bytes[prefix..<(prefix + headerLength)], encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw NPYError(path: path, problem: "header is not text")
        }
        var parser = PythonLiteralParser(text: text, path: path)
        let dict = try parser.parseHeaderDictionary()
        guard case .string(let descr)? = dict["descr"] else {
            throw NPYError(path: path, problem: "header has no 'descr' string")
        }
        guard case .bool(let fortran)? = dict["fortran_order"] else {
            throw NPYError(path: path, problem: "header has no 'fortran_order' boolean")
        }
        guard case .tuple(let shape)? = dict["shape"] else {
            throw NPYError(path: path, problem: "header has no 'shape' tuple")
        }
        return NPYHeader(version: (major, minor), descr: descr, fortranOrder: fortran, shape: shape,
                         dataOffset: prefix + headerLength)
    }

    /// Reads only the header of the file at `url`.
    /// - Throws: ``NPYError`` if the file cannot be opened or its header is malformed.
    public static func readHeader(from url: URL) throws -> NPYHeader {
        let handle = try openForReading(url)
        defer { try? handle.close() }
        let head = try readUpTo(handle, count: 4096, path: url.path)
        if head.count >= 12, head[6] >= 2 {
            let length = Int(head[8]) | Int(head[9]) << 8 | Int(head[10]) << 16 | Int(head[11]) << 24
            if length + 12 > head.count {
                try handle.seek(toOffset: 0)
                return try parseHeader(try readUpTo(handle, count: length + 12, path: url.path), path: url.path)
            }
        }
        return try parseHeader(head, path: url.path)
    }

    /// Writes `matrix` as a C-ordered 2-D `.npy` array of the matrix's own type.
    ///
    /// The file is written in place (callers wanting atomicity write to a temporary name and rename,
    /// as ``EmbeddingTable/write(to:)`` does). Cost: O(rows * columns) time; O(64K elements) extra
    /// memory, the transpose being done in row blocks.
    /// - Throws: ``NPYError`` if the file cannot be created or written.
    public static func write<S: NPYScalar>(_ matrix: Matrix<S>, to url: URL) throws {
        let path = url.path
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw NPYError(path: path, problem: "cannot create file")
        }
        let handle: FileHandle
        do { handle = try FileHandle(forWritingTo: url) } catch {
            throw NPYError(path: path, problem: "cannot open for writing: \(error.localizedDescription)")
        }
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: Data(headerBytes(descr: S.npyDescr, rows: matrix.rows, columns: matrix.columns)))
            try writeRowMajor(matrix, to: handle)
            try handle.synchronize()
        } catch let error as NPYError {
            throw error
        } catch {
            throw NPYError(path: path, problem: "write failed: \(error.localizedDescription)")
        }
    }

    /// Streams `matrix`'s elements in C (row-major) order, little-endian, in blocks of rows.
    static func writeRowMajor<S: NPYScalar>(_ matrix: Matrix<S>, to handle: FileHandle) throws {
        let m = matrix.rows, n = matrix.columns
        guard m > 0, n > 0 else { return }
        let blockRows = max(1, min(m, (1 << 16) / n))
        var buffer = [S](repeating: 0, count: blockRows * n)
        try matrix.elements.withUnsafeBufferPointer { src in
            var r0 = 0
            while r0 < m {
                let r1 = min(m, r0 + blockRows)
                let count = (r1 - r0) * n
                buffer.withUnsafeMutableBufferPointer { dst in
                    for j in 0..<n {
                        let column = src.baseAddress! + j * m
                        for i in r0..<r1 { dst[(i - r0) * n + j] = column[i] }
                    }
                }
                let data = buffer.withUnsafeBytes { raw in
                    Data(bytes: raw.baseAddress!, count: count * MemoryLayout<S>.stride)
                }
                try handle.write(contentsOf: data)
                r0 = r1
            }
        }
    }

    /// Reads a 2-D `.npy` array whose dtype must be `S`'s (`'<f4'` for `Float`, `'<f8'` for `Double`).
    ///
    /// Cost: O(rows * columns) time and one extra copy of the data during the transpose.
    /// - Throws: ``NPYError`` if the file is missing, malformed, not 2-D, of another dtype, or
    ///   shorter than its shape requires.
    public static func read<S: NPYScalar>(_ type: S.Type = S.self, from url: URL) throws -> Matrix<S> {
        let header = try readHeader(from: url)
        guard header.descr == S.npyDescr else {
            throw NPYError(path: url.path, problem: "dtype is '\(header.descr)', expected '\(S.npyDescr)' (\(S.self))")
        }
        return try readData(header: header, from: url)
    }

    /// Reads a 2-D `float32` or `float64` `.npy` array, whichever the file holds.
    /// - Throws: ``NPYError`` as ``read(_:from:)`` does, and for any other dtype.
    public static func readAny(from url: URL) throws -> NPYMatrix {
        let header = try readHeader(from: url)
        switch header.descr {
        case Float.npyDescr: return .float32(try readData(header: header, from: url))
        case Double.npyDescr: return .float64(try readData(header: header, from: url))
        default:
            throw NPYError(path: url.path, problem: "dtype '\(header.descr)' is not supported (only '<f4' and '<f8')")
        }
    }

    static func readData<S: NPYScalar>(header: NPYHeader, from url: URL) throws -> Matrix<S> {
        let path = url.path
        guard header.shape.count == 2 else {
            throw NPYError(path: path, problem: "shape \(header.shape) is not 2-D")
        }
        let rows = header.shape[0], columns = header.shape[1]
        guard rows >= 0, columns >= 0 else { throw NPYError(path: path, problem: "negative shape \(header.shape)") }
        let (count, overflow) = rows.multipliedReportingOverflow(by: columns)
        guard !overflow else { throw NPYError(path: path, problem: "shape \(header.shape) overflows") }
        let byteCount = count * MemoryLayout<S>.stride
        let handle = try openForReading(url)
        defer { try? handle.close() }
        let fileSize: UInt64
        do { fileSize = try handle.seekToEnd() } catch {
            throw NPYError(path: path, problem: "cannot determine size: \(error.localizedDescription)")
        }
        guard fileSize >= UInt64(header.dataOffset + byteCount) else {
            throw NPYError(path: path, problem: "truncated: shape \(header.shape) needs \(byteCount) data bytes, file has \(Int(fileSize) - header.dataOffset)")
        }
        if fileSize > UInt64(header.dataOffset + byteCount) {
            throw NPYError(path: path, problem: "\(Int(fileSize) - header.dataOffset - byteCount) trailing bytes after the \(header.shape) array")
        }
        do { try handle.seek(toOffset: UInt64(header.dataOffset)) } catch {
            throw NPYError(path: path, problem: "seek failed: \(error.localizedDescription)")
        }
        var raw = [S](repeating: 0, count: count)
        try raw.withUnsafeMutableBytes { dst in
            var offset = 0
            while offset < byteCount {
                let chunk = min(byteCount - offset, 1 << 26)
                let data = try readUpTo(handle, count: chunk, path: path)
                guard data.count == chunk else {
                    throw NPYError(path: path, problem: "short read at data byte \(offset)")
                }
                data.withUnsafeBytes { src in
                    (dst.baseAddress! + offset).copyMemory(from: src.baseAddress!, byteCount: chunk)
                }
                offset += chunk
            }
        }
        if header.fortranOrder {
            return Matrix(rows: rows, columns: columns, elements: raw)
        }
        // C order: `raw` is the column-major storage of the columns x rows transpose.
        return Matrix(rows: columns, columns: rows, elements: raw).transposed()
    }

    static func openForReading(_ url: URL) throws -> FileHandle {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw NPYError(path: url.path, problem: "file does not exist")
        }
        do { return try FileHandle(forReadingFrom: url) } catch {
            throw NPYError(path: url.path, problem: "cannot open: \(error.localizedDescription)")
        }
    }

    static func readUpTo(_ handle: FileHandle, count: Int, path: String) throws -> [UInt8] {
        do {
            var result = [UInt8]()
            result.reserveCapacity(count)
            while result.count < count {
                guard let data = try handle.read(upToCount: count - result.count), !data.isEmpty else { break }
                result.append(contentsOf: data)
            }
            return result
        } catch {
            throw NPYError(path: path, problem: "read failed: \(error.localizedDescription)")
        }
    }
}

/// A parser for the Python literal subset used in `.npy` headers: a dict with string keys whose
/// values are strings, `True`/`False` or tuples of integers.
struct PythonLiteralParser {
    enum Value: Equatable {
        case string(String)
        case bool(Bool)
        case tuple([Int])
    }

    let scalars: [Unicode.Scalar]
    let path: String
    var position = 0

    init(text: String, path: String) {
        self.scalars = Array(text.unicodeScalars)
        self.path = path
    }

    mutating func fail(_ message: String) -> NPYError {
        NPYError(path: path, problem: "malformed header at character \(position): \(message)")
    }

    mutating func skipSpace() {
        while position < scalars.count, scalars[position].properties.isWhitespace { position += 1 }
    }

    mutating func expect(_ c: Unicode.Scalar) throws {
        skipSpace()
        guard position < scalars.count, scalars[position] == c else { throw fail("expected '\(c)'") }
        position += 1
    }

    mutating func peek() -> Unicode.Scalar? {
        skipSpace()
        return position < scalars.count ? scalars[position] : nil
    }

    mutating func parseHeaderDictionary() throws -> [String: Value] {
        try expect("{")
        var result = [String: Value]()
        while true {
            if peek() == "}" { position += 1; break }
            let key = try parseString()
            try expect(":")
            result[key] = try parseValue()
            if peek() == "," { position += 1; continue }
            try expect("}")
            break
        }
        return result
    }

    mutating func parseString() throws -> String {
        guard let quote = peek(), quote == "'" || quote == "\"" else { throw fail("expected a string") }
        position += 1
        var out = String.UnicodeScalarView()
        while position < scalars.count, scalars[position] != quote {
            out.append(scalars[position])
            position += 1
        }
        guard position < scalars.count else { throw fail("unterminated string") }
        position += 1
        return String(out)
    }

    mutating func parseValue() throws -> Value {
        guard let c = peek() else { throw fail("expected a value") }
        if c == "'" || c == "\"" { return .string(try parseString()) }
        if c == "(" {
            position += 1
            var items = [Int]()
            while true {
                if peek() == ")" { position += 1; break }
                items.append(try parseInteger())
                if peek() == "," { position += 1; continue }
                try expect(")")
                break
            }
            return .tuple(items)
        }
        var word = ""
        while position < scalars.count, scalars[position].properties.isAlphabetic {
            word.unicodeScalars.append(scalars[position])
            position += 1
        }
        switch word {
        case "True": return .bool(true)
        case "False": return .bool(false)
        default: throw fail("unexpected value '\(word)'")
        }
    }

    mutating func parseInteger() throws -> Int {
        skipSpace()
        var digits = ""
        while position < scalars.count, ("0"..."9").contains(scalars[position]) || scalars[position] == "-" {
            digits.unicodeScalars.append(scalars[position])
            position += 1
        }
        // Python 2 era files may write long integers as `3L`.
        if position < scalars.count, scalars[position] == "L" { position += 1 }
        guard let value = Int(digits) else { throw fail("expected an integer") }
        return value
    }
}
