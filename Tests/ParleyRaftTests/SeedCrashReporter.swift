#if canImport(Glibc)
import Glibc

/// Names the seeds being simulated when the process traps (a failed precondition in the Raft
/// code): the crash report alone would not say which seed to rerun. The handler writes
/// `raft simulation trapped while running seed N` to stderr for every busy shard (marking the
/// one whose thread trapped), puts the
/// previous handler (Swift's backtracer) back and returns, so the fault recurs and is
/// reported as usual.
enum SeedCrashReporter {
    static let slots = 64
    nonisolated(unsafe) static let running: UnsafeMutablePointer<UInt64> = {
        let pointer = UnsafeMutablePointer<UInt64>.allocate(capacity: slots)
        pointer.initialize(repeating: .max, count: slots)
        return pointer
    }()
    nonisolated(unsafe) static let threads = UnsafeMutablePointer<pthread_t>.allocate(capacity: slots)
    nonisolated(unsafe) static let digits = UnsafeMutablePointer<UInt8>.allocate(capacity: 32)
    nonisolated(unsafe) static let previous = UnsafeMutablePointer<sigaction>.allocate(capacity: 4)
    static let signals: [Int32] = [SIGILL, SIGTRAP, SIGSEGV, SIGBUS]
    static let prefix: [UInt8] = Array("\nraft simulation trapped while running seed ".utf8)
    static let suffix: [UInt8] = Array(" (rerun it alone with PARLEY_SIM_SEED=<seed>)\n".utf8)
    static let here: [UInt8] = Array(" <- this thread trapped".utf8)

    static let installed: Bool = {
        _ = running
        for (k, signal) in signals.enumerated() {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in SeedCrashReporter.report(signal) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(signal, &action, previous + k)
        }
        return true
    }()

    /// Marks `seed` as running in `slot` (nil: idle).
    static func mark(_ slot: Int, _ seed: UInt64?) {
        _ = installed
        threads[slot % slots] = pthread_self()
        running[slot % slots] = seed ?? .max
    }

    static func report(_ signal: Int32) {
        for slot in 0..<slots where running[slot] != .max {
            var n = running[slot]
            var count = 0
            repeat {
                digits[31 - count] = UInt8(48 + n % 10)
                n /= 10
                count += 1
            } while n > 0 && count < 32
            prefix.withUnsafeBufferPointer { _ = write(2, $0.baseAddress, $0.count) }
            _ = write(2, digits + (32 - count), count)
            if pthread_equal(threads[slot], pthread_self()) != 0 {
                here.withUnsafeBufferPointer { _ = write(2, $0.baseAddress, $0.count) }
            }
            suffix.withUnsafeBufferPointer { _ = write(2, $0.baseAddress, $0.count) }
        }
        for (k, s) in signals.enumerated() where s == signal { sigaction(signal, previous + k, nil) }
    }
}
#else
enum SeedCrashReporter {
    static func mark(_ slot: Int, _ seed: UInt64?) {}
}
#endif
