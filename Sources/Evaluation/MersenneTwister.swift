/// The 32-bit Mersenne Twister (MT19937, Matsumoto and Nishimura 1998) seeded and drawn as numpy's
/// legacy `numpy.random.RandomState(seed)` is, so that code here can reproduce a Python
/// program's random choices bit for bit (``StratifiedKFold/scikitLearnSplit(classes:)`` uses it
/// for scikit-learn's folds).
///
/// - Seeding: `init_genrand` of the reference code (`mt[0] = seed`,
///   `mt[i] = 1812433253 * (mt[i-1] ^ (mt[i-1] >> 30)) + i`), which is what `RandomState(int)`
///   does for an integer seed in `0 ..< 2^32`.
/// - ``next()``: one tempered 32-bit output (`genrand_int32`).
/// - ``nextInterval(_:)``: numpy's `random_interval` (an integer in `0 ... max` by masked
///   rejection: the smallest all-ones mask covering `max`, redraw while above `max`).
/// - ``shuffle(_:)``: numpy's legacy `RandomState.shuffle` of a one-dimensional array
///   (Fisher-Yates from the end, `j = random_interval(i)` for `i = n-1, ..., 1`).
///
/// Not for new random streams: the toolkit's own generator is `Xoshiro256`.
public struct MersenneTwister: Sendable {
    static let size = 624, shift = 397
    var state: [UInt32]
    var index: Int

    /// The generator of `numpy.random.RandomState(seed)`.
    public init(seed: UInt32) {
        var mt = [UInt32](repeating: 0, count: Self.size)
        mt[0] = seed
        for i in 1..<Self.size { mt[i] = 1_812_433_253 &* (mt[i - 1] ^ (mt[i - 1] >> 30)) &+ UInt32(i) }
        state = mt
        index = Self.size
    }

    /// Regenerates the 624 words of state (the reference code's block step).
    mutating func twist() {
        let n = Self.size, m = Self.shift
        state.withUnsafeMutableBufferPointer { mt in
            for i in 0..<n {
                let y = (mt[i] & 0x8000_0000) | (mt[(i + 1) % n] & 0x7fff_ffff)
                mt[i] = mt[(i + m) % n] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_b0df)
            }
        }
        index = 0
    }

    /// The next 32-bit output.
    public mutating func next() -> UInt32 {
        if index >= Self.size { twist() }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    /// The next 64-bit output as numpy's MT19937 makes it: two 32-bit outputs, the first high.
    public mutating func next64() -> UInt64 {
        let high = UInt64(next())
        return high << 32 | UInt64(next())
    }

    /// A uniform integer in `0 ... max`, as numpy's `random_interval(max)`: the smallest mask
    /// `2^b - 1 >= max`, then draws (32-bit while `max < 2^32`, else 64-bit) masked until one is
    /// `<= max`.
    public mutating func nextInterval(_ max: UInt64) -> UInt64 {
        guard max > 0 else { return 0 }
        var mask = max
        mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4
        mask |= mask >> 8; mask |= mask >> 16; mask |= mask >> 32
        if max <= 0xffff_ffff {
            while true { let v = UInt64(next()) & mask; if v <= max { return v } }
        }
        while true { let v = next64() & mask; if v <= max { return v } }
    }

    /// Shuffles `values` in place as numpy's legacy `RandomState.shuffle` shuffles a 1-D array.
    public mutating func shuffle<T>(_ values: inout [T]) {
        guard values.count > 1 else { return }
        for i in stride(from: values.count - 1, through: 1, by: -1) {
            let j = Int(nextInterval(UInt64(i)))
            values.swapAt(i, j)
        }
    }
}
