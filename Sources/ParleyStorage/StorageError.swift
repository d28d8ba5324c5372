/// The one error type of ParleyStorage: a stable code plus RocksDB's own message.
public struct StorageError: Error, Equatable, CustomStringConvertible, Sendable {
    /// Stable codes; `rawValue` is what logs and API errors carry.
    public enum Code: String, Sendable {
        case ioError = "storage_io_error"
        case corruption = "storage_corruption"
        case invalidArgument = "storage_invalid_argument"
        case notSupported = "storage_not_supported"
        case busy = "storage_busy"
        case closed = "storage_closed"
        case unknownColumnFamily = "storage_unknown_column_family"
        case other = "storage_error"
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// Classifies a RocksDB status string ("IO error: …", "Corruption: …") into a code.
    static func fromRocksDB(_ message: String) -> StorageError {
        let code: Code
        if message.hasPrefix("IO error") {
            // RocksDB reports a held LOCK file as an IO error; name it for what it is.
            code = message.contains("lock") || message.contains("LOCK") ? .busy : .ioError
        } else if message.hasPrefix("Corruption") {
            code = .corruption
        } else if message.hasPrefix("Invalid argument") {
            code = .invalidArgument
        } else if message.hasPrefix("Not implemented") || message.hasPrefix("Operation not supported") {
            code = .notSupported
        } else if message.hasPrefix("Resource busy") {
            code = .busy
        } else {
            code = .other
        }
        return StorageError(code: code, message: message)
    }
}
