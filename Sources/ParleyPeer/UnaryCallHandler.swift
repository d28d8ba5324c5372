import NIOCore
import NIOHPACK
import NIOHTTP2
import ParleyCluster

/// One request and its one answer on a stream of their own (a handshake), on the event loop:
/// writes the request when the stream opens and completes `answer` with the message that came
/// back, the status the trailers carry, or a timeout.
final class UnaryCallHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private let headers: HPACKHeaders
    private let request: ByteBuffer
    private let timeout: Duration
    private let answer: EventLoopPromise<[UInt8]>
    private var deframer: MessageDeframer
    private var message: [UInt8]?
    private var timer: Scheduled<Void>?
    private var done = false

    init(headers: HPACKHeaders, request: ByteBuffer, timeout: Duration, maxMessageBytes: Int, answer: EventLoopPromise<[UInt8]>) {
        self.headers = headers
        self.request = request
        self.timeout = timeout
        self.answer = answer
        deframer = MessageDeframer(maxMessageBytes: maxMessageBytes)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard timer == nil, !done else { return }
        let loop = context.eventLoop.assumeIsolated()
        timer = loop.scheduleTask(in: TimeAmount(timeout)) { [self] in
            finish(.failure(ClusterError(.peerUnavailable, "no answer within \(timeout)")), context: context)
        }
        context.write(wrapOutboundOut(.headers(.init(headers: headers))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.data(.init(data: .byteBuffer(request), endStream: true))), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .headers(frame):
            if let status = PeerWire.status(in: frame.headers) {
                if status.code == PeerWire.Status.ok.rawValue, let message {
                    finish(.success(message), context: context)
                } else {
                    let text = status.code == PeerWire.Status.ok.rawValue ? "the answer was empty" : "status \(status.code): \(status.message)"
                    finish(.failure(ClusterError(.peerUnavailable, text)), context: context)
                }
            }
        case let .data(payload):
            guard case let .byteBuffer(bytes) = payload.data else { return }
            deframer.append(bytes)
            do {
                if let next = try deframer.next() { message = next }
            } catch {
                finish(.failure(error), context: context)
            }
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ClusterError(.peerUnavailable, "the stream closed before an answer")), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(ClusterError(.peerUnavailable, "\(error)")), context: context)
    }

    private func finish(_ result: Result<[UInt8], ClusterError>, context: ChannelHandlerContext) {
        guard !done else { return }
        done = true
        timer?.cancel()
        switch result {
        case let .success(message): answer.succeed(message)
        case let .failure(error): answer.fail(error)
        }
        context.close(promise: nil)
    }
}
