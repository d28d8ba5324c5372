/// Why bytes could not be decoded.
public struct DecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "decoding_error: \(message)" }
}

/// Reads what `BinaryWriter` wrote, refusing truncated or malformed input.
public struct BinaryReader {
    private let bytes: [UInt8]
    public private(set) var offset: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
    }

    public var isAtEnd: Bool { offset == bytes.count }

    private mutating func take(_ count: Int) throws(DecodingError) -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count - offset >= count else {
            throw DecodingError("truncated input: wanted \(count) bytes at offset \(offset) of \(bytes.count)")
        }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    public mutating func readUInt8() throws(DecodingError) -> UInt8 { try take(1).first! }

    public mutating func readBool() throws(DecodingError) -> Bool {
        switch try readUInt8() {
        case 0: return false
        case 1: return true
        case let other: throw DecodingError("invalid bool byte \(other)")
        }
    }

    public mutating func readUInt16() throws(DecodingError) -> UInt16 {
        try take(2).reduce(0) { $0 << 8 | UInt16($1) }
    }

    public mutating func readUInt64() throws(DecodingError) -> UInt64 {
        try take(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    public mutating func readInt64() throws(DecodingError) -> Int64 { Int64(bitPattern: try readUInt64()) }

    public mutating func readVarint() throws(DecodingError) -> UInt64 {
        var result: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 7) {
            let byte = try readUInt8()
            result |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte & 0x80 == 0 { return result }
        }
        throw DecodingError("varint longer than 64 bits")
    }

    private mutating func readLength() throws(DecodingError) -> Int {
        let length = try readVarint()
        guard length <= UInt64(bytes.count - offset) else {
            throw DecodingError("length \(length) exceeds remaining \(bytes.count - offset) bytes")
        }
        return Int(length)
    }

    public mutating func readString() throws(DecodingError) -> String {
        let slice = try take(try readLength())
        guard let string = String(validating: slice, as: UTF8.self) else {
            throw DecodingError("invalid UTF-8 string")
        }
        return string
    }

    public mutating func readBytes() throws(DecodingError) -> [UInt8] { Array(try take(try readLength())) }

    public mutating func readOptionalString() throws(DecodingError) -> String? {
        try readBool() ? try readString() : nil
    }

    public mutating func readStrings() throws(DecodingError) -> [String] {
        let count = try readLength()
        var result: [String] = []
        result.reserveCapacity(count)
        for _ in 0..<count { result.append(try readString()) }
        return result
    }

    /// Throws unless every byte was consumed.
    public func expectEnd() throws(DecodingError) {
        guard isAtEnd else { throw DecodingError("\(bytes.count - offset) trailing bytes") }
    }
}

extension BinaryReader {
    /// A one-byte raw value of `T`, refusing values `T` does not know.
    public mutating func read<T: RawRepresentable>(_ type: T.Type, _ what: String) throws(DecodingError) -> T where T.RawValue == UInt8 {
        let raw = try readUInt8()
        guard let value = T(rawValue: raw) else { throw DecodingError("unknown \(what) \(raw)") }
        return value
    }

    /// A varint count, refused above `limit`.
    public mutating func readCount(atMost limit: Int, of what: String) throws(DecodingError) -> Int {
        let count = try readVarint()
        guard count <= UInt64(limit) else { throw DecodingError("\(count) \(what) (at most \(limit))") }
        return Int(count)
    }

    /// A varint behind a presence byte.
    public mutating func readOptionalVarint() throws(DecodingError) -> UInt64? {
        try readBool() ? try readVarint() : nil
    }
}
