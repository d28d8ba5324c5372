import Foundation
import HTTPTypes
import Testing

/// SIGKILLs a node under concurrent writes at a random moment, restarts it, and checks that
/// every acknowledged write is there, in one gapless order, with nothing half-applied or
/// duplicated. `PARLEY_CRASH_ITERATIONS` sets how many times in a row (default 20).
@Suite("Crash safety", .serialized)
struct CrashTests {
    static let token = "crash-test-token-0123456789"
    static let rooms = 4
    static let writers = 16

    /// What one writer attempted and what was acknowledged.
    struct Outcome: Sendable {
        var acknowledged: [String: (room: String, seq: Int)] = [:]
        var attempted: [String: String] = [:]  // text -> room
    }

    @Test func acknowledgedWritesSurviveSIGKILL() async throws {
        let iterations = Int(ProcessInfo.processInfo.environment["PARLEY_CRASH_ITERATIONS"] ?? "") ?? 20
        for iteration in 1...max(1, min(iterations, 1_000)) {
            var generator = SystemRandomNumberGenerator()
            let killAfter = Duration.milliseconds(Int64.random(in: 200...1_500, using: &generator))
            try await runOnce(iteration: iteration, killAfter: killAfter)
        }
    }

    func runOnce(iteration: Int, killAfter: Duration) async throws {
        let dir = NSTemporaryDirectory() + "parley-crash-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let environment = ["PARLEY_CLIENT_PORT": "0", "PARLEY_ADMIN_TOKEN": Self.token, "PARLEY_LOG_LEVEL": "warning"]
        let label = "iteration \(iteration), kill after \(killAfter)"

        let node = try NodeProcess(workDirectory: dir, environment: environment)
        let port = try await node.waitForPort()
        let setup = NodeClient(port: port, token: Self.token)
        var rooms: [String] = []
        for i in 0..<Self.rooms {
            rooms.append(try #require(try await setup.call("/v1/rooms", .post, json: "{\"name\":\"crash \(i)\"}").json["id"] as? String))
        }
        await setup.shutdown()
        let roomIDs = rooms

        let outcomes = try await withThrowingTaskGroup(of: Outcome.self) { group in
            for writer in 0..<Self.writers {
                group.addTask {
                    var outcome = Outcome()
                    let client = NodeClient(port: port, token: Self.token)
                    let deadline = ContinuousClock.now + .seconds(10)
                    for n in 0..<100_000 where ContinuousClock.now < deadline {
                        let room = roomIDs[(writer + n) % roomIDs.count]
                        let text = "w\(writer)-\(n)"
                        outcome.attempted[text] = room
                        do {
                            let response = try await client.call(
                                "/v1/rooms/\(room)/messages", .post, json: "{\"text\":\"\(text)\",\"idempotency_key\":\"\(text)\"}")
                            guard response.status == .created, let seq = response.json["seq"] as? Int else { break }
                            outcome.acknowledged[text] = (room, seq)
                        } catch {
                            break  // the node died under this request
                        }
                    }
                    await client.shutdown()
                    return outcome
                }
            }
            group.addTask {
                try await Task.sleep(for: killAfter)
                node.send(SIGKILL)
                return Outcome()
            }
            var all: [Outcome] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }
        #expect(await node.waitForExit() != nil, "\(label): the node did not die")
        let acknowledged = outcomes.reduce(into: [String: (room: String, seq: Int)]()) { $0.merge($1.acknowledged) { a, _ in a } }
        let attempted = outcomes.reduce(into: [String: String]()) { $0.merge($1.attempted) { a, _ in a } }
        #expect(!acknowledged.isEmpty, "\(label): nothing was acknowledged before the kill")

        let restarted = try NodeProcess(workDirectory: dir, environment: environment)
        let reader = NodeClient(port: try await restarted.waitForPort(), token: Self.token)
        var seen: [String: (room: String, seq: Int)] = [:]
        for room in rooms {
            var after = 0
            for _ in 0..<1_000 {
                let page = try await reader.call("/v1/rooms/\(room)/messages?after=\(after)&limit=200", .get)
                let messages = page.json["messages"] as? [[String: Any]] ?? []
                for message in messages {
                    let seq = message["seq"] as? Int ?? -1
                    let text = message["text"] as? String ?? ""
                    #expect(seq == after + 1, "\(label): room \(room) jumps from \(after) to \(seq)")
                    after = seq
                    #expect(attempted[text] == room, "\(label): \(text) in \(room) was never sent there")
                    #expect(message["idempotency_key"] as? String == text, "\(label): \(text) lost its idempotency key")
                    #expect(seen[text] == nil, "\(label): \(text) is stored twice")
                    seen[text] = (room, seq)
                }
                if messages.count < 200 { break }
            }
        }
        var lost = 0
        for (text, ack) in acknowledged {
            let stored = seen[text]
            if stored?.room != ack.room || stored?.seq != ack.seq { lost += 1 }
            #expect(stored?.room == ack.room && stored?.seq == ack.seq, "\(label): acknowledged \(text) at \(ack) but found \(String(describing: stored))")
        }
        // Retrying an unacknowledged send must not duplicate it, whether or not it landed.
        for (text, room) in attempted.filter({ acknowledged[$0.key] == nil }).prefix(8) {
            let retry = try await reader.call("/v1/rooms/\(room)/messages", .post, json: "{\"text\":\"\(text)\",\"idempotency_key\":\"\(text)\"}")
            #expect(retry.status == (seen[text] == nil ? .created : .ok), "\(label): retry of \(text)")
        }
        print("crash \(label): \(acknowledged.count) acknowledged, \(seen.count) stored, \(attempted.count) attempted, \(lost) lost")
        await reader.shutdown()
        restarted.send(SIGTERM)
        #expect(await restarted.waitForExit() == 0, "\(label): restarted node did not stop cleanly")
    }
}
