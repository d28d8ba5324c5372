import Hummingbird
import ParleyDomain

/// Maps bearer tokens to staff members. Today the only credential is the bootstrap admin
/// token; staff accounts with their own tokens arrive with the staff entity.
public struct StaffAuthenticator: Sendable {
    /// The staff member the bootstrap admin token signs in as.
    public static let adminStaff = StaffID(unchecked: "admin")

    private let adminToken: [UInt8]

    public init(adminToken: String) {
        self.adminToken = Array(adminToken.utf8)
    }

    /// The staff member `token` belongs to, or nil. Compares in constant time.
    public func staff(forToken token: String) -> StaffID? {
        let candidate = Array(token.utf8)
        guard candidate.count == adminToken.count else { return nil }
        var difference: UInt8 = 0
        for (a, b) in zip(candidate, adminToken) { difference |= a ^ b }
        return difference == 0 ? Self.adminStaff : nil
    }

    /// The staff member the request's `Authorization: Bearer` header names.
    func authenticate(_ request: Request) throws(GatewayError) -> StaffID {
        guard let header = request.headers[.authorization] else { throw GatewayError.unauthenticated }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw GatewayError.unauthenticated }
        guard let staff = staff(forToken: String(parts[1]).trimmingCharacters(in: .whitespaces)) else { throw GatewayError.invalidToken }
        return staff
    }
}

extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        String(drop(while: set.contains).reversed().drop(while: set.contains).reversed())
    }
}

extension Set where Element == Character {
    static let whitespaces: Set<Character> = [" ", "\t"]
}
