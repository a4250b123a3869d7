import Foundation

/// A JSON body built as bytes, for the vector endpoints. Appending each number's text to a
/// `String` cost about 170 ns a number (11 ms of a 1000 x 64 batch, most of the endpoint's
/// time); copying the same text into a byte array costs about 70 ns.
struct JSONBytes {
    var bytes: [UInt8]

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Appends `text` as it is (JSON punctuation and keys).
    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends `text` as a JSON string literal.
    mutating func quoted(_ text: String) {
        bytes.append(contentsOf: JSON.quote(text).utf8)
    }

    /// Appends `values` as a JSON array of numbers.
    mutating func array(_ values: UnsafeBufferPointer<Float>) {
        bytes.append(UInt8(ascii: "["))
        for i in values.indices {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            number(values[i])
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Appends `x` as a JSON number: Swift's shortest digits that read back as `x` (its
    /// `description`, copied as bytes), `null` for NaN and infinities, which JSON cannot hold.
    mutating func number(_ x: Float) {
        guard x.isFinite else { return raw("null") }
        var text = x.description
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }
}
