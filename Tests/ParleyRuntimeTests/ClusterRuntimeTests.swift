import Foundation
import ParleyCluster
import ParleyDomain
import Synchronization
import Testing

@testable import ParleyRuntime

@Suite("Runtime across nodes (in process)")
struct ClusterRuntimeTests {
    static let tokenHash = Array(repeating: UInt8(7), count: 32)

    /// Creates `al` (account on node 1) and `bo` (account on node 2), and a room of both
    /// that node 3 serves, each from a node that does not serve it.
    static func setUp(_ cluster: InProcessCluster) async throws -> (al: StaffID, bo: StaffID, room: RoomID) {
        let al = cluster.staffServed(by: 1, prefix: "al")
        let bo = cluster.staffServed(by: 2, prefix: "bo")
        _ = try await cluster.node(3).runtime.staffCommand(.create(displayName: "Al", role: .agent, tokenHash: tokenHash), for: al)
        _ = try await cluster.node(1).runtime.staffCommand(.create(displayName: "Bo", role: .agent, tokenHash: tokenHash), for: bo)
        for _ in 0..<100 {
            let room = try await cluster.node(1).runtime.createRoom(RoomCreation(kind: .space, name: "Sales", members: [bo], creator: al))
            if cluster.servingIndex(of: .room(room.id)) == 3 { return (al, bo, room.id) }
        }
        throw RuntimeError.internalFailure(code: "test", message: "no room landed on node 3")
    }

