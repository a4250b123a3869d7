import Crypto
import Foundation

/// SHA-256 checksums of input files, as `meta.json` records them, computed with swift-crypto
/// (the SHA-256 Swift servers use; BoringSSL's assembly on Linux, CryptoKit on Apple platforms).
public enum FileChecksum {
    /// The SHA-256 of the file at `url` as 64 lower-case hexadecimal digits, read in 1 MiB
    /// chunks (constant memory). Cost: one streaming pass over the file.
    /// - Throws: ``EmbeddingStoreError`` naming the file if it cannot be opened or read.
    public static func sha256(of url: URL) throws -> String {
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw EmbeddingStoreError(path: url.path, problem: "cannot open for checksum: \(error.localizedDescription)")
        }
        defer { try? handle.close() }
        var hash = SHA256()
        do {
            while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty { hash.update(data: data) }
        } catch {
            throw EmbeddingStoreError(path: url.path, problem: "read failed during checksum: \(error.localizedDescription)")
        }
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

extension FileChecksum {
    /// The SHA-256 of `bytes` as 64 lower-case hexadecimal digits.
    public static func sha256<C: Collection>(bytes: C) -> String where C.Element == UInt8 {
        var hasher = Hasher()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// An incremental SHA-256 over several parts (e.g. a cache key made of names and file
    /// checksums), so that callers need not import swift-crypto themselves.
    public struct Hasher {
        private var hash = SHA256()
        /// A hasher that has seen no bytes.
        public init() {}
        /// Feeds `bytes`.
        public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
            hash.update(data: Array(bytes))
        }
        /// The digest of everything fed so far, as 64 lower-case hexadecimal digits.
        public func finalize() -> String {
            hash.finalize().map { String(format: "%02x", $0) }.joined()
        }
    }
}
