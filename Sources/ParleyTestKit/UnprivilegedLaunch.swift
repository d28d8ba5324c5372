/// How tests and benchmarks run a node as an ordinary user when they run as root: through
/// `setpriv`, which execs the node in place (the pid is the node's), so what a production
/// service does is what they do, and nothing that needs root slips in unseen.
public enum UnprivilegedLaunch {
    public static let setpriv = "/usr/bin/setpriv"

    /// The executable and arguments that run `binary arguments` as `uid`/`gid`, without
    /// supplementary groups.
    public static func command(binary: String, arguments: [String], uid: UInt32, gid: UInt32) -> (executable: String, arguments: [String]) {
        (setpriv, ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--", binary] + arguments)
    }
}
