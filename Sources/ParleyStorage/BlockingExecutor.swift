import Dispatch

/// Runs blocking storage calls (fsync'd writes, scans, checkpoints) on its own threads, so that
/// neither NIO event loops nor the Swift concurrency cooperative pool wait on the disk.
public final class BlockingExecutor: Sendable {
    private let queue: DispatchQueue

    /// - Parameter label: the name threads carry in debuggers and profilers.
    public init(label: String = "parley.storage") {
        queue = DispatchQueue(label: label, qos: .userInitiated, attributes: .concurrent)
    }

    /// Runs `body` on a storage thread and returns its result to the awaiting task.
    public func run<R: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> R) async throws(E) -> R {
        let result: Result<R, E> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(E) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }
}
