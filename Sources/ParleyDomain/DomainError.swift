/// The one error type of ParleyDomain: a rule refused a command. `code` is stable and is what
/// API clients match on; `message` is for people.
public struct DomainError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case invalidArgument = "invalid_argument"
        case roomNotFound = "room_not_found"
        case roomAlreadyExists = "room_already_exists"
        case notAMember = "not_a_member"
        case emptyMessage = "empty_message"
        case messageTooLong = "message_too_long"
        case unsupportedRoomKind = "unsupported_room_kind"
        case tooManyMembers = "too_many_members"
        case requestInProgress = "request_in_progress"
        case idempotencyKeyReused = "idempotency_key_reused"
        case messageNotFound = "message_not_found"
        case notTheAuthor = "not_the_author"
        case messageRecalled = "message_recalled"
        case editWindowExpired = "edit_window_expired"
        case forbidden = "forbidden"
        case staffNotFound = "staff_not_found"
        case staffAlreadyExists = "staff_already_exists"
        case fileNotFound = "file_not_found"
        case shortcutNotFound = "shortcut_not_found"
        case channelNotFound = "channel_not_found"
        case channelAlreadyExists = "channel_already_exists"
        case shortcutReserved = "shortcut_reserved"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

extension DomainError {
    /// Code and message, as a refusal travels from the node that decided it.
    public func encode(into writer: inout BinaryWriter) {
        writer.write(code.rawValue)
        writer.write(message)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> DomainError {
        let raw = try reader.readString()
        guard let code = Code(rawValue: raw) else { throw DecodingError("unknown domain error code \(raw)") }
        return DomainError(code, try reader.readString())
    }
}
