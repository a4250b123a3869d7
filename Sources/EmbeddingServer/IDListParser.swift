import Foundation
import FeatureStore
import Hummingbird

/// The ids of a batch request body, `{"ids": ["a", "b", ...]}`, read straight from the request
/// bytes: no `Data`, no `String` and no `JSONDecoder` per request. The ids' bytes (escapes
/// decoded) lie back to back in ``bytes``; id `i` is `bytes[ends[i - 1] ..< ends[i]]`.
///
/// Strict JSON: other keys are allowed and skipped (any JSON value), `ids` must appear once and
/// hold only strings, and nothing may follow the object. Each id is checked as
/// `StoreNames.validateID` does (1 to 1024 bytes, no tab or line break, valid UTF-8). A problem
/// throws ``IDListError`` with a reason and the byte offset.
struct IDList {
    var bytes: [UInt8] = []
    var ends: [Int] = []

    var count: Int { ends.count }

    /// Calls `body` with the UTF-8 bytes of id `i`.
    @inline(__always)
    func withID<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let s = i == 0 ? 0 : ends[i - 1]
        return try bytes.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[s..<ends[i]])) }
    }

    /// Parses `body`. `limit` is the most ids accepted.
    /// - Throws: ``IDListError`` (bad JSON or a bad id: 400; more than `limit` ids: 413).
    init(parsing body: UnsafeRawBufferPointer, limit: Int) throws(IDListError) {
        var p = IDListReader(body.bindMemory(to: UInt8.self))
        p.skipSpace()
        try p.expect(UInt8(ascii: "{"), "the body must be a JSON object {\"ids\": [...]}")
        p.skipSpace()
        var sawIDs = false
        if !p.consume(UInt8(ascii: "}")) {
            while true {
                p.skipSpace()
                guard p.peek == UInt8(ascii: "\"") else { throw p.error("expected a key in quotes") }
                var key = [UInt8]()
                try p.string(into: &key)
                p.skipSpace()
                try p.expect(UInt8(ascii: ":"), "expected ':' after a key")
                p.skipSpace()
                if key == Array("ids".utf8) {
                    if sawIDs { throw p.error("\"ids\" appears twice") }
                    sawIDs = true
                    try p.ids(into: &self, limit: limit)
                } else {
                    try p.skipValue(depth: 0)
                }
                p.skipSpace()
                if p.consume(UInt8(ascii: "}")) { break }
                try p.expect(UInt8(ascii: ","), "expected ',' or '}' after a value")
            }
        }
        p.skipSpace()
        guard p.atEnd else { throw p.error("unexpected text after the JSON object") }
        guard sawIDs else { throw IDListError(status: .badRequest, reason: "the body needs \"ids\": an array of id strings") }
    }
}

/// Why a batch body was refused.
struct IDListError: Error {
    var status: HTTPResponse.Status
    var reason: String
}

/// A cursor over the request bytes.
private struct IDListReader {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0

