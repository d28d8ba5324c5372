/// The one error type of ParleyDomain: a rule refused a command. `code` is stable and is what
/// API clients match on; `message` is for people.
public struct DomainError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A stable error code and the kind of refusal it is (what API clients are told: the
    /// gateway maps the category to an HTTP status). A value, not an enum case: a new kind
    /// declares its own codes (`extension DomainError.Code { static let … }`) and no switch
    /// elsewhere learns of them.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// What kind of refusal a code is.
        public enum Category: UInt8, Sendable {
            /// The request itself is wrong (400).
            case invalid = 1
            /// What it names does not exist (404).
            case notFound
            /// The caller may not do it (403).
            case forbidden
            /// It conflicts with the entity's state, or with a request still under way (409).
            case conflict
        }

        public let rawValue: String
        public let category: Category

        public init(_ rawValue: String, _ category: Category) {
            self.rawValue = rawValue
            self.category = category
        }

        public static func == (lhs: Code, rhs: Code) -> Bool { lhs.rawValue == rhs.rawValue }
        public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
        public var description: String { rawValue }

        public static let invalidArgument = Code("invalid_argument", .invalid)
        public static let roomNotFound = Code("room_not_found", .notFound)
        public static let roomAlreadyExists = Code("room_already_exists", .conflict)
        public static let notAMember = Code("not_a_member", .forbidden)
        public static let emptyMessage = Code("empty_message", .invalid)
        public static let messageTooLong = Code("message_too_long", .invalid)
        public static let unsupportedRoomKind = Code("unsupported_room_kind", .conflict)
        public static let tooManyMembers = Code("too_many_members", .invalid)
        public static let requestInProgress = Code("request_in_progress", .conflict)
        public static let idempotencyKeyReused = Code("idempotency_key_reused", .conflict)
        public static let messageNotFound = Code("message_not_found", .notFound)
        public static let notTheAuthor = Code("not_the_author", .forbidden)
        public static let messageRecalled = Code("message_recalled", .conflict)
        public static let editWindowExpired = Code("edit_window_expired", .forbidden)
        public static let forbidden = Code("forbidden", .forbidden)
        public static let staffNotFound = Code("staff_not_found", .notFound)
        public static let staffAlreadyExists = Code("staff_already_exists", .conflict)
        public static let fileNotFound = Code("file_not_found", .notFound)
        public static let shortcutNotFound = Code("shortcut_not_found", .notFound)
        public static let channelNotFound = Code("channel_not_found", .notFound)
        public static let channelAlreadyExists = Code("channel_already_exists", .conflict)
        public static let shortcutReserved = Code("shortcut_reserved", .conflict)
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
    /// Code, message and category, as a refusal travels from the node that decided it (the
    /// category travels too, so a node reads codes of kinds it does not know by name).
    public func encode(into writer: inout BinaryWriter) {
        writer.write(code.rawValue)
        writer.write(message)
        writer.write(code.category.rawValue)
    }

    public static func decode(from reader: inout BinaryReader) throws(DecodingError) -> DomainError {
        let raw = try reader.readString()
        let message = try reader.readString()
        let category = try reader.read(Code.Category.self, "error category")
        guard (1...64).contains(raw.utf8.count) else { throw DecodingError("invalid domain error code \(raw)") }
        return DomainError(Code(raw, category), message)
    }
}
