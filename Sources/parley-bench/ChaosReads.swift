import Foundation
import ParleyRaft
import Synchronization

/// Reads under faults: while the senders write, a reader asks a random node for a random
/// room's newest message, again and again. A read a node answers must be linearizable: it
/// shows every message acknowledged before the read began (a deposed leader, or a node on
/// the minority side of a partition, must refuse or stall, never answer from stale state).
final class ChaosReads: Sendable {
    struct Read: Sendable {
        let room: String
        let node: String
        let startMs: Double
        let lastSeq: Int
    }

    let http: ChaosHTTP
    let nodes: ChaosNodes
    let ledger: ChaosLedger
    let rooms: [String]
    let token: String
    let seed: UInt64
    private let reads = Mutex<[Read]>([])

    init(http: ChaosHTTP, nodes: ChaosNodes, ledger: ChaosLedger, rooms: [String], token: String, seed: UInt64) {
        self.http = http
        self.nodes = nodes
        self.ledger = ledger
        self.rooms = rooms
        self.token = token
        self.seed = seed
    }

    /// Reads until `deadline`, one at a time, every 50 ms (each bounded by 2 s).
    func run(until deadline: ContinuousClock.Instant) async {
        var random = SplitMix64(seed: seed ^ 0x5EAD)
        for _ in 0..<1_000_000 {
            guard ContinuousClock.now < deadline else { break }
            let room = rooms[Int(random.next(below: UInt64(rooms.count)))]
            let node = nodes.ids[Int(random.next(below: UInt64(nodes.ids.count)))]
            let start = ledger.now()
            if nodes.isServing(node),
                let (status, json) = try? await http.call(nodes.url(of: node) + "/v1/rooms/\(room)/messages?limit=1", token: token, timeout: .seconds(2)),
                status == 200, let messages = json["messages"] as? [[String: Any]]
            {
                let last = messages.compactMap { $0["seq"] as? Int }.max() ?? 0
                reads.withLock { $0.append(Read(room: room, node: node, startMs: start, lastSeq: last)) }
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The reads answered, and those that missed a message acknowledged before they began.
    func verdict(acks: [ChaosLedger.Ack]) -> (answered: Int, stale: [String]) {
        let byRoom = Dictionary(grouping: acks, by: \.room).mapValues { $0.sorted { $0.ackMs < $1.ackMs } }
        let answered = reads.withLock { $0 }
        var stale: [String] = []
        for read in answered {
            let acknowledged = byRoom[read.room]?.filter { $0.ackMs < read.startMs }.map(\.seq).max() ?? 0
            if read.lastSeq < acknowledged {
                stale.append("\(read.node) answered room \(read.room) at \(rounded(read.startMs)) ms with seq \(read.lastSeq), though seq \(acknowledged) was acknowledged before")
            }
        }
        return (answered.count, stale)
    }
}
