import Foundation
import ParleyCluster
import ParleyDomain
import Testing

@testable import ParleyRuntime

/// Enquiries on three replicated in-process nodes: presence and availability reach every
/// node's routing board, offers reach staff sessions on other nodes, and one accept wins.
@Suite("Enquiries across nodes", .serialized)
struct EnquiryClusterTests {
    static let hash = Array(repeating: UInt8(7), count: 32)

    func start(_ destination: DestinationID, visitor: String = "v_1") -> EnquiryStart {
        EnquiryStart(
            source: ChannelID(unchecked: "web"), sourceName: "Website", visitor: VisitorID(unchecked: visitor), visitorName: "Ann",
            firstMessage: "Hello", rule: .alternative([destination]))
    }

    /// Creates `staff` and a destination of them, gives each a live session on a node other
    /// than the one serving their account, and waits until every node's board can offer them.
    func setUp(_ cluster: InProcessCluster, staff: [StaffID], capacity: Int = StaffStatus.defaultCapacity) async throws -> [(StaffID, Int, LiveHub.Subscription)] {
        let runtime = cluster.node(1).runtime
        for member in staff {
            _ = try await runtime.command(StaffCommand.create(displayName: member.rawValue, role: .agent, tokenHash: Self.hash), to: member.rawValue, of: StaffState.self)
            if capacity != StaffStatus.defaultCapacity {
                _ = try await runtime.command(StaffCommand.setCapacity(capacity), to: member.rawValue, of: StaffState.self)
            }
        }
        _ = try await runtime.command(DestinationCommand.create(DestinationProfile(name: "Support", members: staff)), to: "support", of: DestinationState.self)
        var sessions: [(StaffID, Int, LiveHub.Subscription)] = []
        for (offset, member) in staff.enumerated() {
            let serving = cluster.servingIndex(of: .staff(member))
            let index = (serving + offset % 2) % 3 + 1
            let session = cluster.node(index).hub.subscribe(staff: member)
            await cluster.node(index).relay.attend(member)
            sessions.append((member, index, session))
        }
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            let ready = cluster.nodes.allSatisfy { node in
                node.runtime.routingBoard.destination(DestinationID(unchecked: "support")) != nil
                    && staff.allSatisfy { node.runtime.routingBoard.status(of: $0)?.offerable == true }
            }
            if ready { return sessions }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the routing boards never showed every staff member offerable")
        return sessions
    }

