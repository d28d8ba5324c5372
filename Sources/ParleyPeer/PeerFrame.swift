import NIOCore
import ParleyCluster

/// One message on an `Exchange` stream: `parley.peer.v1.Frame` of `Protos/`, held as plain
/// Swift values. The frames are the peer network's hot path (every forwarded call, its answer
/// and every Raft batch), so they are encoded and decoded here by hand, straight between these
/// values and the stream's bytes, rather than through swift-protobuf's generated
/// `Parley_Peer_V1_Frame` (its generic visitors, `Data` bodies and copies cost ~3 % of a
/// replicated write's CPU). The bytes are protobuf's, field for field: tests hold them equal to
/// the generated code's both ways, so any gRPC tool still reads the stream.
struct PeerFrame: Sendable, Equatable {
    /// Chosen by the caller, unique on its stream; 0: posted (nothing answers it).
    var id: UInt64 = 0
    var kind: Parley_Peer_V1_MessageKind = .unspecified
    var body: [UInt8] = []
    /// In an answer: why the callee could not take the message.
    var error: String = ""
}

/// The frames written together: `parley.peer.v1.FrameBatch`.
struct PeerFrameBatch: Sendable, Equatable {
    var frames: [PeerFrame] = []
    /// From the callee: it is shutting down; the caller writes nothing more on the stream.
    var closing = false
}

extension PeerFrameBatch {
    /// The batch's protobuf encoding, appended to `buffer`.
    func encode(into buffer: inout ByteBuffer) {
        for frame in frames {
            ProtobufWire.writeTag(field: 1, wireType: .lengthDelimited, into: &buffer)
            ProtobufWire.writeVarint(UInt64(frame.encodedSize), into: &buffer)
            frame.encode(into: &buffer)
        }
        if closing {
            ProtobufWire.writeTag(field: 4, wireType: .varint, into: &buffer)
            ProtobufWire.writeVarint(1, into: &buffer)
        }
    }

    /// The size of `encode(into:)`'s output.
    var encodedSize: Int {
        var size = closing ? 2 : 0
        for frame in frames {
            let frameSize = frame.encodedSize
            size += 1 + ProtobufWire.varintSize(UInt64(frameSize)) + frameSize
        }
        return size
    }

    /// Reads a batch from its protobuf encoding. Unknown fields (and known ones of another
    /// wire type) are skipped, as protobuf readers do, so a newer peer's additions do not
    /// break an older node; what swift-protobuf refuses is refused too (tests compare them).
    init(decoding bytes: [UInt8]) throws(ClusterError) {
        var reader = ProtobufWire.Reader(bytes[...])
        while let (field, wireType) = try reader.nextTag() {
            switch (field, wireType) {
            case (1, .lengthDelimited):
                frames.append(try PeerFrame(decoding: try reader.readLengthDelimited()))
            case (4, .varint):
                closing = try reader.readVarint() != 0
            default:
                try reader.skip(wireType, field: field)
            }
        }
    }
}

extension PeerFrame {
    func encode(into buffer: inout ByteBuffer) {
        if id != 0 {
            ProtobufWire.writeTag(field: 1, wireType: .varint, into: &buffer)
            ProtobufWire.writeVarint(id, into: &buffer)
        }
        if kind.rawValue != 0 {
            ProtobufWire.writeTag(field: 2, wireType: .varint, into: &buffer)
            ProtobufWire.writeVarint(UInt64(bitPattern: Int64(kind.rawValue)), into: &buffer)
        }
        if !body.isEmpty {
            ProtobufWire.writeTag(field: 3, wireType: .lengthDelimited, into: &buffer)
            ProtobufWire.writeVarint(UInt64(body.count), into: &buffer)
            buffer.writeBytes(body)
        }
        if !error.isEmpty {
            ProtobufWire.writeTag(field: 4, wireType: .lengthDelimited, into: &buffer)
            ProtobufWire.writeVarint(UInt64(error.utf8.count), into: &buffer)
            buffer.writeString(error)
        }
    }

    var encodedSize: Int {
        var size = 0
        if id != 0 { size += 1 + ProtobufWire.varintSize(id) }
        if kind.rawValue != 0 { size += 1 + ProtobufWire.varintSize(UInt64(bitPattern: Int64(kind.rawValue))) }
        if !body.isEmpty { size += 1 + ProtobufWire.varintSize(UInt64(body.count)) + body.count }
        let errorBytes = error.utf8.count
        if errorBytes > 0 { size += 1 + ProtobufWire.varintSize(UInt64(errorBytes)) + errorBytes }
        return size
    }

    init(decoding bytes: ArraySlice<UInt8>) throws(ClusterError) {
        var reader = ProtobufWire.Reader(bytes)
        while let (field, wireType) = try reader.nextTag() {
            switch (field, wireType) {
            case (1, .varint):
                id = try reader.readVarint()
            case (2, .varint):
                // An enum: protobuf keeps values it does not know (as `UNRECOGNIZED`).
                kind = Parley_Peer_V1_MessageKind(rawValue: Int(Int32(truncatingIfNeeded: try reader.readVarint()))) ?? .unspecified
            case (3, .lengthDelimited):
                body = Array(try reader.readLengthDelimited())
            case (4, .lengthDelimited):
                let text = try reader.readLengthDelimited()
                guard let error = String(validating: text, as: UTF8.self) else {
                    throw ClusterError(.peerProtocol, "an unreadable Frame from a peer: its error text is not UTF-8")
                }
                self.error = error
            default:
                try reader.skip(wireType, field: field)
            }
        }
    }
}
