/// The shortest decimal text of a `Float` that reads back as the same bits, written straight into
/// a byte buffer (no `String`): the vector endpoints write about 64,000 numbers per 1000-id batch,
/// and `Float.description` plus its `String` cost more than the rest of the request.
///
/// The digits come from Ulf Adams' Ryū algorithm ("Ryū: fast float-to-string conversion",
/// PLDI 2018), for 32-bit floats: the interval of decimals that round to the float is scaled by
/// 64-bit fixed-point approximations of powers of five (computed once, exactly, below), and
/// digits are dropped while both ends of the interval still agree. The result is the shortest
/// decimal in the interval, and of those the closest to the float. The tests compare it with
/// Swift's own shortest `description` and read every text back on millions of random bit
/// patterns; `store-bench floats` checks all 2^32 of them.
///
/// Layout (JSON numbers; integers keep a `.0` so that readers see floats): `0.0`, `-0.0`, `1.0`,
/// `123.25`, `0.0001`, `123456790.0`, and the exponent form below 1e-4 and from 1e9 on: `9e-5`,
/// `1e9`, `-3.4028235e38`. At most 15 bytes. The caller handles NaN and infinities (JSON has no
/// literal for them).
public enum FloatText {
    /// The most bytes ``write(_:to:)`` writes.
    public static let maximumLength = 15

    /// Writes `x` (finite) at `out` and returns the number of bytes written.
    /// - Precondition: `x.isFinite`; `out` has room for ``maximumLength`` bytes.
    @inline(__always)
    public static func write(_ x: Float, to out: UnsafeMutablePointer<UInt8>) -> Int {
        write(x, to: out, tables: tables)
    }

    /// ``write(_:to:)`` with the tables fetched by the caller: a loop over many numbers reads
    /// ``tables`` once (each read of a lazily made global costs a `swift_once` check).
    @inline(__always)
    public static func write(_ x: Float, to out: UnsafeMutablePointer<UInt8>, tables: Tables) -> Int {
        let bits = x.bitPattern
        var at = 0
        if bits >> 31 != 0 { out[0] = UInt8(ascii: "-"); at = 1 }
        let fraction = bits & 0x7F_FFFF, biased = (bits >> 23) & 0xFF
        precondition(biased != 0xFF, "FloatText.write: \(x) is not finite")
        if biased == 0 && fraction == 0 {
            out[at] = UInt8(ascii: "0"); out[at + 1] = UInt8(ascii: "."); out[at + 2] = UInt8(ascii: "0")
            return at + 3
        }
        let (digits, exponent) = shortest(fraction: fraction, biasedExponent: biased, powers: tables.powers)
        return at + layout(digits: digits, exponent: Int(exponent), at: out + at, pairs: tables.pairs)
    }

    /// `x`'s text as a `String` (tests and occasional callers; the hot paths use ``write(_:to:)``).
    public static func string(_ x: Float) -> String {
        guard x.isFinite else { return x.description }
        return String(unsafeUninitializedCapacity: maximumLength) { write(x, to: $0.baseAddress!) }
    }

    // MARK: - Digits

    /// Bits kept of 1 / 5^q (rounded up) and of 5^i.
    static let inverseBits: Int32 = 59, powerBits: Int32 = 61

    /// The constant tables, made once and never freed.
    public struct Tables: @unchecked Sendable {
        /// `[0, 31)`: floor(2^(bits(5^q) - 1 + 59) / 5^q) + 1; `[31, 78)`: the top 61 bits of 5^i.
        let powers: UnsafePointer<UInt64>
        /// Two ASCII digits for each of 00...99.
        let pairs: UnsafePointer<UInt8>
    }

    /// The tables ``write(_:to:tables:)`` reads.
    public static let tables = Tables(powers: table, pairs: pairs)

    /// `[0, 31)`: floor(2^(bits(5^q) - 1 + 59) / 5^q) + 1; `[31, 78)`: the top 61 bits of 5^i. Computed
    /// once with 128-bit integers (5^46 < 2^107; the largest numerator is 2^128, handled as
    /// `UInt128.max`, since no power of five divides it). Never freed.
    nonisolated(unsafe) static let table: UnsafePointer<UInt64> = {
        let t = UnsafeMutablePointer<UInt64>.allocate(capacity: 31 + 47)
        var power: UInt128 = 1
        for e in 0..<47 {
            let bits = pow5Bits(Int32(e))
            if e < 31 {
                let shift = Int(bits) - 1 + Int(inverseBits)
                let numerator = shift == 128 ? UInt128.max : UInt128(1) << shift
                t[e] = UInt64(numerator / power + 1)
            }
            let drop = Int(bits) - Int(powerBits)
            t[31 + e] = UInt64(drop >= 0 ? power >> drop : power << -drop)
            power *= 5
        }
        return UnsafePointer(t)
    }()

    /// The number of bits of 5^e, floor(e * log2(5)) + 1, for 0 <= e <= 3528.
    @inline(__always)
    static func pow5Bits(_ e: Int32) -> Int32 { Int32((Int64(e) * 1_217_359) >> 19) + 1 }

