import Foundation

/// A streaming SHA-256 (FIPS 180-4), written here because Foundation on Linux has no CryptoKit.
///
/// ```swift
/// var hash = SHA256()
/// hash.update(Array("abc".utf8))
/// hash.finalize().hex   // "ba7816bf..."
/// ```
/// Cost: O(bytes); about 64 rounds of 32-bit arithmetic per 64-byte block.
public struct SHA256: Sendable {
    /// A 32-byte digest.
    public struct Digest: Sendable, Equatable, CustomStringConvertible {
        /// The digest bytes, big-endian as the standard writes them.
        public let bytes: [UInt8]
        /// Lower-case hexadecimal, 64 characters.
        public var hex: String {
            let digits = Array("0123456789abcdef".utf8)
            var out = [UInt8]()
            out.reserveCapacity(64)
            for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
            return String(decoding: out, as: UTF8.self)
        }
        /// Same as ``hex``.
        public var description: String { hex }
    }

    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    private var state: [UInt32] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]
    private var pending = [UInt8]()
    private var totalBytes: UInt64 = 0

    /// A fresh hash.
    public init() { pending.reserveCapacity(64) }

    /// Absorbs `bytes`. Cost: O(bytes.count).
    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        totalBytes &+= UInt64(bytes.count)
        var index = bytes.startIndex
        // Top up a partial block first.
        if !pending.isEmpty {
            while pending.count < 64, index != bytes.endIndex {
                pending.append(bytes[index]); index = bytes.index(after: index)
            }
            if pending.count == 64 {
                pending.withUnsafeBufferPointer { compress($0.baseAddress!) }
                pending.removeAll(keepingCapacity: true)
            }
        }
        var block = [UInt8](repeating: 0, count: 64)
        while bytes.distance(from: index, to: bytes.endIndex) >= 64 {
            for i in 0..<64 { block[i] = bytes[index]; index = bytes.index(after: index) }
            block.withUnsafeBufferPointer { compress($0.baseAddress!) }
        }
        while index != bytes.endIndex { pending.append(bytes[index]); index = bytes.index(after: index) }
    }

    /// Absorbs raw memory; the fast path for file contents.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        totalBytes &+= UInt64(buffer.count)
        var offset = 0
        if !pending.isEmpty {
            while pending.count < 64, offset < buffer.count { pending.append(bytes[offset]); offset += 1 }
            if pending.count == 64 {
                pending.withUnsafeBufferPointer { compress($0.baseAddress!) }
                pending.removeAll(keepingCapacity: true)
            }
        }
        while buffer.count - offset >= 64 {
            compress(bytes + offset)
            offset += 64
        }
        while offset < buffer.count { pending.append(bytes[offset]); offset += 1 }
    }

    /// Pads, processes the last block(s) and returns the digest. The hash should not be updated after.
    public mutating func finalize() -> Digest {
        let bitLength = totalBytes &* 8
        var tail = pending
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { tail.append(UInt8((bitLength >> UInt64(shift)) & 0xFF)) }
        tail.withUnsafeBufferPointer { p in
            var offset = 0
            while offset < p.count { compress(p.baseAddress! + offset); offset += 64 }
        }
        pending.removeAll()
        var out = [UInt8]()
        out.reserveCapacity(32)
        for word in state {
            out.append(UInt8(word >> 24)); out.append(UInt8((word >> 16) & 0xFF))
            out.append(UInt8((word >> 8) & 0xFF)); out.append(UInt8(word & 0xFF))
        }
        return Digest(bytes: out)
    }

    /// The digest of `bytes` in one call.
    public static func hash<C: Collection>(_ bytes: C) -> Digest where C.Element == UInt8 {
        var h = SHA256()
        h.update(bytes)
        return h.finalize()
    }

    /// The digest of the file at `url`, read in 1 MiB chunks (constant memory).
    /// - Throws: ``EmbeddingStoreError`` if the file cannot be opened or read.
    public static func hash(fileAt url: URL) throws -> Digest {
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw EmbeddingStoreError(path: url.path, problem: "cannot open for checksum: \(error.localizedDescription)")
        }
        defer { try? handle.close() }
        var h = SHA256()
        do {
            while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
                data.withUnsafeBytes { h.update($0) }
            }
        } catch {
            throw EmbeddingStoreError(path: url.path, problem: "read failed during checksum: \(error.localizedDescription)")
        }
        return h.finalize()
    }

    @inline(__always) private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

    private mutating func compress(_ block: UnsafePointer<UInt8>) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { s in
            for t in 0..<16 {
                let b = block + 4 * t
                s[t] = UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
            }
            for t in 16..<64 {
                let x = s[t - 15], y = s[t - 2]
                let s0 = Self.rotr(x, 7) ^ Self.rotr(x, 18) ^ (x >> 3)
                let s1 = Self.rotr(y, 17) ^ Self.rotr(y, 19) ^ (y >> 10)
                s[t] = s[t - 16] &+ s0 &+ s[t - 7] &+ s1
            }
            var a = state[0], b = state[1], c = state[2], d = state[3]
            var e = state[4], f = state[5], g = state[6], h = state[7]
            Self.k.withUnsafeBufferPointer { k in
                for t in 0..<64 {
                    let big1 = Self.rotr(e, 6) ^ Self.rotr(e, 11) ^ Self.rotr(e, 25)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = h &+ big1 &+ ch &+ k[t] &+ s[t]
                    let big0 = Self.rotr(a, 2) ^ Self.rotr(a, 13) ^ Self.rotr(a, 22)
                    let maj = (a & b) ^ (a & c) ^ (b & c)
                    let t2 = big0 &+ maj
                    h = g; g = f; f = e; e = d &+ t1
                    d = c; c = b; b = a; a = t1 &+ t2
                }
            }
            state[0] &+= a; state[1] &+= b; state[2] &+= c; state[3] &+= d
            state[4] &+= e; state[5] &+= f; state[6] &+= g; state[7] &+= h
        }
    }
}
