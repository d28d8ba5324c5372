import NIOCore
import Synchronization

/// Wakes sessions on their event loops in batches: a publish that reaches thousands of sessions
/// queues each woken session on its loop's list, and only the first session queued on a loop
/// since that loop last drained its list schedules a task there. One task per loop per
/// publish, rather than one closure and one trip through the loop's task queue per session.
final class LiveLoopWakes: Sendable {
    /// The sessions of one event loop waiting to drain.
    final class LoopList: Sendable {
        let eventLoop: any EventLoop
        let woken = Mutex<[NIOLoopBound<LiveSessionHandler>]>([])

        init(eventLoop: any EventLoop) {
            self.eventLoop = eventLoop
        }

        func wake(_ session: NIOLoopBound<LiveSessionHandler>) {
            let first = woken.withLock { woken in
                woken.append(session)
                return woken.count == 1
            }
            guard first else { return }
            eventLoop.execute {
                let sessions = self.woken.withLock { woken in
                    defer { woken.removeAll(keepingCapacity: true) }
                    return woken
                }
                for session in sessions { session.value.drain() }
            }
        }
    }

    private let lists = Mutex<[ObjectIdentifier: LoopList]>([:])

    /// The list of `eventLoop`, made on first use (a node has one per thread); a session looks
    /// its loop's up once and wakes through it.
    func list(of eventLoop: any EventLoop) -> LoopList {
        lists.withLock { lists in
            let key = ObjectIdentifier(eventLoop)
            if let list = lists[key] { return list }
            let list = LoopList(eventLoop: eventLoop)
            lists[key] = list
            return list
        }
    }
}
