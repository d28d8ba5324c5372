import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP2
import ParleyCluster
import ParleyRaft
import SwiftProtobuf
import Testing

@testable import ParleyPeer

/// The hand-written frame codec against swift-protobuf's generated one: the same bytes both
/// ways, so the stream stays what `Protos/parley/peer/v1/exchange.proto` describes.
@Suite("Peer frame codec")
struct PeerFrameCodecTests {
    static let samples: [PeerFrameBatch] = [
        PeerFrameBatch(),
        PeerFrameBatch(closing: true),
        PeerFrameBatch(frames: [PeerFrame()]),
        PeerFrameBatch(frames: [PeerFrame(kind: .raft, body: [1, 2, 3])]),
        PeerFrameBatch(
            frames: [
                PeerFrame(id: 1, kind: .entityCall, body: Array(repeating: 7, count: 200)),
                PeerFrame(id: 127, kind: .liveEvents, body: Array(repeating: 0xFF, count: 20_000)),
                PeerFrame(id: 128, error: "node-2 is stopping ✓"),
                PeerFrame(id: UInt64.max, kind: .raftSnapshot),
                PeerFrame(id: 1 << 35, kind: .UNRECOGNIZED(99), body: [0]),
                PeerFrame(id: 9, kind: .UNRECOGNIZED(-3), body: []),
            ],
            closing: true),
    ]

    static func generated(_ batch: PeerFrameBatch) -> Parley_Peer_V1_FrameBatch {
        var message = Parley_Peer_V1_FrameBatch()
        message.closing = batch.closing
        message.frames = batch.frames.map { frame in
            var generated = Parley_Peer_V1_Frame()
            generated.id = frame.id
            generated.kind = frame.kind
            generated.body = Data(frame.body)
            generated.error = frame.error
            return generated
        }
        return message
    }

