import Foundation

/// CPU time read from `/proc`: a process's own (user + system) and the machine's, including
/// the time the hypervisor gave to other guests (steal). Differences of two readings say how
/// much CPU a measured period cost, a figure far steadier than throughput on a shared machine.
struct CPUAccount {
    /// The process's user + system time, in clock ticks; nil when it cannot be read.
    var processTicks: Double?
    /// All cores' busy, idle and stolen ticks.
    var machineBusy: Double
    var machineIdle: Double
    var machineSteal: Double

    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    static func read(pid: Int32?) -> CPUAccount {
        var account = CPUAccount(processTicks: nil, machineBusy: 0, machineIdle: 0, machineSteal: 0)
        if let pid, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        {
            // Fields after the command's closing parenthesis: state is field 3; utime 14, stime 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) {
                account.processTicks = user + system
            }
        }
        if let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") })
        {
            // cpu user nice system idle iowait irq softirq steal …
            let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
            if values.count >= 8 {
                account.machineBusy = values[0] + values[1] + values[2] + values[5] + values[6]
                account.machineIdle = values[3] + values[4]
                account.machineSteal = values[7]
            }
        }
        return account
    }

    /// The process's CPU seconds between `self` and `later`.
    func processSeconds(until later: CPUAccount) -> Double? {
        guard let before = processTicks, let after = later.processTicks else { return nil }
        return (after - before) / Self.ticksPerSecond
    }

    /// The share of the machine's time stolen by other guests between `self` and `later`.
    func stealShare(until later: CPUAccount) -> Double {
        let steal = later.machineSteal - machineSteal
        let total = (later.machineBusy - machineBusy) + (later.machineIdle - machineIdle) + steal
        return total > 0 ? steal / total : 0
    }
}

/// The nodes' CPU over a measured period: each node process's own, and the machine's.
struct NodesCPU {
    var before: [CPUAccount]
    var after: [CPUAccount]

    /// Runs `body`, reading the CPU of processes `pids` (and the machine's) before and after.
    static func measure<Value>(pids: [Int32], _ body: () async throws -> Value) async throws -> (Value, NodesCPU) {
        let before = pids.map { CPUAccount.read(pid: $0) }
        let value = try await body()
        return (value, NodesCPU(before: before, after: pids.map { CPUAccount.read(pid: $0) }))
    }

    /// Each node's CPU seconds over the period (nodes that could not be read are left out).
    var seconds: [Double] { zip(before, after).compactMap { $0.processSeconds(until: $1) } }

    /// The nodes' CPU per operation, in microseconds, for `operations` over the period.
    func microseconds(per operations: Double) -> Double { seconds.reduce(0, +) / max(operations, 1) * 1_000_000 }

    /// The machine over the period, in percent of all cores' time: busy, the nodes' share of
    /// it, and the time stolen by other guests; nil when `/proc/stat` could not be read.
    var machine: (busy: Double, nodes: Double, stolen: Double)? {
        guard let first = before.first, let last = after.first else { return nil }
        let busy = last.machineBusy - first.machineBusy
        let total = busy + (last.machineIdle - first.machineIdle) + (last.machineSteal - first.machineSteal)
        guard total > 0 else { return nil }
        let nodes = seconds.reduce(0, +) * CPUAccount.ticksPerSecond
        return (busy / total * 100, nodes / total * 100, first.stealShare(until: last) * 100)
    }
}
