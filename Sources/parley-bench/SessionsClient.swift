import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// The sessions benchmark's client: many live sessions on bare NIO channels, each a channel
/// handler that subscribes, then only looks for probe messages in what arrives (no task per
/// session, nothing decoded but the probes), so the client costs little next to the node it
/// measures.
final class SessionsClient: Sendable {
    let host: String
    let port: Int
    let room: String
    let group: MultiThreadedEventLoopGroup
    let tally: Tally

    /// What the sessions saw: which subscribed, when each probe arrived at each.
    final class Tally: Sendable {
        private struct State {
            var ready = 0
            var failed = 0
            var arrivals: [Int: [ContinuousClock.Instant]] = [:]
        }
        private let state = Mutex(State())

        func subscribed() { state.withLock { $0.ready += 1 } }
        func failed() { state.withLock { $0.failed += 1 } }
        func arrived(probe: Int, at instant: ContinuousClock.Instant) { state.withLock { $0.arrivals[probe, default: []].append(instant) } }
        var ready: Int { state.withLock { $0.ready } }
        var failures: Int { state.withLock { $0.failed } }
        func arrivals(of probe: Int) -> [ContinuousClock.Instant] { state.withLock { $0.arrivals[probe] ?? [] } }
        func count(of probe: Int) -> Int { state.withLock { $0.arrivals[probe]?.count ?? 0 } }
    }

    init(host: String, port: Int, room: String, threads: Int) {
        self.host = host
        self.port = port
        self.room = room
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        tally = Tally()
    }

    /// Opens one session for `token` (it counts as subscribed once its replay arrives).
    func connect(token: String) async throws {
        let room = self.room
        let tally = self.tally
        let upgraded = try await openLiveSession(group: group, host: host, port: port, token: token) { SessionHandler(room: room, tally: tally) }
        guard upgraded else {
            tally.failed()
            throw BenchError("a session's upgrade was refused")
        }
    }

    func shutdown() async throws {
        try await group.shutdownGracefully()
    }

    /// One session: subscribes once upgraded; notes the replay and each probe's arrival.
    final class SessionHandler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = WebSocketFrame
        typealias OutboundOut = WebSocketFrame
        let room: String
        let tally: Tally
        private var message: ByteBuffer?
        private var subscribed = false
        static let helloType = Array(#""type":"hello""#.utf8)

        init(room: String, tally: Tally) {
            self.room = room
            self.tally = tally
        }

        /// Subscribes once the server said hello (the upgrade is complete by then).
        private func subscribe(context: ChannelHandlerContext) {
            let subscribe = ByteBuffer(string: #"{"type":"subscribe","rooms":{"\#(room)":0}}"#)
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: subscribe)), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            switch frame.opcode {
            case .text, .binary:
                message = frame.data
            case .continuation:
                var data = frame.data
                message?.writeBuffer(&data)
            case .ping:
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.data)), promise: nil)
                return
            case .connectionClose:
                context.close(promise: nil)
                return
            default:
                return
            }
            guard frame.fin, let whole = message else { return }
            message = nil
            let now = ContinuousClock.now
            let hello = whole.withUnsafeReadableBytes { bytes in
                if !subscribed, BenchMember.find(BenchMember.eventsType, in: bytes) != nil {
                    subscribed = true
                    tally.subscribed()
                }
                return !subscribed && BenchMember.find(Self.helloType, in: bytes) != nil
            }
            if hello { subscribe(context: context) }
            whole.withUnsafeReadableBytes { bytes in
                // "probe-" is rare: only frames holding it are parsed further.
                guard BenchMember.find(BenchMember.probeWord, in: bytes) != nil else { return }
                for probe in Self.probeNumbers(in: bytes) {
                    tally.arrived(probe: probe, at: now)
                }
            }
        }

        /// The probe numbers in a frame, read straight from each `"text":"probe-<n>"` (nothing
        /// else is parsed; the end marker is not a number and is skipped).
        static func probeNumbers(in bytes: UnsafeRawBufferPointer) -> [Int] {
            var numbers: [Int] = []
            var cursor = 0
            while let hit = BenchMember.find(BenchMember.probeText, in: bytes, from: cursor) {
                var index = hit + BenchMember.probeText.count
                var number = 0
                var digits = 0
                while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39, digits < 9 {
                    number = number * 10 + Int(bytes[index] - 0x30)
                    index += 1
                    digits += 1
                }
                if digits > 0, index < bytes.count, bytes[index] == 0x22 { numbers.append(number) }
                cursor = index
            }
            return numbers
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
