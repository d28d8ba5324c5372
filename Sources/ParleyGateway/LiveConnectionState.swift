import NIOCore
import NIOWebSocket

/// The WebSocket rules of one live session's connection, as a pure state machine: it reads the
/// client's frames into requests (joining fragments, enforcing the message size limit and the
/// client's masking), keeps the requests in order one step at a time, says when to hold and
/// resume reading, when to ping and when the peer is gone, and how to close. It does no I/O:
/// `LiveSessionHandler` performs what it returns.
struct LiveConnectionState {
    struct Limits: Sendable {
        /// The largest client message, in bytes (its frames joined).
        var maxMessageBytes = 1 << 16
        /// Requests waiting past this stop the reading of the socket.
        var maxWaitingRequests = 8
    }

    /// What the connection must do after a frame.
    enum Action: Equatable {
        case none
        /// Answer a ping with its data.
        case pong(ByteBuffer)
        /// Send a close frame, then close when the client answers (or after a timeout).
        case sendClose(WebSocketErrorCode, reason: String)
        /// Echo the client's close frame with this code, then close once it is written.
        case echoClose(WebSocketErrorCode)
        /// Close the channel now.
        case closeChannel
    }

    /// What a due ping does.
    enum PingAction: Equatable {
        case sendPing
        /// Nothing was heard since the last ping: the peer is gone.
        case closeSilentPeer
        /// The session is closing; no more pings.
        case stop
    }

    let limits: Limits
    /// Set once a close began (either side) or the session ended: nothing more is handled.
    private(set) var isClosing = false
    /// Reading was held when the close began: it must resume, so the client's close is read.
    private(set) var resumeReadingToClose = false
    /// A text or binary message arriving in several frames.
    private var partial: (isText: Bool, bytes: ByteBuffer)?
    private var requests = CircularBuffer<LiveRequest>(initialCapacity: 2)
    private var stepRunning = false
    private var readHeld = false
    private var heardSincePing = true

    /// A session starts with its `attend` step waiting.
    init(limits: Limits = Limits()) {
        self.limits = limits
        requests.append(.attend)
    }

    /// The requests waiting (not counting one whose step is running).
    var waitingRequests: Int { requests.count }

    // MARK: Reading

    /// A frame arrived from the client. A complete message becomes a waiting request.
    mutating func received(_ frame: WebSocketFrame) -> Action {
        heardSincePing = true
        // Client frames are masked and use no extension (RFC 6455 section 5.1, 5.2).
        guard frame.maskKey != nil, !frame.rsv1, !frame.rsv2, !frame.rsv3 else {
            return close(.protocolError, reason: "client frames must be masked and use no extension")
        }
        switch frame.opcode {
        case .connectionClose:
            if isClosing { return .closeChannel }
            end()
            var data = frame.unmaskedData
            guard data.readableBytes >= 2, let code = data.readInteger(as: UInt16.self) else { return .echoClose(.normalClosure) }
            // RFC 6455 section 7.4: 1005, 1006 and 1015 are never sent, nor codes outside the ranges.
            let sendable = (1000...1003).contains(code) || (1007...1014).contains(code) || (3000...4999).contains(code)
            return .echoClose(sendable ? WebSocketErrorCode(codeNumber: Int(code)) : .protocolError)
        case .ping:
            return isClosing ? .none : .pong(frame.unmaskedData)
        case .pong:
            return .none
        case .text, .binary:
            guard partial == nil else { return close(.protocolError, reason: "a new message began inside a fragmented one") }
            partial = (frame.opcode == .text, frame.unmaskedData)
            return finishMessageIfWhole(fin: frame.fin)
        case .continuation:
            guard var message = partial else { return close(.protocolError, reason: "a continuation frame without a message") }
            partial = nil
            var data = frame.unmaskedData
            message.bytes.writeBuffer(&data)
            partial = message
            return finishMessageIfWhole(fin: frame.fin)
        default:
            return close(.protocolError, reason: "unknown opcode")
        }
    }

    private mutating func finishMessageIfWhole(fin: Bool) -> Action {
        guard let message = partial else { return .none }
        guard message.bytes.readableBytes <= limits.maxMessageBytes else {
            partial = nil
            return close(.messageTooLarge, reason: "a message is at most \(limits.maxMessageBytes) bytes")
        }
        guard fin else { return .none }
        partial = nil
        if !isClosing { requests.append(LiveRequest(message: message.bytes, isText: message.isText)) }
        return .none
    }

    /// The frame decoder refused what the client sent (a frame past the size limit, a
    /// fragmented or oversized control frame).
    mutating func decodingFailed(_ error: NIOWebSocketError) -> Action {
        switch error {
        case .invalidFrameLength: close(.messageTooLarge, reason: "a message is at most \(limits.maxMessageBytes) bytes")
        case .fragmentedControlFrame, .multiByteControlFrameLength: close(.protocolError, reason: "a control frame must be whole and at most 125 bytes")
        }
    }

    /// The channel wants to read: false holds reading while too many requests wait (the
    /// client's socket buffers the rest), until `nextRequest` says to resume.
    mutating func mayRead() -> Bool {
        readHeld = requests.count >= limits.maxWaitingRequests
        return !readHeld
    }

    // MARK: Requests

    /// The next request to handle now, if any, in order: none while a step runs or the
    /// session closes. An asynchronous request's step holds the next until `stepFinished`.
    /// `resumeReading` says reading was held and may go on.
    mutating func nextRequest() -> (request: LiveRequest, resumeReading: Bool)? {
        guard !stepRunning, !isClosing, let request = requests.popFirst() else { return nil }
        stepRunning = request.isAsynchronous
        let resume = readHeld && requests.count < limits.maxWaitingRequests
        if resume { readHeld = false }
        return (request, resume)
    }

    /// The running step ended; whether the session should say hello (its `attend` step).
    mutating func stepFinished(_ request: LiveRequest) -> Bool {
        stepRunning = false
        return request == .attend && !isClosing
    }

    // MARK: Liveness and closing

    mutating func pingDue() -> PingAction {
        guard !isClosing else { return .stop }
        guard heardSincePing else {
            end()
            return .closeSilentPeer
        }
        heardSincePing = false
        return .sendPing
    }

    /// Begins closing with `code`: `.sendClose` the first time, `.none` once closing.
    mutating func close(_ code: WebSocketErrorCode, reason: String) -> Action {
        guard !isClosing else { return .none }
        end()
        return .sendClose(code, reason: reason)
    }

    /// The session is over (closed, or closing): waiting requests are dropped.
    mutating func end() {
        isClosing = true
        partial = nil
        requests.removeAll()
        if readHeld {
            readHeld = false
            resumeReadingToClose = true
        }
    }

    /// Whether reading must resume now (held when the close began); true once.
    mutating func takeResumeReadingToClose() -> Bool {
        defer { resumeReadingToClose = false }
        return resumeReadingToClose
    }
}
