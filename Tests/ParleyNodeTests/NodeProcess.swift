import Foundation
import ParleyTestKit
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// A `parley` node run as a child process, for tests that need a real process: crashes,
/// signals, exit codes. Output goes to files in its data directory's parent.
final class NodeProcess: @unchecked Sendable {
    // Safe: `process` is configured before `run()` and afterwards only used through its own
    // thread-safe calls (terminate, isRunning, terminationStatus); the paths are immutable.
    let process = Process()
    let stdoutPath: String
    let stderrPath: String

    /// The `parley` executable: `PARLEY_BIN`, or the package's debug build.
    static var binary: String {
        if let configured = ProcessInfo.processInfo.environment["PARLEY_BIN"] { return configured }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/parley").path
    }

    /// - Parameter user: when this test runs as root, the node runs as this ordinary user
    ///   (through `setpriv`), with `workDirectory` handed to it: what a production service
    ///   does, so nothing that needs root slips in unseen. Ignored when not root.
    init(workDirectory: String, arguments: [String] = ["serve"], environment: [String: String], user: String? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw NodeProcessError("no parley binary at \(Self.binary): run `swift build` first (scripts/test does)")
        }
        var executable = Self.binary
        var arguments = arguments
        if let user, geteuid() == 0 {
            guard let account = getpwnam(user) else { throw NodeProcessError("no user \(user)") }
            let (uid, gid) = (account.pointee.pw_uid, account.pointee.pw_gid)
            guard chown(workDirectory, uid, gid) == 0 else { throw NodeProcessError("cannot hand \(workDirectory) to \(user)") }
            (executable, arguments) = UnprivilegedLaunch.command(binary: Self.binary, arguments: arguments, uid: uid, gid: gid)
        }
        let attempt = UUID().uuidString.prefix(8)
        stdoutPath = workDirectory + "/stdout-\(attempt).log"
        stderrPath = workDirectory + "/stderr-\(attempt).log"
        FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: workDirectory)
        var base = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PARLEY_") }
        base.merge(environment) { $1 }
        process.environment = base
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    /// The real user id the process runs as (from /proc; `setpriv` execs the node in place).
    var uid: UInt32? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") })
        else { return nil }
        return line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first.flatMap { UInt32($0) }
    }
    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits (up to `timeout`) for the "listening" line and returns the port.
    func waitForPort(timeout: Duration = .seconds(60)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = stdout.split(separator: "\n").first(where: { $0.hasPrefix("parley listening on http://") }),
                let port = Int(line.split(separator: ":").last ?? "")
            {
                return port
            }
            guard process.isRunning else { throw NodeProcessError("node exited before listening: \(stderr)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw NodeProcessError("node did not listen within \(timeout): \(stderr)")
    }

    /// Sends `signal` to this node (and only this node, by its pid).
    func send(_ signal: Int32) {
        if process.isRunning { kill(pid, signal) }
    }

    /// Waits (up to `timeout`) for the process to exit; its status, or nil if it is still
    /// running (then it is killed).
    func waitForExit(timeout: Duration = .seconds(30)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if !process.isRunning { return process.terminationStatus }
            try? await Task.sleep(for: .milliseconds(20))
        }
        send(SIGKILL)
        return nil
    }
}

struct NodeProcessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A small JSON-over-HTTP client for a node process.
struct NodeClient: Sendable {
    let client: TestClient
    let token: String

    init(port: Int, token: String) {
        client = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(10)))
        client.connect()
        self.token = token
    }

    func call(_ uri: String, _ method: HTTPRequest.Method, json: String? = nil, headers extra: HTTPFields = [:]) async throws -> (status: HTTPResponse.Status, json: [String: Any]) {
        var headers = extra
        headers[.authorization] = "Bearer \(token)"
        headers[.contentType] = "application/json"
        let response = try await client.execute(TestClient.Request(uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }))
        let body = response.body ?? ByteBuffer()
        let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
        return (response.head.status, object)
    }

    func shutdown() async { try? await client.shutdown() }
}
