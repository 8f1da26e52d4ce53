import GridworkStore

/// Each signed-in person's inbox page as last rendered, so reloading it (the most-visited staff page) costs a
/// lookup instead of queries and a render. A page stands while no transaction has committed through this
/// process since it was built (`Database.changeCount`: a report, a step, a notice, a login alike), until the
/// first of its matters changes colour, and for at most `lifetime` seconds — the longest a change made by
/// another SQLite process (or one PostgreSQL did not announce) takes to show.
final class InboxPages: Sendable {
    static let lifetime: Int64 = 10
    static let capacity = 5_000

    private struct Entry { let html: String; let changes: UInt64; let until: Int64 }
    private let entries = Locked<[String: Entry]>([:])
    /// Pages being built, by session and change count: requests arriving meanwhile wait for the same build.
    private let building = Locked<[String: Task<(html: String, lightChange: Int64?), any Error>]>([:])

    /// The session's page: the kept copy if nothing it shows can have changed, else built once by `build` —
    /// however many requests for it arrive while it is being built (a reload tapped twice, a burst after a change).
    func page(_ session: String, changes: UInt64, now: Int64,
              build: @escaping @Sendable () async throws -> (html: String, lightChange: Int64?)) async throws -> String {
        if let html = get(session, changes: changes, now: now) { return html }
        let key = "\(session)#\(changes)"
        let task = building.withLock { building in
            if let running = building[key] { return running }
            let started = Task { try await build() }
            building[key] = started
            return started
        }
        defer { building.withLock { _ = $0.removeValue(forKey: key) } }
        let built = try await task.value
        put(session, built.html, changes: changes, now: now, lightChange: built.lightChange)
        return built.html
    }

    /// The page kept for this session, if nothing it shows can have changed.
    private func get(_ session: String, changes: UInt64, now: Int64) -> String? {
        entries.withLock { entries in
            guard let e = entries[session] else { return nil }
            guard e.changes == changes, now < e.until else {
                entries[session] = nil
                return nil
            }
            return e.html
        }
    }

    /// Keeps `html`, built from data read after `changes` was taken, until `lightChange` at the latest.
    private func put(_ session: String, _ html: String, changes: UInt64, now: Int64, lightChange: Int64?) {
        let until = min(now + Self.lifetime, lightChange ?? Int64.max)
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[session] = Entry(html: html, changes: changes, until: until)
        }
    }
}
