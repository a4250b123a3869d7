import Foundation

/// ARPACK keeps its state in Fortran `SAVE` variables, so two reverse-communication loops must
/// never interleave, even on different threads. Every aupd/eupd sequence in the package runs
/// inside ``ARPACKLock/withLock(_:)``.
public enum ARPACKLock {
    private static let lock = NSLock()

    /// Runs `body` while holding the process-wide ARPACK lock.
    public static func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
