/// Runs `body` on each of `items`, at most `limit` at once, and answers the results in the
/// order they finished: the relay's targets, the timers' entities, the panel's enquiries.
func concurrently<Item: Sendable, Result: Sendable>(
    _ items: [Item], atMost limit: Int, _ body: @escaping @Sendable (Item) async -> Result
) async -> [Result] {
    await withTaskGroup(of: Result.self) { group in
        var results: [Result] = []
        results.reserveCapacity(items.count)
        var running = 0
        for item in items {
            if running == max(limit, 1), let done = await group.next() {
                running -= 1
                results.append(done)
            }
            running += 1
            group.addTask { await body(item) }
        }
        for await done in group { results.append(done) }
        return results
    }
}
