import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// The enquiry benchmark's and the chaos test's staff sessions: one WebSocket per staff member
/// on bare NIO, which reports each `enquiry.offered` it receives (with the arrival instant and
/// the offer's own time), the other enquiry notices, subscribes to rooms when asked, reports
/// room events carrying the visitors' probe messages, and reports a session that closed.
final class EnquiriesClient: Sendable {
    /// What a session saw.
    enum Sighting: Sendable {
        case offered(enquiry: String, staff: Int, at: ContinuousClock.Instant, offeredAt: String?)
        /// `enquiry.taken`, `enquiry.withdrawn`, `enquiry.assigned` or `enquiry.released`.
        case notice(type: String, enquiry: String, staff: Int)
        /// The session closed (its node died, or it was cut).
        case closed(staff: Int)
        /// A probe `bench-probe-<n>` in a room's events.
        case probe(Int, at: ContinuousClock.Instant)
        /// A room's first events after a subscription (the subscription holds).
        case subscribed(room: String, staff: Int)
        /// A subscription refused (the staff member is not in the room yet).
        case refused(room: String, staff: Int)
    }

    let group: MultiThreadedEventLoopGroup
    let report: @Sendable (Sighting) -> Void
    private let channels = Mutex<[Int: any Channel]>([:])

    init(threads: Int, report: @escaping @Sendable (Sighting) -> Void) {
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        self.report = report
    }

    /// Opens staff member `index`'s session at `host:port` with `token`.
    func connect(index: Int, host: String, port: Int, token: String) async throws {
        let client = self
        let upgraded = try await openLiveSession(group: group, host: host, port: port, token: token, connectTimeout: .seconds(1)) {
            StaffHandler(index: index, client: client)
        }
        guard upgraded else { throw BenchError("staff \(index)'s upgrade was refused") }
    }

    /// Remembers the channel of staff member `index` (its handler registers it when added).
    func register(_ index: Int, _ channel: any Channel) { channels.withLock { $0[index] = channel } }

    /// Sends `text` (a subscribe or unsubscribe message) on staff member `index`'s session.
    func send(_ text: String, staff index: Int) {
        guard let channel = channels.withLock({ $0[index] }) else { return }
        let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(string: text))
        channel.writeAndFlush(frame, promise: nil)
    }

    func shutdown() async throws { try await group.shutdownGracefully() }

    final class StaffHandler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = WebSocketFrame
        typealias OutboundOut = WebSocketFrame
        let index: Int
        let client: EnquiriesClient
        private var message: ByteBuffer?
        static let noticeType = Array(#""type":"enquiry."#.utf8)
        static let probeText = Array("bench-probe-".utf8)
        static let errorType = Array(#""type":"error""#.utf8)

        init(index: Int, client: EnquiriesClient) {
            self.index = index
            self.client = client
        }

        func handlerAdded(context: ChannelHandlerContext) { client.register(index, context.channel) }

        func channelInactive(context: ChannelHandlerContext) {
            client.report(.closed(staff: index))
            context.fireChannelInactive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            switch frame.opcode {
            case .text, .binary: message = frame.data
            case .continuation:
                var data = frame.data
                message?.writeBuffer(&data)
            case .ping:
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.data)), promise: nil)
                return
            case .connectionClose:
                context.close(promise: nil)
                return
            default: return
            }
            guard frame.fin, let whole = message else { return }
            message = nil
            let now = ContinuousClock.now
            let report = client.report
            let (notice, probes, events, refused) = whole.withUnsafeReadableBytes { bytes in
                (
                    BenchMember.find(Self.noticeType, in: bytes) != nil, BenchMember.find(Self.probeText, in: bytes) != nil,
                    BenchMember.find(BenchMember.eventsType, in: bytes) != nil, BenchMember.find(Self.errorType, in: bytes) != nil
                )
            }
            guard notice || probes || events || refused else { return }
            guard let object = try? JSONSerialization.jsonObject(with: Data(whole.readableBytesView)) as? [String: Any] else { return }
            if notice, let type = object["type"] as? String, let enquiry = object["enquiry_id"] as? String {
                if type == "enquiry.offered" {
                    let offeredAt = (object["enquiry"] as? [String: Any])?["offered_at"] as? String
                    report(.offered(enquiry: enquiry, staff: index, at: now, offeredAt: offeredAt))
                } else {
                    report(.notice(type: type, enquiry: enquiry, staff: index))
                }
            }
            if events, let room = object["room_id"] as? String {
                report(.subscribed(room: room, staff: index))
                for event in object["events"] as? [[String: Any]] ?? [] {
                    guard let text = (event["message"] as? [String: Any])?["text"] as? String, text.hasPrefix("bench-probe-"),
                        let number = Int(text.dropFirst("bench-probe-".count))
                    else { continue }
                    report(.probe(number, at: now))
                }
            }
            if refused, let room = object["room_id"] as? String { report(.refused(room: room, staff: index)) }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }
}
