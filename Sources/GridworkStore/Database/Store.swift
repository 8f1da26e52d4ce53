import Foundation
import Logging

/// Everything a process needs to work with the county's data: the database,
/// migrated, and the sealer that matches it.
public struct Store: Sendable {
    public let database: Database
    public let sealer: Sealer
    let caseShared: CaseShared
    let sessions = Recent<AccountStore.Found>(lifetime: 5)
    let grants = Recent<TokenGrant>(lifetime: 5)

    public init(database: Database, sealer: Sealer) {
        self.database = database; self.sealer = sealer
        caseShared = CaseShared(database: database)
    }

    public var net: NetStore { NetStore(database: database) }
    public var accounts: AccountStore { AccountStore(database: database, sealer: sealer, sessions: sessions, grants: grants) }
    public var residents: ResidentStore { ResidentStore(database: database, sealer: sealer) }
    public var registry: RegistryStore { RegistryStore(database: database, sealer: sealer) }
    public var organisations: OrganisationStore { OrganisationStore(database: database) }
    public var cases: CaseStore { CaseStore(database: database, sealer: sealer, shared: caseShared) }
    public var webhooks: WebhookStore { WebhookStore(database: database, sealer: sealer) }
    public var campaigns: CampaignStore { CampaignStore(database: database, sealer: sealer) }
    public var directory: DirectoryStore { DirectoryStore(database: database) }
    public var errands: ErrandStore { ErrandStore(database: database, sealer: sealer) }
    public var helpers: HelperStore { HelperStore(database: database, sealer: sealer) }
    public var training: TrainingStore { TrainingStore(database: database) }

    /// Opens `location`, applies pending migrations and loads the sealing key
    /// (from `GRIDWORK_SEAL_KEY` or `keyFile`), refusing a key that does not match.
    public static func open(_ location: DatabaseLocation, keyFile: String? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            logger: Logger = Logger(label: "gridwork.store")) async throws -> Store {
        let database = try await Database.open(location, logger: logger)
        do {
            try await Migrations.run(on: database)
            // What a first load that died set aside is built again (one still running is left to finish). Should
            // an index not build, the county is still served (imports and registrations are refused while it
            // is recorded) and the log names it.
            do { try await ResidentImporter.SetAside.restoreIfAbandoned(database) } catch {
                logger.error("\(error)")
            }
            let file = keyFile ?? SealKeySource.defaultKeyFile(for: location)
            let sealer = Sealer(masterKey: try SealKeySource.load(environment: environment, keyFile: file))
            try await Meta.verifyKey(database, sealer: sealer, keyName: environment["GRIDWORK_SEAL_KEY"] != nil ? "GRIDWORK_SEAL_KEY" : file)
            return Store(database: database, sealer: sealer)
        } catch {
            try? await database.close()
            throw error
        }
    }

    /// Records an event that changes nothing else (a refused request, say) in the audit trail.
    public func audit(actor: Actor, action: String, target: String, detail: String = "") async throws {
        try await Self.audit(database, actor: actor, action: action, target: target, detail: detail)
    }

    /// The same, for stores that hold only the database.
    static func audit(_ database: Database, actor: Actor, action: String, target: String, detail: String = "") async throws {
        let kind = database.kind
        try await database.transaction { db in
            try await AuditLog.append(db, kind: kind, actor: actor, action: action, target: target, detail: detail)
        }
    }

    public func close() async throws { try await database.close() }

    /// Opens the store, runs `body` and closes the store whether or not `body` throws.
    public static func using<R>(_ location: DatabaseLocation, keyFile: String? = nil,
                                environment: [String: String] = ProcessInfo.processInfo.environment,
                                _ body: (Store) async throws -> R) async throws -> R {
        let store = try await open(location, keyFile: keyFile, environment: environment)
        do {
            let result = try await body(store)
            try await store.close()
            return result
        } catch {
            try? await store.close()
            throw error
        }
    }
}
