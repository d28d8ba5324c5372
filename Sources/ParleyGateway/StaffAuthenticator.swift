import Crypto
import Hummingbird
import ParleyDomain
import ParleyRuntime

/// Who is calling: a staff member and their role.
struct Caller: Sendable {
    let staff: StaffID
    let role: StaffRole

    var isAdmin: Bool { role == .admin }

    /// The caller as the domain's rules see it: what they authorize against.
    var principal: ParleyDomain.Caller { .staff(staff, role: role) }
}

/// Maps bearer tokens to staff members. Two kinds of token: the node's bootstrap admin token
/// (signs in as `admin`), and staff tokens `<staff id>.<secret>`, of which only a SHA-256 of
/// the secret is stored: the id says which account to check, so no token index is needed.
public struct StaffAuthenticator: Sendable {
    /// The staff member the bootstrap admin token signs in as.
    public static let adminStaff = StaffID(unchecked: "admin")

    private let adminToken: [UInt8]
    /// Credentials of accounts served by other nodes, kept briefly (and any account's, for outages).
    let credentials: CredentialCache

    /// `credentialLifetime`: how long credentials of an account another node serves are
    /// trusted without asking it again.
    public init(adminToken: String, credentialLifetime: Duration = .seconds(2)) {
        self.adminToken = Array(adminToken.utf8)
        credentials = CredentialCache(lifetime: credentialLifetime)
    }

    /// A new token for `staff` and the hash to store for it.
    static func issueToken(for staff: StaffID) -> (token: String, hash: [UInt8]) { issueToken(forKey: staff.rawValue) }

    /// A new token `<key>.<secret>` (a staff member's, a visitor's) and the hash to store.
    static func issueToken(forKey key: String) -> (token: String, hash: [UInt8]) {
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in String(UInt8.random(in: 0...255, using: &generator), radix: 16).leftPadded(to: 2) }.joined()
        return ("\(key).\(secret)", hash(secret))
    }

    static func hash(_ secret: some StringProtocol) -> [UInt8] { Array(SHA256.hash(data: Array(secret.utf8))) }

    /// The caller the request's `Authorization: Bearer` header (or `access_token` query item)
    /// names.
    func authenticate(_ request: Request, runtime: NodeRuntime) async throws -> Caller {
        try await authenticate(
            authorization: request.headers.value(of: .authorization), accessToken: request.uri.queryParameters.get("access_token"),
            runtime: runtime)
    }

    /// The caller an `Authorization` header value (first) or an `access_token` query item
    /// names.
    func authenticate(authorization: String?, accessToken: String?, runtime: NodeRuntime) async throws -> Caller {
        let token: String
        if let authorization {
            guard let bearer = Self.bearerToken(in: authorization) else { throw GatewayError.unauthenticated }
            token = bearer
        } else if let accessToken {
            token = accessToken
        } else {
            throw GatewayError.unauthenticated
        }
        if Self.constantTimeEqual(Array(token.utf8), adminToken) {
            return Caller(staff: Self.adminStaff, role: .admin)
        }
        // The secret is hex, the staff id may hold dots: the last dot divides them.
        guard let dot = token.utf8.lastIndex(of: UInt8(ascii: ".")),
            let staff = StaffID(rawValue: String(token[..<dot])), staff != Self.adminStaff
        else {
            throw GatewayError.invalidToken
        }
        let hash = Self.hash(token[token.utf8.index(after: dot)...])
        if let known = credentials.credentials(of: staff), Self.constantTimeEqual(hash, known.tokenHash) {
            return Caller(staff: staff, role: known.role)
        }
        let account: StaffCredentials?
        do {
            account = try await runtime.staffCredentials(staff)
        } catch {
            // The account's partition cannot answer now: its last known credentials stand in.
            guard error.isPartitionOutage, let known = credentials.lastKnown(of: staff), Self.constantTimeEqual(hash, known.tokenHash) else {
                throw error
            }
            return Caller(staff: staff, role: known.role)
        }
        guard let account else {
            credentials.forget(staff)
            throw GatewayError.invalidToken
        }
        // What is stored now replaces what was known, matching or not: an old token never
        // stands in again.
        credentials.store(staff, tokenHash: account.tokenHash, role: account.role, remote: !runtime.servesAccount(of: staff))
        guard Self.constantTimeEqual(hash, account.tokenHash) else { throw GatewayError.invalidToken }
        return Caller(staff: staff, role: account.role)
    }

    /// The token of an `Authorization: Bearer <token>` value (the scheme in any case, blanks
    /// around the token dropped); nil for another scheme or no token part.
    static func bearerToken(in header: String) -> String? {
        let bytes = header.utf8
        guard let space = bytes.firstIndex(of: UInt8(ascii: " ")) else { return nil }
        let scheme = bytes[..<space]
        guard scheme.count == 6, zip(scheme, "bearer".utf8).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
        let token = trimmingBlanks(Substring(header[bytes.index(after: space)...]))
        return token.isEmpty ? nil : token
    }

    static func trimmingBlanks(_ text: Substring) -> String {
        let bytes = text.utf8
        let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
        guard let first = bytes.firstIndex(where: { !blank($0) }), let last = bytes.lastIndex(where: { !blank($0) }) else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
