import Testing

@testable import ParleyGateway

/// The `Authorization` header's bearer token, as the authenticator reads it.
@Suite("Bearer tokens")
struct BearerTokenTests {
    @Test func theSchemeIsCaseInsensitiveAndBlanksAroundTheTokenGo() {
        #expect(StaffAuthenticator.bearerToken(in: "Bearer bo.secret") == "bo.secret")
        #expect(StaffAuthenticator.bearerToken(in: "bearer  bo.secret \t") == "bo.secret")
        #expect(StaffAuthenticator.bearerToken(in: "BEARER x") == "x")
    }

    @Test func anotherSchemeOrNoTokenIsNone() {
        for header in ["Basic Ym86eA==", "Bearer", "Bearer ", "Bearer \t ", "Bearerx token", "Bear token", "", " Bearer"] {
            #expect(StaffAuthenticator.bearerToken(in: header) == nil, "\(header)")
        }
    }
}
