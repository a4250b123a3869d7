#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CZlib

/// The text of an input file: one buffer for a plain file (mapped or read whole), or blocks of
/// whole lines inflated from a gzip file while they are parsed (never the whole text at once).
enum TextSource {
    case whole(TextBuffer)
    case gzip(GzipTextStream)

    /// Opens `path`; gzip data (magic bytes `1f 8b`, whatever the file's name) is streamed.
    static func open(path: String) throws(GraphDataError) -> TextSource {
        GzipTextStream.isGzip(path: path) ? .gzip(try GzipTextStream(path: path)) : .whole(try TextBuffer.load(path: path))
    }

    /// Calls `body` on each block of text in file order: the whole file once, or each inflated
    /// block (``TextBuffer/lineOffset`` set, so errors name the line in the file). An empty
    /// file gives one empty block.
    func forEachBlock(_ body: (TextBuffer) throws(GraphDataError) -> Void) throws(GraphDataError) {
        switch self {
        case .whole(let buffer): try body(buffer)
        case .gzip(let stream):
            // The first block holds the first two data lines, for header and weight detection.
            try body(try stream.firstBlock(dataLines: 2) ?? TextBuffer(bytes: [], name: stream.path))
            while let block = try stream.nextBlock() { try body(block) }
        }
    }
}

/// Inflates a gzip file (one member or several concatenated, as `cat a.gz b.gz` makes) into
/// blocks of whole lines, reading the compressed file in 1 MiB pieces. Damaged data (a bad
/// header, a failed CRC, a stream cut short, bytes after the last member) is an error naming
/// the file and the line the text had reached.
final class GzipTextStream {
    /// Text bytes per block (a longer line makes its block longer).
    static let blockSize = 8 << 20
    static let inputSize = 1 << 20

    let path: String
    /// Text bytes per block (tests use small blocks to put many lines across block ends).
    let blockSize: Int
    private let fd: Int32
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutablePointer<UInt8>
    private var inputEnded = false
    private var memberEnded = false
    private var finished = false
    /// The partial line at the end of the last block, the start of the next one.
    private var carry: [UInt8] = []
    /// Lines in the blocks handed out so far.
    private var lines = 0
    private var compressedBytes = 0
    private var textBytes = 0
    /// Text the failing inflate call produced before it found the damage (counted for the error's line).
    private var producedBeforeError = 0

