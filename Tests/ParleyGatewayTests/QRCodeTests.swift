import Crypto
import Testing

@testable import ParleyGateway

/// The QR encoder against matrices the reference encoder made (Project Nayuki's qrcodegen
/// 1.8 for Python, byte mode, level M, the same mask): equal SHA-256 of the rows as 0/1 text,
/// one row a line.
@Suite("QR codes")
struct QRCodeTests {
    static let fixtures: [(String, Int, Int, String)] = [
        ("https://parley.example/w/ch_abc", 0, 3, "be940c6d848ed4021a48c74f79ae95538475a6717db7a34766d0bd9eae95e50c"),
        ("HELLO", 3, 1, "71bc9ab3ffcaa0d281e4873d98c839634768a360dd4020111d405a3c41752367"),
        (String(repeating: "x", count: 120), 5, 7, "beffcff7596298ba1b1bc2defd4c5d81f03933b2aa36810139da1d349ef722b5"),
        ("https://example.com/w/ch_2b5g5jxns2dlxmk8pru1?utm_source=qr", 7, 4, "6e7e791e7cdc083a2c3cb1a945ac8197a5dafef73de5456336c66868905bb15c"),
    ]

    @Test func matchesAnotherEncoderModuleForModule() throws {
        for (text, mask, version, digest) in Self.fixtures {
            let code = try #require(QRCode(Array(text.utf8), forcedMask: mask))
            #expect(code.version == version && code.size == version * 4 + 17)
            let rows = code.modules.map { $0.map { $0 ? "1" : "0" }.joined() }.joined(separator: "\n")
            let hex = SHA256.hash(data: Array(rows.utf8)).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
            #expect(hex == digest, "\(text) (mask \(mask)):\n\(rows)")
        }
    }

    @Test func choosesTheMaskTheStandardsPenaltyPicksAndRefusesTooMuch() throws {
        // qrcodegen picks mask 6 for this URL and 4 for "HELLO" by the same rules.
        #expect(QRCode(Array("https://parley.example/w/ch_abc".utf8))?.mask == 6)
        #expect(QRCode(Array("HELLO".utf8))?.mask == 4)
        #expect(QRCode(Array(repeating: 0x41, count: QRCode.maxBytes)) != nil)
        #expect(QRCode(Array(repeating: 0x41, count: QRCode.maxBytes + 1)) == nil)
        let svg = try #require(QRCode(Array("HELLO".utf8))).svg()
        #expect(svg.hasPrefix("<svg") && svg.contains("viewBox=\"0 0 29 29\""))
    }
}
