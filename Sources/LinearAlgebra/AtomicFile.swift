import Foundation
#if canImport(Glibc)
import Glibc
#endif

// The package's one atomic file writer (embedding-table metadata, neighbour-index files, binary
// CSR graphs): a temporary sibling is written, flushed and renamed over the target, so a reader,
// or a crash at any point, sees the old file or the new one, never a part of either.

/// A failed ``AtomicFile`` write: the file being replaced (never the temporary) and what failed.
package struct AtomicFileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The target file.
    package let path: String
    /// What went wrong, e.g. `its directory /data/out does not exist`.
    package let problem: String
    package var description: String { "\(path): \(problem)" }
}

/// Writes a file in one atomic step.
///
/// ``write(to:_:)`` creates a temporary sibling `.<name>.tmp-<pid>-<random>` in the target's
/// directory (the same file system, so the rename is atomic), lets the caller write the bytes
/// through it, flushes it (`fsync`), renames it over the target (POSIX `rename`: readers see the
/// old file or the new one) and flushes the directory, so the new name survives a crash. When the
/// caller's writing or any step fails, the temporary is removed and the target is untouched:
/// nothing already written is lost or left half-written.
///
/// Directories are not created: a target whose directory is missing or not writable is an
/// ``AtomicFileError`` saying so. Errors of the caller's own writing pass through unchanged.
package enum AtomicFile {
    /// The open temporary file of a ``AtomicFile/write(to:_:)`` call.
    package struct Output {
        /// The temporary file's descriptor (write-only, empty at first): for `write`/`pwrite`
        /// by the caller's own code. Closed by the writer, never by the caller.
        package let descriptor: Int32
        /// The target (named in errors).
        package let path: String
        /// The temporary file, renamed over ``path`` at the end.
        package let temporaryPath: String

        /// Appends `bytes` at the current offset (all of them, through short writes and `EINTR`).
        /// - Throws: ``AtomicFileError`` naming the target (e.g. the disk is full).
        package func write(_ bytes: UnsafeRawBufferPointer) throws {
            try AtomicFile.writeAll(descriptor, bytes, path: path)
        }

        /// Appends `bytes`.
        package func write(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try write($0) }
        }

        /// Appends `data`.
        package func write(_ data: Data) throws {
            try data.withUnsafeBytes { try write($0) }
        }

        /// Writes `bytes` at byte `offset` (`pwrite`: the current offset does not move), e.g. a
        /// header field known only once the body is written.
        package func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
            try AtomicFile.transfer(bytes, path: path) { p, count, done in pwrite(descriptor, p, count, off_t(offset + done)) }
        }
    }

    /// Replaces (or creates) the file at `path` with what `body` writes, atomically (see the
    /// type's description).
    /// - Throws: ``AtomicFileError`` naming `path` when the temporary cannot be created (missing
    ///   or read-only directory), written, flushed or renamed (e.g. `path` is a directory); or
    ///   what `body` throws. In every case the temporary is removed and `path` is unchanged.
    package static func write(to path: String, _ body: (Output) throws -> Void) throws {
        let temporary = temporaryPath(for: path)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AtomicFileError(path: path, problem: cannotCreate(in: directory(of: path), errno)) }
        var isOpen = true, renamed = false
        defer {
            if isOpen { _ = close(fd) }
            if !renamed { _ = unlink(temporary) }
        }
        try body(Output(descriptor: fd, path: path, temporaryPath: temporary))
        guard fsync(fd) == 0 else {
            throw AtomicFileError(path: path, problem: "cannot flush it to disk (fsync): \(String(cString: strerror(errno)))")
        }
        isOpen = false
        guard close(fd) == 0 else {
            throw AtomicFileError(path: path, problem: "cannot close the written file: \(String(cString: strerror(errno)))")
        }
        guard rename(temporary, path) == 0 else {
            throw AtomicFileError(path: path, problem: "cannot rename the temporary file into place: \(String(cString: strerror(errno)))")
        }
        renamed = true
        sync(directory(of: path))
    }

    /// Replaces (or creates) the file at `path` with `data`, atomically.
    /// - Throws: ``AtomicFileError`` as ``write(to:_:)``.
    package static func write(_ data: Data, to path: String) throws {
        try write(to: path) { try $0.write(data) }
    }

    /// Writes all of `bytes` to `fd` at its current offset, through short writes and `EINTR`.
    /// - Throws: ``AtomicFileError`` naming `path`.
    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        try transfer(bytes, path: path) { p, count, _ in Foundation.write(fd, p, count) }
    }

    /// Calls `step(start, count, done)` (a `write` or `pwrite` of `count` bytes from `start`, of
    /// which `done` are already written) until all of `bytes` are written, through short writes
    /// and `EINTR`. - Throws: ``AtomicFileError`` naming `path` on a failed or empty write.
    static func transfer(_ bytes: UnsafeRawBufferPointer, path: String,
                         _ step: (UnsafeRawPointer, Int, Int) -> Int) throws {
        var done = 0
        while done < bytes.count {
            let n = step(bytes.baseAddress! + done, bytes.count - done, done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw AtomicFileError(path: path, problem: "write failed: \(reason(n))") }
            done += n
        }
    }

    /// Flushes the file or directory at `path` to stable storage; best effort (some file systems
    /// cannot flush a directory, and the rename is already done when it is called).
    package static func sync(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            _ = close(fd)
        }
    }

    /// A random 8-hex-digit suffix for temporary names.
    package static func randomSuffix() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = String(UInt32.random(in: .min ... .max, using: &generator), radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// The temporary sibling for `path`: `.<name>.tmp-<pid>-<random>` in the same directory.
    package static func temporaryPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(randomSuffix())").path
    }

    /// The directory `path` is in (the working directory for a bare name).
    static func directory(of path: String) -> String {
        URL(fileURLWithPath: path).deletingLastPathComponent().path
    }

    /// Why a temporary file could not be created in `directory`, from `open`'s `errno`.
    static func cannotCreate(in directory: String, _ code: Int32) -> String {
        switch code {
        case ENOENT: return "cannot write it: its directory \(directory) does not exist"
        case ENOTDIR: return "cannot write it: \(directory) is not a directory"
        case EACCES, EPERM: return "cannot write it: its directory \(directory) is not writable (\(String(cString: strerror(code))))"
        case EROFS: return "cannot write it: its directory \(directory) is on a read-only file system"
        default: return "cannot create a temporary file in \(directory): \(String(cString: strerror(code)))"
        }
    }

    /// `strerror(errno)` for a failed write, or a note when it wrote nothing without an error.
    static func reason(_ result: Int) -> String {
        result < 0 ? String(cString: strerror(errno)) : "the file system accepted no bytes"
    }
}
