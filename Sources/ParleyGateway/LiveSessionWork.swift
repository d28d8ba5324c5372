import ServiceLifecycle

/// Runs the asynchronous steps of live sessions (signing in, following rooms, replaying
/// their journals) as child tasks of one task group, so an idle session holds no task and no
/// task stack of its own: a session is a channel handler between steps.
///
/// A `Service`: it takes steps until graceful shutdown (the HTTP server, which stops first,
/// has closed the sessions by then) and lets the steps under way finish; steps submitted
/// after it stopped are refused.
public final class LiveSessionWork: Service, Sendable {
    public typealias Step = @Sendable () async -> Void

    private let steps: AsyncStream<Step>
    private let submitter: AsyncStream<Step>.Continuation

    public init() {
        (steps, submitter) = AsyncStream.makeStream(of: Step.self)
    }

    /// Queues `step`; false once the service has stopped (the step will not run).
    @discardableResult
    func submit(_ step: @escaping Step) -> Bool {
        if case .enqueued = submitter.yield(step) { return true }
        return false
    }

    public func run() async {
        await withDiscardingTaskGroup { group in
            for await step in steps.cancelOnGracefulShutdown() {
                group.addTask { await step() }
            }
            // Stopped: nothing more is taken; the group waits for the steps under way.
            submitter.finish()
        }
    }
}