    /// floor(e * log10(2)) and floor(e * log10(5)), for 0 <= e <= 1650.
    @inline(__always) static func log10Pow2(_ e: Int32) -> Int32 { Int32((Int64(e) * 78_913) >> 18) }
    @inline(__always) static func log10Pow5(_ e: Int32) -> Int32 { Int32((Int64(e) * 732_923) >> 20) }

    /// floor(m * factor / 2^shift) for a 64-bit `factor` and 32 < shift < 96.
    @inline(__always)
    static func multiplyShift(_ m: UInt32, _ factor: UInt64, _ shift: Int32) -> UInt64 {
        let low = UInt64(m) &* (factor & 0xFFFF_FFFF), high = UInt64(m) &* (factor >> 32)
        return ((low >> 32) &+ high) &>> UInt64(shift - 32)
    }

    @inline(__always)
    static func isMultipleOfPowerOf5(_ value: UInt32, _ p: Int32) -> Bool {
        var v = value, count: Int32 = 0
        while v > 0 && count < p {
            let next = v / 5
            if next * 5 != v { return false }
            v = next; count += 1
        }
        return count >= p
    }

    @inline(__always)
    static func decimalLength(_ v: UInt32) -> Int {
        v >= 100_000_000 ? (v >= 1_000_000_000 ? 10 : 9) : v >= 10_000 ? (v >= 1_000_000 ? (v >= 10_000_000 ? 8 : 7) : v >= 100_000 ? 6 : 5)
            : v >= 100 ? (v >= 1000 ? 4 : 3) : v >= 10 ? 2 : 1
    }

    /// The shortest (then closest) decimal `digits * 10^exponent` in the rounding interval of the
    /// positive float with these fields (not zero, not infinite or NaN).
    @inline(__always)
    static func shortest(fraction: UInt32, biasedExponent: UInt32, powers t: UnsafePointer<UInt64>) -> (digits: UInt32, exponent: Int32) {
        // x = m2 * 2^e2, with two extra bits so that the interval's ends are integers too.
        let e2: Int32 = (biasedExponent == 0 ? 1 : Int32(biasedExponent)) - 127 - 23 - 2
        let m2: UInt32 = biasedExponent == 0 ? fraction : (1 << 23) | fraction
        let evenFloat = m2 & 1 == 0       // round-to-even: the ends belong to the interval
        let mv = 4 * m2, mp = 4 * m2 + 2
        // The gap below is half as wide at a power of two (except at the smallest exponents).
        let lowerGapIsNarrow: UInt32 = fraction != 0 || biasedExponent <= 1 ? 1 : 0
        let mm = 4 * m2 - 1 - lowerGapIsNarrow
        var vr: UInt32, vp: UInt32, vm: UInt32
        let e10: Int32
        var vmTrailingZeros = false, vrTrailingZeros = false
        var lastRemoved: UInt32 = 0
        if e2 >= 0 {
            // Divide by 10^q (q = floor(e2 log10 2)): multiply by 2^e2 / 5^q / 2^q.
            let q = log10Pow2(e2)
            e10 = q
            let k: Int32 = inverseBits + pow5Bits(q) - 1
            let shift: Int32 = q - e2 + k
            let factor = t[Int(q)]
            vr = UInt32(truncatingIfNeeded: multiplyShift(mv, factor, shift))
            vp = UInt32(truncatingIfNeeded: multiplyShift(mp, factor, shift))
            vm = UInt32(truncatingIfNeeded: multiplyShift(mm, factor, shift))
            if q != 0 && (vp &- 1) / 10 <= vm / 10 {
                // The loop below may not run: one removed digit is needed for rounding anyway.
                let l: Int32 = inverseBits + pow5Bits(q - 1) - 1
                let s: Int32 = q - 1 - e2 + l
                lastRemoved = UInt32(multiplyShift(mv, t[Int(q - 1)], s) % 10)
            }
            if q <= 9 {
                // At most one of mp, mv, mm is a multiple of 5.
                if mv % 5 == 0 {
                    vrTrailingZeros = isMultipleOfPowerOf5(mv, q)
                } else if evenFloat {
                    vmTrailingZeros = isMultipleOfPowerOf5(mm, q)
                } else if isMultipleOfPowerOf5(mp, q) {
                    vp -= 1
                }
            }
        } else {
            // Multiply by 10^q (q = floor(-e2 log10 5)): by 5^(-e2 - q), then by 2^(q + e2).
            let q = log10Pow5(-e2)
            e10 = q + e2
            let i = -e2 - q
            let shift = q - (pow5Bits(i) - powerBits)
            let factor = t[31 + Int(i)]
            vr = UInt32(truncatingIfNeeded: multiplyShift(mv, factor, shift))
            vp = UInt32(truncatingIfNeeded: multiplyShift(mp, factor, shift))
            vm = UInt32(truncatingIfNeeded: multiplyShift(mm, factor, shift))
            if q != 0 && (vp &- 1) / 10 <= vm / 10 {
                let s = q - 1 - (pow5Bits(i + 1) - powerBits)
                lastRemoved = UInt32(multiplyShift(mv, t[31 + Int(i + 1)], s) % 10)
            }
            if q <= 1 {
                // mv and mp are even; mm is even exactly when the lower gap is narrow.
                vrTrailingZeros = (~mv & 1) >= UInt32(q)
                if evenFloat {
                    vmTrailingZeros = (~mm & 1) >= UInt32(q)
                } else {
                    vp -= 1
                }
            } else if q < 31 {
                vrTrailingZeros = mv & ((1 << UInt32(q - 1)) - 1) == 0
            }
        }

        // Drop digits while the interval still holds a shorter decimal.
        var removed = 0
        let output: UInt32
        if vmTrailingZeros || vrTrailingZeros {
            // Rare: exact decimal ends; keep track of whether the dropped digits were all zero.
            while vp / 10 > vm / 10 {
                vmTrailingZeros = vmTrailingZeros && vm % 10 == 0
                vrTrailingZeros = vrTrailingZeros && lastRemoved == 0
                lastRemoved = vr % 10
                vr /= 10; vp /= 10; vm /= 10
                removed += 1
            }
            if vmTrailingZeros {
                while vm % 10 == 0 {
                    vrTrailingZeros = vrTrailingZeros && lastRemoved == 0
                    lastRemoved = vr % 10
                    vr /= 10; vp /= 10; vm /= 10
                    removed += 1
                }
            }
            if vrTrailingZeros && lastRemoved == 5 && vr % 2 == 0 {
                lastRemoved = 4       // exactly halfway: round to even
            }
            let roundUp = (vr == vm && (!evenFloat || !vmTrailingZeros)) || lastRemoved >= 5
            output = vr + (roundUp ? 1 : 0)
        } else {
            while vp / 10 > vm / 10 {
                lastRemoved = vr % 10
                vr /= 10; vp /= 10; vm /= 10
                removed += 1
            }
            output = vr + (vr == vm || lastRemoved >= 5 ? 1 : 0)
        }
        return (output, e10 + Int32(removed))
    }

