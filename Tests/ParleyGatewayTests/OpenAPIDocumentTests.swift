import Foundation
import Testing

@testable import ParleyGateway

@Suite("OpenAPI document")
struct OpenAPIDocumentTests {
    /// Every route the server has is described, with the same methods, and nothing more
    /// (schemathesis in `scripts/fuzz-api` then checks the bodies and statuses).
    @Test func describesExactlyTheRoutesTheServerHas() throws {
        let document = String(decoding: try #require(Gateway.openAPIDocument), as: UTF8.self)
        var described: [String: Set<String>] = [:]
        var path: String?
        for line in document.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                let raw = line.dropFirst(2).dropLast()
                path = String(raw.replacing(/\{([A-Za-z]+)\}/) { ":" + $0.output.1 })
                described[path!] = []
            } else if !line.hasPrefix("   "), !line.hasPrefix("  /") {
                path = nil
            } else if let current = path, let method = line.wholeMatch(of: #/\s{4}(get|post|put|patch|delete):/#)?.output.1 {
                described[current, default: []].insert(method.uppercased())
            }
        }
        let served = Dictionary(uniqueKeysWithValues: Gateway.routeTable.map { ($0.path, Set($0.methods.map(\.rawValue))) })
        #expect(described == served)
    }
}
