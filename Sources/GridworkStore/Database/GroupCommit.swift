import SQLKit

/// Group commit: many callers' small writes of one kind go to the database together, in one transaction of
/// multi-row statements. SQLite has one writer and every statement is a hop to its thread, so a batch of
/// reports costs about what one report costs alone.
///
/// While a batch is being written, new items wait; the next batch takes all of them (up to `limit`). A caller
/// returns only after its item's transaction committed. If a batch breaks a constraint, each of its items is
/// written again alone, so a bad item fails only its own caller and the others still land; any other failure
/// (a busy or unreachable database) fails the whole batch at once rather than trying each item again.
actor GroupCommit<Item: Sendable, Output: Sendable> {
    typealias Write = @Sendable ([Item], any SQLDatabase) async throws -> [Output]

    private let database: Database
    private let limit: Int
    private let write: Write
    private var pending: [(item: Item, caller: CheckedContinuation<Output, any Error>)] = []
    private var writing = false

    init(database: Database, limit: Int, write: @escaping Write) {
        self.database = database; self.limit = limit; self.write = write
    }

    /// Writes `item` with whatever else is waiting, and returns what the write gave for it.
    func submit(_ item: Item) async throws -> Output {
        try await withCheckedThrowingContinuation { caller in
            pending.append((item, caller))
            if !writing {
                writing = true
                Task { await drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            let batch = Array(pending.prefix(limit))
            pending.removeFirst(batch.count)
            await commit(batch)
        }
        writing = false
    }

    private func commit(_ batch: [(item: Item, caller: CheckedContinuation<Output, any Error>)]) async {
        let items = batch.map(\.item), write = write
        do {
            let outputs = try await database.transaction { db in try await write(items, db) }
            precondition(outputs.count == batch.count, "a group write must give one output per item")
            for (entry, output) in zip(batch, outputs) { entry.caller.resume(returning: output) }
        } catch {
            guard batch.count > 1, Database.isConstraintViolation(error) else {
                for entry in batch { entry.caller.resume(throwing: error) }
                return
            }
            for entry in batch {
                let item = entry.item
                do {
                    let output = try await database.transaction { db in try await write([item], db) }
                    entry.caller.resume(returning: output[0])
                } catch {
                    entry.caller.resume(throwing: error)
                }
            }
        }
    }
}