    static func encoded(_ batch: PeerFrameBatch) -> [UInt8] {
        var buffer = ByteBuffer()
        batch.encode(into: &buffer)
        #expect(buffer.readableBytes == batch.encodedSize)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    // By index: the samples' bodies would fill the test log.
    @Test(arguments: samples.indices)
    func encodesTheBytesSwiftProtobufWrites(sample: Int) throws {
        let batch = Self.samples[sample]
        let expected: [UInt8] = try Self.generated(batch).serializedBytes()
        #expect(Self.encoded(batch) == expected)
    }

    @Test(arguments: samples.indices)
    func decodesWhatSwiftProtobufWrites(sample: Int) throws {
        let batch = Self.samples[sample]
        let bytes: [UInt8] = try Self.generated(batch).serializedBytes()
        #expect(try PeerFrameBatch(decoding: bytes) == batch)
        #expect(try Parley_Peer_V1_FrameBatch(serializedBytes: Self.encoded(batch)) == Self.generated(batch))
    }

    @Test func skipsFieldsItDoesNotKnow() throws {
        // A frame with unknown fields 9 (varint), 10 (fixed64), 11 (bytes), 12 (fixed32) and
        // 13 (a group holding a varint and a nested group 14) around its own, in a batch with
        // an unknown field 7 after it.
        let group: [UInt8] = [0x6B, 0x08, 0x01, 0x73, 0x74, 0x6C]
        let unknown: [UInt8] = [0x48, 0x96, 0x01] + [0x51] + Array(repeating: 0xAB, count: 8) + [0x5A, 0x02, 0x61, 0x62] + [0x65, 1, 2, 3, 4] + group
        let frame: [UInt8] = [0x08, 0x05] + unknown + [0x10, 0x01, 0x1A, 0x02, 0x68, 0x69]
        let bytes: [UInt8] = [0x0A, UInt8(frame.count)] + frame + [0x38, 0x01]
        let decoded = try PeerFrameBatch(decoding: bytes)
        #expect(decoded == PeerFrameBatch(frames: [PeerFrame(id: 5, kind: .entityCall, body: Array("hi".utf8))]))
        // swift-protobuf reads the same values from the same bytes.
        let generated = try Parley_Peer_V1_FrameBatch(serializedBytes: bytes)
        #expect(generated.frames.map(\.id) == [5])
        #expect(generated.frames.map { Array($0.body) } == [Array("hi".utf8)])
    }

    @Test func refusesMalformedBatchesWithAPeerProtocolError() {
        let malformed: [[UInt8]] = [
            [0x0A],  // a tag with no length
            [0x0A, 0x05, 0x08],  // a frame longer than what is left
            [0x0A, 0x02, 0x08, 0x80],  // a truncated varint inside a frame
            [0x1B],  // a group (field 3) that never ends
            [0x1B, 0x24],  // group 3 ended by field 4's end
            [0x24],  // a group's end outside any group
            Array(repeating: 0x1B, count: 101) + Array(repeating: 0x1C, count: 101),  // groups nested 101 deep
            [0x00, 0x01],  // field number 0
            [0x0F],  // wire type 7
            [0x0A, 0x03, 0x22, 0x01, 0xFF],  // an error text that is not UTF-8
            [0x38] + Array(repeating: 0xFF, count: 11),  // a varint longer than ten bytes
        ]
        for bytes in malformed {
            #expect(throws: ClusterError.self, "\(bytes)") { try PeerFrameBatch(decoding: bytes) }
            do {
                _ = try PeerFrameBatch(decoding: bytes)
            } catch {
                #expect(error.code == .peerProtocol)
            }
        }
    }

    /// Seeded random input, and valid batches with bytes flipped, cut or inserted: the hand
    /// codec accepts exactly what swift-protobuf accepts, and reads the same values from it.
    @Test func acceptsAndReadsExactlyWhatSwiftProtobufDoesOnRandomInput() throws {
        var random = SplitMix64(seed: 20261203)
        var inputs: [[UInt8]] = []
        for _ in 0..<1_000 {
            inputs.append((0..<random.next(below: 48)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        }
        for _ in 0..<2_000 {
            var bytes = Self.encoded(Self.samples[Int(random.next(below: UInt64(Self.samples.count)))])
            for _ in 0...random.next(below: 3) where !bytes.isEmpty {
                let at = Int(random.next(below: UInt64(bytes.count)))
                switch random.next(below: 3) {
                case 0: bytes[at] ^= UInt8(truncatingIfNeeded: random.next() | 1)
                case 1: bytes.removeSubrange(at...)
                default: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
                }
            }
            inputs.append(bytes)
        }
        var accepted = 0
        for bytes in inputs {
            let ours = try? PeerFrameBatch(decoding: bytes)
            let theirs = try? Parley_Peer_V1_FrameBatch(serializedBytes: bytes)
            #expect((ours == nil) == (theirs == nil), "\(bytes)")
            if let ours, let theirs {
                accepted += 1
                #expect(ours == Self.values(of: theirs), "\(bytes)")
            }
        }
        #expect(accepted > 100)
    }

    static func values(of generated: Parley_Peer_V1_FrameBatch) -> PeerFrameBatch {
        PeerFrameBatch(
            frames: generated.frames.map { PeerFrame(id: $0.id, kind: $0.kind, body: Array($0.body), error: $0.error) },
            closing: generated.closing)
    }

    @Test func aWrittenBatchComesOutOfTheDeframerWhole() throws {
        let channel = EmbeddedChannel()
        let batch = Self.samples.last!
        PeerWire.write(batch, on: channel)
        channel.flush()
        var deframer = MessageDeframer(maxMessageBytes: 1 << 20)
        while let payload = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) {
            guard case let .data(data) = payload, case let .byteBuffer(bytes) = data.data else { continue }
            deframer.append(bytes)
        }
        let message = try #require(try deframer.next())
        #expect(try PeerFrameBatch(decoding: message) == batch)
        #expect(try deframer.next() == nil)
    }
}
