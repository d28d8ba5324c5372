import AsyncHTTPClient
import Foundation
import NIOCore

/// Counters `names` read from every node's `/metrics` (Prometheus text) and summed over the
/// nodes, unlabelled and labelled series alike; throws when a node does not answer within
/// 10 s (a sum missing a node would skew every difference taken from it).
func summedCounters(_ names: [String], metricsURLs: [String], client: HTTPClient) async throws -> [String: Double] {
    var sums: [String: Double] = [:]
    for url in metricsURLs {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        guard response.status == .ok else { throw BenchError("GET \(url): \(response.status.code)") }
        let body = try await response.body.collect(upTo: 32 << 20)
        for line in String(buffer: body).split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let value = Double(fields[1]) else { continue }
            let series = String(fields[0].prefix { $0 != "{" })
            if names.contains(series) { sums[series, default: 0] += value }
        }
    }
    return sums
}

/// GETs `url` (or, with `body`, POSTs it as JSON), with `token` as a bearer token when given,
/// and returns the JSON object answered; throws on a non-2xx answer (naming what it said), an
/// answer that is not a JSON object, or no answer within `timeout`.
func requestJSON(
    _ url: String, token: String? = nil, body: String? = nil, client: HTTPClient = .shared, timeout: TimeAmount = .seconds(30)
) async throws -> [String: Any] {
    var request = HTTPClientRequest(url: url)
    if let token { request.headers.add(name: "authorization", value: "Bearer \(token)") }
    if let body {
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
    }
    let response = try await client.execute(request, timeout: timeout)
    let data = try await response.body.collect(upTo: 4 << 20)
    let object = (try? JSONSerialization.jsonObject(with: Data(data.readableBytesView))) as? [String: Any]
    let method = body == nil ? "GET" : "POST"
    guard (200..<300).contains(response.status.code) else { throw BenchError("\(method) \(url): \(response.status.code) \(object ?? [:])") }
    guard let object else { throw BenchError("\(method) \(url): not a JSON object") }
    return object
}
