import ArgumentParser
import Foundation
import GridworkDemo
import GridworkServer
import GridworkStore
import Logging

@main
struct Gridwork: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gridwork",
        abstract: "网格通 Gridwork — grid-based community governance for a county.",
        subcommands: [Serve.self, Migrate.self, Seed.self, Stats.self, Building.self, Import.self, Export.self, User.self, Token.self, Audit.self, Cases.self],
        defaultSubcommand: Serve.self)
}

/// `--db` and `--key-file`, shared by every command that touches data.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "postgres://user:pass@host:port/db or a SQLite file (default: $GRIDWORK_DB_URL, else gridwork.sqlite).")
    var db: String?

    @Option(name: .long, help: "File holding the key that seals ID numbers and phones (default: beside the SQLite file, or gridwork.key).")
    var keyFile: String?

    func location() throws(StoreError) -> DatabaseLocation {
        if let db { return try DatabaseLocation(parsing: db) }
        if let env = ProcessInfo.processInfo.environment["GRIDWORK_DB_URL"], !env.isEmpty {
            return try DatabaseLocation(parsing: env)
        }
        return .defaultSQLite
    }

    /// Opens the store, runs `body`, closes the store; any failure becomes one line and exit code 1.
    func withStore<R>(_ body: (Store) async throws -> R) async throws -> R {
        try await oneLineFailure { try await Store.using(try location(), keyFile: keyFile, body) }
    }
}

/// Runs `body`, turning any failure into one line on stderr and exit code 1.
func oneLineFailure<R>(_ body: () async throws -> R) async throws -> R {
    do {
        return try await body()
    } catch let error as ExitCode {
        throw error
    } catch let error as StoreError {
        fail(error.message)
    } catch {
        fail(String(describing: error))
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("错误 (error): \(message)\n".utf8))
    exit(1)
}

func note(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

extension DemoProfile: ExpressibleByArgument {}
