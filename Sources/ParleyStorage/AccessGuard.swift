#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A reader/writer lock that lets any number of database calls run at once and lets `close`
/// wait for all of them before the RocksDB handles are freed.
///
/// glibc's default rwlock prefers readers, so a call made from inside a scan's callback (a
/// nested read) cannot deadlock behind a waiting `close`.
final class AccessGuard: @unchecked Sendable {
    // Safe: the pthread rwlock is itself the synchronisation primitive; the pointer is
    // allocated once, never reassigned, and freed only in deinit when no thread can hold it.
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deinitialize(count: 1)
        lock.deallocate()
    }

    func withShared<R>(_ body: () throws -> R) rethrows -> R {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    func withExclusive<R>(_ body: () throws -> R) rethrows -> R {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}
