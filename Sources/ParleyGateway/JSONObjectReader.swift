/// A strict reader of JSON request bodies (RFC 8259, in UTF-8; a leading byte order mark is
/// ignored): the body must be one JSON object; its fields are kept by name (a name given twice
/// is refused) for a `RequestBody` to take, and anything else in it is checked for validity
/// (every string valid UTF-8, no lone surrogate, at most `maximumDepth` levels) and skipped.
/// Every request body of the API is a flat object of strings, unsigned integers and arrays of
/// strings, so this reads them without Foundation's decoder (which cost more than the rest of
/// a message post's gateway work).
struct JSONObjectReader {
    /// A field's value, as far as a request body needs it.
    enum Value: Equatable {
        case string(String)
        /// A number without fraction or exponent, as written (a sign included).
        case integer(Substring)
        /// A number with a fraction or an exponent, as written.
        case number(Substring)
        case bool(Bool)
        case null
        case array([Value])
        /// An object's fields (a name repeated at any depth is refused).
        case object([String: Value])
    }

    /// How deep arrays and objects may nest inside the body.
    static let maximumDepth = 32

    private let bytes: [UInt8]
    private var position = 0

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The fields of the object `bytes` holds. Throws `invalid_json` when `bytes` is not one
    /// JSON value, or is one but not an object.
    static func fields(of bytes: [UInt8]) throws(GatewayError) -> JSONFields {
        var reader = JSONObjectReader(bytes)
        // RFC 8259 lets a parser ignore a UTF-8 byte order mark.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { reader.position = 3 }
        reader.skipWhitespace()
        guard reader.peek() == UInt8(ascii: "{") else {
            // Say "not an object" only of a body that is valid JSON.
            _ = try reader.readValue(depth: 0)
            reader.skipWhitespace()
            guard reader.position == bytes.count else { throw Self.invalid }
            throw GatewayError.invalidJSON("the body must be a JSON object")
        }
        let fields = try reader.readObject(depth: 0)
        reader.skipWhitespace()
        guard reader.position == bytes.count else { throw Self.invalid }
        return JSONFields(values: fields)
    }

    private static var invalid: GatewayError { GatewayError.invalidJSON("the body is not valid JSON") }

