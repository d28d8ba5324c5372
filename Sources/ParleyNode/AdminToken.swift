import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bootstrap admin token: from configuration, else from `<data dir>/admin-token`, else
/// newly generated and written there readable by its owner only (mode 0600).
public enum AdminToken {
    public enum Origin: Equatable, Sendable {
        case configured
        case dataDirectory(path: String)
        case generated(path: String)
    }

    public static func resolve(configured: String?, dataDirectory: String) throws(ConfigurationError) -> (token: String, origin: Origin) {
        if let configured { return (configured, .configured) }
        let path = (dataDirectory as NSString).appendingPathComponent("admin-token")
        if let existing = try? String(contentsOfFile: path, encoding: .utf8) {
            let token = existing.trimmingCharacters(in: .whitespacesAndNewlines)
            guard token.utf8.count >= 16 else {
                throw ConfigurationError(source: path, key: nil, reason: "holds no usable token (16 or more characters); delete it to generate a new one")
            }
            return (token, .dataDirectory(path: path))
        }
        var generator = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            throw ConfigurationError(source: path, key: nil, reason: "cannot be created (\(String(cString: strerror(errno))))")
        }
        defer { close(descriptor) }
        let bytes = Array((token + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else {
            throw ConfigurationError(source: path, key: nil, reason: "cannot be written (\(String(cString: strerror(errno))))")
        }
        return (token, .generated(path: path))
    }
}