    /// Whether the file starts with gzip's magic bytes.
    static func isGzip(path: String) -> Bool {
        let fd = Glibc.open(path, O_RDONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var magic: (UInt8, UInt8) = (0, 0)
        return withUnsafeMutableBytes(of: &magic) { read(fd, $0.baseAddress, 2) } == 2 && magic == (0x1F, 0x8B)
    }

    init(path: String, blockSize: Int = GzipTextStream.blockSize) throws(GraphDataError) {
        self.path = path
        self.blockSize = max(blockSize, 1)
        fd = Glibc.open(path, O_RDONLY)
        if fd < 0 {
            throw GraphDataError(file: path, line: nil, lineText: nil,
                                 problem: .cannotRead(reason: "open: " + String(cString: strerror(errno))))
        }
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = .allocate(capacity: GzipTextStream.inputSize)
        let rc = czlib_inflate_init_gzip(stream)
        if rc != Z_OK {
            let error = GraphDataError(file: path, line: nil, lineText: nil,
                                       problem: .cannotRead(reason: "zlib could not start inflating (code \(rc))"))
            close(fd); stream.deallocate(); input.deallocate()
            throw error
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
        close(fd)
    }

    /// The next block of whole lines (the last one may lack its final newline), or nil when the
    /// text is exhausted.
    func nextBlock() throws(GraphDataError) -> TextBuffer? {
        if finished && carry.isEmpty { return nil }
        var capacity = max(blockSize, 2 * carry.count)
        var p = malloc(capacity + 1 + TextBuffer.padding)!.assumingMemoryBound(to: UInt8.self)
        var used = carry.count
        carry.withUnsafeBufferPointer { c in if let b = c.baseAddress { p.update(from: b, count: c.count) } }
        carry = []
        var searched = 0
        while true {
            while used < capacity && !finished {
                do { used += try inflateSome(p + used, capacity - used) } catch {
                    let line = lines + newlines(p, 0..<min(used + producedBeforeError, capacity)) + 1
                    free(p)
                    throw GraphDataError(file: path, line: line, lineText: nil, problem: error.problem)
                }
            }
            if finished { break }
            // Cut after the last newline; the rest starts the next block.
            var last = used - 1
            while last >= searched && p[last] != UInt8(ascii: "\n") { last -= 1 }
            if last >= searched {
                carry = Array(UnsafeBufferPointer(start: p + last + 1, count: used - last - 1))
                used = last + 1
                break
            }
            searched = used
            capacity *= 2
            p = realloc(p, capacity + 1 + TextBuffer.padding)!.assumingMemoryBound(to: UInt8.self)
        }
        if used == 0 { free(p); return nil }
        let block = TextBuffer(name: path, base: p, used: used)
        block.lineOffset = lines
        lines += block.newlineCount(in: 0..<block.count)
        return block
    }

    /// The first block, joined with the next ones until it holds `dataLines` data lines (not
    /// blank, not comments) or the whole text.
    func firstBlock(dataLines: Int) throws(GraphDataError) -> TextBuffer? {
        guard var block = try nextBlock() else { return nil }
        func enough(_ b: TextBuffer) -> Bool {
            var offset = 0
            for _ in 0..<dataLines {
                guard let line = EdgeListReader.nextDataLine(b, from: offset) else { return false }
                offset = line.next
            }
            return true
        }
        while !enough(block), let next = try nextBlock() {
            let joined = malloc(block.count + next.count + 1 + TextBuffer.padding)!.assumingMemoryBound(to: UInt8.self)
            joined.update(from: block.base, count: block.count)
            (joined + block.count).update(from: next.base, count: next.count)
            let merged = TextBuffer(name: path, base: joined, used: block.count + next.count)
            merged.lineOffset = block.lineOffset
            block = merged
        }
        return block
    }

    private func newlines(_ p: UnsafeMutablePointer<UInt8>, _ range: Range<Int>) -> Int {
        var n = 0
        for i in range where p[i] == UInt8(ascii: "\n") { n += 1 }
        return n
    }

    /// Inflates into `out` (at most `space` bytes); returns the bytes produced (0 is possible
    /// while input is read or a member ends). Sets `finished` at the end of the last member.
    private func inflateSome(_ out: UnsafeMutablePointer<UInt8>, _ space: Int) throws(GraphDataError) -> Int {
        func failure(_ problem: GraphDataError.Problem) -> GraphDataError {
            GraphDataError(file: path, line: nil, lineText: nil, problem: problem)
        }
        let s = stream
        if s.pointee.avail_in == 0 && !inputEnded {
            var r: Int
            repeat { r = read(fd, input, GzipTextStream.inputSize) } while r < 0 && errno == EINTR
            if r < 0 { throw failure(.cannotRead(reason: "read: " + String(cString: strerror(errno)))) }
            if r == 0 { inputEnded = true } else {
                s.pointee.next_in = input
                s.pointee.avail_in = UInt32(r)
                compressedBytes += r
            }
        }
        if s.pointee.avail_in == 0 && inputEnded {
            if memberEnded { finished = true; return 0 }
            throw failure(.damagedCompressedData(format: "gzip", reason: "the file ends inside the compressed stream (truncated?) after \(compressedBytes) compressed bytes, \(textBytes) bytes of text"))
        }
        if memberEnded {
            // More bytes after a member: another member (gzip's concatenation) or garbage.
            guard s.pointee.next_in[0] == 0x1F else {
                throw failure(.damagedCompressedData(format: "gzip", reason: "\(Int(s.pointee.avail_in)) bytes that are not gzip data follow the compressed stream (at compressed byte \(compressedBytes - Int(s.pointee.avail_in)))"))
            }
            inflateReset(s)
            memberEnded = false
        }
        s.pointee.next_out = out
        s.pointee.avail_out = UInt32(min(space, Int(UInt32.max)))
        let rc = inflate(s, Z_NO_FLUSH)
        let produced = min(space, Int(UInt32.max)) - Int(s.pointee.avail_out)
        textBytes += produced
        switch rc {
        case Z_OK, Z_BUF_ERROR: break
        case Z_STREAM_END: memberEnded = true
        case Z_MEM_ERROR: throw failure(.cannotRead(reason: "zlib ran out of memory"))
        default:
            producedBeforeError = produced
            let message = s.pointee.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
            throw failure(.damagedCompressedData(format: "gzip", reason: "\(message) (after \(textBytes) bytes of text)"))
        }
        return produced
    }
}

/// What reading a text input will take, estimated before reading it: for budgets.
public struct TextInputEstimate: Sendable, Equatable {
    /// The file's size on disk.
    public var fileBytes: Int
    /// The text's size: the file's for plain text; for gzip, from the trailer's size field
    /// (the text's size modulo 2^32, raised by multiples of 2^32 to at least the file's size).
    public var textBytes: Int
    /// Lines, from the average line length of the text's first MiB.
    public var lines: Int
    /// Whether the file is gzip data (inflated block by block, never held whole).
    public var gzip: Bool
    /// The text the reader holds at once: the whole file (plain text is mapped or read whole)
    /// or one block of a gzip file.
    public var heldTextBytes: Int { gzip ? min(textBytes, GzipTextStream.blockSize) + (1 << 20) : fileBytes }

    /// Estimates `path`'s text; zeros when it cannot be read (the reader then says why).
    public init(path: String) {
        var st = stat()
        fileBytes = stat(path, &st) == 0 ? Int(st.st_size) : 0
        gzip = GzipTextStream.isGzip(path: path)
        textBytes = fileBytes
        lines = 0
        guard fileBytes > 0 else { return }
        var sample: [UInt8] = []
        if gzip {
            if let size = GzipTextInfo.trailerSize(path: path, fileBytes: fileBytes) { textBytes = size }
            if let stream = try? GzipTextStream(path: path, blockSize: 1 << 20), let block = try? stream.nextBlock() {
                sample = Array(UnsafeBufferPointer(start: block.base, count: block.count))
            }
        } else {
            let fd = open(path, O_RDONLY)
            if fd >= 0 {
                sample = [UInt8](repeating: 0, count: min(fileBytes, 1 << 20))
                let r = sample.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                sample.removeLast(sample.count - max(r, 0))
                close(fd)
            }
        }
        let newlines = sample.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        if sample.count >= textBytes || newlines == 0 { lines = max(newlines, 1); return }
        lines = Int((Double(textBytes) / Double(sample.count) * Double(newlines)).rounded(.up))
    }
}

enum GzipTextInfo {
    /// The text size from a gzip file's last four bytes (ISIZE, little-endian, modulo 2^32),
    /// raised by multiples of 2^32 to at least `fileBytes`.
    static func trailerSize(path: String, fileBytes: Int) -> Int? {
        guard fileBytes >= 18 else { return nil }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var trailer: UInt32 = 0
        guard pread(fd, &trailer, 4, off_t(fileBytes - 4)) == 4 else { return nil }
        var size = Int(UInt32(littleEndian: trailer))
        while size < fileBytes { size += 1 << 32 }
        return size
    }
}
