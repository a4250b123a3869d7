import Foundation

/// The element type of an IDX file (the third byte of its magic number).
public enum IDXElementType: UInt8, Sendable, Codable {
    case unsignedByte = 0x08
    case signedByte = 0x09
    case short = 0x0B
    case int = 0x0C
    case float = 0x0D
    case double = 0x0E

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .unsignedByte, .signedByte: 1
        case .short: 2
        case .int, .float: 4
        case .double: 8
        }
    }
}

/// An n-dimensional array read from an IDX file (the format of MNIST and Fashion-MNIST):
/// magic `00 00 type ndim`, `ndim` big-endian 32-bit sizes, then the elements in row-major
/// order, big-endian.
public struct IDXArray: Sendable {
    /// The element type.
    public let elementType: IDXElementType
    /// The sizes, outermost first (e.g. `[60000, 28, 28]` for images).
    public let dimensions: [Int]
    /// The raw big-endian element bytes, row-major.
    public let payload: [UInt8]

    /// Number of elements, the product of ``dimensions``.
    public var count: Int { dimensions.reduce(1, *) }

    /// Elements per item along the first axis (e.g. 784 for 28x28 images; 1 for labels).
    public var itemSize: Int { dimensions.dropFirst().reduce(1, *) }

    /// Parses IDX bytes (already decompressed).
    /// - Parameters:
    ///   - bytes: the whole file's bytes.
    ///   - source: a name for error messages (usually the file path).
    /// - Throws: ``CompressionError`` when the magic number is wrong, the element type is
    ///   unknown, or the payload is shorter or longer than the header says (a truncated file).
    /// - Complexity: O(bytes) (one copy of the payload).
    public init(bytes: [UInt8], source: String = "IDX data") throws {
        guard bytes.count >= 4 else {
            throw CompressionError(file: source, "truncated IDX file: \(bytes.count) bytes, the 4-byte magic number is incomplete")
        }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw CompressionError(file: source, String(format: "not an IDX file: magic number starts %02x %02x, expected 00 00", bytes[0], bytes[1]))
        }
        guard let type = IDXElementType(rawValue: bytes[2]) else {
            throw CompressionError(file: source, String(format: "unknown IDX element type 0x%02x", bytes[2]))
        }
        let ndim = Int(bytes[3])
        guard ndim >= 1 else { throw CompressionError(file: source, "IDX header declares 0 dimensions") }
        let headerSize = 4 + 4 * ndim
        guard bytes.count >= headerSize else {
            throw CompressionError(file: source, "truncated IDX file: header needs \(headerSize) bytes for \(ndim) dimensions, file has \(bytes.count)")
        }
        var dims = [Int]()
        var expected = 1
        for d in 0..<ndim {
            let o = 4 + 4 * d
            let size = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            dims.append(size)
            let (product, overflow) = expected.multipliedReportingOverflow(by: size)
            guard !overflow else { throw CompressionError(file: source, "IDX dimensions \(dims) overflow") }
            expected = product
        }
        let payloadBytes = expected * type.size
        let actual = bytes.count - headerSize
        guard actual >= payloadBytes else {
            throw CompressionError(file: source, "truncated IDX file: dimensions \(dims) need \(payloadBytes) data bytes, only \(actual) present")
        }
        guard actual == payloadBytes else {
            throw CompressionError(file: source, "malformed IDX file: \(actual - payloadBytes) bytes after the \(payloadBytes) data bytes that dimensions \(dims) describe")
        }
        elementType = type
        dimensions = dims
        payload = Array(bytes[headerSize...])
    }

    /// Reads an IDX file, gzip-compressed (detected by its `1f 8b` magic) or not.
    /// - Throws: ``CompressionError`` when the file cannot be read, gzip fails (a truncated or
    ///   corrupt `.gz`), or the IDX content is malformed (see ``init(bytes:source:)``).
    public init(contentsOf path: String) throws {
        let raw: Data
        do { raw = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw CompressionError(file: path, "cannot read: \(error.localizedDescription)")
        }
        var bytes = [UInt8](raw)
        if Gzip.isCompressed(bytes) { bytes = try Gzip.decompress(fileAt: path) }
        try self.init(bytes: bytes, source: path)
    }

    /// Element `i` (row-major) as a `Double`, decoding big-endian. Cost: O(1).
    /// - Precondition: `0 <= i < count`.
    public func value(at i: Int) -> Double {
        precondition(i >= 0 && i < count, "IDXArray.value: \(i) out of 0..<\(count)")
        let s = elementType.size, o = i * s
        var bits: UInt64 = 0
        for k in 0..<s { bits = bits << 8 | UInt64(payload[o + k]) }
        switch elementType {
        case .unsignedByte: return Double(UInt8(bits))
        case .signedByte: return Double(Int8(bitPattern: UInt8(bits)))
        case .short: return Double(Int16(bitPattern: UInt16(bits)))
        case .int: return Double(Int32(bitPattern: UInt32(bits)))
        case .float: return Double(Float(bitPattern: UInt32(bits)))
        case .double: return Double(bitPattern: bits)
        }
    }

    /// All elements as `Float`, multiplied by `scale` (e.g. `1/255` for pixels), row-major:
    /// item `i`'s ``itemSize`` values are contiguous, so the result is a column-major
    /// `itemSize x dimensions[0]` matrix with one item per column. Cost: O(count).
    public func floats(scale: Float = 1) -> [Float] {
        if elementType == .unsignedByte { return payload.map { Float($0) * scale } }
        return (0..<count).map { Float(value(at: $0)) * scale }
    }

    /// All elements as integers (e.g. class labels).
    /// - Throws: ``CompressionError`` for a floating-point element type.
    public func integers() throws -> [Int] {
        switch elementType {
        case .float, .double:
            throw CompressionError("IDX array of \(elementType) elements cannot be read as integers")
        case .unsignedByte: return payload.map { Int($0) }
        default: return (0..<count).map { Int(value(at: $0)) }
        }
    }
}

