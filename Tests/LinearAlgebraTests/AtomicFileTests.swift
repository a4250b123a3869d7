import Foundation
import Testing
@testable import LinearAlgebra

/// The one atomic file writer: a failed write leaves the old file and no temporary behind, and a
/// target it cannot write is an error naming the file and the reason.
@Suite struct AtomicFileTests {
    /// A fresh empty directory, removed by the caller.
    func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("atomic-file-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        return url
    }

    func entries(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    struct Interrupted: Error {}

    @Test func writesCreatesAndReplacesWithoutLeavingATemporary() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("f.bin").path
        try AtomicFile.write(Data("first".utf8), to: path)
        #expect(FileManager.default.contents(atPath: path) == Data("first".utf8))
        // Appends, then a field written at an offset (as GraphCSRFile fills its checksum).
        try AtomicFile.write(to: path) { out in
            try out.write([UInt8]("0123456789".utf8))
            try out.write(Data("ab".utf8))
            try [UInt8]("XY".utf8).withUnsafeBytes { try out.write($0, at: 3) }
            #expect(out.temporaryPath.hasPrefix(dir.appendingPathComponent(".f.bin.tmp-\(getpid())-").path))
            #expect(FileManager.default.contents(atPath: path) == Data("first".utf8))   // not yet replaced
        }
        #expect(String(decoding: FileManager.default.contents(atPath: path)!, as: UTF8.self) == "012XY56789ab")
        #expect(try entries(dir) == ["f.bin"])
    }

    @Test func aFailedWriteKeepsTheOldFileAndRemovesTheTemporary() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("table.meta").path
        try AtomicFile.write(Data("old contents".utf8), to: path)
        var temporary = ""
        #expect(throws: Interrupted.self) {
            try AtomicFile.write(to: path) { out in
                temporary = out.temporaryPath
                try out.write([UInt8](repeating: 7, count: 1 << 20))
                #expect(FileManager.default.fileExists(atPath: temporary))
                throw Interrupted()                  // the caller's own error passes through unchanged
            }
        }
        #expect(!temporary.isEmpty && !FileManager.default.fileExists(atPath: temporary))
        #expect(FileManager.default.contents(atPath: path) == Data("old contents".utf8))
        #expect(try entries(dir) == ["table.meta"])
        // Without an old file, a failed write leaves nothing.
        let fresh = dir.appendingPathComponent("new.bin").path
        #expect(throws: Interrupted.self) { try AtomicFile.write(to: fresh) { _ in throw Interrupted() } }
        #expect(try entries(dir) == ["table.meta"])
    }

    @Test func aFailedWriteOfTheDescriptorIsAnErrorNamingTheTarget() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("g.csr").path
        try AtomicFile.write(Data("old".utf8), to: path)
        // A read-only descriptor in place of the temporary's: write(2) fails with EBADF.
        let readOnly = open(path, O_RDONLY)
        defer { close(readOnly) }
        let error = #expect(throws: AtomicFileError.self) {
            try AtomicFile.write(to: path) { out in
                let broken = AtomicFile.Output(descriptor: readOnly, path: out.path, temporaryPath: out.temporaryPath)
                try broken.write([1, 2, 3])
            }
        }
        #expect(error?.path == path)
        #expect(error?.problem.hasPrefix("write failed: ") == true)
        #expect(FileManager.default.contents(atPath: path) == Data("old".utf8))
        #expect(try entries(dir) == ["g.csr"])
    }

    @Test func aMissingDirectoryIsAClearError() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("missing/sub/f.bin").path
        let error = #expect(throws: AtomicFileError.self) { try AtomicFile.write(Data("x".utf8), to: path) }
        #expect(error?.path == path)
        #expect(error?.problem == "cannot write it: its directory \(dir.path)/missing/sub does not exist")
        #expect(error?.description.hasPrefix(path + ": ") == true)
        // A file where the directory should be.
        try AtomicFile.write(Data("x".utf8), to: dir.appendingPathComponent("plain").path)
        let below = dir.appendingPathComponent("plain/f.bin").path
        let notDirectory = #expect(throws: AtomicFileError.self) { try AtomicFile.write(Data("x".utf8), to: below) }
        #expect(notDirectory?.problem == "cannot write it: \(dir.path)/plain is not a directory")
        #expect(try entries(dir) == ["plain"])
    }

    /// Root ignores directory permissions, so this runs only for other users.
    @Test(.enabled(if: geteuid() != 0, "root may write into a read-only directory"))
    func aReadOnlyDirectoryIsAClearErrorAndKeepsTheOldFile() throws {
        let dir = try directory()
        defer { chmod(dir.path, 0o755); try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("f.bin").path
        try AtomicFile.write(Data("old".utf8), to: path)
        chmod(dir.path, 0o555)
        let error = #expect(throws: AtomicFileError.self) { try AtomicFile.write(Data("new".utf8), to: path) }
        #expect(error?.problem.hasPrefix("cannot write it: its directory \(dir.path) is not writable") == true)
        #expect(FileManager.default.contents(atPath: path) == Data("old".utf8))
        #expect(try entries(dir) == ["f.bin"])
    }

    @Test func aDirectoryInTheWayIsARenameErrorAndNoTemporaryStays() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: target.appendingPathComponent("inside"))
        let error = #expect(throws: AtomicFileError.self) { try AtomicFile.write(Data("x".utf8), to: target.path) }
        #expect(error?.path == target.path)
        #expect(error?.problem.hasPrefix("cannot rename the temporary file into place: ") == true)
        #expect(try entries(dir) == ["out"])
        #expect(try entries(target) == ["inside"])
    }
}
