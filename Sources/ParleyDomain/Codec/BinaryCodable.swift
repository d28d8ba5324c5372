/// A value with an explicit, versionable binary encoding (`BinaryWriter`/`BinaryReader`):
/// what log entries, peer calls and stored records are made of.
public protocol BinaryCodable {
    func encode(into writer: inout BinaryWriter)
    static func decode(from reader: inout BinaryReader) throws(DecodingError) -> Self
}

extension BinaryCodable {
    /// The value's encoding on its own.
    public var encoded: [UInt8] {
        var writer = BinaryWriter()
        encode(into: &writer)
        return writer.bytes
    }

    /// Decodes `bytes`, which must hold exactly one value.
    public static func decode(_ bytes: [UInt8]) throws(DecodingError) -> Self {
        var reader = BinaryReader(bytes)
        let value = try decode(from: &reader)
        try reader.expectEnd()
        return value
    }
}