/// gzip decompression by the system's `gzip` program (Foundation on Linux has no gunzip API,
/// and only the `CLinearAlgebra` target may bind C libraries such as zlib).
public enum Gzip {
    /// Whether `bytes` start with the gzip magic number `1f 8b`.
    public static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// The decompressed content of the gzip file at `path`, by running `gzip -dc path`.
    /// - Throws: ``CompressionError`` when no `gzip` is found on `PATH` (or in `/usr/bin`,
    ///   `/bin`), or when gzip exits with an error (a truncated or corrupt file); the message
    ///   carries gzip's own diagnostic.
    /// - Complexity: O(decompressed size), in a child process.
    public static func decompress(fileAt path: String) throws -> [UInt8] {
        guard let gzip = executable(named: "gzip") else {
            throw CompressionError(file: path, "gzip-compressed, but no gzip program was found on PATH to decompress it")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gzip)
        process.arguments = ["-dc", "--", path]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch {
            throw CompressionError(file: path, "cannot run \(gzip): \(error.localizedDescription)")
        }
        // Drain stderr concurrently so a chatty gzip cannot block on a full pipe.
        let errorBox = ErrorText()
        let done = DispatchSemaphore(value: 0)
        let errorHandle = err.fileHandleForReading
        DispatchQueue.global().async { errorBox.set(errorHandle.readDataToEndOfFile()); done.signal() }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        done.wait()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let message = errorBox.text.trimmingCharacters(in: .whitespacesAndNewlines)
            throw CompressionError(file: path, "gzip decompression failed (status \(process.terminationStatus)); the file is truncated or corrupt: \(message)")
        }
        return [UInt8](data)
    }

    static func executable(named name: String) -> String? {
        let env = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let dirs = env.split(separator: ":").map(String.init) + ["/usr/bin", "/bin"]
        for dir in dirs where !dir.isEmpty {
            let candidate = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// stderr text handed from the reader thread.
private final class ErrorText: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data? = nil
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data ?? Data(), as: UTF8.self) }
}