    private func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8) throws(GatewayError) {
        guard peek() == byte else { throw Self.invalid }
        position += 1
    }

    private mutating func readValue(depth: Int) throws(GatewayError) -> Value {
        skipWhitespace()
        guard let byte = peek() else { throw Self.invalid }
        switch byte {
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "{"): return .object(try readObject(depth: depth + 1))
        case UInt8(ascii: "["): return .array(try readArray(depth: depth + 1))
        case UInt8(ascii: "t"): try readLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try readLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try readLiteral("null"); return .null
        default: return try readNumber()
        }
    }

    /// An object's fields.
    private mutating func readObject(depth: Int) throws(GatewayError) -> [String: Value] {
        var fields: [String: Value] = [:]
        try readSequence(from: UInt8(ascii: "{"), to: UInt8(ascii: "}"), depth: depth) { (reader) throws(GatewayError) in
            reader.skipWhitespace()
            guard reader.peek() == UInt8(ascii: "\"") else { throw Self.invalid }
            let name = try reader.readString()
            reader.skipWhitespace()
            try reader.expect(UInt8(ascii: ":"))
            let value = try reader.readValue(depth: depth)
            // RFC 8259 leaves a repeated name's meaning open: refused rather than guessed.
            if fields.updateValue(value, forKey: name) != nil {
                throw GatewayError.invalidJSON("the body repeats the field \(name)")
            }
        }
        return fields
    }

    private mutating func readArray(depth: Int) throws(GatewayError) -> [Value] {
        var elements: [Value] = []
        try readSequence(from: UInt8(ascii: "["), to: UInt8(ascii: "]"), depth: depth) { (reader) throws(GatewayError) in
            elements.append(try reader.readValue(depth: depth))
        }
        return elements
    }

    /// `open`, then elements `readElement` reads separated by commas, then `close`.
    private mutating func readSequence(
        from open: UInt8, to close: UInt8, depth: Int, _ readElement: (inout JSONObjectReader) throws(GatewayError) -> Void
    ) throws(GatewayError) {
        guard depth <= Self.maximumDepth else { throw GatewayError.invalidJSON("the body nests deeper than \(Self.maximumDepth) levels") }
        try expect(open)
        skipWhitespace()
        if peek() == close {
            position += 1
            return
        }
        while true {
            try readElement(&self)
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case close:
                position += 1
                return
            default: throw Self.invalid
            }
        }
    }

    private mutating func readLiteral(_ literal: StaticString) throws(GatewayError) {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw Self.invalid }
        for offset in 0..<count where bytes[position + offset] != literal.utf8Start[offset] { throw Self.invalid }
        position += count
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func readNumber() throws(GatewayError) -> Value {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), Self.isDigit(first) else { throw Self.invalid }
        position += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        var integral = true
        if peek() == UInt8(ascii: ".") {
            position += 1
            guard let digit = peek(), Self.isDigit(digit) else { throw Self.invalid }
            skipDigits()
            integral = false
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard let digit = peek(), Self.isDigit(digit) else { throw Self.invalid }
            skipDigits()
            integral = false
        }
        let text = Substring(decoding: bytes[start..<position], as: UTF8.self)
        return integral ? .integer(text) : .number(text)
    }

    private mutating func skipDigits() {
        while let byte = peek(), Self.isDigit(byte) { position += 1 }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// A string literal: escapes decoded (a `\u` surrogate pair as one character, a lone
    /// surrogate refused), no raw control characters, valid UTF-8.
    private mutating func readString() throws(GatewayError) -> String {
        try expect(UInt8(ascii: "\""))
        var decoded: [UInt8] = []
        var chunkStart = position
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let string: String?
                if decoded.isEmpty {
                    string = String(validating: bytes[chunkStart..<position], as: UTF8.self)
                } else {
                    decoded.append(contentsOf: bytes[chunkStart..<position])
                    string = String(validating: decoded, as: UTF8.self)
                }
                position += 1
                guard let string else { throw Self.invalid }
                return string
            }
            guard byte >= 0x20 else { throw Self.invalid }
            guard byte == UInt8(ascii: "\\") else {
                position += 1
                continue
            }
            decoded.append(contentsOf: bytes[chunkStart..<position])
            position += 1
            guard let escape = peek() else { throw Self.invalid }
            position += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
            case UInt8(ascii: "b"): decoded.append(0x08)
            case UInt8(ascii: "f"): decoded.append(0x0C)
            case UInt8(ascii: "n"): decoded.append(0x0A)
            case UInt8(ascii: "r"): decoded.append(0x0D)
            case UInt8(ascii: "t"): decoded.append(0x09)
            case UInt8(ascii: "u"): try readEscapedScalar(into: &decoded)
            default: throw Self.invalid
            }
            chunkStart = position
        }
        throw Self.invalid
    }

    /// Appends the UTF-8 of a `\u` escape whose `u` was just read (and of its low surrogate's).
    private mutating func readEscapedScalar(into decoded: inout [UInt8]) throws(GatewayError) {
        let unit = try readHex4()
        var value = UInt32(unit)
        if (0xD800...0xDBFF).contains(unit) {
            guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else { throw Self.invalid }
            position += 2
            let low = try readHex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw Self.invalid }
            value = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(unit) {
            throw Self.invalid
        }
        guard let scalar = Unicode.Scalar(value) else { throw Self.invalid }
        UTF8.encode(scalar) { decoded.append($0) }
    }

    private mutating func readHex4() throws(GatewayError) -> UInt16 {
        guard position + 4 <= bytes.count else { throw Self.invalid }
        var unit: UInt16 = 0
        for byte in bytes[position..<(position + 4)] {
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x41...0x46: digit = byte - 0x41 + 10
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: throw Self.invalid
            }
            unit = unit << 4 | UInt16(digit)
        }
        position += 4
        return unit
    }
}
