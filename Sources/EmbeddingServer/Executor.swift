import NIOCore
import NIOPosix

extension EmbeddingServer {
    /// Runs Swift concurrency's tasks on the server's I/O event loops instead of a second pool.
    ///
    /// Hummingbird serves each connection from a task; with the default global executor every
    /// request crosses between an event-loop thread (socket reads and writes) and a concurrency
    /// thread (the handler) and back. On a small machine under load those hops, and the extra
    /// runnable threads, make the latency tail. This installs NIO's singleton event-loop group as
    /// the global executor (`NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`),
    /// so a request's task runs on the loop that owns its socket.
    ///
    /// Call it once, from the main thread, before any task starts (first thing in `main`); it
    /// affects the whole process. Handlers must not block for long (the store's lookups are
    /// memory-mapped reads; registry reads are short SQLite queries).
    /// - Returns: whether the executor was installed (false on platforms NIO does not support).
    @discardableResult
    public static func runTasksOnEventLoops() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
