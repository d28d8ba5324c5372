import Foundation
import ParleyTestKit

/// `parley-bench chaos --cluster FILE --parley PATH [--duration S] [--senders N] [--rooms N]
/// [--agents N] [--visitors N] [--seed N] [--run-dir DIR] [--attempt-timeout-ms MS] [--user NAME]`:
/// starts the cluster file's nodes as child processes (as ordinary user NAME, when given and run
/// as root), writes to its rooms from every node while visitors open enquiries and agents accept,
/// close and transfer them, with faults injected meanwhile (see `ChaosFaults`), heals the
/// cluster, reads every room and every visitor's conversation from every node, and prints one
/// JSON line (the fields are listed in `scripts/chaos`). Returns the exit status: 1 when anything
/// acknowledged was lost, duplicated or out of order, when a partition that kept a majority
/// never took a write again, when replicas disagree, when no failover was measured, when the
/// cluster did not heal, or when `ChaosEnquiryCheck` failed.
func runChaosCommand(_ arguments: [String]) async -> Int32 {
    do {
        return try await ChaosTest(arguments: arguments).run() ? 0 : 1
    } catch {
        note("parley-bench chaos: \(error)")
        return 1
    }
}

struct ChaosTest: Sendable {
    let file: ChaosClusterFile
    let binary: String
    let duration: Duration
    let senders: Int
    let roomCount: Int
    let seed: UInt64
    let runDirectory: String
    let ownsRunDirectory: Bool
    let attemptTimeout: Duration
    let user: String?
    /// Staff accepting enquiries, and visitors opening them.
    let agentCount: Int
    let visitorCount: Int