    // MARK: - Layout

    /// Two ASCII digits for each of 00...99.
    nonisolated(unsafe) static let pairs: UnsafePointer<UInt8> = {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 200)
        for i in 0..<100 { p[2 * i] = UInt8(48 + i / 10); p[2 * i + 1] = UInt8(48 + i % 10) }
        return UnsafePointer(p)
    }()

    /// Writes the digits of `v` so that the last one lands at `end - 1`.
    @inline(__always)
    static func writeDigits(_ v: UInt32, endingAt end: UnsafeMutablePointer<UInt8>, pairs: UnsafePointer<UInt8>) {
        var v = v, at = end
        while v >= 100 {
            let r = Int(v % 100)
            v /= 100
            at -= 2
            at[0] = pairs[2 * r]; at[1] = pairs[2 * r + 1]
        }
        if v >= 10 {
            at -= 2
            at[0] = pairs[2 * Int(v)]; at[1] = pairs[2 * Int(v) + 1]
        } else {
            at -= 1
            at[0] = UInt8(48 + v)
        }
    }

    /// Lays out `digits * 10^exponent` as a JSON number at `out`; returns its length.
    @inline(__always)
    static func layout(digits: UInt32, exponent: Int, at out: UnsafeMutablePointer<UInt8>, pairs: UnsafePointer<UInt8>) -> Int {
        let n = decimalLength(digits)
        let point = n + exponent        // the value is 0.d1d2...dn * 10^point
        if point > 0 && point <= 9 {
            if exponent >= 0 {          // an integer: digits, zeros, ".0"
                writeDigits(digits, endingAt: out + n, pairs: pairs)
                for k in n..<point { out[k] = UInt8(ascii: "0") }
                out[point] = UInt8(ascii: "."); out[point + 1] = UInt8(ascii: "0")
                return point + 2
            }
            // d1...dp . d(p+1)...dn: write the digits one to the right, then pull the head back.
            writeDigits(digits, endingAt: out + n + 1, pairs: pairs)
            for k in 0..<point { out[k] = out[k + 1] }
            out[point] = UInt8(ascii: ".")
            return n + 1
        }
        if point <= 0 && point > -4 {   // 0.000ddd
            out[0] = UInt8(ascii: "0"); out[1] = UInt8(ascii: ".")
            for k in 0..<(-point) { out[2 + k] = UInt8(ascii: "0") }
            let start = 2 - point
            writeDigits(digits, endingAt: out + start + n, pairs: pairs)
            return start + n
        }
        // d1[.d2...dn]e[-]x
        writeDigits(digits, endingAt: out + n + 1, pairs: pairs)
        out[0] = out[1]
        var at: Int
        if n > 1 { out[1] = UInt8(ascii: "."); at = n + 1 } else { at = 1 }
        out[at] = UInt8(ascii: "e"); at += 1
        var e = point - 1
        if e < 0 { out[at] = UInt8(ascii: "-"); at += 1; e = -e }
        if e >= 10 {
            out[at] = pairs[2 * e]; out[at + 1] = pairs[2 * e + 1]; at += 2
        } else {
            out[at] = UInt8(48 + e); at += 1
        }
        return at
    }
}
