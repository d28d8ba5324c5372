import Foundation

/// `parley-bench storage [--seconds S] [--only-log]` or
/// `parley-bench timers [--timers N] [--seconds S] [--posters C]` or
/// `parley-bench messages --http URL --h2c URL --admin-token T --static URL [--seconds S]` or
/// `parley-bench cluster --http URL,… --h2c URL,… --admin-token T [--node-pids P,…] [--seconds S]` or
/// `parley-bench replicated parley|etcd|pair …` (see `runReplicatedBenchmark`) or
/// `parley-bench chaos --cluster FILE --parley PATH [--duration S] …` (see `runChaosCommand`):
/// each prints one JSON line of figures on stdout and its details on stderr.

func option(_ name: String, in arguments: [String]) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

func printJSONLine(_ figures: [String: Double]) {
    let json = (try? JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys])) ?? Data()
    print(String(decoding: json, as: UTF8.self))
}

func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

let arguments = CommandLine.arguments
switch arguments.count >= 2 ? arguments[1] : "" {
case "storage":
    try await runStorageBenchmark(arguments)
case "messages":
    do {
        try await MessagesBenchmark(arguments: arguments).run()
    } catch {
        note("parley-bench messages: \(error)")
        exit(1)
    }
case "sessions":
    do {
        try await SessionsBenchmark(arguments: arguments).run()
    } catch {
        note("parley-bench sessions: \(error)")
        exit(1)
    }
case "peer":
    do {
        try await PeerBenchmark(arguments: arguments).run()
    } catch {
        note("parley-bench peer: \(error)")
        exit(1)
    }
case "cluster":
    do {
        try await ClusterBenchmark(arguments: arguments).run()
    } catch {
        note("parley-bench cluster: \(error)")
        exit(1)
    }
case "timers":
    do {
        try await TimersBenchmark(arguments: arguments).run()
    } catch {
        note("parley-bench timers: \(error)")
        exit(1)
    }
case "simulate":
    exit(runSimulateCommand(arguments))
case "chaos":
    exit(await runChaosCommand(arguments))
case "enquiries":
    do {
        try await EnquiriesBenchmark(arguments: arguments).run()
    } catch {
        note("parley-bench enquiries: \(error)")
        exit(1)
    }
case "replicated":
    do {
        try await runReplicatedBenchmark(arguments)
    } catch {
        note("parley-bench replicated: \(error)")
        exit(1)
    }
default:
    note("usage: parley-bench simulate --seed N | --seeds FIRST-LAST")
    note("       parley-bench storage [--seconds S] | parley-bench messages --http URL --h2c URL --admin-token T --static URL [--seconds S]")
    note("       parley-bench peer [--seconds S] [--callers C] [--bytes B]")
    note("       parley-bench timers [--timers N] [--seconds S] [--posters C]")
    note("       parley-bench cluster --http URL,… --h2c URL,… --admin-token T [--node-pids P,…] [--seconds S] [--clients C] [--rooms R] [--members M]")
    note("       parley-bench chaos --cluster FILE --parley PATH [--duration S] [--senders N] [--rooms N] [--seed N] [--run-dir DIR] [--attempt-timeout-ms MS]")
    note("       parley-bench replicated parley --http URL,… [--h2c URL,…] --admin-token T --node-pids P,… [--protocol h1|h2c] [--rooms R] [--seconds S] [--clients C]")
    note("       parley-bench replicated etcd --endpoints URL,… --node-pids P,… [--seconds S] [--clients C]")
    note("       parley-bench replicated pair --http URL,… [--h2c URL,…] --admin-token T --parley-pids P,… --endpoints URL,… --etcd-pids P,… [--slices N] [--seconds S] [--clients C]")
    exit(2)
}
