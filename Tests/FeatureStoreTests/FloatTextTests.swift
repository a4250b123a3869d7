import Foundation
import LinearAlgebra
import Testing
@testable import FeatureStore

/// `FloatText`: every finite float's text reads back as the same bits, is as short as Swift's own
/// shortest `description`, and is a JSON number. (`store-bench floats all` checks all 2^32 bit
/// patterns in a release build; here a seeded sample and the edge cases.)
struct FloatTextTests {
    /// The significant digits of a decimal text: no sign, point, exponent, leading or trailing zeros.
    static func significantDigits(_ text: String) -> Substring {
        let mantissa = text.prefix { $0 != "e" && $0 != "E" }.filter { $0.isNumber }
        let trimmed = mantissa.drop { $0 == "0" }
        var end = trimmed.endIndex
        while end > trimmed.startIndex, trimmed[trimmed.index(before: end)] == "0" { end = trimmed.index(before: end) }
        return trimmed[..<end]
    }

    /// Checks one float; returns false (after recording an issue) when it fails.
    @discardableResult
    static func check(_ x: Float) -> Bool {
        let text = FloatText.string(x)
        let back = text.withCString { strtof($0, nil) }
        let ours = significantDigits(text), swift = significantDigits(x.description)
        let ok = back.bitPattern == x.bitPattern && ours.count <= swift.count && text.utf8.count <= FloatText.maximumLength
            && text.first != "." && text.contains(where: { $0 == "." || $0 == "e" })
        if !ok {
            Issue.record("\(x.debugDescription) (bits \(String(x.bitPattern, radix: 16))) written as \(text), read back as \(back.debugDescription); Swift's digits \(swift)")
        }
        return ok
    }

    @Test func tablesHoldTheExactPowersOfFive() {
        // floor(2^(bits(5^q) - 1 + 59) / 5^q) + 1 and the top 61 bits of 5^i, spot-checked.
        #expect(FloatText.table[0] == (1 << 59) + 1)
        #expect(FloatText.table[1] == 461_168_601_842_738_791)        // 2^61 / 5 rounded up
        #expect(FloatText.table[31 + 0] == 1 << 60)
        #expect(FloatText.table[31 + 1] == 5 << 58)
        #expect(FloatText.table[31 + 27] == 7_450_580_596_923_828_125 >> 2)   // 5^27 has 63 bits
        for e in Int32(0)..<55 {   // 5^55 < 2^128
            var p: UInt128 = 1
            for _ in 0..<e { p *= 5 }
            #expect(FloatText.pow5Bits(e) == Int32(UInt128.bitWidth - p.leadingZeroBitCount))
        }
    }

    @Test func edgeCasesReadBackExactly() {
        var edges: [Float] = [.leastNonzeroMagnitude, .leastNormalMagnitude, .leastNormalMagnitude.nextDown, .greatestFiniteMagnitude,
                              1, 0.1, 0.3, 1e-4, 9.999999e-5, 1e-5, 1e9, 999_999_936, 123_456_792, 16_777_216, 16_777_218,
                              0.099999994, 3.4028235e38, Float(bitPattern: 0x0080_0000), Float(bitPattern: 1), 7.038531e-26, 2.5, 0.5, 1e10, 1e-10]
        // Every power of two, its neighbours, and numbers just around powers of ten.
        for e in -149...127 {
            let p = Float(sign: .plus, exponent: e, significand: 1)
            edges += [p, p.nextUp, p.nextDown]
        }
        for e in -45...38 {
            let p = Float("1e\(e)")!
            edges += [p, p.nextUp, p.nextDown]
        }
        // The smallest and largest subnormals and fraction patterns.
        for bits: UInt32 in [1, 2, 3, 0x7F_FFFF, 0x40_0000, 0x7F_FFFE, 0x0080_0001] { edges.append(Float(bitPattern: bits)) }
        var failed = 0
        for x in edges where x.isFinite && x != 0 {
            if !Self.check(x) { failed += 1 }
            if !Self.check(-x) { failed += 1 }
        }
        #expect(failed == 0)
        #expect(FloatText.string(0) == "0.0" && FloatText.string(-0.0) == "-0.0")
        #expect(FloatText.string(1) == "1.0" && FloatText.string(-2.5) == "-2.5" && FloatText.string(0.1) == "0.1")
        #expect(FloatText.string(1e-4) == "0.0001" && FloatText.string(1e-5) == "1e-5" && FloatText.string(1e9) == "1e9")
        #expect(FloatText.string(123_456_792) == "123456790.0" && FloatText.string(0.00123) == "0.00123")
        #expect(FloatText.string(.greatestFiniteMagnitude) == "3.4028235e38" && FloatText.string(-.leastNonzeroMagnitude) == "-1e-45")
        #expect(FloatText.string(16_777_216) == "16777216.0" && FloatText.string(100) == "100.0")
    }

    @Test func millionsOfRandomBitPatternsReadBackExactlyAndAreShortest() {
        // Seeded random bit patterns (every exponent equally often) and values of the usual
        // embedding range; each written, read back with strtof and compared bit for bit, and its
        // digit count compared with Swift's shortest description.
        var rng = Xoshiro256(seed: 20_261_126)
        var failed = 0, checked = 0
        for k in 0..<1_500_000 {
            let r = rng.next()
            let x = k % 3 == 2 ? Float(Double(Int64(bitPattern: r) >> 11) / Double(1 << 52))   // in (-1, 1)
                               : Float(bitPattern: UInt32(truncatingIfNeeded: r))
            guard x.isFinite else { continue }
            checked += 1
            if !Self.check(x) { failed += 1; if failed > 20 { break } }
        }
        #expect(failed == 0 && checked > 1_400_000)
    }

    @Test func textsAreJSONNumbers() throws {
        let values: [Float] = [0, -0.0, 1, -1e-7, 3.4028235e38, 123.456, -0.0001, 1e9, .leastNonzeroMagnitude]
        let text = "[" + values.map(FloatText.string).joined(separator: ",") + "]"
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [NSNumber])
        #expect(parsed.map(\.floatValue) == values)
    }
}
