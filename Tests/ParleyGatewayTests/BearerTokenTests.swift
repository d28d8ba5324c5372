import HTTPTypes
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

/// `HTTPFields.value(of:)`: what the subscript gives, for none, one or several fields.
@Suite("Header lookup")
struct HeaderLookupTests {
    @Test func itAgreesWithTheSubscript() {
        var fields = HTTPFields()
        #expect(fields.value(of: .authorization) == nil)
        fields.append(HTTPField(name: .contentType, value: "application/json"))
        fields.append(HTTPField(name: .authorization, value: "Bearer a"))
        #expect(fields.value(of: .authorization) == "Bearer a")
        #expect(fields.value(of: HTTPField.Name("AUTHORIZATION")!) == "Bearer a")
        fields.append(HTTPField(name: .authorization, value: "Bearer b"))
        #expect(fields.value(of: .authorization) == fields[.authorization])
        #expect(fields.value(of: .authorization) == "Bearer a, Bearer b")
        fields.append(HTTPField(name: .cookie, value: "a=1"))
        fields.append(HTTPField(name: .cookie, value: "b=2"))
        #expect(fields.value(of: .cookie) == fields[.cookie])
        #expect(fields.value(of: .idempotencyKey) == nil)
    }
}