    init(arguments: [String]) throws {
        guard let cluster = option("--cluster", in: arguments), let binary = option("--parley", in: arguments) else {
            throw BenchError("chaos needs --cluster FILE --parley PATH")
        }
        file = try ChaosClusterFile(path: cluster)
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw BenchError("no executable at \(binary)") }
        self.binary = binary
        duration = .seconds(option("--duration", in: arguments).flatMap(Int.init).map { min(max($0, 10), 86_400) } ?? 60)
        roomCount = option("--rooms", in: arguments).flatMap(Int.init).map { min(max($0, 1), 1_000) } ?? 24
        senders = option("--senders", in: arguments).flatMap(Int.init).map { min(max($0, 1), 500) } ?? 2 * roomCount
        seed = option("--seed", in: arguments).flatMap(UInt64.init) ?? UInt64.random(in: 1...999_999)
        user = option("--user", in: arguments)
        agentCount = option("--agents", in: arguments).flatMap(Int.init).map { min(max($0, 2), 100) } ?? 6
        visitorCount = option("--visitors", in: arguments).flatMap(Int.init).map { min(max($0, 1), 500) } ?? 8
        attemptTimeout = .milliseconds(option("--attempt-timeout-ms", in: arguments).flatMap(Int.init).map { min(max($0, 100), 60_000) } ?? 3_000)
        if let directory = option("--run-dir", in: arguments) {
            runDirectory = directory
            ownsRunDirectory = false
        } else {
            runDirectory = NSTemporaryDirectory() + "parley-chaos-\(UUID().uuidString.prefix(8))"
            ownsRunDirectory = true
        }
    }

    /// The whole test; true when it passed.
    func run() async throws -> Bool {
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: runDirectory + "/pids", contents: nil)
        let token = "chaos-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        // Every peer connection through the fault proxy: nodes listen on ports of their own,
        // the file's peer addresses are the proxy's.
        let proxy = FaultProxy()
        var realPorts: [String: Int] = [:]
        for node in file.nodes {
            let real = try FreePort.loopback()
            realPorts[node.id] = real
            try await proxy.listen(on: (node.peer.host, node.peer.port), forNode: node.id, target: ("127.0.0.1", real), nodes: file.nodes.map(\.id))
        }
        let nodes = try ChaosNodes(file: file, binary: binary, runDirectory: runDirectory, adminToken: token, user: user, realPeerPorts: realPorts)
        let http = ChaosHTTP()
        note("chaos: seed \(seed), \(file.nodes.count) nodes\(user.map { " running as \($0)" } ?? ""), \(file.partitions) partitions, \(senders) senders, \(roomCount) rooms, \(duration), run directory \(runDirectory)")
        let passed: Bool
        do {
            passed = try await exercise(nodes, http: http, adminToken: token, proxy: proxy)
        } catch {
            note("chaos: failed: \(error)")
            reportNodeLogs(nodes)
            await nodes.stopAll()
            await http.shutdown()
            await proxy.close()
            return false
        }
        if !passed { reportNodeLogs(nodes) }
        await nodes.stopAll()
        await http.shutdown()
        await proxy.close()
        if ownsRunDirectory {
            if passed { try? FileManager.default.removeItem(atPath: runDirectory) } else { note("chaos: kept \(runDirectory)") }
        }
        return passed
    }

    private func exercise(_ nodes: ChaosNodes, http: ChaosHTTP, adminToken: String, proxy: FaultProxy) async throws -> Bool {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in nodes.ids { group.addTask { try await nodes.start(node) } }
            try await group.waitForAll()
        }
        let check = ChaosCheck(nodes: nodes, http: http)
        if let problem = await check.waitHealed(limit: .seconds(120)) { throw BenchError("the cluster did not form within 120 s: \(problem)") }

        // Staff (one per sender, created through the nodes in turn) and rooms with all of them.
        let urls = nodes.ids.map(nodes.url(of:))
        var tokens: [String] = []
        for sender in 0..<senders {
            tokens.append(try await createStaff(http, urls[sender % urls.count], id: "chaos-sender-\(sender)", name: "Sender \(sender)", adminToken: adminToken))
        }
        let members = (0..<senders).map { "\"chaos-sender-\($0)\"" }.joined(separator: ",")
        var rooms: [ChaosSenders.Room] = []
        for index in 0..<roomCount {
            let created = try await setupCall(
                http, urls[index % urls.count] + "/v1/rooms", token: tokens[index % senders], body: #"{"name":"Chaos \#(index)","members":[\#(members)]}"#)
            guard let id = created["id"] as? String else { throw BenchError("no room id in \(created)") }
            rooms.append(.init(id: id, partition: file.partition(ofRoom: id)))
        }
        let written = Set(rooms.map(\.partition))
        note("chaos: \(rooms.count) rooms on \(written.count) partitions: \(written.sorted().map { "p\($0)" }.joined(separator: " "))")
        let enquirySetup = try await setUpEnquiries(http, urls: urls, adminToken: adminToken)

        // The agents' sessions open, then the load, with the faults meanwhile.
        let ledger = ChaosLedger(started: .now)
        let enquiries = enquirySetup.load(self, http: http, urls: urls, ledger: ledger)
        async let agentsStopped: Void = enquiries.agents.run()
        do {
            try await waitOnline(enquiries, http: http, urls: urls, limit: .seconds(60))
        } catch {
            enquiries.agents.stop()
            await agentsStopped
            throw error
        }
        note("chaos: \(agentCount) agents online, \(visitorCount) visitors")
        let deadline = ContinuousClock.now + duration
        let faults = ChaosFaults(nodes: nodes, http: http, ledger: ledger, written: written, seed: seed, proxy: proxy)
        let load = ChaosSenders(
            http: http, nodeURLs: urls, nodeIDs: nodes.ids, ledger: ledger, rooms: rooms, tokens: tokens, runID: String(seed), attemptTimeout: attemptTimeout)
        let reads = ChaosReads(http: http, nodes: nodes, ledger: ledger, rooms: rooms.map(\.id), token: tokens[0], seed: seed)
        let unrestartable = await withTaskGroup(of: [String].self) { group in
            for sender in 0..<senders {
                group.addTask {
                    await load.run(sender: sender, until: deadline)
                    return []
                }
            }
            group.addTask {
                await reads.run(until: deadline)
                return []
            }
            for visitor in 0..<visitorCount {
                group.addTask {
                    await enquiries.visitors.run(visitor: visitor, until: deadline)
                    return []
                }
            }
            group.addTask { await faults.run(until: deadline) }
            var failed: [String] = []
            for await nodes in group { failed += nodes }
            return failed
        }
        let acks = ledger.allAcks
        ledger.log("load ended at \(rounded(ledger.now())) ms: \(acks.count) acknowledged of \(ledger.allAttempted.count) attempted")
        ledger.log("failed attempts by reason: \(ledger.allFailures.sorted { $0.value > $1.value }.map { "\($0.key): \($0.value)" }.joined(separator: "; "))")

        // Heal, then read every room from every node.
        let revived = try await nodes.reviveAll()
        if !revived.isEmpty { ledger.log("started again at the end: \(revived)") }
        let healStart = ContinuousClock.now
        let healProblem = await check.waitHealed(limit: .seconds(120))
        if let healProblem {
            ledger.log("the cluster did not heal within 120 s: \(healProblem)")
        } else {
            ledger.log("healed in \(rounded(milliseconds(ContinuousClock.now - healStart))) ms")
        }
        // The agents take what is left; then every enquiry and visitor message is judged.
        enquiries.agents.settle()
        let enquiryVerdict = await ChaosEnquiryCheck(
            http: http, urls: urls, nodeIDs: nodes.ids, adminToken: adminToken, visitors: enquiries.visitors, agents: enquiries.agents
        ).verify(limit: .seconds(90))
        enquiries.agents.stop()
        await agentsStopped
        ledger.log("agents: \(enquiries.agents.outcome.counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: "; "))")
        ledger.log("visitors' failed attempts: \(enquiries.visitors.log.failed.sorted { $0.value > $1.value }.map { "\($0.key): \($0.value)" }.joined(separator: "; "))")
        for line in enquiryVerdict.details.prefix(40) { note("chaos: " + line) }
        note("chaos: enquiries \(enquiryVerdict.statuses.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")); \(enquiryVerdict.offers) offers")

        var histories: [String: [String: ChaosCheck.History]] = [:]
        for node in nodes.ids {
            for room in rooms { histories[node, default: [:]][room.id] = try await check.history(of: room.id, from: node, token: tokens[0]) }
        }
        let verdict = ChaosCheck.verify(
            histories: histories, acks: acks, attempted: ledger.allAttempted, rooms: rooms.map(\.id), nodes: nodes.ids)
        for line in verdict.details.prefix(40) { note("chaos: " + line) }
        if verdict.details.count > 40 { note("chaos: … and \(verdict.details.count - 40) more") }
        note("chaos: committed though never acknowledged (a send cut by the end of the load or a lost answer): \(verdict.committedUnacked)")

        let readVerdict = reads.verdict(acks: acks)
        for line in readVerdict.stale.prefix(20) { note("chaos: stale read: " + line) }
        note("chaos: reads answered during the load \(readVerdict.answered), stale \(readVerdict.stale.count)")

        // Every replica of every partition, at one applied index, holds the same state.
        let replicas = await ChaosReplicas(nodes: nodes, http: http, adminToken: adminToken).compare(limit: .seconds(60))
        for line in replicas.details.prefix(40) { note("chaos: " + line) }
        note("chaos: replicas compared \(replicas.compared), differing \(replicas.differing)\(replicas.unsettled.isEmpty ? "" : "; never at one applied index: \(replicas.unsettled.map { "p\($0)" })")")

        // Failover and unavailability: every partition each fault's nodes led, every fault.
        let failovers = ChaosFigures.failovers(faults: ledger.allFaults, acks: acks)
        let stepped = acks.filter { ($0.postedAtMs ?? 0) > $0.ackMs + ChaosFigures.clockSlackMs }.count
        if stepped > 0 { note("chaos: the wall clock was stepped during the run: \(stepped) answers' posted_at ignored") }
        func listed(_ values: [Int: Double?]) -> String {
            values.sorted { $0.key < $1.key }.map { "p\($0.key) \($0.value.map { "\(rounded($0)) ms" } ?? "never")" }.joined(separator: ", ")
        }
        for failover in failovers {
            note(
                "chaos: after \(failover.fault.kind) \(failover.fault.nodes) at \(rounded(failover.fault.atMs)) ms: kept a majority: [\(listed(failover.kept))]"
                    + (failover.lost.isEmpty ? "" : "; lost it (from the healing at \(rounded(failover.fault.endedMs)) ms): [\(listed(failover.lost))]"))
        }
        let attempts = ledger.allAttempts
        for failover in failovers {
            for (partition, value) in failover.kept.sorted(by: { $0.key < $1.key }) where (value ?? .infinity) > 1_500 {
                let end = failover.fault.atMs + (value ?? 10_000)
                let timeline = attempts.filter { $0.partition == partition && $0.endMs >= failover.fault.atMs && $0.startMs <= end }
                    .map { "\($0.node) \(rounded($0.startMs - failover.fault.atMs))…\(rounded($0.endMs - failover.fault.atMs)) \($0.outcome)" }
                note("chaos:   p\(partition) attempts (ms since the fault): \(timeline.joined(separator: "; "))")
            }
        }
        let measured = failovers.flatMap { $0.kept.values.compactMap { $0 } }
        let neverServed = failovers.flatMap { failover in failover.kept.filter { $0.value == nil }.map { "p\($0.key) after \(failover.fault.kind) at \(rounded(failover.fault.atMs)) ms" } }
        let minority = failovers.flatMap { $0.lost.values.compactMap { $0 } }
        let minorityCount = failovers.reduce(0) { $0 + $1.lost.count }
        note("chaos: failover per partition, over \(failovers.count) faults: p50 \(rounded(percentile(measured, 0.5))) ms, p99 \(rounded(percentile(measured, 0.99))) ms, max \(rounded(measured.max() ?? 0)) ms over \(measured.count) partitions")
        if minorityCount > 0 {
            note("chaos: \(minorityCount) partitions lost their majority; served again \(rounded(percentile(minority, 0.5))) ms (p50), \(rounded(minority.max() ?? 0)) ms (max) after their replicas returned")
        }
        let unavailable = ChaosFigures.longestUnavailability(operations: ledger.allOperations, acks: acks)
        note("chaos: longest unavailability \(rounded(unavailable.ms)) ms on p\(unavailable.partition), ending at \(rounded(unavailable.endMs)) ms")
        note("chaos: starts per node: \(nodes.starts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
        note("chaos: faults: \(ledger.allFaults.count) (\(Dictionary(grouping: ledger.allFaults, by: \.kind).mapValues(\.count).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))")

        print(
            "{\"acked\":\(acks.count),\"lost\":\(verdict.lost),\"duplicated\":\(verdict.duplicated),\"order_mismatches\":\(verdict.orderMismatches),"
                + "\"sender_order_violations\":\(verdict.senderOrderViolations),\"faults\":\(failovers.count),"
                + "\"failover_partitions\":\(measured.count),\"failover_p50_ms\":\(rounded(percentile(measured, 0.5))),"
                + "\"failover_p99_ms\":\(rounded(percentile(measured, 0.99))),\"failover_max_ms\":\(rounded(measured.max() ?? 0)),"
                + "\"minority_partitions\":\(minorityCount),\"minority_served_again_max_ms\":\(rounded(minority.max() ?? 0)),"
                + "\"replicas_compared\":\(replicas.compared),\"replicas_differing\":\(replicas.differing),"
                + "\"network_faults\":\(failovers.filter { ChaosFaults.networkKinds.contains($0.fault.kind) }.count),"
                + "\"reads\":\(readVerdict.answered),\"stale_reads\":\(readVerdict.stale.count),"
                + "\"unavailable_ms_max\":\(rounded(unavailable.ms)),\(Self.enquiryFields(enquiryVerdict))}")
        var problems: [String] = []
        if verdict.lost > 0 { problems.append("\(verdict.lost) acknowledged messages lost") }
        if verdict.duplicated > 0 { problems.append("\(verdict.duplicated) duplicated") }
        if verdict.orderMismatches > 0 { problems.append("\(verdict.orderMismatches) rooms out of order or differing between nodes") }
        if verdict.phantom > 0 { problems.append("\(verdict.phantom) messages nobody sent") }
        if verdict.senderOrderViolations > 0 { problems.append("\(verdict.senderOrderViolations) posts out of their sender's acknowledgement order") }
        if !readVerdict.stale.isEmpty { problems.append("\(readVerdict.stale.count) reads missed messages acknowledged before them") }
        if replicas.differing > 0 { problems.append("\(replicas.differing) replicas differ from their partition's others") }
        if !replicas.unsettled.isEmpty { problems.append("replicas of \(replicas.unsettled.count) partitions never stood at one applied index") }
        if measured.isEmpty { problems.append("no failover measured") }
        if !neverServed.isEmpty { problems.append("partitions that kept a majority never took a write again: \(neverServed.joined(separator: "; "))") }
        if !unrestartable.isEmpty { problems.append("could not restart \(unrestartable)") }
        if let healProblem { problems.append("did not heal: \(healProblem)") }
        if !enquiryVerdict.passed {
            problems.append(
                "enquiries: \(enquiryVerdict.enquiries) opened, \(enquiryVerdict.lost) lost, \(enquiryVerdict.unsettled) unsettled, \(enquiryVerdict.ownedTwice) owned twice, "
                    + "\(enquiryVerdict.ownerMismatches) owner mismatches, \(enquiryVerdict.offersToUnavailable) offers to agents AWAY (\(enquiryVerdict.offers) offers, "
                    + "\(enquiryVerdict.offersWithoutTime) without a time, \(enquiryVerdict.awaySpansJudged) AWAY spans judged), \(enquiryVerdict.unreadableVisitors) visitors unreadable; "
                    + "visitor messages \(enquiryVerdict.visitorLost) lost, "
                    + "\(enquiryVerdict.visitorDuplicated) duplicated, \(enquiryVerdict.visitorOrder) out of order, \(enquiryVerdict.phantom) never written, \(enquiryVerdict.nodesDiffering) node answers differing")
        }
        if percentile(measured, 0.99) > 1_500 { note("chaos: failover p99 above the 1500 ms target") }
        if (measured.max() ?? 0) > 3_000 { note("chaos: failover max above the 3000 ms target") }
        for problem in problems { note("chaos: FAILED: " + problem) }
        return problems.isEmpty
    }

    /// A staff member made for the test, and their token. A first try whose answer was lost
    /// may have made them: then a fresh token is issued instead.
    func createStaff(_ http: ChaosHTTP, _ url: String, id: String, name: String, adminToken: String) async throws -> String {
        let created: [String: Any]
        do {
            created = try await setupCall(http, url + "/v1/staff", token: adminToken, body: #"{"id":"\#(id)","display_name":"\#(name)"}"#)
        } catch let error as BenchError where error.description.contains("staff_already_exists") {
            created = try await setupCall(http, url + "/v1/staff/\(id)/token", token: adminToken, body: "{}")
        }
        guard let token = created["token"] as? String else { throw BenchError("no token for \(id): \(created)") }
        return token
    }

    /// A setup call (before any fault), retried a few times while the cluster settles.
    func setupCall(_ http: ChaosHTTP, _ url: String, token: String?, put: Bool = false, body: String) async throws -> [String: Any] {
        var last = ""
        for attempt in 0..<20 {
            if attempt > 0 { try await Task.sleep(for: .milliseconds(250)) }
            do {
                let (status, json) = try await http.call(post: !put, put: put, url, token: token, body: body, timeout: .seconds(10))
                if (200..<300).contains(status) { return json }
                last = "\(status) \(json)"
                // A conflict may pass (a request still in progress), not a thing that exists.
                if (400..<500).contains(status), status != 409 || last.contains("already_exists") { break }
            } catch {
                last = "\(error)"
            }
        }
        throw BenchError("POST \(url): \(last)")
    }

    private func reportNodeLogs(_ nodes: ChaosNodes) {
        for node in nodes.ids {
            guard let process = nodes.process(of: node) else { continue }
            let tail = process.stderrTail(10)
            if !tail.isEmpty { note("chaos: \(node) (pid \(process.pid)) stderr, last lines:\n\(tail)") }
        }
    }
}
