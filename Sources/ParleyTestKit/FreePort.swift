import Foundation

/// Helpers for tests only.
public enum FreePort {
    /// A loopback TCP port free at the moment of asking (bound to port 0, read, released):
    /// a cluster's addresses must be known before its nodes start, so its tests cannot let
    /// each listener pick its own.
    public static func loopback() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FreePortError() }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw FreePortError() }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    public struct FreePortError: Error {}
}
