import NIOCore
import NIOWebSocket

/// The server's WebSocket frames as bytes. A server's frames are not masked (RFC 6455 section
/// 5.1), so one message framed once is the same bytes for every session that writes it: a
/// fan-out shares one buffer, header included, instead of framing it per session.
extension LiveFrames {
    /// The largest frame written (the usual frame size limit of clients); a longer message goes
    /// out as continuation frames.
    static let maxFrameBytes = 1 << 14

    /// One text message's frames, header and payload in one buffer.
    static func framed(_ message: ByteBuffer) -> ByteBuffer {
        var rest = message
        let frames = max(1, (rest.readableBytes + maxFrameBytes - 1) / maxFrameBytes)
        var framed = ByteBuffer()
        framed.reserveCapacity(rest.readableBytes + frames * 4 + 6)
        var opcode = WebSocketOpcode.text
        while rest.readableBytes > maxFrameBytes, var slice = rest.readSlice(length: maxFrameBytes) {
            writeHeader(fin: false, opcode: opcode, length: slice.readableBytes, into: &framed)
            framed.writeBuffer(&slice)
            opcode = .continuation
        }
        writeHeader(fin: true, opcode: opcode, length: rest.readableBytes, into: &framed)
        framed.writeBuffer(&rest)
        return framed
    }

    /// One text message's frames, from its JSON.
    static func framed(_ text: String) -> ByteBuffer { framed(ByteBuffer(string: text)) }

    /// A control frame (ping, pong, close); its data is at most 125 bytes, cut if longer.
    static func control(_ opcode: WebSocketOpcode, data: ByteBuffer = ByteBuffer()) -> ByteBuffer {
        var data = data
        let length = min(data.readableBytes, 125)
        var framed = ByteBuffer()
        framed.reserveCapacity(2 + length)
        writeHeader(fin: true, opcode: opcode, length: length, into: &framed)
        if var payload = data.readSlice(length: length) { framed.writeBuffer(&payload) }
        return framed
    }

    /// A close frame with its status code and reason.
    static func close(_ code: WebSocketErrorCode, reason: String = "") -> ByteBuffer {
        var data = ByteBuffer()
        data.write(webSocketErrorCode: code)
        data.writeString(reason)
        return control(.connectionClose, data: data)
    }

    private static func writeHeader(fin: Bool, opcode: WebSocketOpcode, length: Int, into buffer: inout ByteBuffer) {
        buffer.writeInteger((fin ? 0x80 : 0) | UInt8(webSocketOpcode: opcode))
        switch length {
        case ..<126:
            buffer.writeInteger(UInt8(length))
        case ...Int(UInt16.max):
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(length))
        default:
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(length))
        }
    }
}
