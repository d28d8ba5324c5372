import NIOCore
import ParleyCluster

/// The pieces of protobuf's binary format that `PeerFrame`'s hand-written codec needs: tags,
/// varints and length-delimited fields (https://protobuf.dev/programming-guides/encoding/).
enum ProtobufWire {
    enum WireType: UInt8 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case startGroup = 3
        case endGroup = 4
        case fixed32 = 5
    }

    static func writeTag(field: UInt32, wireType: WireType, into buffer: inout ByteBuffer) {
        writeVarint(UInt64(field) << 3 | UInt64(wireType.rawValue), into: &buffer)
    }

    static func writeVarint(_ value: UInt64, into buffer: inout ByteBuffer) {
        var value = value
        while value >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        buffer.writeInteger(UInt8(value))
    }

    static func varintSize(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

    /// Reads fields from a message's bytes, refusing truncated or malformed input.
    struct Reader {
        private var bytes: ArraySlice<UInt8>

        init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

        /// The next field's number and wire type; nil at the end of the message.
        mutating func nextTag() throws(ClusterError) -> (UInt32, WireType)? {
            guard !bytes.isEmpty else { return nil }
            let tag = try readVarint()
            let field = tag >> 3
            guard field > 0, field <= UInt64(UInt32.max >> 3), let wireType = WireType(rawValue: UInt8(tag & 7)) else {
                throw Self.malformed("a field tag of \(tag)")
            }
            return (UInt32(field), wireType)
        }

        mutating func readVarint() throws(ClusterError) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while let byte = bytes.popFirst() {
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
                guard shift < 70 else { throw Self.malformed("a varint longer than ten bytes") }
            }
            throw Self.malformed("a truncated varint")
        }

        mutating func readLengthDelimited() throws(ClusterError) -> ArraySlice<UInt8> {
            let length = try readVarint()
            guard length <= UInt64(bytes.count) else {
                throw Self.malformed("a field of \(length) bytes with \(bytes.count) left")
            }
            let field = bytes.prefix(Int(length))
            bytes = bytes.dropFirst(Int(length))
            return field
        }

        /// Skips a field of an unknown number (`field`, whose tag was just read), groups
        /// included, as protobuf readers do.
        mutating func skip(_ wireType: WireType, field: UInt32) throws(ClusterError) {
            try skip(wireType, field: field, depth: 0)
        }

        /// How deep groups may nest (swift-protobuf's default message depth limit).
        static let maxGroupDepth = 100

        private mutating func skip(_ wireType: WireType, field: UInt32, depth: Int) throws(ClusterError) {
            switch wireType {
            case .varint: _ = try readVarint()
            case .lengthDelimited: _ = try readLengthDelimited()
            case .fixed64: try drop(8)
            case .fixed32: try drop(4)
            case .startGroup:
                guard depth < Self.maxGroupDepth else { throw Self.malformed("groups nested deeper than \(Self.maxGroupDepth)") }
                while true {
                    guard let (inner, innerType) = try nextTag() else { throw Self.malformed("a group without its end") }
                    if innerType == .endGroup {
                        guard inner == field else { throw Self.malformed("group \(field) ended by field \(inner)'s end") }
                        return
                    }
                    try skip(innerType, field: inner, depth: depth + 1)
                }
            case .endGroup: throw Self.malformed("a group's end outside any group")
            }
        }

        private mutating func drop(_ count: Int) throws(ClusterError) {
            guard bytes.count >= count else { throw Self.malformed("a truncated fixed-size field") }
            bytes = bytes.dropFirst(count)
        }

        private static func malformed(_ what: String) -> ClusterError {
            ClusterError(.peerProtocol, "an unreadable frame batch from a peer: \(what)")
        }
    }
}
