import Foundation

/// A fresh directory under the system temp dir, removed when the test's closure returns.
func withTemporaryDirectory<R>(_ body: (String) async throws -> R) async rethrows -> R {
    let path = NSTemporaryDirectory() + "parley-storage-test-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}
