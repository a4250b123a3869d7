// FeatureStore: the registry of published embeddings (SQLite through GRDB, WAL, versioned
// migrations), immutable version directories, atomic aliases, point-in-time reads and
// memory-mapped online lookups. Pure library: no HTTP here (the server is EmbeddingServer).
import EmbeddingStore
import Foundation
import GRDB

/// An error from the feature store: what went wrong, naming the store, embedding, version or file.
public struct FeatureStoreError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of problem it is (the server maps it to an HTTP status).
    public enum Kind: String, Sendable, Codable {
        /// The request or input is malformed (bad name, bad timestamp, bad file).
        case invalid
        /// No such embedding, version, alias or id.
        case notFound
        /// The request contradicts what the registry holds (same version, other content).
        case conflict
        /// Checksums disagree, or a file in the store is damaged.
        case integrity
        /// The store itself cannot be read or written.
        case storage
    }

    /// The kind of problem.
    public let kind: Kind
    /// What is wrong, in words, naming the file, embedding or version concerned.
    public let message: String

    /// An error of `kind` saying `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

/// Rules for names used in paths and URLs: embedding names, version strings and aliases.
public enum StoreNames {
    /// Longest accepted name.
    public static let maximumLength = 128

    /// Checks that `name` is 1...128 characters from `A-Z a-z 0-9 . _ -`, starting with a letter
    /// or digit (so it is safe as a directory name and a URL segment: no `/`, no `..`).
    /// - Throws: ``FeatureStoreError`` (`.invalid`) naming `what` and the problem.
    public static func validate(_ name: String, as what: String) throws {
        guard !name.isEmpty, name.utf8.count <= maximumLength else {
            throw FeatureStoreError(.invalid, "\(what) \(name.debugDescription) must be 1 to \(maximumLength) characters")
        }
        func isAlnum(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
        }
        guard isAlnum(name.utf8.first!), name.utf8.allSatisfy({ isAlnum($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }) else {
            throw FeatureStoreError(.invalid, "\(what) \(name.debugDescription) may hold only letters, digits, '.', '_' and '-', and must start with a letter or digit")
        }
    }

    /// Checks an entity id: 1...1024 bytes of UTF-8 without tab, newline or carriage return.
    /// - Throws: ``FeatureStoreError`` (`.invalid`).
    public static func validateID(_ id: String) throws {
        guard !id.isEmpty, id.utf8.count <= 1024,
              !id.utf8.contains(where: { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) else {
            throw FeatureStoreError(.invalid, "id \(String(id.prefix(64)).debugDescription) must be 1 to 1024 bytes without tab or line break")
        }
    }
}

/// Times in the registry: seconds since 1970-01-01T00:00:00Z, written as ISO-8601 in UTC.
public enum Timestamp {
    /// Parses `2024-05-01`, `2024-05-01T12:00:00Z`, `2024-05-01 12:00:00.250+02:00` (ISO-8601,
    /// a date alone meaning midnight UTC, no zone meaning UTC) or a plain number of seconds since
    /// the epoch (`1714564800`, `1714564800.5`). Returns `nil` for anything else.
    /// Cost: O(length), no allocation (fast enough for millions of join rows).
    public static func parse(_ text: String) -> Double? {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    /// ``parse(_:)`` over UTF-8 bytes.
    public static func parse(bytes s: UnsafeBufferPointer<UInt8>) -> Double? {
        let n = s.count
        if n == 0 { return nil }
        func digit(_ i: Int) -> Int? {
            guard i < n, s[i] >= 0x30, s[i] <= 0x39 else { return nil }
            return Int(s[i] - 0x30)
        }
        func number(_ i: Int, _ count: Int) -> Int? {
            var v = 0
            for k in 0..<count { guard let d = digit(i + k) else { return nil }; v = v * 10 + d }
            return v
        }
        // Plain number of seconds?
        if n < 4 || s[4] != 0x2D /* - */ {
            var i = 0, negative = false
            if s[0] == 0x2D { negative = true; i = 1 }
            var whole = 0.0, sawDigit = false
            while let d = digit(i) { whole = whole * 10 + Double(d); i += 1; sawDigit = true }
            var scale = 0.1
            if i < n, s[i] == 0x2E {
                i += 1
                while let d = digit(i) { whole += Double(d) * scale; scale /= 10; i += 1; sawDigit = true }
            }
            guard sawDigit, i == n else { return nil }
            return negative ? -whole : whole
        }
        guard let year = number(0, 4), n >= 10, s[7] == 0x2D, let month = number(5, 2), let day = number(8, 2),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        var seconds = Double(daysFromCivil(year, month, day) * 86_400)
        if n == 10 { return seconds }
        guard s[10] == 0x54 || s[10] == 0x20 || s[10] == 0x74, n >= 16, let hour = number(11, 2), s[13] == 0x3A,
              let minute = number(14, 2), hour < 24, minute < 60 else { return nil }
        seconds += Double(hour * 3600 + minute * 60)
        var i = 16
        if i < n, s[i] == 0x3A {
            guard let second = number(17, 2), second < 61 else { return nil }
            seconds += Double(second)
            i = 19
            if i < n, s[i] == 0x2E || s[i] == 0x2C {
                i += 1
                var scale = 0.1, any = false
                while let d = digit(i) { seconds += Double(d) * scale; scale /= 10; i += 1; any = true }
                if !any { return nil }
            }
        }
        if i == n { return seconds }
        if s[i] == 0x5A || s[i] == 0x7A { return i + 1 == n ? seconds : nil }
        guard s[i] == 0x2B || s[i] == 0x2D, let oh = number(i + 1, 2) else { return nil }
        var j = i + 3
        if j < n, s[j] == 0x3A { j += 1 }
        guard let om = number(j, 2), j + 2 == n else { return nil }
        let offset = Double(oh * 3600 + om * 60)
        return s[i] == 0x2B ? seconds - offset : seconds + offset
    }

    /// Days from 1970-01-01 to the proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// `seconds` as ISO-8601 in UTC, e.g. `2024-05-01T12:00:00Z` (milliseconds shown when not whole).
    public static func format(_ seconds: Double) -> String {
        let whole = seconds.rounded(.down)
        let millis = Int(((seconds - whole) * 1000).rounded())
        let date = Date(timeIntervalSince1970: whole)
        var text = EmbeddingMetadata.timestamp(date)
        if millis > 0 && millis < 1000 {
            text.removeLast()
            let m = String(millis)
            text += "." + String(repeating: "0", count: 3 - m.count) + m + "Z"
        }
        return text
    }

    /// Now, in seconds since the epoch.
    public static func now() -> Double { Date().timeIntervalSince1970 }
}
