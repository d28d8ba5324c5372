import Metrics
import NIOCore
import NIOHPACK
import NIOHTTP2
import ParleyCluster
import SwiftProtobuf

/// How the peer protocol's messages travel on an HTTP/2 stream: gRPC's framing (a flag byte,
/// a 4-byte big-endian length, the protobuf message), on gRPC's paths and content type, with
/// the outcome in `grpc-status` trailers. The wire is what `Protos/` describes, readable by
/// gRPC tools; the node handles it on NIO's event loop itself (see docs/architecture.md, "Peer
/// protocol", for why it does not go through gRPC Swift's call machinery).
enum PeerWire {
    static let exchangePath = "/parley.peer.v1.PeerExchange/Exchange"
    static let helloPath = "/parley.peer.v1.PeerHandshake/Hello"
    static let contentType = "application/grpc+proto"

    /// gRPC status codes the peer protocol answers with.
    enum Status: Int {
        case ok = 0
        case permissionDenied = 7
        case failedPrecondition = 9
        case unimplemented = 12
        case unavailable = 14
    }

    /// `message`, framed for a DATA frame.
    static func frame(_ message: some SwiftProtobuf.Message, allocator: ByteBufferAllocator) throws(ClusterError) -> ByteBuffer {
        let bytes: [UInt8]
        do {
            bytes = try message.serializedBytes()
        } catch {
            throw ClusterError(.peerProtocol, "a peer message could not be encoded: \(error)")
        }
        var buffer = allocator.buffer(capacity: bytes.count + 5)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(bytes.count))
        buffer.writeBytes(bytes)
        return buffer
    }

    /// Writes `batch` on a stream (on its event loop; the caller flushes) and counts it: gRPC's
    /// prefix and the batch encoded straight into one buffer.
    static func write(_ batch: PeerFrameBatch, on channel: any Channel) {
        let size = batch.encodedSize
        var buffer = channel.allocator.buffer(capacity: size + 5)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(size))
        batch.encode(into: &buffer)
        channel.write(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(buffer))), promise: nil)
        framesSent.increment(by: Int64(batch.frames.count))
        batchesSent.increment()
    }

    /// `frames` cut into batches that each stay within `limit` bytes encoded (a frame costs its
    /// body and error text plus a little framing), in order. A lone frame above the limit
    /// still goes alone: callers refuse such frames before they are queued.
    static func batches(of frames: [PeerFrame], limit: Int) -> [[PeerFrame]] {
        var batches: [[PeerFrame]] = []
        var current: [PeerFrame] = []
        var size = 0
        for frame in frames {
            let cost = frame.body.count + frame.error.utf8.count + frameOverhead
            if !current.isEmpty, size + cost > limit {
                batches.append(current)
                current = []
                size = 0
            }
            current.append(frame)
            size += cost
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }

    /// An upper bound of what a frame adds to its body in a batch (tags, lengths, id, kind).
    static let frameOverhead = 32
    /// The most a message body may take, within `maxMessageBytes` for its batch.
    static func largestBody(within maxMessageBytes: Int) -> Int { maxMessageBytes - 1_024 }

    /// Frames sent to peers (calls and answers), and the batches they travelled in (their
    /// ratio is the batching).
    static let framesSent = Counter(label: "parley_peer_frames_sent_total")
    static let batchesSent = Counter(label: "parley_peer_batches_sent_total")

    static func decode<Message: SwiftProtobuf.Message>(_: Message.Type, from bytes: [UInt8]) throws(ClusterError) -> Message {
        do {
            return try Message(serializedBytes: bytes)
        } catch {
            throw ClusterError(.peerProtocol, "an unreadable \(Message.protoMessageName) from a peer: \(error)")
        }
    }

    /// The request headers that open a call on `path`.
    static func requestHeaders(path: String, authority: String, secure: Bool) -> HPACKHeaders {
        [
            ":method": "POST", ":scheme": secure ? "https" : "http", ":path": path, ":authority": authority,
            "content-type": contentType, "te": "trailers",
        ]
    }

    static let responseHeaders: HPACKHeaders = [":status": "200", "content-type": contentType]

    static func trailers(_ status: Status, _ message: String = "") -> HPACKHeaders {
        var headers: HPACKHeaders = ["grpc-status": "\(status.rawValue)"]
        if !message.isEmpty { headers.add(name: "grpc-message", value: percentEncoded(message)) }
        return headers
    }

    /// gRPC's encoding of `grpc-message`: printable ASCII but `%` as is, every other byte as `%XX`.
    static func percentEncoded(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            if byte >= 0x20, byte <= 0x7E, byte != UInt8(ascii: "%") {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return encoded
    }

    static func percentDecoded(_ text: String) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The status trailers (or a trailers-only response) carry; nil when they carry none.
    static func status(in headers: HPACKHeaders) -> (code: Int, message: String)? {
        guard let code = headers.first(name: "grpc-status").flatMap(Int.init) else { return nil }
        return (code, percentDecoded(headers.first(name: "grpc-message") ?? ""))
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// Collects the bytes of DATA frames and cuts them into messages (pure; no I/O).
struct MessageDeframer {
    let maxMessageBytes: Int
    private var buffer = ByteBuffer()

    init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    mutating func append(_ bytes: ByteBuffer) {
        if buffer.readableBytes == 0 {
            buffer = bytes
        } else {
            if buffer.readerIndex > 1 << 16 { buffer.discardReadBytes() }
            var bytes = bytes
            buffer.writeBuffer(&bytes)
        }
    }

    /// The next complete message, if one has arrived; fails on a compressed or oversize one.
    mutating func next() throws(ClusterError) -> [UInt8]? {
        guard let flags = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            let length = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self)
        else { return nil }
        guard flags == 0 else { throw ClusterError(.peerProtocol, "a compressed peer message (flags \(flags)); peers never compress") }
        guard Int(length) <= maxMessageBytes else {
            throw ClusterError(.peerProtocol, "a peer message of \(length) bytes, above the limit of \(maxMessageBytes)")
        }
        guard buffer.readableBytes >= 5 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 5)
        let message = buffer.readBytes(length: Int(length)) ?? []
        if buffer.readableBytes == 0 { buffer.clear() }
        return message
    }
}
