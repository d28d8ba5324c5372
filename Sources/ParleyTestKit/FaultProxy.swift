import NIOCore
import NIOPosix
import Synchronization

/// A network with faults, for the chaos cluster and the peer tests: every peer connection
/// passes through this TCP proxy (the cluster file's peer addresses are its listeners; each node listens elsewhere and dials
/// from its own loopback address, 127.0.0.(11 + its index), so the proxy knows both ends of
/// every connection). A cut direction holds its bytes: the proxy stops reading from the
/// sender's socket (the sender's writes back up in TCP, as on a cable cut) and forwards what
/// it held once healed. Sockets stay open throughout: no node learns of a fault from a closed
/// connection, only from silence, as with a crashed machine or a partitioned network.
public final class FaultProxy: Sendable {
    /// Bytes flowing from node `from` to node `to`.
    public struct Link: Hashable, Sendable {
        public let from: String
        public let to: String
        public init(from: String, to: String) {
            self.from = from
            self.to = to
        }
    }

    private let blocked = Mutex<Set<Link>>([])
    /// Pipe ends holding bytes of a cut link, to resume when it heals.
    private let paused = Mutex<[ObjectIdentifier: ProxyPipe]>([:])
    private let listeners = Mutex<[any Channel]>([])
    let group = MultiThreadedEventLoopGroup.singleton

    public init() {}

    /// The loopback address node `index` (0-based) dials from.
    public static func sourceHost(ofNode index: Int) -> String { "127.0.0.\(11 + index)" }

    /// Listens on `listen` for connections to node `to`, forwarding them to `target`; `nodes`
    /// names the nodes by index (for telling a connection's source by its address).
    public func listen(on listen: (host: String, port: Int), forNode to: String, target: (host: String, port: Int), nodes: [String]) async throws {
        let proxy = self
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { inbound in
                let source = FaultProxy.node(at: inbound.remoteAddress?.ipAddress, nodes: nodes)
                let upstream = ProxyPipe(proxy: proxy, link: Link(from: source, to: to))
                let downstream = ProxyPipe(proxy: proxy, link: Link(from: to, to: source))
                return inbound.pipeline.addHandler(upstream).flatMap {
                    ClientBootstrap(group: inbound.eventLoop)
                        .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                        .channelOption(.autoRead, value: false)
                        .channelInitializer { outbound in outbound.pipeline.addHandler(downstream) }
                        .connect(host: target.host, port: target.port)
                        .map { outbound in
                            upstream.partner = outbound
                            downstream.partner = inbound
                            inbound.read()
                            outbound.read()
                        }
                        .flatMapErrorThrowing { error in
                            inbound.close(promise: nil)
                            throw error
                        }
                }
            }
            .bind(host: listen.host, port: listen.port).get()
        listeners.withLock { $0.append(channel) }
    }

    static func node(at address: String?, nodes: [String]) -> String {
        guard let address, address.hasPrefix("127.0.0."), let last = Int(address.dropFirst("127.0.0.".count)), nodes.indices.contains(last - 11) else {
            return "unknown \(address ?? "")"
        }
        return nodes[last - 11]
    }

    public func isBlocked(_ link: Link) -> Bool { blocked.withLock { $0.contains(link) } }

    /// Cuts `links` (those already cut stay cut).
    public func cut(_ links: [Link]) { blocked.withLock { $0.formUnion(links) } }

    /// Heals every cut: held bytes go on, in order.
    public func healAll() {
        blocked.withLock { $0.removeAll() }
        let held = paused.withLock { paused in
            defer { paused.removeAll() }
            return Array(paused.values)
        }
        for pipe in held { pipe.resume() }
    }

    func hold(_ pipe: ProxyPipe) { paused.withLock { $0[ObjectIdentifier(pipe)] = pipe } }

    public func close() async {
        for channel in listeners.withLock({ $0 }) { try? await channel.close() }
    }
}

/// One direction of a proxied connection: what its channel reads goes to its partner,
/// unless its link is cut (then it is held, and the channel stops reading).
// @unchecked Sendable: every field is used only on the event loop of `context` (the channel's
// own), and `resume()` hops there first; `partner` is set once, on that loop, before reading.
final class ProxyPipe: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    let proxy: FaultProxy
    let link: FaultProxy.Link
    var partner: (any Channel)?
    private var held: [ByteBuffer] = []
    private var context: ChannelHandlerContext?

    init(proxy: FaultProxy, link: FaultProxy.Link) {
        self.proxy = proxy
        self.link = link
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        if partner != nil { context.read() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        guard let partner, held.isEmpty, !proxy.isBlocked(link) else {
            held.append(bytes)
            proxy.hold(self)
            return
        }
        partner.writeAndFlush(bytes, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Read on only while the link passes: a cut one backs up into the sender's TCP.
        if held.isEmpty, partner != nil, !proxy.isBlocked(link) { context.read() }
    }

    /// The link healed: forward what was held, and read again (on the channel's loop).
    func resume() {
        guard let loop = context?.eventLoop else { return }
        loop.execute { self.resumeOnLoop() }
    }

    private func resumeOnLoop() {
        guard let context, let partner else { return }
        if proxy.isBlocked(link) {
            proxy.hold(self)
            return
        }
        for bytes in held { partner.write(bytes, promise: nil) }
        partner.flush()
        held = []
        context.read()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