    @Test func anEnquiryIsOfferedToActiveStaffOnOtherNodesAndTheFirstAcceptWins() async throws {
        let cluster = try InProcessCluster(lifetime: .seconds(2), replicated: true)
        try await cluster.run { cluster in
            let staff = (1...3).map { cluster.staffServed(by: $0, prefix: "agent") }
            let sessions = try await setUp(cluster, staff: staff)
            let support = DestinationID(unchecked: "support")
            let opened = try await cluster.node(2).runtime.command(EnquiryCommand.open(start(support)), to: "enq_1", of: EnquiryState.self)
            #expect(opened.status == .offered && Set(opened.offer?.staff ?? []) == Set(staff))
            for (member, _, session) in sessions {
                let items = await collect(session) { $0.offered.contains("enq_1") }
                #expect(items.offered.contains("enq_1"), "\(member) was not alerted")
            }
            // Every node's board holds the offers (the Open Enquiry panel reads any node's).
            let listed = ContinuousClock.now + .seconds(5)
            func everyBoardLists() -> Bool {
                cluster.nodes.allSatisfy { node in staff.allSatisfy { node.runtime.routingBoard.offers(of: $0).map(\.enquiry.rawValue) == ["enq_1"] } }
            }
            while ContinuousClock.now < listed, !everyBoardLists() { try await Task.sleep(for: .milliseconds(20)) }
            #expect(everyBoardLists())
            // Everyone accepts at once, each on the node holding their session.
            let outcomes = await withTaskGroup(of: (StaffID, String?).self) { group in
                for (member, index, _) in sessions {
                    group.addTask {
                        do {
                            _ = try await cluster.node(index).runtime.command(
                                EnquiryCommand.accept(member), to: "enq_1", of: EnquiryState.self, by: .staff(member, role: .agent))
                            return (member, nil)
                        } catch {
                            return (member, (error as? RuntimeError)?.code ?? "\(error)")
                        }
                    }
                }
                var outcomes: [(StaffID, String?)] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            let winners = outcomes.filter { $0.1 == nil }.map(\.0)
            #expect(winners.count == 1)
            #expect(outcomes.filter { $0.1 != nil }.allSatisfy { $0.1 == "enquiry_taken" }, "\(outcomes)")
            let enquiry = try await cluster.node(3).runtime.state(of: "enq_1", EnquiryState.self)
            #expect(enquiry.owner == winners.first && enquiry.status == .accepted)
            // The others are told it was taken; the winner that it is theirs.
            for (member, _, session) in sessions {
                let items = await collect(session) { $0.notices.contains(member == winners.first ? .assigned(EnquiryID(unchecked: "enq_1")) : .offerEnded(EnquiryID(unchecked: "enq_1"), .taken)) }
                #expect(!items.isEmpty, "\(member) was not told the outcome")
            }
            // The winner's load reaches every board.
            let deadline = ContinuousClock.now + .seconds(5)
            while ContinuousClock.now < deadline, cluster.nodes.contains(where: { $0.runtime.routingBoard.status(of: winners[0])?.openEnquiries != 1 }) {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(cluster.nodes.allSatisfy { $0.runtime.routingBoard.status(of: winners[0])?.openEnquiries == 1 })
        }
    }

    @Test func aNodeCutOffWhileAnEnquiryWasOfferedGetsTheOpenOffersFromItsLeaderOnReturning() async throws {
        let cluster = try InProcessCluster(lifetime: .seconds(2), replicated: true)
        try await cluster.run { cluster in
            let staff = (1...3).map { cluster.staffServed(by: $0, prefix: "agent") }
            _ = try await setUp(cluster, staff: staff)
            let support = DestinationID(unchecked: "support")
            let enquiry = EnquiryID(unchecked: "enq_missed")
            let leader = cluster.servingIndex(of: EntityID(kind: .enquiry, key: enquiry.rawValue))
            let away = leader % 3 + 1
            let board = cluster.node(away).runtime.routingBoard
            // One node is cut off; the enquiry is offered (to everyone still on the board of its
            // leader) while the node hears nothing, long enough for its peers to drop what they
            // queued for it.
            cluster.network.setReachable(cluster.node(away).id, false)
            let opened = try await cluster.node(leader).runtime.command(EnquiryCommand.open(start(support)), to: enquiry.rawValue, of: EnquiryState.self)
            #expect(opened.status == .offered)
            let offerees = opened.offer?.staff ?? []
            try await Task.sleep(for: .seconds(3))
            #expect(offerees.allSatisfy { board.offers(of: $0).isEmpty }, "the cut-off node heard the offer")
            // Back: its renewals failed, so it sends its whole interest, and the leader answers
            // with the open offers of its enquiries.
            cluster.network.setReachable(cluster.node(away).id, true)
            func listsOfferees() -> Bool { !offerees.isEmpty && offerees.allSatisfy { board.offers(of: $0).map(\.enquiry) == [enquiry] } }
            let restored = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < restored, !listsOfferees() { try await Task.sleep(for: .milliseconds(20)) }
            #expect(listsOfferees(), "the open offers never reached the node that was away")
        }
    }

    @Test func twentyStaffOnThreeNodesAcceptTheSameEnquiryTwoHundredTimesAndOneWinsEachTime() async throws {
        let cluster = try InProcessCluster(lifetime: .seconds(2), replicated: true)
        try await cluster.run { cluster in
            let staff = (0..<20).map { cluster.staffServed(by: $0 % 3 + 1, prefix: "a\($0)-") }
            let sessions = try await setUp(cluster, staff: staff, capacity: StaffStatus.maxCapacity)
            let support = DestinationID(unchecked: "support")
            var owners: [String: StaffID] = [:]
            for round in 0..<200 {
                let id = "enq_\(round)"
                _ = try await cluster.node(round % 3 + 1).runtime.command(EnquiryCommand.open(start(support, visitor: "v_\(round)")), to: id, of: EnquiryState.self)
                let outcomes = await withTaskGroup(of: String?.self) { group in
                    for (member, index, _) in sessions {
                        group.addTask {
                            do {
                                _ = try await cluster.node(index).runtime.command(EnquiryCommand.accept(member), to: id, of: EnquiryState.self, by: .staff(member, role: .agent))
                                return nil
                            } catch {
                                return (error as? RuntimeError)?.code ?? "\(error)"
                            }
                        }
                    }
                    var codes: [String?] = []
                    for await code in group { codes.append(code) }
                    return codes
                }
                #expect(outcomes.filter { $0 == nil }.count == 1, "round \(round): \(outcomes)")
                #expect(outcomes.compactMap { $0 }.allSatisfy { $0 == "enquiry_taken" || $0 == "enquiry_not_offered" }, "round \(round): \(outcomes)")
                let enquiry = try await cluster.node(1).runtime.state(of: id, EnquiryState.self)
                owners[id] = enquiry.owner
            }
            #expect(owners.count == 200 && owners.values.allSatisfy { staff.contains($0) })
            // Every panel settles consistent: no offer left on any node's board, each enquiry
            // held by its owner only.
            let deadline = ContinuousClock.now + .seconds(20)
            var accounts: [StaffState] = []
            func noOffers() -> Bool { cluster.nodes.allSatisfy { node in staff.allSatisfy { node.runtime.routingBoard.offers(of: $0).isEmpty } } }
            while ContinuousClock.now < deadline {
                accounts = []
                for member in staff { accounts.append(try await cluster.node(1).runtime.staffAccount(member)) }
                if noOffers(), accounts.reduce(0, { $0 + $1.enquiries.count }) == 200 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(noOffers())
            for account in accounts {
                for enquiry in account.enquiries { #expect(owners[enquiry.rawValue] == account.id) }
            }
            #expect(accounts.reduce(0) { $0 + $1.enquiries.count } == 200)
        }
    }
}

extension [LiveItem] {
    var notices: [EnquiryNotice] {
        flatMap { item -> [EnquiryNotice] in
            if case let .enquiries(notices) = item { return notices }
            return []
        }
    }

    var offered: [String] {
        notices.compactMap { notice in
            if case let .offered(note) = notice { return note.enquiry.rawValue }
            return nil
        }
    }
}
