import AsyncHTTPClient
import Foundation

/// A running etcd cluster under `parley-bench replicated etcd`: the load is
/// `POST /v3/kv/put` through each member's JSON gateway (HTTP/1.1: on the client port
/// HTTP/2 goes to the gRPC server), with a value as long as Parley's message text; the member
/// killed is the leader by `/v3/maintenance/status`, and the probes put through the others.
struct EtcdSystem: ReplicatedSystem {
    let name = "etcd"
    let endpoints: [String]

    init(arguments: [String]) throws {
        guard let endpoints = option("--endpoints", in: arguments) else { throw BenchError("replicated etcd needs --endpoints URL,…") }
        self.endpoints = endpoints.split(separator: ",").map(String.init)
    }

    var nodeCount: Int { endpoints.count }
    var loadHeaders: [String] { ["content-type: application/json"] }
    var loadBody: String { Self.put(key: "bench/load", value: "a message of ordinary length from the benchmark's load") }
    func loadURLs(node: Int) -> [String] { [endpoints[node] + "/v3/kv/put"] }
    /// WAL fsyncs, backend (bbolt) commits and committed proposals.
    var counterNames: [String] {
        ["etcd_disk_wal_fsync_duration_seconds_count", "etcd_disk_backend_commit_duration_seconds_count", "etcd_server_proposals_committed_total"]
    }
    func metricsURL(node: Int) -> String { endpoints[node] + "/metrics" }

    /// The member every member names as leader.
    func failoverPlan(client: HTTPClient) async throws -> FailoverPlan {
        let statuses = try await Self.statuses(endpoints, client: client)
        guard let leaderID = statuses.first?.leader, statuses.allSatisfy({ $0.leader == leaderID }),
            let leader = statuses.firstIndex(where: { $0.member == leaderID })
        else { throw BenchError("etcd members do not agree on a leader: \(statuses)") }
        note("etcd: will kill member \(leader + 1) (\(leaderID)), the leader")
        let survivors = endpoints.enumerated().filter { $0.offset != leader }.map(\.element)
        return FailoverPlan(
            leader: leader, writeURLs: survivors.map { $0 + "/v3/kv/put" }, authorization: nil,
            body: { Self.put(key: "bench/probe-\($0)", value: "failover probe \($0)") },
            settled: { client in
                guard let statuses = try? await Self.statuses(survivors, client: client), let now = statuses.first?.leader else { return false }
                return now != "0" && now != leaderID && statuses.allSatisfy { $0.leader == now }
            })
    }

    /// Throws when the leader changed since `plan`.
    func recheck(_ plan: FailoverPlan, client: HTTPClient) async throws -> FailoverPlan {
        let status = try await Self.statuses([endpoints[plan.leader]], client: client)[0]
        guard status.leader == status.member else { throw BenchError("etcd member \(plan.leader + 1) no longer leads") }
        return plan
    }

    /// Each member's id and the leader it names (uint64s, as strings in the gateway's JSON).
    static func statuses(_ endpoints: [String], client: HTTPClient) async throws -> [(member: String, leader: String)] {
        var statuses: [(member: String, leader: String)] = []
        for endpoint in endpoints {
            let object = try await requestJSON(endpoint + "/v3/maintenance/status", body: "{}", client: client, timeout: .seconds(5))
            guard let header = object["header"] as? [String: Any], let member = header["member_id"] as? String else {
                throw BenchError("\(endpoint)/v3/maintenance/status: no member_id")
            }
            statuses.append((member, object["leader"] as? String ?? "0"))
        }
        return statuses
    }

    /// A put request's JSON: key and value in base64.
    static func put(key: String, value: String) -> String {
        #"{"key":"\#(Data(key.utf8).base64EncodedString())","value":"\#(Data(value.utf8).base64EncodedString())"}"#
    }
}
