import Logging
import ParleyDomain
import ServiceLifecycle

/// Fetches the previews the queue asks for, a few at a time, and records them on their
/// messages through the room (so they are in the log and reach live sessions like any change).
/// Stops on graceful shutdown; requests still waiting then are dropped (they are a nicety,
/// and a later edit asks again).
public struct LinkPreviewService: Service {
    let queue: LinkPreviewQueue
    let fetcher: any LinkPreviewFetching
    let runtime: NodeRuntime
    let concurrency: Int
    let logger: Logger

    public init(queue: LinkPreviewQueue, fetcher: any LinkPreviewFetching, runtime: NodeRuntime, concurrency: Int = 4, logger: Logger = Logger(label: "parley.link-previews")) {
        self.queue = queue
        self.fetcher = fetcher
        self.runtime = runtime
        self.concurrency = max(concurrency, 1)
        self.logger = logger
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for await request in queue.requests.cancelOnGracefulShutdown() {
                if running == concurrency {
                    await group.next()
                    running -= 1
                }
                group.addTask { await serve(request) }
                running += 1
            }
        }
        await fetcher.shutdown()
    }

    private func serve(_ request: LinkPreviewQueue.Request) async {
        var previews: [LinkPreview] = []
        for link in request.links {
            do {
                previews.append(try await fetcher.preview(of: link))
            } catch {
                logger.debug("no link preview", metadata: ["link": "\(link)", "reason": "\(error)"])
            }
        }
        guard !previews.isEmpty else { return }
        do {
            try await runtime.attachLinkPreviews(previews, to: request.seq, in: request.room)
        } catch {
            logger.warning("could not record link previews", metadata: ["room": "\(request.room)", "seq": "\(request.seq)", "error": "\(error)"])
        }
    }
}
