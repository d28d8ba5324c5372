import Foundation
import Synchronization

/// Helpers for tests only.
public enum FreePort {
    /// Ports handed out so far in this process: each is handed out once.
    private static let handedOut = Mutex<Set<Int>>([])

    /// A loopback TCP port free at the moment of asking, for a server a test is about to start:
    /// a cluster's addresses must be known before its nodes start, so its tests cannot let
    /// each listener pick its own.
    ///
    /// The port lies below the kernel's ephemeral range (as `scripts/free-port` picks them), so
    /// no outgoing connection (a node dialling its peers, a test's HTTP client) can take it
    /// before the server binds it, as one from bind(0) could: CI once failed on "Address
    /// already in use" that way. Ports stay distinct within the process. Where the ephemeral
    /// range leaves no room below it, bind(0) is the fallback.
    public static func loopback() throws -> Int {
        let ephemeralStart = ephemeralRangeStart()
        if ephemeralStart > 11_000 {
            for _ in 0..<500 {
                let candidate = Int.random(in: 10_000..<ephemeralStart)
                guard handedOut.withLock({ $0.insert(candidate).inserted }) else { continue }
                if try tryBinding(candidate) != nil { return candidate }
            }
        }
        guard let port = try tryBinding(0) else { throw FreePortError() }
        _ = handedOut.withLock { $0.insert(port) }
        return port
    }

    /// Binds 127.0.0.1:`port` (0: any) and releases it; the port bound, nil when it was taken.
    private static func tryBinding(_ port: Int) throws -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FreePortError() }
        defer { close(fd) }
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        return bound ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }

    /// The first port of the kernel's ephemeral range (Linux's default when unreadable).
    private static func ephemeralRangeStart() -> Int {
        guard let range = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8),
            let first = range.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first, let start = Int(first)
        else { return 32_768 }
        return start
    }

    public struct FreePortError: Error {}
}
