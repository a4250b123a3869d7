#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole text file in one heap buffer, prepared for pointer parsing: it always ends with a
/// `'\n'` (one is appended when the file lacks a final newline) and is followed by
/// ``TextBuffer/padding`` zero bytes, so the scanners need no end checks inside a line and may
/// load 8 bytes at any position inside the text.
final class TextBuffer: @unchecked Sendable {
    static let padding = 16

    /// Name used in error messages.
    let name: String
    let base: UnsafeMutablePointer<UInt8>
    /// Bytes of text including the final `'\n'` (which may have been appended).
    let count: Int
    /// Lines of the file before this buffer's first byte (a block of a streamed file), so that
    /// errors give the line number in the file.
    var lineOffset = 0

    /// Bytes of a private file mapping to unmap on deinit, or 0 for a malloc'ed buffer.
    private let mappedLength: Int

    /// Takes ownership of `base` (`malloc`ed, or a private mapping of `mappedLength` bytes),
    /// which holds `used` bytes of text and has room for `used + 1 + padding` bytes.
    init(name: String, base: UnsafeMutablePointer<UInt8>, used: Int, mappedLength: Int = 0) {
        self.name = name
        var used = used
        if used == 0 || base[used - 1] != UInt8(ascii: "\n") {
            base[used] = UInt8(ascii: "\n")
            used += 1
        }
        if mappedLength == 0 {
            (base + used).initialize(repeating: 0, count: TextBuffer.padding)
        }  // a mapping's bytes past the end of the file read as zero up to the page end
        self.base = base
        self.count = used
        self.mappedLength = mappedLength
    }

    deinit {
        if mappedLength > 0 { munmap(base, mappedLength) } else { free(base) }
    }

    /// Copies in-memory bytes.
    convenience init(bytes: some Collection<UInt8>, name: String) {
        let n = bytes.count
        let p = malloc(n + 1 + TextBuffer.padding)!.assumingMemoryBound(to: UInt8.self)
        var i = 0
        for b in bytes { p[i] = b; i += 1 }
        self.init(name: name, base: p, used: n)
    }

