/// xoshiro256** (Blackman and Vigna), seeded through SplitMix64: a fast, reproducible
/// generator. The same seed gives the same stream on every platform and Swift version, which
/// `SystemRandomNumberGenerator` cannot promise.
public struct Xoshiro256: RandomNumberGenerator, Sendable {
    @usableFromInline var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    @usableFromInline var spareGaussian: Double? = nil

    /// A generator whose whole stream is determined by `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
    }

    /// The next 64 random bits.
    @inlinable public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// A uniform double in [0, 1) with 53 random bits.
    @inlinable public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal variate (Marsaglia's polar method).
    @inlinable public mutating func nextGaussian() -> Double {
        if let g = spareGaussian { spareGaussian = nil; return g }
        while true {
            let u = 2 * nextUniform() - 1
            let v = 2 * nextUniform() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let f = (-2 * Double.log(s) / s).squareRoot()
                spareGaussian = v * f
                return u * f
            }
        }
    }

    /// Fills `buffer` with standard normal variates.
    @inlinable public mutating func fillGaussian<T: BinaryFloatingPoint>(_ buffer: UnsafeMutableBufferPointer<T>) {
        for i in buffer.indices { buffer[i] = T(nextGaussian()) }
    }

    /// An independent generator for stream `index` (e.g. one per thread or per column block),
    /// derived from `seed` so parallel work stays reproducible whatever the thread count.
    public static func stream(seed: UInt64, index: UInt64) -> Xoshiro256 {
        Xoshiro256(seed: seed ^ (index &* 0xD1B5_4A32_D192_ED03 &+ 0x8CB9_2BA7_2F3D_8DD7))
    }
}

import RealModule
