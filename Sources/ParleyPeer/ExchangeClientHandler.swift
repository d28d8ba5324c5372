import NIOCore
import NIOHPACK
import NIOHTTP2
import ParleyCluster

/// The calling side of one `Exchange` stream, on the event loop: opens it with this node's
/// identity in the request headers, tells its `PeerStream` once the peer accepted it, hands
/// over the answer batches, and records why it ended.
final class ExchangeClientHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private let stream: PeerStream
    private let headers: HPACKHeaders
    private var deframer: MessageDeframer
    private var opened = false
    private var accepted = false

    init(stream: PeerStream, headers: HPACKHeaders, maxMessageBytes: Int) {
        self.stream = stream
        self.headers = headers
        deframer = MessageDeframer(maxMessageBytes: maxMessageBytes)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { open(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        open(context: context)
        context.fireChannelActive()
    }

    private func open(context: ChannelHandlerContext) {
        guard !opened else { return }
        opened = true
        context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: headers))), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .headers(frame):
            if let status = PeerWire.status(in: frame.headers) {
                let reason = status.code == PeerWire.Status.ok.rawValue
                    ? "the peer ended the stream" : "the peer refused the stream (status \(status.code)): \(status.message)"
                end(reason, context: context)
            } else if !accepted, frame.headers.first(name: ":status") == "200", !frame.endStream {
                accepted = true
                stream.accepted(context.channel)
            } else {
                end("the peer answered the stream with \(frame.headers.first(name: ":status") ?? "no status")", context: context)
            }
        case let .data(payload):
            guard case let .byteBuffer(bytes) = payload.data else { return }
            deframer.append(bytes)
            do {
                while let message = try deframer.next() {
                    stream.received(try PeerFrameBatch(decoding: message), on: context.channel)
                }
            } catch {
                end(error.description, context: context)
                return
            }
            if payload.endStream { end("the peer ended the stream without a status", context: context) }
        default:
            break
        }
    }

    private func end(_ reason: String, context: ChannelHandlerContext) {
        stream.ended(context.channel, reason: reason)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        stream.ended(context.channel, reason: "the connection to the peer closed")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        stream.ended(context.channel, reason: "\(error)")
        context.close(promise: nil)
    }
}