    @Test func callsAreForwardedToTheServingNodeAndRefusalsComeBack() async throws {
        let cluster = try InProcessCluster()
        try await cluster.run { cluster in
            let (al, bo, room) = try await Self.setUp(cluster)
            let one = cluster.node(1).runtime
            let two = cluster.node(2).runtime
            let (posted, _) = try await one.postMessage(in: room, MessagePost(author: al, text: "hi @\(bo)", idempotencyKey: "k1"))
            #expect(posted.mentions == [bo])
            // The same post again (a client retry through another node) is the same message.
            let (again, replayed) = try await two.postMessage(in: room, MessagePost(author: al, text: "hi @\(bo)", idempotencyKey: "k1"))
            #expect(replayed && again == posted)
            _ = try await one.edit(posted.seq, in: room, text: "hello @\(bo)", by: al)
            let (second, _) = try await one.postMessage(in: room, MessagePost(author: al, text: "oops"))
            _ = try await cluster.node(3).runtime.recall(second.seq, in: room, by: al)
            let history = try await two.messages(in: room, reader: bo, page: HistoryPage())
            #expect(history.map(\.text) == ["hello @\(bo)", ""])
            #expect(history[0].editedAt != nil && history[1].isRecalled)
            // Unread badge and mention, delivered by node 3's outbox to bo's account on node 2.
            var badge = 0
            for _ in 0..<100 where badge != 1 {
                badge = try await one.staffAccount(bo).unreadRooms
                if badge != 1 { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(badge == 1)
            #expect(try await cluster.node(3).runtime.mentions(of: bo).map(\.seq) == [posted.seq])
            _ = try await two.update(room, .markRead(upTo: second.seq, by: bo))
            for _ in 0..<100 where badge != 0 {
                badge = try await one.staffAccount(bo).unreadRooms
                if badge != 0 { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(badge == 0)
            // A business refusal decided on node 3 reaches node 2 as itself.
            let eve = cluster.staffServed(by: 1, prefix: "eve")
            await #expect(throws: RuntimeError.rejected(DomainError(.notAMember, "\(eve) is not a member of room \(room)"))) {
                _ = try await two.messages(in: room, reader: eve, page: HistoryPage())
            }
            // Node 3 unreachable: its rooms are unavailable (nothing is decided elsewhere), then back.
            cluster.network.setReachable(NodeID("node-3")!, false)
            do {
                _ = try await one.postMessage(in: room, MessagePost(author: al, text: "lost?"))
                Issue.record("a post to an unreachable node succeeded")
            } catch let error as RuntimeError {
                #expect(error.code == ClusterError.Code.peerUnavailable.rawValue)
            }
            cluster.network.setReachable(NodeID("node-3")!, true)
            let (third, _) = try await one.postMessage(in: room, MessagePost(author: al, text: "back"))
            #expect(third.seq == second.seq + 1)
            // Channels live on whichever node serves them; listing gathers them from all.
            for index in 1...6 {
                _ = try await one.channelCommand(.create(name: "Channel \(index)", kind: .widget, webLink: nil, phoneNumber: nil), for: ChannelID(unchecked: "c_\(index)"))
            }
            #expect(try await two.allChannels().map(\.id.rawValue) == (1...6).map { "c_\($0)" })
        }
    }

    @Test func liveEventsAndStaffUpdatesReachSessionsOnOtherNodesInOrder() async throws {
        let cluster = try InProcessCluster()
        try await cluster.run { cluster in
            let (al, bo, room) = try await Self.setUp(cluster)
            // al's session is on node 2, bo's on node 1: every event crosses nodes.
            let alSession = cluster.node(2).hub.subscribe(staff: al)
            let boSession = cluster.node(1).hub.subscribe(staff: bo)
            await cluster.node(2).relay.attend(al)
            await cluster.node(1).relay.attend(bo)
            for (node, session) in [(cluster.node(2), alSession), (cluster.node(1), boSession)] {
                #expect(node.hub.follow(room, by: session))
                await node.relay.follow(room)
            }
            let one = cluster.node(1).runtime
            var last: UInt64 = 0
            for index in 0..<20 {
                last = try await one.postMessage(in: room, MessagePost(author: al, text: "m\(index) @\(bo)")).message.seq
            }
            _ = try await one.recall(last, in: room, by: al)
            let lastEventSeq = try await one.room(room, reader: al).lastEventSeq
            for (session, staffUpdate) in [(alSession, false), (boSession, true)] {
                // bo's badge changes on node 2 (his account) and must reach his session on node 1.
                let items = await collect(session) { items in
                    items.flatMap(\.eventSeqs).last == lastEventSeq && (!staffUpdate || items.contains { $0.unreadRooms == 1 })
                }
                let seqs = items.flatMap(\.eventSeqs)
                #expect(seqs.last == lastEventSeq)
                #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count)
                if staffUpdate { #expect(items.contains { $0.unreadRooms == 1 }) }
            }
            let presence = try await cluster.node(3).runtime.presence(of: bo)
            #expect(presence.sessions == [NodeID("node-1")!: 1])
        }
    }

    @Test func presenceOfANodeThatStopsRenewingExpires() async throws {
        let cluster = try InProcessCluster(lifetime: .seconds(1))
        try await cluster.run { cluster in
            let bo = cluster.staffServed(by: 2, prefix: "bo")
            _ = try await cluster.node(2).runtime.staffCommand(.create(displayName: "Bo", role: .agent, tokenHash: Self.tokenHash), for: bo)
            let session = cluster.node(1).hub.subscribe(staff: bo)
            await cluster.node(1).relay.attend(bo)
            #expect(try await cluster.node(3).runtime.presence(of: bo).sessions == [NodeID("node-1")!: 1])
            // Still there after several lifetimes: node 1 keeps renewing.
            try await Task.sleep(for: .milliseconds(2_500))
            #expect(try await cluster.node(3).runtime.presence(of: bo).isOnline)
            cluster.network.setReachable(NodeID("node-1")!, false)
            let cut = ContinuousClock.now
            var online = true
            while online, ContinuousClock.now - cut < .seconds(5) {
                online = try await cluster.node(3).runtime.presence(of: bo).isOnline
                if online { try await Task.sleep(for: .milliseconds(50)) }
            }
            let gone = ContinuousClock.now - cut
            #expect(!online)
            #expect(gone <= .milliseconds(1_500))
            print("presence of a cut-off node expired after \(gone) (lifetime 1 s)")
            // Reachable again: its renewal is answered "send everything", and bo is back.
            cluster.network.setReachable(NodeID("node-1")!, true)
            var back = false
            for _ in 0..<100 where !back {
                back = try await cluster.node(3).runtime.presence(of: bo).isOnline
                if !back { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(back)
            cluster.node(1).hub.end(session)
        }
    }
}
