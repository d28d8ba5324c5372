#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization

/// Resolves a host name to its addresses with the system resolver, on a Dispatch thread
/// (`getaddrinfo` blocks), so the caller can vet every address before connecting.
enum HostResolver {
    /// A resolved address: its bytes (4 or 16) and its printable form.
    struct Address: Sendable, Equatable {
        var bytes: [UInt8]
        var text: String
    }

    /// The addresses of `host` (a name or a literal IPv4/IPv6 address, brackets removed).
    /// Returns as soon as the task is cancelled; the lookup thread finishes on its own.
    static func resolve(_ host: String) async throws(LinkPreviewError) -> [Address] {
        if let literal = literal(host) { return [literal] }
        let pending = PendingLookup()
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[Address]?, Never>) in
                pending.start(continuation)
                DispatchQueue.global().async { pending.finish(lookup(host)) }
            }
        } onCancel: {
            pending.finish(nil)
        }
        guard let result, !result.isEmpty else { throw LinkPreviewError(.unresolvable, "\(host) does not resolve") }
        return result
    }

    /// Resumes its continuation exactly once: with the lookup's answer, or with nothing when
    /// the waiting task is cancelled first.
    private final class PendingLookup: Sendable {
        private let state = Mutex<(continuation: CheckedContinuation<[Address]?, Never>?, finished: Bool)>((nil, false))

        func start(_ continuation: CheckedContinuation<[Address]?, Never>) {
            let resumeNow = state.withLock { state -> Bool in
                if state.finished { return true }
                state.continuation = continuation
                return false
            }
            if resumeNow { continuation.resume(returning: nil) }
        }

        func finish(_ addresses: [Address]?) {
            let waiting = state.withLock { state -> CheckedContinuation<[Address]?, Never>? in
                state.finished = true
                return state.continuation.take()
            }
            waiting?.resume(returning: addresses)
        }
    }

    static func literal(_ host: String) -> Address? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            return Address(bytes: withUnsafeBytes(of: &v4) { Array($0) }, text: host)
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return Address(bytes: withUnsafeBytes(of: &v6) { Array($0) }, text: host)
        }
        return nil
    }

    private static func string(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func lookup(_ host: String) -> [Address]? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(first) }
        var addresses: [Address] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            defer { cursor = info.pointee.ai_next }
            guard let socketAddress = info.pointee.ai_addr else { continue }
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            switch info.pointee.ai_family {
            case AF_INET:
                var address = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
                addresses.append(Address(bytes: withUnsafeBytes(of: &address) { Array($0) }, text: Self.string(text)))
            case AF_INET6:
                var address = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
                addresses.append(Address(bytes: withUnsafeBytes(of: &address) { Array($0) }, text: Self.string(text)))
            default:
                continue
            }
        }
        return addresses
    }
}
