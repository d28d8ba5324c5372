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
/// The WebSocket rules (requests in order, reading held while too many wait, pings, closing)
/// are `LiveConnectionState`'s; this handler performs what it decides. Events are written when
/// the channel is writable, as frames framed once and shared by every session writing them
/// (`LiveFrames.framed`), so the pipeline has no frame encoder; a session whose queue
/// overflows meanwhile is closed (it reconnects and resumes).
final class LiveSessionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = ByteBuffer
    /// Framed bytes: the pipeline below has no frame encoder.
    typealias OutboundOut = ByteBuffer

    /// What every session of a node shares.
    struct Settings: Sendable {
        let runtime: NodeRuntime
        let hub: LiveHub
        let work: LiveSessionWork
        /// Wakes sessions on their loops in batches.
        let wakes = LiveLoopWakes()
        /// A busy session writes at most one batch per window (`LiveCoalescing`).
        var coalescingWindow: Duration = .milliseconds(10)
        var pingInterval: TimeAmount = .seconds(30)
        var limits = LiveConnectionState.Limits()
        /// How long a closing session waits for the client's close frame.
        var closeTimeout: TimeAmount = .seconds(5)
    }

    private let caller: Caller
    private let settings: Settings
    private let steps: LiveSteps
    private var context: ChannelHandlerContext?
    private var subscription: LiveHub.Subscription?
    private var connection: LiveConnectionState
    private var state: LiveSessionState
    private var windows: LiveCoalescing
    private var windowTimerArmed = false
    /// The channel's writability, as `channelWritabilityChanged` last told it.
    private var writable = true
    private var pingTimer: Scheduled<Void>?

    init(caller: Caller, settings: Settings) {
        self.caller = caller
        self.settings = settings
        steps = LiveSteps(caller: caller, runtime: settings.runtime, hub: settings.hub)
        connection = LiveConnectionState(limits: settings.limits)
        state = LiveSessionState(staff: caller.staff)
        windows = LiveCoalescing(width: settings.coalescingWindow)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        writable = context.channel.isWritable
        let session = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let wakes = settings.wakes.list(of: eventLoop)
        // Called from whichever thread published: the session drains on its own loop, with the
        // other sessions of that loop the same publish woke.
        subscription = settings.hub.subscribe(staff: caller.staff) { _ in
            wakes.wake(session)
        }
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
        connection.end()
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        perform(connection.received(unwrapInboundIn(data)))
        runRequests()
    }

    /// Reading pauses while too many requests wait (the client's socket buffers the rest).
    func read(context: ChannelHandlerContext) {
        if connection.mayRead() { context.read() }
    }

    private func perform(_ action: LiveConnectionState.Action) {
        guard let context else { return }
        switch action {
        case .none:
            break
        case let .pong(data):
            context.writeAndFlush(wrapOutboundOut(LiveFrames.control(.pong, data: data)), promise: nil)
        case let .sendClose(code, reason):
            sendClose(LiveFrames.close(code, reason: reason), closeOnceWritten: false, context: context)
        case let .echoClose(code):
            sendClose(LiveFrames.close(code), closeOnceWritten: true, context: context)
        case .closeChannel:
            context.close(promise: nil)
        }
    }

    /// Writes a close frame; the channel closes once it is written (`closeOnceWritten`), else
    /// when the client answers, and after `closeTimeout` in any case (a client that stopped
    /// reading never lets the write complete). Reading held for waiting requests resumes, so
    /// the client's close is read.
    private func sendClose(_ frame: ByteBuffer, closeOnceWritten: Bool, context: ChannelHandlerContext) {
        let written = context.writeAndFlush(wrapOutboundOut(frame))
        if closeOnceWritten { written.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
        context.eventLoop.assumeIsolated().scheduleTask(in: settings.closeTimeout) {
            context.close(promise: nil)
        }
        if connection.takeResumeReadingToClose() { context.read() }
    }

    // MARK: Requests

    /// Handles the waiting requests in order; an asynchronous one runs as a step of
    /// `LiveSessionWork` and the next waits for it.
    private func runRequests() {
        while let (request, resumeReading) = connection.nextRequest() {
            if resumeReading { context?.read() }
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
        let session = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let steps = self.steps
        let submitted = settings.work.submit {
            switch request {
            case .attend: await steps.attend()
            case let .subscribe(cursors): await steps.subscribe(cursors, subscription)
            default: break
            }
            eventLoop.execute { session.value.finished(request) }
        }
        if !submitted {
            perform(connection.close(.goingAway, reason: "the node is shutting down"))
        }
    }

    private func finished(_ request: LiveRequest) {
        if connection.stepFinished(request) {
            writeMessage(LiveFrames.json(ServerMessage(type: "hello", staff: caller.staff.rawValue)))
        }
        runRequests()
    }

    // MARK: Writing

    /// Writes what the subscription holds, a window's worth at a time (see `LiveCoalescing`).
    func drain(cutoff: ContinuousClock.Instant? = nil) {
        guard let context, let subscription, !connection.isClosing else { return }
        // `channelWritabilityChanged` drains again once the client has read.
        guard writable else {
            if subscription.hasLagged { perform(connection.close(.policyViolation, reason: "session fell behind; reconnect and resume")) }
            return
        }
        let now = ContinuousClock.now
        if cutoff == nil, case let .waitUntil(next) = windows.turn(at: now) {
            guard !windowTimerArmed else { return }
            windowTimerArmed = true
            let delay = TimeAmount.nanoseconds(max(0, Int64((next - now) / .nanoseconds(1))))
            context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                self.windowTimerArmed = false
                self.windows.began(at: .now)
                self.drain(cutoff: next)
            }
            return
        }
        let (items, remaining, lagged) = subscription.take(before: cutoff)
        if lagged {
            return perform(connection.close(.policyViolation, reason: "session fell behind; reconnect and resume"))
        }
        if !items.isEmpty {
            var outputs: [LiveSessionState.Output] = []
            outputs.reserveCapacity(items.count)
            for item in items {
                for room in state.handle(item, into: &outputs) {
                    settings.hub.unfollow(room, by: subscription)
                }
            }
            for frame in LiveFrames.frames(outputs) {
                context.write(wrapOutboundOut(frame), promise: nil)
            }
            context.flush()
        }
        if remaining { drain() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writable = context.channel.isWritable
        if writable { drain() }
        context.fireChannelWritabilityChanged()
    }

    private func writeMessage(_ text: String) {
        guard let context, !connection.isClosing else { return }
        context.writeAndFlush(wrapOutboundOut(LiveFrames.framed(text)), promise: nil)
    }

    // MARK: Liveness and closing

    private func armPing() {
        guard let context else { return }
        pingTimer = context.eventLoop.assumeIsolated().scheduleTask(in: settings.pingInterval) {
            self.pingDue()
        }
    }

    private func pingDue() {
        guard let context else { return }
        switch connection.pingDue() {
        case .sendPing:
            context.writeAndFlush(wrapOutboundOut(LiveFrames.control(.ping)), promise: nil)
            armPing()
        case .closeSilentPeer:
            context.close(promise: nil)
        case .stop:
            break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is ChannelShouldQuiesceEvent:
            perform(connection.close(.goingAway, reason: "the node is shutting down"))
        case let channelEvent as NIOCore.ChannelEvent where channelEvent == .inputClosed:
            context.close(promise: nil)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// The frame decoder's refusals get their close code, and the channel closes once it is
    /// written (the decoder reads nothing more); anything else closes the channel.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let refusal = error as? NIOWebSocketError, case let .sendClose(code, reason) = connection.decodingFailed(refusal) {
            sendClose(LiveFrames.close(code, reason: reason), closeOnceWritten: true, context: context)
        } else {
            context.close(promise: nil)
        }
    }
}
