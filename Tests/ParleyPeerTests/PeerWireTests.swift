import NIOCore
import ParleyCluster
import Testing

@testable import ParleyPeer

@Suite("Peer wire framing")
struct PeerWireTests {
    static func batch(_ ids: [UInt64]) -> Parley_Peer_V1_FrameBatch {
        var batch = Parley_Peer_V1_FrameBatch()
        batch.frames = ids.map { id in
            var frame = Parley_Peer_V1_Frame()
            frame.id = id
            frame.kind = .entityCall
            frame.body = .init(repeating: UInt8(truncatingIfNeeded: id), count: Int(id) * 10)
            return frame
        }
        return batch
    }

    @Test func messagesSplitAcrossDataFramesOrSharingOneComeOutWhole() throws {
        var stream = try PeerWire.frame(Self.batch([1, 2]), allocator: ByteBufferAllocator())
        var second = try PeerWire.frame(Self.batch([3]), allocator: ByteBufferAllocator())
        stream.writeBuffer(&second)
        var deframer = MessageDeframer(maxMessageBytes: 1 << 20)
        var decoded: [Parley_Peer_V1_FrameBatch] = []
        // Fed three bytes at a time: headers and bodies split anywhere.
        while stream.readableBytes > 0 {
            deframer.append(stream.readSlice(length: min(3, stream.readableBytes))!)
            while let message = try deframer.next() { decoded.append(try PeerWire.decode(Parley_Peer_V1_FrameBatch.self, from: message)) }
        }
        #expect(decoded == [Self.batch([1, 2]), Self.batch([3])])
        #expect(try deframer.next() == nil)
    }

    @Test func oversizeCompressedAndUnreadableMessagesAreRefused() throws {
        var big = try PeerWire.frame(Self.batch([50]), allocator: ByteBufferAllocator())
        var small = MessageDeframer(maxMessageBytes: 100)
        small.append(big.readSlice(length: 5)!)  // the header alone names the size
        #expect(throws: ClusterError.self) { try small.next() }

        var compressed = ByteBuffer(bytes: [1, 0, 0, 0, 1, 0])
        var deframer = MessageDeframer(maxMessageBytes: 100)
        deframer.append(compressed.readSlice(length: compressed.readableBytes)!)
        #expect(throws: ClusterError.self) { try deframer.next() }

        #expect(throws: ClusterError.self) { try PeerWire.decode(Parley_Peer_V1_FrameBatch.self, from: [0xFF, 0xFF, 0xFF]) }
    }

    @Test func statusMessagesSurviveTheTrailers() {
        let text = "cluster_membership_mismatch: 100% different\nnode-2 ✓"
        let trailers = PeerWire.trailers(.failedPrecondition, text)
        #expect(trailers.first(name: "grpc-message")?.utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E } == true)
        let status = PeerWire.status(in: trailers)
        #expect(status?.code == PeerWire.Status.failedPrecondition.rawValue)
        #expect(status?.message == text)
        #expect(PeerWire.status(in: PeerWire.responseHeaders) == nil)
    }
}
