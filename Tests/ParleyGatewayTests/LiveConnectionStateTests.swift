import NIOCore
import NIOWebSocket
import Testing

@testable import ParleyGateway

/// The live connection's WebSocket rules, without a socket.
@Suite struct LiveConnectionStateTests {
    private static let mask = WebSocketMaskingKey([1, 2, 3, 4])!

    /// A client frame: masked, as clients must send them.
    private func frame(_ opcode: WebSocketOpcode, _ text: String = "", fin: Bool = true, masked: Bool = true) -> WebSocketFrame {
        var data = ByteBuffer(string: text)
        if masked { data.webSocketMask(Self.mask) }
        return WebSocketFrame(fin: fin, opcode: opcode, maskKey: masked ? Self.mask : nil, data: data)
    }

    /// A state whose `attend` step has run, so requests flow.
    private func attended(_ limits: LiveConnectionState.Limits = .init()) -> LiveConnectionState {
        var state = LiveConnectionState(limits: limits)
        let first = state.nextRequest()
        #expect(first?.request == .attend)
        let step1 = state.nextRequest()
        #expect(step1 == nil, "nothing runs while the attend step does")
        let step2 = state.stepFinished(.attend)
        #expect(step2, "a finished attend says hello")
        return state
    }

    @Test func requestsRunInOrderAndAStepHoldsTheNext() {
        var state = attended()
        let step3 = state.received(frame(.text, #"{"type":"subscribe","rooms":{"r1":0}}"#))
        #expect(step3 == .none)
        let step4 = state.received(frame(.text, #"{"type":"ping"}"#))
        #expect(step4 == .none)
        let subscribe = state.nextRequest()
        #expect(subscribe?.request == .subscribe([LiveRoomCursor(room: "r1", after: 0)]))
        let step5 = state.nextRequest()
        #expect(step5 == nil, "the ping waits for the subscribe step")
        let step6 = state.stepFinished(subscribe!.request)
        #expect(!step6)
        let step7 = state.nextRequest()
        #expect(step7?.request == .ping)
        let step8 = state.nextRequest()
        #expect(step8 == nil)
    }

    @Test func fragmentsJoinAndTheSizeLimitHolds() {
        var state = attended(.init(maxMessageBytes: 32, maxWaitingRequests: 8))
        let step9 = state.received(frame(.text, #"{"type":"#, fin: false))
        #expect(step9 == .none)
        let step10 = state.received(frame(.ping, "x"))
        #expect(step10 == .pong(ByteBuffer(string: "x")), "control frames may come between fragments")
        let step11 = state.received(frame(.continuation, #""ping"}"#))
        #expect(step11 == .none)
        let step12 = state.nextRequest()
        #expect(step12?.request == .ping)
        let step13 = state.received(frame(.binary, "{}"))
        #expect(step13 == .none)
        let step14 = state.nextRequest()
        #expect(step14?.request == .invalid, "a binary message is not a request")
        let step15 = state.received(frame(.text, String(repeating: "a", count: 20), fin: false))
        #expect(step15 == .none)
        let tooLarge = state.received(frame(.continuation, String(repeating: "a", count: 20), fin: false))
        guard case .sendClose(.messageTooLarge, _) = tooLarge else {
            Issue.record("expected a 1009 close, got \(tooLarge)")
            return
        }
        #expect(state.isClosing)
        let step16 = state.received(frame(.text, #"{"type":"ping"}"#))
        #expect(step16 == .none)
        let step17 = state.nextRequest()
        #expect(step17 == nil, "nothing is handled once closing")
    }

    @Test func protocolViolationsCloseWith1002() {
        for (state, bad) in [
            (attended(), frame(.text, "{}", masked: false)),
            (attended(), frame(.continuation, "{}")),
            (attended(), WebSocketFrame(fin: true, rsv1: true, opcode: .text, maskKey: Self.mask, data: ByteBuffer())),
        ] {
            var state = state
            guard case .sendClose(.protocolError, _) = state.received(bad) else {
                Issue.record("expected a 1002 close for \(bad)")
                continue
            }
            let step18 = state.close(.goingAway, reason: "again")
            #expect(step18 == .none, "a close begins once")
        }
        var nested = attended()
        _ = nested.received(frame(.text, "{", fin: false))
        guard case .sendClose(.protocolError, _) = nested.received(frame(.text, "{}")) else {
            Issue.record("a new message inside a fragmented one must close with 1002")
            return
        }
        var decoder = attended()
        guard case .sendClose(.messageTooLarge, _) = decoder.decodingFailed(.invalidFrameLength) else {
            Issue.record("a frame past the decoder's limit must close with 1009")
            return
        }
    }

    @Test func theClientsCloseIsEchoedAndASecondOneClosesTheChannel() {
        var state = attended()
        var code = ByteBuffer()
        code.write(webSocketErrorCode: .goingAway)
        var masked = code
        masked.webSocketMask(Self.mask)
        let close = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: Self.mask, data: masked)
        let step19 = state.received(close)
        #expect(step19 == .echoClose(.goingAway))
        let step20 = state.received(close)
        #expect(step20 == .closeChannel)
        var empty = attended()
        let step21 = empty.received(frame(.connectionClose))
        #expect(step21 == .echoClose(.normalClosure))
    }

    @Test func aCodeAServerMayNotSendIsAnsweredWithAProtocolError() {
        for (sent, answered) in [(1005, WebSocketErrorCode.protocolError), (999, .protocolError), (4001, WebSocketErrorCode(codeNumber: 4001))] {
            var state = attended()
            var data = ByteBuffer()
            data.writeInteger(UInt16(sent))
            data.webSocketMask(Self.mask)
            let step = state.received(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: Self.mask, data: data))
            #expect(step == .echoClose(answered), "code \(sent)")
        }
    }

    @Test func aCloseResumesHeldReadingSoTheClientsCloseIsRead() {
        var state = attended(.init(maxMessageBytes: 1 << 16, maxWaitingRequests: 1))
        _ = state.received(frame(.text, #"{"type":"ping"}"#))
        let mayRead = state.mayRead()
        #expect(!mayRead)
        guard case .sendClose = state.close(.goingAway, reason: "shutting down") else {
            Issue.record("expected a close")
            return
        }
        let resume = state.takeResumeReadingToClose()
        #expect(resume)
        let again = state.takeResumeReadingToClose()
        #expect(!again)
    }

    @Test func readingIsHeldWhileTooManyRequestsWait() {
        var state = attended(.init(maxMessageBytes: 1 << 16, maxWaitingRequests: 2))
        _ = state.received(frame(.text, #"{"type":"subscribe","rooms":{}}"#))
        let step22 = state.mayRead()
        #expect(step22)
        _ = state.received(frame(.text, #"{"type":"ping"}"#))
        let step23 = state.mayRead()
        #expect(!step23, "two waiting: reading holds")
        let subscribe = state.nextRequest()
        #expect(subscribe?.resumeReading == true, "one taken: reading resumes")
        let step24 = state.mayRead()
        #expect(step24)
        _ = state.stepFinished(subscribe!.request)
        let step25 = state.nextRequest()
        #expect(step25?.resumeReading == false)
    }

    @Test func aSilentPeerIsClosedAtTheSecondPing() {
        var state = attended()
        let step26 = state.pingDue()
        #expect(step26 == .sendPing)
        _ = state.received(frame(.pong))
        let step27 = state.pingDue()
        #expect(step27 == .sendPing, "a pong counts as heard")
        let step28 = state.pingDue()
        #expect(step28 == .closeSilentPeer)
        let step29 = state.pingDue()
        #expect(step29 == .stop)
    }

    @Test func framesAreUnmaskedAndSplitPastTheFrameLimit() throws {
        var small = LiveFrames.framed("hi")
        let smallBytes = small.readBytes(length: small.readableBytes)
        #expect(smallBytes == [0x81, 2, UInt8(ascii: "h"), UInt8(ascii: "i")])
        let text = String(repeating: "x", count: LiveFrames.maxFrameBytes + 300)
        var large = LiveFrames.framed(text)
        // First frame: text without fin, 16-bit length; then a final continuation of 300.
        let firstHeader = large.readBytes(length: 4)
        #expect(firstHeader == [0x01, 126, 0x40, 0x00])
        large.moveReaderIndex(forwardBy: LiveFrames.maxFrameBytes)
        let lastHeader = large.readBytes(length: 4)
        #expect(lastHeader == [0x80, 126, 0x01, 0x2C])
        #expect(large.readableBytes == 300)
        var close = LiveFrames.close(.policyViolation, reason: "behind")
        let closeHeader = close.readBytes(length: 4)
        #expect(closeHeader == [0x88, 8, 0x03, 0xF0])
        let reason = close.readString(length: close.readableBytes)
        #expect(reason == "behind")
        #expect(LiveWebSocketUpgrader.accept(key: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "RFC 6455's example")
    }
}