    /// Reads a whole file with `read(2)` (one call for a regular file). Throws
    /// ``GraphDataError`` with ``GraphDataError/Problem/cannotRead(reason:)``.
    static func load(path: String) throws(GraphDataError) -> TextBuffer {
        func failure(_ what: String) -> GraphDataError {
            let reason = String(cString: strerror(errno))
            return GraphDataError(file: path, line: nil, lineText: nil,
                                  problem: .cannotRead(reason: "\(what): \(reason)"))
        }
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw failure("open") }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw failure("stat") }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw GraphDataError(file: path, line: nil, lineText: nil,
                                 problem: .cannotRead(reason: "is a directory"))
        }
        // A regular file whose last page has room for the final newline and the padding is
        // mapped privately (copy-on-write, so the newline can be written); others are read.
        let size = Int(st.st_size)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        if (st.st_mode & S_IFMT) == S_IFREG && size > 0 && page > 0
            && size % page != 0 && page - size % page > padding + 1 {
            #if os(Linux)
            let flags = MAP_PRIVATE | MAP_POPULATE
            #else
            let flags = MAP_PRIVATE
            #endif
            if let m = mmap(nil, size, PROT_READ | PROT_WRITE, flags, fd, 0), m != MAP_FAILED {
                return TextBuffer(name: path, base: m.assumingMemoryBound(to: UInt8.self), used: size,
                                  mappedLength: size)
            }
        }
        var capacity = max(size, 0) + 1
        if capacity < 4096 { capacity = 4096 }
        var p = malloc(capacity + 1 + padding)!.assumingMemoryBound(to: UInt8.self)
        var used = 0
        while true {
            if used == capacity {
                capacity *= 2
                p = realloc(p, capacity + 1 + padding)!.assumingMemoryBound(to: UInt8.self)
            }
            let r = read(fd, p + used, capacity - used)
            if r < 0 {
                if errno == EINTR { continue }
                let e = failure("read")
                free(p)
                throw e
            }
            if r == 0 { break }
            used += r
        }
        return TextBuffer(name: path, base: p, used: used)
    }

    /// Makes the text ready for the line scanners: a UTF-8 byte-order mark at the start is
    /// blanked (three spaces, so it is neither part of the first id nor shifts line numbers);
    /// gzip data is refused with ``GraphDataError/Problem/compressed(_:)`` instead of being
    /// parsed as garbage lines.
    func prepareText() throws(GraphDataError) {
        if count >= 2 && base[0] == 0x1F && base[1] == 0x8B {
            throw GraphDataError(file: name, line: nil, lineText: nil, problem: .compressed("gzip"))
        }
        if count >= 3 && base[0] == 0xEF && base[1] == 0xBB && base[2] == 0xBF {
            base[0] = 0x20; base[1] = 0x20; base[2] = 0x20
        }
    }

    /// Offset of the first byte after the `'\n'` that ends the line containing `offset`.
    func nextLineStart(after offset: Int) -> Int {
        if offset >= count { return count }
        let q = memchr(base + offset, Int32(UInt8(ascii: "\n")), count - offset)!
        return q.assumingMemoryBound(to: UInt8.self) - base + 1
    }

    /// Number of `'\n'` bytes in `range` (memchr-based, memory speed).
    func newlineCount(in range: Range<Int>) -> Int {
        var n = 0
        var p = base + range.lowerBound
        let end = base + range.upperBound
        while p < end {
            guard let q = memchr(p, Int32(UInt8(ascii: "\n")), end - p) else { break }
            n += 1
            p = q.assumingMemoryBound(to: UInt8.self) + 1
        }
        return n
    }

    /// An error about the line starting at byte `lineStart`: computes its 1-based number and text.
    func error(atLineStart lineStart: Int, _ problem: GraphDataError.Problem) -> GraphDataError {
        let line = lineOffset + newlineCount(in: 0..<lineStart) + 1
        var end = nextLineStart(after: lineStart) - 1
        if end > lineStart && base[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        var text = String(decoding: UnsafeBufferPointer(start: base + lineStart,
                                                        count: min(end - lineStart, 200)),
                          as: UTF8.self)
        if end - lineStart > 200 { text += "…" }
        return GraphDataError(file: name, line: line, lineText: text, problem: problem)
    }
}

/// Up to three fields of one line, as pointers into a ``TextBuffer``.
struct LineFields {
    var p0: UnsafePointer<UInt8>
    var p1: UnsafePointer<UInt8>
    var p2: UnsafePointer<UInt8>
    var l0 = 0
    var l1 = 0
    var l2 = 0
    /// 0: blank or comment line; n > 0: number of fields (may exceed 3; only 3 are kept);
    /// -1: the field at `emptyIndex` is empty.
    var count = 0
    var emptyIndex = 0

    init(_ p: UnsafePointer<UInt8>) { p0 = p; p1 = p; p2 = p }
}

enum LineScanner {
    /// Bit c set for c in { '\t', '\n', '\r', ' ', ',' }.
    static let delimiterMask: UInt64 = (1 << 9) | (1 << 10) | (1 << 13) | (1 << 32) | (1 << 44)

    @inline(__always) static func isDelimiter(_ c: UInt8) -> Bool {
        c < 64 && (delimiterMask >> UInt64(c)) & 1 != 0
    }

    @inline(__always) static func isBlank(_ c: UInt8) -> Bool {
        c == 32 || c == 9 || c == 13
    }

