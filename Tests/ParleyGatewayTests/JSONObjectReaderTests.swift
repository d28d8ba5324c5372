import Foundation
import Testing

@testable import ParleyGateway

/// Request bodies are read by the gateway's own JSON reader: it must take exactly the JSON
/// that RFC 8259 (and Foundation's parser) takes, and turn field mistakes into the gateway's
/// errors.
@Suite("JSON request bodies")
struct JSONObjectReaderTests {
    private func fields(_ text: String) throws(GatewayError) -> JSONFields { try JSONObjectReader.fields(of: Array(text.utf8)) }

    private func failure(_ text: String) -> GatewayError? {
        do {
            _ = try fields(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func readsFieldsEscapesAndNumbers() throws {
        let body = try fields(
            #" { "text" : "a \"quoted\" \\ \/ \b\f\n\r\t line \u00e9 \ud83d\ude00 👋", "n": 18446744073709551615, "#
                + #""list": ["a", "b"], "skip": {"deep": [1, -2.5e-3, true, false, null, {"x": [], "y": 1}]}, "text2": "", "three": 3.0, "hundred": 1e2}"#)
        #expect(try body.string("text") == "a \"quoted\" \\ / \u{8}\u{c}\n\r\t line é 😀 👋")
        #expect(try body.unsignedInteger("n") == UInt64.max)
        #expect(try body.strings("list") == ["a", "b"])
        #expect(try body.string("text2") == "")
        #expect(try body.unsignedInteger("three") == 3)
        #expect(try body.unsignedInteger("hundred") == 100)
        // A byte order mark before the body is ignored.
        #expect(try JSONObjectReader.fields(of: [0xEF, 0xBB, 0xBF] + Array(#"{"a":"b"}"#.utf8)).string("a") == "b")
        #expect(try body.optionalString("absent") == nil)
        #expect(try fields("{}").values.isEmpty)
    }

    @Test func nestedObjectsAreReadWithTheSameRules() throws {
        let body = try fields(#"{"rule": {"name": "time", "windows": [{"days": ["mon"], "on": true}], "n": 3}}"#)
        let rule = try body.object("rule")
        #expect(try rule.string("name") == "time")
        #expect(try rule.objects("windows").first?.strings("days") == ["mon"])
        #expect(try rule.objects("windows").first?.optionalBool("on") == true)
        #expect(throws: GatewayError.invalidArgument("field rule.windows[0].days has the wrong type")) {
            try fields(#"{"rule": {"windows": [{"days": "mon"}]}}"#).object("rule").objects("windows")[0].strings("days")
        }
        #expect(throws: GatewayError.invalidArgument("missing field rule.name")) { try fields(#"{"rule": {}}"#).object("rule").string("name") }
        // A name repeated inside a nested object is refused as at the top.
        #expect(failure(#"{"a": {"x": 1, "x": 2}}"#) == GatewayError.invalidJSON("the body repeats the field x"))
    }

    @Test func fieldMistakesAreInvalidArguments() throws {
        let body = try fields(
            #"{"s": 5, "n": -1, "f": 1.5, "e": 1e20, "nf": -1.0, "big": 18446744073709551616, "null": null, "mixed": ["a", 1], "o": {}}"#)
        let cases: [(() throws(GatewayError) -> Void, String)] = [
            ({ () throws(GatewayError) in _ = try body.string("missing") }, "missing field missing"),
            ({ () throws(GatewayError) in _ = try body.string("s") }, "field s has the wrong type"),
            ({ () throws(GatewayError) in _ = try body.unsignedInteger("n") }, "field n has the wrong type"),
            ({ () throws(GatewayError) in _ = try body.optionalUnsignedInteger("f") }, "field f has the wrong type"),
            ({ () throws(GatewayError) in _ = try body.optionalUnsignedInteger("e") }, "field e has the wrong type"),
            ({ () throws(GatewayError) in _ = try body.optionalUnsignedInteger("nf") }, "field nf has the wrong type"),
            ({ () throws(GatewayError) in _ = try body.optionalUnsignedInteger("big") }, "field big has the wrong type"),
            ({ () throws(GatewayError) in _ = try body.optionalString("null") }, "field null must not be null"),
            ({ () throws(GatewayError) in _ = try body.strings("mixed") }, "field mixed has the wrong type"),
            ({ () throws(GatewayError) in _ = try body.optionalStrings("o") }, "field o has the wrong type"),
        ]
        for (read, message) in cases {
            #expect(throws: GatewayError.self) { try read() }
            do {
                try read()
            } catch {
                #expect(error.code == "invalid_argument")
                #expect(error.message == message)
            }
        }
    }

    @Test func malformedBodiesAreInvalidJSON() {
        let malformed = [
            "", " ", "{", "}", #"{"a"}"#, #"{"a":}"#, #"{"a":1,}"#, #"{,"a":1}"#, #"{"a":1 "b":2}"#, "{'a':1}", #"{a:1}"#,
            #"{"a":01}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":-}"#, #"{"a":1e}"#, #"{"a":+1}"#, #"{"a":tru}"#, #"{"a":nul}"#,
            #"{"a":"\x"}"#, #"{"a":"\u12"}"#, #"{"a":"\ud83d"}"#, #"{"a":"\ude00"}"#, #"{"a":"\ud83d\u0041"}"#, "{\"a\":\"tab\there\"}",
            #"{"a":"unterminated}"#, #"{"a":[1,2}"#, #"{"a":[1,]}"#, #"{"a":1}}"#, #"{"a":1} x"#, #"{} {}"#, "\u{FEFF}\u{FEFF}{}",
        ]
        for text in malformed {
            let error = failure(text)
            #expect(error?.code == "invalid_json", "\(text)")
        }
        // Invalid UTF-8 in a string, and nesting past the limit.
        let invalidUTF8: [UInt8] = [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D]
        #expect(throws: GatewayError.invalidJSON("the body is not valid JSON")) { try JSONObjectReader.fields(of: invalidUTF8) }
        // A name given twice is refused, not guessed at.
        #expect(failure(#"{"text":"a","text":"b"}"#)?.message == "the body repeats the field text")
        let deep = "{\"a\":" + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + "}"
        #expect(failure(deep)?.code == "invalid_json")
        let deepEnough = "{\"a\":" + String(repeating: "[", count: 30) + String(repeating: "]", count: 30) + "}"
        #expect(failure(deepEnough) == nil)
    }

    @Test func validJSONThatIsNotAnObjectSaysSo() {
        for text in ["[1,2]", "5", #""text""#, "null", " true "] {
            #expect(failure(text)?.message == "the body must be a JSON object", "\(text)")
        }
        #expect(failure("[1,2")?.message == "the body is not valid JSON")
    }

    /// Every truncation and many one-byte changes of a few bodies: the reader takes a body as
    /// an object exactly when Foundation's parser does (but for a trailing comma, which only
    /// Foundation's takes).
    @Test func agreesWithFoundationOnMutatedBodies() {
        let seeds = [
            #"{"text":"hi \"x\" \u00e9","reply_to":12,"idempotency_key":"k-1"}"#,
            #"{"members":["a","b"],"nested":{"x":[1,2.5,-3e4,true,false,null]},"name":"Ω"}"#,
            #"{ "a" : [ { } , [ ] ] , "b" : -0.0e+1 }"#,
        ]
        let replacements = Array(#""\{}[],:0-e.u x"#.utf8) + [0x01, 0x7F, 0x80, 0xC3, 0xFF]
        var checked = 0
        for seed in seeds {
            let bytes = Array(seed.utf8)
            var bodies: [[UInt8]] = (0..<bytes.count).map { Array(bytes[..<$0]) }
            for index in bytes.indices {
                for byte in replacements where byte != bytes[index] {
                    var changed = bytes
                    changed[index] = byte
                    bodies.append(changed)
                }
            }
            for body in bodies {
                let foundation = (try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])).map { $0 is [String: Any] }
                let ours: Bool?
                do {
                    _ = try JSONObjectReader.fields(of: body)
                    ours = true
                } catch {
                    ours = error.message == "the body must be a JSON object" ? false : nil
                }
                let text = String(decoding: body, as: UTF8.self)
                // Foundation's parser takes a trailing comma; RFC 8259 (and this reader) does not.
                let trailingComma = text.replacingOccurrences(of: " ", with: "").contains(",]")
                    || text.replacingOccurrences(of: " ", with: "").contains(",}")
                #expect(ours == (trailingComma ? nil : foundation), "\(text)")
                checked += 1
            }
        }
        #expect(checked > 1_000)
    }
}
