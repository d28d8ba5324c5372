import Logging
import NIOCore
import NIOWebSocket
import ParleyDomain
import ParleyRuntime

/// One staff session's live WebSocket, as a channel handler after the upgrade: it reads the
/// client's requests (see `LiveFrames`) and writes the rooms' events, replaying from the
/// journal what the client missed. The asynchronous steps of a request (signing the session
/// in with the node serving the account, following a room) run in `LiveSessionWork`; between
/// them the session holds no task, so an idle session is this handler, its hub subscription
/// and the channel.
///
/// Requests are handled one at a time, in order; while too many wait, the handler stops
/// reading the socket. Events are written when the channel is writable; a session whose queue
/// overflows meanwhile is closed (it reconnects and resumes). A ping every `pingInterval`
/// finds dead peers: a session that heard nothing since the last ping is closed.
final class LiveSessionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// What every session of a node shares.
    struct Settings: Sendable {
        let runtime: NodeRuntime
        let hub: LiveHub
        let work: LiveSessionWork
        /// A busy session writes at most one batch per window (`LiveCoalescing`).
        var coalescingWindow: Duration = .milliseconds(10)
        var pingInterval: TimeAmount = .seconds(30)
        /// The largest client message, in bytes (its frames joined).
        var maxMessageBytes = 1 << 16
        /// Requests waiting past this stop the reading of the socket.
        var maxWaitingRequests = 8
        /// How long a closing session waits for the client's close frame.
        var closeTimeout: TimeAmount = .seconds(5)
    }

    /// The largest frame written (the usual frame size limit of clients).
    static let maxFrameBytes = 1 << 14

    private let caller: Caller
    private let settings: Settings
    private let steps: LiveSteps
    private var context: ChannelHandlerContext?
    private var subscription: LiveHub.Subscription?
    private var state: LiveSessionState
    private var windows: LiveCoalescing
    private var windowTimerArmed = false
    /// A text or binary message arriving in several frames.
    private var partial: (isText: Bool, bytes: ByteBuffer)?
    private var requests = CircularBuffer<LiveRequest>(initialCapacity: 2)
    private var stepRunning = false
    private var readHeld = false
    private var heardSincePing = true
    private var pingTimer: Scheduled<Void>?
    private var closing = false

    init(caller: Caller, settings: Settings) {
        self.caller = caller
        self.settings = settings
        steps = LiveSteps(caller: caller, runtime: settings.runtime, hub: settings.hub)
        state = LiveSessionState(staff: caller.staff)
        windows = LiveCoalescing(width: settings.coalescingWindow)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let session = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        // Called from whichever thread published: the session drains on its own loop.
        subscription = settings.hub.subscribe(staff: caller.staff) { _ in
            eventLoop.execute { session.value.drain() }
        }
        requests.append(.attend)
        runRequests()
        armPing()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        end()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        end()
        context.fireChannelInactive()
    }

    /// Leaves the hub and stops the timers (the channel closed or the handler went).
    private func end() {
        if let subscription { settings.hub.end(subscription) }
        subscription = nil
        pingTimer?.cancel()
        pingTimer = nil
        closing = true
        requests.removeAll()
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        heardSincePing = true
        // Client frames are masked and use no extension (RFC 6455 section 5.1, 5.2).
        guard frame.maskKey != nil, !frame.rsv1, !frame.rsv2, !frame.rsv3 else {
            return close(.protocolError, reason: "client frames must be masked and use no extension")
        }
        switch frame.opcode {
        case .connectionClose:
            receivedClose(frame, context: context)
        case .ping:
            guard !closing else { return }
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .pong:
            break
        case .text, .binary:
            guard partial == nil else { return close(.protocolError, reason: "a new message began inside a fragmented one") }
            partial = (frame.opcode == .text, frame.unmaskedData)
            finishMessageIfWhole(fin: frame.fin)
        case .continuation:
            guard var message = partial else { return close(.protocolError, reason: "a continuation frame without a message") }
            partial = nil
            var data = frame.unmaskedData
            message.bytes.writeBuffer(&data)
            partial = message
            finishMessageIfWhole(fin: frame.fin)
        default:
            close(.protocolError, reason: "unknown opcode")
        }
    }

    private func finishMessageIfWhole(fin: Bool) {
        guard let message = partial else { return }
        guard message.bytes.readableBytes <= settings.maxMessageBytes else {
            partial = nil
            return close(.messageTooLarge, reason: "a message is at most \(settings.maxMessageBytes) bytes")
        }
        guard fin else { return }
        partial = nil
        guard !closing else { return }
        requests.append(LiveRequest(message: message.bytes, isText: message.isText))
        runRequests()
    }

    /// Reading pauses while too many requests wait (the client's socket buffers the rest).
    func read(context: ChannelHandlerContext) {
        if requests.count >= settings.maxWaitingRequests {
            readHeld = true
        } else {
            context.read()
        }
    }

    private func receivedClose(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        if closing {
            context.close(promise: nil)
            return
        }
        closing = true
        // Echo the client's status code, then close.
        var data = frame.unmaskedData
        let code = data.readableBytes >= 2 ? data.readWebSocketErrorCode() ?? .normalClosure : .normalClosure
        var reply = context.channel.allocator.buffer(capacity: 2)
        reply.write(webSocketErrorCode: code)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: reply)))
            .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    // MARK: Requests

    /// Handles the waiting requests in order; an asynchronous one runs as a step of
    /// `LiveSessionWork` and the next waits for it.
    private func runRequests() {
        while !stepRunning, !closing, let request = requests.popFirst() {
            resumeReadingIfHeld()
            if request.isAsynchronous {
                start(request)
            } else {
                answer(request)
            }
        }
    }

    private func answer(_ request: LiveRequest) {
        switch request {
        case let .unsubscribe(rooms):
            for raw in rooms {
                if let room = RoomID(rawValue: raw), let subscription { settings.hub.unfollow(room, by: subscription) }
            }
        case .ping:
            writeMessage(LiveFrames.json(ServerMessage(type: "pong")))
        case let .unknown(type):
            writeMessage(LiveFrames.json(ServerMessage(type: "error", code: "invalid_message", message: "unknown type \(type)")))
        case .invalid:
            writeMessage(LiveFrames.json(ServerMessage(type: "error", code: "invalid_message", message: "expected a JSON object with a type")))
        case .attend, .subscribe:
            break
        }
    }

    private func start(_ request: LiveRequest) {
        guard let context, let subscription else { return }
        stepRunning = true
        let session = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let steps = self.steps
        let staff = caller.staff
        let submitted = settings.work.submit {
            switch request {
            case .attend: await steps.attend()
            case let .subscribe(cursors): await steps.subscribe(cursors, subscription)
            default: break
            }
            eventLoop.execute { session.value.finished(request, staff: staff) }
        }
        if !submitted {
            close(.goingAway, reason: "the node is shutting down")
        }
    }

    private func finished(_ request: LiveRequest, staff: StaffID) {
        stepRunning = false
        if request == .attend, !closing {
            writeMessage(LiveFrames.json(ServerMessage(type: "hello", staff: staff.rawValue)))
        }
        runRequests()
    }

    private func resumeReadingIfHeld() {
        guard readHeld, requests.count < settings.maxWaitingRequests, let context else { return }
        readHeld = false
        context.read()
    }

    // MARK: Writing

    /// Writes what the subscription holds, a window's worth at a time (see `LiveCoalescing`).
    private func drain(cutoff: ContinuousClock.Instant? = nil) {
        guard let context, let subscription, !closing else { return }
        if subscription.hasLagged {
            return close(.policyViolation, reason: "session fell behind; reconnect and resume")
        }
        // `channelWritabilityChanged` drains again once the client has read.
        guard context.channel.isWritable else { return }
        if cutoff == nil, case let .waitUntil(next) = windows.turn(at: .now) {
            guard !windowTimerArmed else { return }
            windowTimerArmed = true
            let delay = TimeAmount.nanoseconds(max(0, Int64((next - .now) / .nanoseconds(1))))
            context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                self.windowTimerArmed = false
                self.windows.began(at: .now)
                self.drain(cutoff: next)
            }
            return
        }
        let (items, remaining) = subscription.take(before: cutoff)
        if !items.isEmpty {
            var outputs: [LiveSessionState.Output] = []
            outputs.reserveCapacity(items.count)
            for item in items {
                for room in state.handle(item, into: &outputs) {
                    settings.hub.unfollow(room, by: subscription)
                }
            }
            for frame in LiveFrames.frames(outputs) {
                writeText(frame, context: context)
            }
            context.flush()
        }
        if remaining { drain() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { drain() }
        context.fireChannelWritabilityChanged()
    }

    private func writeMessage(_ text: String) {
        guard let context, !closing else { return }
        writeText(ByteBuffer(string: text), context: context)
        context.flush()
    }

    /// Writes one text message, the buffer shared, not copied; split into continuation
    /// frames past `maxFrameBytes`.
    private func writeText(_ message: ByteBuffer, context: ChannelHandlerContext) {
        var rest = message
        var opcode = WebSocketOpcode.text
        while rest.readableBytes > Self.maxFrameBytes, let slice = rest.readSlice(length: Self.maxFrameBytes) {
            context.write(wrapOutboundOut(WebSocketFrame(fin: false, opcode: opcode, data: slice)), promise: nil)
            opcode = .continuation
        }
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: opcode, data: rest)), promise: nil)
    }

    // MARK: Liveness and closing

    private func armPing() {
        guard let context else { return }
        pingTimer = context.eventLoop.assumeIsolated().scheduleTask(in: settings.pingInterval) {
            self.pingDue()
        }
    }

    private func pingDue() {
        guard let context, !closing else { return }
        guard heardSincePing else {
            // Nothing since the last ping: the peer is gone.
            closing = true
            context.close(promise: nil)
            return
        }
        heardSincePing = false
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer())), promise: nil)
        armPing()
    }

    /// Sends a close frame and closes the channel when the client answers, or after
    /// `closeTimeout`.
    private func close(_ code: WebSocketErrorCode, reason: String) {
        guard let context, !closing else { return }
        closing = true
        requests.removeAll()
        var data = context.channel.allocator.buffer(capacity: 2 + reason.utf8.count)
        data.write(webSocketErrorCode: code)
        data.writeString(reason)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)), promise: nil)
        context.eventLoop.assumeIsolated().scheduleTask(in: settings.closeTimeout) {
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is ChannelShouldQuiesceEvent:
            close(.goingAway, reason: "the node is shutting down")
        case let channelEvent as NIOCore.ChannelEvent where channelEvent == .inputClosed:
            context.close(promise: nil)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
