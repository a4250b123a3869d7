import Foundation
import Testing
@testable import LinearAlgebra

/// The one atomic file writer: a failed write leaves the old file and no temporary behind, and a
/// target it cannot write is an error naming the file and the reason.
@Suite struct AtomicFileTests {
    /// Runs `body(directory, path)` in a fresh empty directory, `path` being `name` in it (a file
    /// holding `old` when given), then removes the directory.
    func inDirectory(_ name: String, holding old: String? = nil, _ body: (URL, String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("atomic-file-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: false)
        defer { chmod(dir.path, 0o755); try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent(name).path
        if let old { try AtomicFile.write(Data(old.utf8), to: path) }
        try body(dir, path)
    }

    /// The names in `dir`, sorted (`["<unreadable>"]` when it cannot be listed).
    func entries(_ dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? ["<unreadable>"]).sorted()
    }

    struct Interrupted: Error {}

    @Test func writesCreatesAndReplacesWithoutLeavingATemporary() throws {
        try inDirectory("f.bin", holding: "first") { dir, path in
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
            #expect(entries(dir) == ["f.bin"])
        }
    }

    @Test func aFailedWriteKeepsTheOldFileAndRemovesTheTemporary() throws {
        try inDirectory("table.meta", holding: "old contents") { dir, path in
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
            #expect(entries(dir) == ["table.meta"])
            // Without an old file, a failed write leaves nothing.
            let fresh = dir.appendingPathComponent("new.bin").path
            #expect(throws: Interrupted.self) { try AtomicFile.write(to: fresh) { _ in throw Interrupted() } }
            #expect(entries(dir) == ["table.meta"])
        }
    }

    @Test func aFailedWriteOfTheDescriptorIsAnErrorNamingTheTarget() throws {
        try inDirectory("g.csr", holding: "old") { dir, path in
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
            #expect(entries(dir) == ["g.csr"])
        }
    }

    @Test func aMissingDirectoryIsAClearError() throws {
        try inDirectory("missing/sub/f.bin") { dir, path in
            let error = #expect(throws: AtomicFileError.self) { try AtomicFile.write(Data("x".utf8), to: path) }
            #expect(error?.path == path)
            #expect(error?.problem == "cannot write it: its directory \(dir.path)/missing/sub does not exist")
            #expect(error?.description.hasPrefix(path + ": ") == true)
            // A file where the directory should be.
            try AtomicFile.write(Data("x".utf8), to: dir.appendingPathComponent("plain").path)
            let below = dir.appendingPathComponent("plain/f.bin").path
            let notDirectory = #expect(throws: AtomicFileError.self) { try AtomicFile.write(Data("x".utf8), to: below) }
            #expect(notDirectory?.problem == "cannot write it: \(dir.path)/plain is not a directory")
            #expect(entries(dir) == ["plain"])
        }
    }

    /// Root ignores directory permissions, so this runs only for other users.
    @Test(.enabled(if: geteuid() != 0, "root may write into a read-only directory"))
    func aReadOnlyDirectoryIsAClearErrorAndKeepsTheOldFile() throws {
        try inDirectory("f.bin", holding: "old") { dir, path in
            chmod(dir.path, 0o555)
            let error = #expect(throws: AtomicFileError.self) { try AtomicFile.write(Data("new".utf8), to: path) }
            #expect(error?.problem.hasPrefix("cannot write it: its directory \(dir.path) is not writable") == true)
            #expect(FileManager.default.contents(atPath: path) == Data("old".utf8))
            #expect(entries(dir) == ["f.bin"])
        }
    }

    @Test func aDirectoryInTheWayIsARenameErrorAndNoTemporaryStays() throws {
        try inDirectory("out") { dir, path in
            let target = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
            try Data("keep".utf8).write(to: target.appendingPathComponent("inside"))
            let error = #expect(throws: AtomicFileError.self) { try AtomicFile.write(Data("x".utf8), to: target.path) }
            #expect(error?.path == target.path)
            #expect(error?.problem.hasPrefix("cannot rename the temporary file into place: ") == true)
            #expect(entries(dir) == ["out"])
            #expect(entries(target) == ["inside"])
        }
    }
}
