import Foundation
import GridworkStore
import Logging
import ServiceLifecycle

/// On PostgreSQL, listens for `NOTIFY campaigns` (an answer, a launch), `NOTIFY directory` (a person or the duty
/// list changed) and `NOTIFY cases` (a matter reported or moved on), each on a connection of its own, and tells the
/// campaign feed, empties the directory's page cache, and moves `Database.changeCount` so kept pages are rebuilt;
/// reconnects after a dropped connection. On SQLite every writer is this process, so it only waits.
/// At shutdown it ends every live stream, so open dashboards do not hold the server up.
struct ChangeListener: Service {
    let store: Store
    let feed: CampaignFeed
    let directory: PageCache
    let logger: Logger

    func run() async throws {
        guard store.database.kind == .postgres else {
            try? await gracefulShutdown()
            await feed.closeAll()
            return
        }
        try? await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                let database = store.database
                group.addTask { await listen("campaigns") { database.noteChangeElsewhere(); if let id = Int64($0) { await feed.publish(id) } } }
                group.addTask { await listen("directory") { _ in database.noteChangeElsewhere(); await directory.clear() } }
                // Matters reported or moved on by another process: kept inbox pages and sessions are read again.
                group.addTask { await listen("cases") { _ in database.noteChangeElsewhere() } }
            }
        }
        await feed.closeAll()
    }

    private func listen(_ channel: String, _ body: @escaping @Sendable (String) async -> Void) async {
        while !Task.isCancelled {
            do {
                try await store.database.listen(channel, logger: logger, body)
            } catch {
                if Task.isCancelled { break }
                logger.warning("listener reconnecting", metadata: ["channel": "\(channel)", "error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(2))
        }
    }
}

/// Rendered public pages, kept until what they show changes. Every change to the directory writes a new
/// version (in its own transaction, whichever process makes it — the server, another server, the command line);
/// the cache compares it at most once a `recheck` and empties itself when it moved. A change made in this process
/// (or announced by NOTIFY on PostgreSQL) empties it at once. `ttl` bounds an entry's life whatever happens.
actor PageCache {
    private var entries: [String: (body: String, at: ContinuousClock.Instant)] = [:]
    private var version: String?
    private var checked = ContinuousClock.Instant.now - .seconds(3600)
    let ttl: Duration
    let recheck: Duration
    let capacity: Int

    init(ttl: Duration = .seconds(600), recheck: Duration = .seconds(1), capacity: Int = 5_000) {
        self.ttl = ttl; self.recheck = recheck; self.capacity = capacity
    }

    /// Compares the stored version with `current` when the last look is older than `recheck`.
    func revalidate(_ current: @Sendable () async throws -> String) async {
        let now = ContinuousClock.now
        guard now - checked >= recheck else { return }
        checked = now
        guard let latest = try? await current() else { return }
        if latest != version { entries.removeAll(keepingCapacity: true); version = latest }
    }

    func get(_ key: String) -> String? {
        guard let e = entries[key], ContinuousClock.now - e.at < ttl else { return nil }
        return e.body
    }

    func put(_ key: String, _ body: String) {
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[key] = (body, ContinuousClock.now)
    }

    func clear() { entries.removeAll(keepingCapacity: true) }
}
