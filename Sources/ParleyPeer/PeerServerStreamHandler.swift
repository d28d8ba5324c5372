import NIOCore
import NIOHPACK
import NIOHTTP2
import ParleyCluster

/// One HTTP/2 stream a peer opened to this node, on the event loop: a `Hello` (one request,
/// one answer) or an `Exchange` (the peer's long-lived stream of frames). The caller names
/// itself and its cluster fingerprint in the request headers; a stranger, or a node of another
/// configuration, gets a trailers-only refusal and the stream ends.
final class PeerServerStreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private enum Mode {
        case awaitingHeaders
        case hello
        case exchange(ExchangeSession)
        case finished
    }

    static let nodeHeader = "parley-node-id"
    static let fingerprintHeader = "parley-cluster-fingerprint"

    private let network: PeerNetwork
    private let maxMessageBytes: Int
    private var mode = Mode.awaitingHeaders
    /// Whether this stream's response headers went out (a refusal then is trailers alone).
    private var responded = false
    private var deframer: MessageDeframer

    init(network: PeerNetwork, maxMessageBytes: Int) {
        self.network = network
        self.maxMessageBytes = maxMessageBytes
        deframer = MessageDeframer(maxMessageBytes: maxMessageBytes)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .headers(headers):
            if case .awaitingHeaders = mode { open(headers.headers, context: context) }
            if headers.endStream { callerFinished(context: context) }
        case let .data(payload):
            guard case let .byteBuffer(bytes) = payload.data else { return }
            deframer.append(bytes)
            do {
                while let message = try deframer.next() { try handle(message, context: context) }
            } catch {
                refuse(.unavailable, error.description, context: context)
                return
            }
            if payload.endStream { callerFinished(context: context) }
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case let .exchange(session) = mode {
            session.streamClosed()
            network.closedStream(session)
        }
        mode = .finished
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func open(_ headers: HPACKHeaders, context: ChannelHandlerContext) {
        switch headers.first(name: ":path") {
        case PeerWire.helloPath:
            mode = .hello
        case PeerWire.exchangePath:
            let fingerprint = headers.first(name: Self.fingerprintHeader) ?? ""
            guard fingerprint == network.membership.fingerprint else {
                refuse(.failedPrecondition, "cluster_membership_mismatch: this node runs cluster \(network.membership.fingerprint)", context: context)
                return
            }
            let name = headers.first(name: Self.nodeHeader) ?? ""
            guard let sender = NodeID(name), sender != network.ownID, network.membership.member(sender) != nil else {
                refuse(.permissionDenied, "\(name) is not a member of this cluster", context: context)
                return
            }
            let session = ExchangeSession(sender: sender, channel: context.channel, maxMessageBytes: maxMessageBytes)
            mode = .exchange(session)
            responded = true
            context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: PeerWire.responseHeaders))), promise: nil)
            network.openedStream(session)
        default:
            refuse(.unimplemented, "no such peer method", context: context)
        }
    }

    private func handle(_ message: [UInt8], context: ChannelHandlerContext) throws(ClusterError) {
        switch mode {
        case .hello:
            let request = try PeerWire.decode(Parley_Peer_V1_HelloRequest.self, from: message)
            let answer = try PeerWire.frame(network.answerHello(request), allocator: context.channel.allocator)
            mode = .finished
            responded = true
            context.write(wrapOutboundOut(.headers(.init(headers: PeerWire.responseHeaders))), promise: nil)
            context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(answer)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: PeerWire.trailers(.ok), endStream: true))), promise: nil)
        case let .exchange(session):
            let batch = try PeerFrameBatch(decoding: message)
            // Posted frames (id 0) go to the inbox here, in order; the others are answered.
            var calls: [PeerFrame] = []
            for frame in batch.frames {
                if frame.id == 0 { network.takePosted(frame, from: session.sender) } else { calls.append(frame) }
            }
            guard !calls.isEmpty else { return }
            session.received(calls.count)
            network.serve(calls, on: session)
        case .awaitingHeaders, .finished:
            break
        }
    }

    private func callerFinished(context: ChannelHandlerContext) {
        switch mode {
        case let .exchange(session): session.callerFinished()
        case .hello: refuse(.unavailable, "the Hello request ended without a message", context: context)
        case .awaitingHeaders, .finished: break
        }
    }

    /// Ends the stream with `status` (trailers only when nothing was answered yet).
    private func refuse(_ status: PeerWire.Status, _ message: String, context: ChannelHandlerContext) {
        var headers: HPACKHeaders = responded ? [:] : PeerWire.responseHeaders
        headers.add(contentsOf: PeerWire.trailers(status, message))
        responded = true
        if case let .exchange(session) = mode {
            session.streamClosed()
            network.closedStream(session)
        }
        mode = .finished
        context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: headers, endStream: true))), promise: nil)
    }
}
