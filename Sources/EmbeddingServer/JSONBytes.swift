import FeatureStore
import Foundation
import Hummingbird
import Synchronization

/// A JSON body written through a raw cursor into memory reserved up front (the vector
/// endpoints' bodies: a 1000 x 64 batch is about 700 KB of text). Numbers come from
/// ``FeatureStore/FloatText`` (shortest round-trip digits, no `String`); strings are escaped
/// byte by byte. The caller reserves room with ``bound(idBytes:)``-style arithmetic; every
/// append stays within it.
struct JSONBytes {
    private(set) var at: UnsafeMutablePointer<UInt8>
    let start: UnsafeMutablePointer<UInt8>

    init(_ start: UnsafeMutablePointer<UInt8>) { self.start = start; self.at = start }

    /// Bytes written so far.
    var count: Int { at - start }

    /// The most bytes one float takes (its text and a comma).
    static let numberBound = FloatText.maximumLength + 1

    /// The most bytes `text` takes as a JSON string literal (every byte escaped as `\u00XX`).
    static func quotedBound(_ byteCount: Int) -> Int { 6 * byteCount + 2 }

    /// Appends `text` as it is (JSON punctuation and keys).
    @inline(__always)
    mutating func raw(_ text: StaticString) {
        let n = text.utf8CodeUnitCount
        (at).update(from: text.utf8Start, count: n)
        at += n
    }

    @inline(__always)
    mutating func byte(_ b: UInt8) { at.pointee = b; at += 1 }

    /// Appends `bytes` (UTF-8) as a JSON string literal, escaping quotes, backslashes and
    /// control characters.
    mutating func quoted(_ bytes: UnsafeBufferPointer<UInt8>) {
        byte(UInt8(ascii: "\""))
        for b in bytes {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): byte(UInt8(ascii: "\\")); byte(b)
            case 0x0A: byte(UInt8(ascii: "\\")); byte(UInt8(ascii: "n"))
            case 0x0D: byte(UInt8(ascii: "\\")); byte(UInt8(ascii: "r"))
            case 0x09: byte(UInt8(ascii: "\\")); byte(UInt8(ascii: "t"))
            case 0..<0x20:
                raw("\\u00")
                byte(Self.hex[Int(b >> 4)]); byte(Self.hex[Int(b & 15)])
            default: byte(b)
            }
        }
        byte(UInt8(ascii: "\""))
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// Appends `text` as a JSON string literal.
    mutating func quoted(_ text: String) {
        var text = text
        text.withUTF8 { quoted($0) }
    }

    /// Appends a non-negative integer below 10^9 (status codes).
    mutating func integer(_ v: Int) {
        precondition(v >= 0 && v < 1_000_000_000)
        var digits = 1, p = 10
        while v >= p { digits += 1; p *= 10 }
        var rest = v
        for k in stride(from: digits - 1, through: 0, by: -1) { at[k] = UInt8(48 + rest % 10); rest /= 10 }
        at += digits
    }

    /// Appends `values` as a JSON array of numbers.
    @inline(__always)
    mutating func array(_ values: UnsafeBufferPointer<Float>) {
        byte(UInt8(ascii: "["))
        let tables = FloatText.tables
        var first = true
        for x in values {
            if !first { byte(UInt8(ascii: ",")) }
            first = false
            if x.isFinite { at += FloatText.write(x, to: at, tables: tables) } else { raw("null") }
        }
        byte(UInt8(ascii: "]"))
    }

    /// Appends `x` as a JSON number: the shortest digits that read back as `x`, `null` for NaN
    /// and infinities, which JSON cannot hold.
    @inline(__always)
    mutating func number(_ x: Float) {
        guard x.isFinite else { return raw("null") }
        at += FloatText.write(x, to: at)
    }
}

extension ByteBuffer {
    /// Appends at most `bound` bytes written by `body` through a ``JSONBytes`` cursor.
    mutating func writeJSON(bound: Int, _ body: (inout JSONBytes) -> Void) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { raw in
            var out = JSONBytes(raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
            body(&out)
            precondition(out.count <= bound, "JSON body overran its reserved \(bound) bytes")
            return out.count
        }
    }

    /// A buffer holding what `body` writes (at most `bound` bytes), for tests and small bodies.
    static func json(bound: Int, _ body: (inout JSONBytes) -> Void) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: bound)
        buffer.writeJSON(bound: bound, body)
        return buffer
    }
}

/// Large response bodies (batches) are written into buffers kept from earlier requests rather
/// than fresh ones: a fresh 700 KB buffer costs page faults on every batch (11% of the batch
/// endpoint's time in `perf`). A buffer taken back while the previous response still holds it
/// is replaced by a new one (`ByteBuffer.clear` copies nothing then), so sharing is safe.
final class BodyBufferPool: Sendable {
    private let free = Mutex<[ByteBuffer]>([])
    /// The most buffers kept.
    let keep: Int

    init(keep: Int = 8) { self.keep = keep }

    /// An empty buffer with room for `capacity` bytes, reused when one is free.
    func take(capacity: Int) -> ByteBuffer {
        guard var buffer = free.withLock({ $0.popLast() }) else {
            return ByteBufferAllocator().buffer(capacity: capacity)
        }
        buffer.clear(minimumCapacity: capacity)
        return buffer
    }

    /// Keeps a reference to `buffer`'s storage for a later ``take(capacity:)``.
    func give(_ buffer: ByteBuffer) {
        free.withLock { list in if list.count < keep { list.append(buffer) } }
    }
}