    /// Scans the line starting at `p` (a line start inside a ``TextBuffer``) and leaves `p` at
    /// the start of the next line.
    ///
    /// Fields are separated by a comma (with optional blanks around it) or by a run of spaces
    /// and tabs; `'\r'` counts as a blank, so CRLF line ends need no special case. Lines whose
    /// first non-blank byte is `#` or `%` are comments.
    @inline(__always)
    static func scan(_ p: inout UnsafePointer<UInt8>, _ f: inout LineFields) {
        var c = p.pointee
        while isBlank(c) { p += 1; c = p.pointee }
        if c == 10 { p += 1; f.count = 0; return }
        if c == 35 || c == 37 { skipLine(&p); f.count = 0; return }
        var n = 0
        while true {
            let start = p
            while !isDelimiter(c) { p += 1; c = p.pointee }
            let len = p - start
            if len == 0 {
                f.count = -1
                f.emptyIndex = n
                skipLine(&p)
                return
            }
            switch n {
            case 0: f.p0 = start; f.l0 = len
            case 1: f.p1 = start; f.l1 = len
            case 2: f.p2 = start; f.l2 = len
            default: break
            }
            n += 1
            while isBlank(c) { p += 1; c = p.pointee }
            if c == 10 { p += 1; break }
            if c == 44 {
                p += 1; c = p.pointee
                while isBlank(c) { p += 1; c = p.pointee }
            }
        }
        f.count = n
    }

    @inline(__always) static func skipLine(_ p: inout UnsafePointer<UInt8>) {
        while p.pointee != 10 { p += 1 }
        p += 1
    }

    /// Parses a decimal floating-point number (`[+-]digits[.digits][(e|E)[+-]digits]`) that
    /// occupies exactly `len` bytes. Returns nil for anything else or a non-finite result.
    /// Results are correctly rounded (fast exact path, else `strtof`).
    static func parseFloat(_ p: UnsafePointer<UInt8>, _ len: Int) -> Float? {
        if len == 0 || len > 400 { return nil }
        var i = 0
        var negative = false
        if p[0] == UInt8(ascii: "-") { negative = true; i = 1 } else if p[0] == UInt8(ascii: "+") { i = 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        var sawDigit = false
        var truncated = false
        while i < len, p[i] &- 48 < 10 {
            let d = UInt64(p[i] &- 48)
            sawDigit = true
            if mantissa == 0 && d == 0 {
            } else if digits < 19 {
                mantissa = mantissa * 10 + d; digits += 1
            } else {
                exponent += 1; truncated = truncated || d != 0
            }
            i += 1
        }
        if i < len && p[i] == UInt8(ascii: ".") {
            i += 1
            while i < len, p[i] &- 48 < 10 {
                let d = UInt64(p[i] &- 48)
                sawDigit = true
                if digits < 19 {
                    if mantissa != 0 || d != 0 { digits += 1 }
                    mantissa = mantissa * 10 + d
                    exponent -= 1
                } else {
                    truncated = truncated || d != 0
                }
                i += 1
            }
        }
        if !sawDigit { return nil }
        if i < len && (p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E")) {
            i += 1
            var expNegative = false
            if i < len && p[i] == UInt8(ascii: "-") { expNegative = true; i += 1 } else if i < len && p[i] == UInt8(ascii: "+") { i += 1 }
            var e = 0
            var expDigits = false
            while i < len, p[i] &- 48 < 10 {
                e = min(e * 10 + Int(p[i] &- 48), 100_000)
                expDigits = true
                i += 1
            }
            if !expDigits { return nil }
            exponent += expNegative ? -e : e
        }
        if i != len { return nil }
        var value: Float
        if !truncated && mantissa <= (1 << 24) && exponent >= -10 && exponent <= 10 {
            // Both operands are exact Floats (5^10 < 2^24), so one rounding: correctly rounded.
            value = Float(mantissa)
            if exponent < 0 { value /= powersOfTen[-exponent] } else if exponent > 0 { value *= powersOfTen[exponent] }
            if negative { value = -value }
        } else {
            var tmp = [CChar](repeating: 0, count: len + 1)
            for k in 0..<len { tmp[k] = CChar(bitPattern: p[k]) }
            value = tmp.withUnsafeBufferPointer { strtof($0.baseAddress!, nil) }
        }
        return value.isFinite ? value : nil
    }

    static let powersOfTen: [Float] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10]
}
