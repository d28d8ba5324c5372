import ParleyDomain
import Synchronization

/// Something that can preview a web link (the node's fetcher; tests may use a local server
/// through the same fetcher).
public protocol LinkPreviewFetching: Sendable {
    /// The preview of `link`, or the reason there is none.
    func preview(of link: String) async throws -> LinkPreview
    /// Releases connections; called once, when the node stops.
    func shutdown() async
}

/// Messages whose links wait for previews: the runtime adds one after a post or edit commits,
/// the `LinkPreviewService` takes them. Bounded: past `capacity` waiting, new requests are
/// dropped (counted), never the node's memory.
public final class LinkPreviewQueue: Sendable {
    /// The links of message `seq` in `room` that have no preview yet.
    public struct Request: Sendable, Equatable {
        public var room: RoomID
        public var seq: UInt64
        public var links: [String]
    }

    let requests: AsyncStream<Request>
    private let continuation: AsyncStream<Request>.Continuation
    private let droppedCount = Atomic<Int>(0)

    public init(capacity: Int = 1_000) {
        (requests, continuation) = AsyncStream.makeStream(of: Request.self, bufferingPolicy: .bufferingOldest(capacity))
    }

    /// Requests previews of `message`'s links that it has none of; nothing when it has none.
    func request(_ message: Message, in room: RoomID) {
        guard !message.isRecalled else { return }
        let links = LinkPreview.links(in: message.text).filter { link in !message.linkPreviews.contains { $0.url == link } }
        guard !links.isEmpty else { return }
        if case .dropped = continuation.yield(Request(room: room, seq: message.seq, links: links)) {
            droppedCount.add(1, ordering: .relaxed)
        }
    }

    /// Requests dropped because too many were waiting.
    public var dropped: Int { droppedCount.load(ordering: .relaxed) }

    func finish() { continuation.finish() }
}