    init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }

    var atEnd: Bool { i >= b.count }
    var peek: UInt8? { i < b.count ? b[i] : nil }

    func error(_ what: String) -> IDListError {
        let found = atEnd ? "the end of the body" : "'\(Unicode.Scalar(b[i]).escaped(asASCII: true))'"
        return IDListError(status: .badRequest, reason: "request body is not the expected JSON {\"ids\": [...]}: \(what), found \(found) at byte \(i)")
    }

    mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    mutating func consume(_ c: UInt8) -> Bool {
        if i < b.count && b[i] == c { i += 1; return true }
        return false
    }

    mutating func expect(_ c: UInt8, _ what: String) throws(IDListError) {
        guard consume(c) else { throw error(what) }
    }

    /// The array of id strings, appended to `list`.
    mutating func ids(into list: inout IDList, limit: Int) throws(IDListError) {
        try expect(UInt8(ascii: "["), "\"ids\" must be an array of strings")
        list.bytes.reserveCapacity(b.count)
        list.ends.reserveCapacity(min(limit, b.count / 3))
        skipSpace()
        if consume(UInt8(ascii: "]")) { return }
        while true {
            skipSpace()
            guard peek == UInt8(ascii: "\"") else { throw error("ids[\(list.count)] must be a string") }
            let start = list.bytes.count, at = i
            try string(into: &list.bytes)
            let length = list.bytes.count - start
            var bad = length == 0 || length > 1024
            var ascii = true
            if !bad {
                for k in start..<list.bytes.count {
                    let c = list.bytes[k]
                    if c == 0x09 || c == 0x0A || c == 0x0D { bad = true; break }
                    if c >= 0x80 { ascii = false }
                }
            }
            if !bad && !ascii {
                bad = String(validating: list.bytes[start...], as: UTF8.self) == nil
            }
            if bad {
                let shown = String(decoding: list.bytes[start..<min(list.bytes.count, start + 64)], as: UTF8.self)
                throw IDListError(status: .badRequest, reason: "ids[\(list.count)] (at byte \(at)) \(shown.debugDescription) must be 1 to 1024 bytes of UTF-8 without tab or line break")
            }
            list.ends.append(list.bytes.count)
            if list.count > limit {
                throw IDListError(status: .contentTooLarge, reason: "more than \(limit) ids; at most \(limit) per request")
            }
            skipSpace()
            if consume(UInt8(ascii: "]")) { return }
            try expect(UInt8(ascii: ","), "expected ',' or ']' in \"ids\"")
        }
    }

    /// A JSON string at the cursor (which is on its opening quote), decoded into `out`.
    mutating func string(into out: inout [UInt8]) throws(IDListError) {
        i += 1
        while true {
            // Copy the run of plain bytes up to the next quote, backslash or control character.
            let runStart = i
            while i < b.count, b[i] != UInt8(ascii: "\""), b[i] != UInt8(ascii: "\\"), b[i] >= 0x20 { i += 1 }
            if i > runStart { out.append(contentsOf: UnsafeBufferPointer(rebasing: b[runStart..<i])) }
            guard i < b.count else { throw error("a string is not closed") }
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return }
            if c < 0x20 { throw error("control character in a string (write it as \\u00XX)") }
            // A backslash escape.
            i += 1
            guard i < b.count else { throw error("a string is not closed") }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by \u and a low one.
                    guard i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
                        throw error("a \\u escape of a high surrogate without its low surrogate")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("a high surrogate followed by \\u\(String(low, radix: 16))") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw error("a \\u escape of a lone low surrogate")
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
            default:
                i -= 1
                throw error("unknown escape \\\(Unicode.Scalar(e).escaped(asASCII: true)) in a string")
            }
        }
    }

    mutating func hex4() throws(IDListError) -> UInt32 {
        guard i + 4 <= b.count else { throw error("\\u needs four hex digits") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw error("\\u needs four hex digits")
            }
            v = v << 4 | UInt32(d)
            i += 1
        }
        return v
    }

    /// Skips any JSON value (a key other than "ids"), nested at most 64 deep.
    mutating func skipValue(depth: Int) throws(IDListError) {
        guard depth < 64 else { throw error("values nested more than 64 deep") }
        guard let c = peek else { throw error("expected a value") }
        switch c {
        case UInt8(ascii: "\""):
            var scratch = [UInt8]()
            try string(into: &scratch)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = c == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            i += 1
            skipSpace()
            if consume(close) { return }
            while true {
                skipSpace()
                if c == UInt8(ascii: "{") {
                    guard peek == UInt8(ascii: "\"") else { throw error("expected a key in quotes") }
                    var scratch = [UInt8]()
                    try string(into: &scratch)
                    skipSpace()
                    try expect(UInt8(ascii: ":"), "expected ':' after a key")
                    skipSpace()
                }
                try skipValue(depth: depth + 1)
                skipSpace()
                if consume(close) { return }
                try expect(UInt8(ascii: ","), "expected ',' or '\(Unicode.Scalar(close))'")
            }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = i
            while i < b.count, (b[i] >= UInt8(ascii: "0") && b[i] <= UInt8(ascii: "9")) || b[i] == UInt8(ascii: "-")
                || b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") { i += 1 }
            guard Double(String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)) != nil else {
                i = start
                throw error("a malformed number")
            }
        default:
            throw error("expected a value")
        }
    }

    mutating func literal(_ word: StaticString) throws(IDListError) {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count, memcmp(b.baseAddress! + i, word.utf8Start, n) == 0 else { throw error("expected a value") }
        i += n
    }
}
