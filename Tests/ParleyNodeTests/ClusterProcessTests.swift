import Foundation
import HTTPTypes
import ParleyCluster
import ParleyDomain
import ParleyTestKit
import Testing

/// Nodes of one cluster as real processes on loopback: the peer network, `GET /cluster`, a
/// misconfigured node refused, calls forwarded to the serving node, live events and presence
/// across nodes.
@Suite("Cluster processes", .serialized)
struct ClusterProcessTests {
    static let token = "cluster-test-token-0123456789"

    /// A three-node cluster file with free ports, in `dir`; `placement` says which node serves what.
    static func clusterFile(in dir: String, extra: [String: Any] = [:]) throws -> (path: String, clientPorts: [Int], placement: Placement) {
        var nodes: [[String: String]] = []
        var clientPorts: [Int] = []
        var members: [ClusterMember] = []
        for index in 1...3 {
            let client = try FreePort.loopback()
            let peer = try FreePort.loopback()
            clientPorts.append(client)
            nodes.append([
                "id": "node-\(index)", "peer": "127.0.0.1:\(peer)", "client": "127.0.0.1:\(client)", "data_dir": dir + "/node-\(index)",
            ])
            members.append(ClusterMember(
                id: NodeID("node-\(index)")!, peerAddress: HostPort(host: "127.0.0.1", port: peer), clientAddress: HostPort(host: "127.0.0.1", port: client)))
        }
        let config: [String: Any] = ["partitions": 16, "replication_factor": 3, "log_level": "warning", "link_previews": false, "nodes": nodes]
            .merging(extra) { $1 }
        let path = dir + "/cluster.json"
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: path))
        return (path, clientPorts, Placement(try ClusterMembership(members: members, partitionCount: 16, replicationFactor: 3)))
    }

    /// The node serving `entity` ("room/r_…", "staff/al").
    static func servingNode(of entity: EntityID, in placement: Placement) -> String {
        placement.leader(of: Partitioner(partitionCount: 16).partition(for: entity.description)).rawValue
    }

    static func peerStates(_ client: NodeClient) async throws -> [String: String] {
        let status = try await client.call("/cluster", .get).json
        let peers = status["peers"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: peers.compactMap { peer in
            (peer["id"] as? String).flatMap { id in (peer["state"] as? String).map { (id, $0) } }
        })
    }

    /// Polls `read` every 100 ms for at most 20 s until `done`.
    static func eventually(_ read: () async throws -> [String: String], _ done: ([String: String]) -> Bool) async throws -> [String: String] {
        var last: [String: String] = [:]
        for _ in 0..<200 {
            last = try await read()
            if done(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        return last
    }

    @Test func peersMeetAMisconfiguredNodeIsRefusedAndTwoOfThreeServeEveryPartition() async throws {
        let dir = NSTemporaryDirectory() + "parley-cluster-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (config, clientPorts, _) = try Self.clusterFile(in: dir)
        let environment = ["PARLEY_ADMIN_TOKEN": Self.token]
        let one = try NodeProcess(workDirectory: dir, arguments: ["serve", "--config", config, "--node", "node-1"], environment: environment)
        let two = try NodeProcess(workDirectory: dir, arguments: ["serve", "--config", config, "--node", "node-2"], environment: environment)
        defer {
            one.send(SIGKILL)
            two.send(SIGKILL)
        }
        #expect(try await one.waitForPort() == clientPorts[0])
        #expect(try await two.waitForPort() == clientPorts[1])
        let client = NodeClient(port: clientPorts[0], token: Self.token)

        // node-2 answers; node-3 has not started and is retried.
        let met = try await Self.eventually({ try await Self.peerStates(client) }) { $0["node-2"] == "up" && $0["node-3"] == "down" }
        #expect(met == ["node-2": "up", "node-3": "down"])
        let status = try await client.call("/cluster", .get).json
        #expect(status["node_id"] as? String == "node-1" && status["partitions"] as? Int == 16)
        #expect((status["fingerprint"] as? String)?.count == 16)

        // node-3 configured with another partition count refuses to join (exit 2, naming why);
        // node-1 marks it and runs on.
        let three = try NodeProcess(
            workDirectory: dir, arguments: ["serve", "--config", config, "--node", "node-3"],
            environment: environment.merging(["PARLEY_PARTITIONS": "32", "PARLEY_DATA_DIR": dir + "/node-3-misconfigured"]) { $1 })
        #expect(await three.waitForExit() == 2)
        #expect(three.stderr.contains("cluster_membership_mismatch") && three.stderr.contains("partitions=32"))
        let marked = try await Self.eventually({ try await Self.peerStates(client) }) { $0["node-3"] == "mismatched" }
        #expect(marked["node-3"] == "mismatched" && marked["node-2"] == "up")

        // Rooms land on partitions of all three nodes. Every partition is a Raft group over
        // all three, so node-1 and node-2 are a majority of each: the partitions node-3 would
        // lead are led by one of them, and every room is created (through node-1, forwarded to
        // wherever its partition is led).
        var created = 0
        for _ in 0..<30 {
            let response = try await client.call("/v1/rooms", .post, json: #"{"name":"Spread"}"#)
            #expect(response.status == .created, "\(response.json)")
            if response.status == .created { created += 1 }
        }
        #expect(created == 30)
        await client.shutdown()

        one.send(SIGTERM)
        two.send(SIGTERM)
        #expect(await one.waitForExit() == 0)
        #expect(await two.waitForExit() == 0)
    }

    /// Two staff members connected to different nodes chat in a room a third node serves:
    /// posts, edits, recalls, the unread badge and mentions reach both, in order, once each;
    /// the presence of a staff member whose node is killed expires. When the tests run as
    /// root, the nodes run as `nobody`, as a production service would: peers must meet
    /// without any privilege.
    @Test func staffOnTwoNodesChatInARoomAThirdNodeServes() async throws {
        let dir = NSTemporaryDirectory() + "parley-cluster-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (config, ports, placement) = try Self.clusterFile(in: dir)
        let environment = ["PARLEY_ADMIN_TOKEN": Self.token]
        let nodes = try (1...3).map { index in
            try NodeProcess(
                workDirectory: dir, arguments: ["serve", "--config", config, "--node", "node-\(index)"], environment: environment, user: "nobody")
        }
        defer { for node in nodes { node.send(SIGKILL) } }
        for (node, port) in zip(nodes, ports) { #expect(try await node.waitForPort() == port) }
        if geteuid() == 0 { #expect(nodes.allSatisfy { $0.uid == getpwnam("nobody")?.pointee.pw_uid }) }
        let admin = NodeClient(port: ports[2], token: Self.token)
        defer { Task { await admin.shutdown() } }
        // Every node sees both of its peers up (as `scripts/cluster up` waits for readiness).
        for (index, port) in ports.enumerated() {
            let view = NodeClient(port: port, token: Self.token)
            let others = Dictionary(uniqueKeysWithValues: (1...3).filter { $0 != index + 1 }.map { ("node-\($0)", "up") })
            let peers = try await Self.eventually({ try await Self.peerStates(view) }) { $0 == others }
            #expect(peers == others)
            await view.shutdown()
        }

        // al's account is on node-2 and his session on node-1; bo's account on node-1, his
        // session on node-2; the room is on node-3. Everything crosses nodes.
        func staff(_ prefix: String, on node: String) -> String {
            (0..<10_000).lazy.map { "\(prefix)\($0)" }.first { Self.servingNode(of: EntityID(kind: .staff, key: $0), in: placement) == node }!
        }
        let al = staff("al", on: "node-2")
        let bo = staff("bo", on: "node-1")
        var tokens: [String: String] = [:]
        for name in [al, bo] {
            let created = try await admin.call("/v1/staff", .post, json: #"{"id":"\#(name)","display_name":"\#(name)"}"#)
            #expect(created.status == .created)
            tokens[name] = created.json["token"] as? String
        }
        let alOnOne = NodeClient(port: ports[0], token: tokens[al] ?? "")
        let alOnTwo = NodeClient(port: ports[1], token: tokens[al] ?? "")
        let alOnThree = NodeClient(port: ports[2], token: tokens[al] ?? "")
        let boOnTwo = NodeClient(port: ports[1], token: tokens[bo] ?? "")
        let boOnThree = NodeClient(port: ports[2], token: tokens[bo] ?? "")
        var room = ""
        for _ in 0..<100 where room.isEmpty {
            let created = try await alOnOne.call("/v1/rooms", .post, json: #"{"name":"Deals","members":["\#(bo)"]}"#)
            #expect(created.status == .created, "\(created.json)")
            let id = created.json["id"] as? String ?? ""
            if Self.servingNode(of: .room(RoomID(unchecked: id)), in: placement) == "node-3" { room = id }
        }
        try #require(!room.isEmpty)

        let alLive = LiveClient(port: ports[0], token: tokens[al] ?? "", rooms: [room])
        let boLive = LiveClient(port: ports[1], token: tokens[bo] ?? "", rooms: [room])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await alLive.run() }
            group.addTask { try await boLive.run() }
            defer { group.cancelAll() }
            for live in [alLive, boLive] {
                #expect(await live.eventually { $0.events(of: room).contains { $0["type"] as? String == "room.created" } })
            }
            let posted = try await alOnOne.call("/v1/rooms/\(room)/messages", .post, json: #"{"text":"deal? @\#(bo)"}"#)
            #expect(posted.status == .created)
            let seq = posted.json["seq"] as? Int ?? 0
            #expect(try await alOnTwo.call("/v1/rooms/\(room)/messages/\(seq)", .patch, json: #"{"text":"deal! @\#(bo)"}"#).status == .ok)
            let second = try await alOnThree.call("/v1/rooms/\(room)/messages", .post, json: #"{"text":"wrong room"}"#)
            let secondSeq = second.json["seq"] as? Int ?? 0
            #expect(try await alOnThree.call("/v1/rooms/\(room)/messages/\(secondSeq)", .delete).status == .ok)

            // Posting moves the author's read pointer: that is an event of the room too.
            let expected = [
                "room.created", "message.posted", "read_pointer.moved", "message.edited", "message.posted", "read_pointer.moved",
                "message.recalled",
            ]
            for live in [alLive, boLive] {
                #expect(await live.eventually { $0.events(of: room).last?["type"] as? String == "message.recalled" })
                let events = live.events(of: room)
                #expect(events.compactMap { $0["type"] as? String } == expected)
                let seqs = events.compactMap { $0["event_seq"] as? Int }
                #expect(seqs == Array(1...expected.count))
            }
            // bo's badge and mention: decided by his account on node-1, shown on node-2 and node-3.
            #expect(await boLive.eventually { $0.staffUpdates.contains { $0["unread_rooms"] as? Int == 1 } })
            #expect(boLive.staffUpdates.contains { ($0["mentions"] as? [[String: Any]] ?? []).contains { $0["seq"] as? Int == seq } })
            let mentions = try await boOnThree.call("/v1/me/mentions", .get).json["mentions"] as? [[String: Any]] ?? []
            #expect(mentions.map { $0["seq"] as? Int } == [seq])
            #expect(try await boOnThree.call("/v1/me", .get).json["unread_rooms"] as? Int == 1)
            #expect(try await boOnTwo.call("/v1/rooms/\(room)/read", .post, json: #"{"seq":\#(secondSeq)}"#).status == .ok)
            #expect(await boLive.eventually { $0.staffUpdates.last?["unread_rooms"] as? Int == 0 })
            #expect(await alLive.eventually { $0.events(of: room).last?["type"] as? String == "read_pointer.moved" })

            // Replicas agree: every partition's three replicas, once at one applied index,
            // report one digest of their state (`GET /cluster/digests`, admins only).
            #expect(try await boOnThree.call("/cluster/digests", .get).status == .forbidden)
            var agreed: [Int: String] = [:]
            for _ in 0..<100 where agreed.count < 16 {
                var views: [[Int: (index: Int, digest: String)]] = []
                for port in ports {
                    let client = NodeClient(port: port, token: Self.token)
                    let partitions = try await client.call("/cluster/digests", .get).json["partitions"] as? [[String: Any]] ?? []
                    await client.shutdown()
                    views.append(Dictionary(uniqueKeysWithValues: partitions.compactMap { entry in
                        (entry["partition"] as? Int).map { ($0, (entry["applied_index"] as? Int ?? -1, entry["digest"] as? String ?? "")) }
                    }))
                }
                for partition in 0..<16 where agreed[partition] == nil {
                    let reports = views.compactMap { $0[partition] }
                    guard reports.count == 3, Set(reports.map(\.index)).count == 1 else { continue }
                    #expect(Set(reports.map(\.digest)).count == 1, "p\(partition): replicas at index \(reports[0].index) differ")
                    agreed[partition] = reports[0].digest
                }
                if agreed.count < 16 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(agreed.count == 16)

            // Presence: bo is on node-2. Killed, node-2 stops renewing; bo's account (node-1)
            // forgets the session within the presence lifetime (5 s).
            let presence = try await boOnThree.call("/v1/staff/\(bo)/presence", .get).json
            #expect(presence["online"] as? Bool == true && presence["sessions"] as? [String: Int] == ["node-2": 1])
            nodes[1].send(SIGKILL)
            let killed = ContinuousClock.now
            var online = true
            while online, ContinuousClock.now - killed < .seconds(15) {
                online = try await boOnThree.call("/v1/staff/\(bo)/presence", .get).json["online"] as? Bool ?? true
                if online { try await Task.sleep(for: .milliseconds(100)) }
            }
            let expiredAfter = ContinuousClock.now - killed
            print("presence of a killed node's session expired after \(expiredAfter) (lifetime 5 s)")
            #expect(!online && expiredAfter <= .milliseconds(6_500))
        }
        for client in [alOnOne, alOnTwo, alOnThree, boOnTwo, boOnThree] { await client.shutdown() }
    }
}

