import ParleyRaft

/// One piece of a partition's snapshot streamed from its leader to a follower (peer message
/// kind `raftSnapshot`). A transfer is a run of chunks numbered from 0, each answered before
/// the next is sent; the last one also carries the Raft snapshot message (its data empty),
/// which the follower steps with the data assembled from every chunk.
///
/// Format 1: `1, partition varint, transfer varint, sequence varint, final byte,
/// pairs length varint, pairs (ReplicaLayout's state encoding), [message (RaftCodec)]`.
struct SnapshotChunk: Equatable {
    var partition: PartitionID
    /// Chosen by the sender for each transfer, so pieces of two transfers never mix.
    var transfer: UInt64
    var sequence: UInt32
    /// The partition's state pairs in this chunk, in key order.
    var pairs: [(key: [UInt8], value: [UInt8])]
    /// On the last chunk only: the snapshot message to step once everything arrived.
    var message: Message?

    /// What the follower answers to a chunk: one byte.
    enum Answer: UInt8 {
        /// Taken; send the next one.
        case accepted = 0
        /// Not the chunk expected (an unknown transfer or one out of order): start again.
        case restart = 1
        /// Refused (unreadable, too large, not a replica here): the transfer failed.
        case refused = 2
    }

    static func == (lhs: SnapshotChunk, rhs: SnapshotChunk) -> Bool {
        lhs.partition == rhs.partition && lhs.transfer == rhs.transfer && lhs.sequence == rhs.sequence
            && lhs.pairs.map(\.key) == rhs.pairs.map(\.key) && lhs.pairs.map(\.value) == rhs.pairs.map(\.value) && lhs.message == rhs.message
    }

    func encoded() -> [UInt8] {
        var bytes: [UInt8] = [1]
        LogLayout.appendVarint(UInt64(partition.rawValue), to: &bytes)
        LogLayout.appendVarint(transfer, to: &bytes)
        LogLayout.appendVarint(UInt64(sequence), to: &bytes)
        bytes.append(message == nil ? 0 : 1)
        let state = ReplicaLayout.encodeState(pairs)
        LogLayout.appendVarint(UInt64(state.count), to: &bytes)
        bytes += state
        if let message { bytes += RaftCodec.encode([(UInt32(partition.rawValue), message)]) }
        return bytes
    }

    /// Nil when `bytes` is not a chunk of format 1.
    init?(decoding bytes: [UInt8]) {
        var offset = 1
        guard bytes.first == 1,
            let partition = LogLayout.readVarint(bytes, at: &offset), partition <= UInt64(UInt16.max),
            let transfer = LogLayout.readVarint(bytes, at: &offset),
            let sequence = LogLayout.readVarint(bytes, at: &offset), sequence <= UInt64(UInt32.max),
            offset < bytes.count, bytes[offset] <= 1
        else { return nil }
        let final = bytes[offset] == 1
        offset += 1
        guard let length = LogLayout.readVarint(bytes, at: &offset), length <= UInt64(bytes.count - offset),
            let pairs = ReplicaLayout.decodeState(Array(bytes[offset..<offset + Int(length)]))
        else { return nil }
        offset += Int(length)
        self.partition = PartitionID(UInt16(partition))
        self.transfer = transfer
        self.sequence = UInt32(sequence)
        self.pairs = pairs
        if final {
            guard let decoded = try? RaftCodec.decode(Array(bytes[offset...])), decoded.count == 1,
                decoded[0].group == UInt32(partition), decoded[0].message.kind == .snapshot
            else { return nil }
            message = decoded[0].message
        } else {
            guard offset == bytes.count else { return nil }
            message = nil
        }
    }

    init(partition: PartitionID, transfer: UInt64, sequence: UInt32, pairs: [(key: [UInt8], value: [UInt8])], message: Message?) {
        self.partition = partition
        self.transfer = transfer
        self.sequence = sequence
        self.pairs = pairs
        self.message = message
    }
}
