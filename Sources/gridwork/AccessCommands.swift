import ArgumentParser
import Foundation
import GridworkCore
import GridworkStore

extension Role: ExpressibleByArgument {}
extension Department: ExpressibleByArgument {}

/// Accounts, managed on the server by the county's operator.
struct User: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage accounts.", subcommands: [Add.self, List.self, Disable.self, Enable.self, ResetPassword.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an account; the password is read from stdin.")
        @OptionGroup var database: DatabaseOptions
        @Option var login: String
        @Option(help: "Display name (default: the login).") var name: String?
        @Option(help: "One of: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).") var role: Role
        @Option(help: "Code of the node of the net the account answers for.") var scope: String
        @Option(help: "For department officers: \(Department.allCases.map(\.rawValue).joined(separator: ", ")).") var department: Department?
        @Flag(help: "Read the password from standard input (required).") var passwordStdin = false

        func run() async throws {
            guard passwordStdin else { throw ValidationError("请用 --password-stdin 提供密码 (pass the password on stdin with --password-stdin)") }
            let code = try parseCode(scope, name: "--scope")
            let password = readPassword()
            _ = try await database.withStore { store in
                try await store.accounts.addUser(login: login, name: name ?? login, role: role, scope: code,
                                                 department: department, password: password, actor: .commandLine)
            }
            print("已添加账号 (added): \(login) \(role.label) \(code)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts within a scope.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only accounts within this code (default: the whole county).") var scope: String?

        func run() async throws {
            try await database.withStore { store in
                let county = try await countyScope(store)
                let within = try scope.map { try parseCode($0, name: "--scope") } ?? county
                for u in try await store.accounts.users(within: within, limit: 100_000) {
                    print([u.login, u.role.rawValue, u.scope.value, u.department?.rawValue ?? "-", u.disabled ? "disabled" : "active", u.name]
                        .joined(separator: "\t"))
                }
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable an account and end its sessions.")
        @OptionGroup var database: DatabaseOptions
        @Argument var login: String
        func run() async throws { try await setDisabled(true, login: login, database: database) }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled account.")
        @OptionGroup var database: DatabaseOptions
        @Argument var login: String
        func run() async throws { try await setDisabled(false, login: login, database: database) }
    }

    static func setDisabled(_ disabled: Bool, login: String, database: DatabaseOptions) async throws {
        try await database.withStore { store in
            try await store.accounts.setDisabled(login, disabled, within: try await countyScope(store), actor: .commandLine)
        }
        print(disabled ? "已停用 (disabled): \(login)" : "已启用 (enabled): \(login)")
    }

    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reset-password", abstract: "Set a new password (read from stdin); ends the account's sessions.")
        @OptionGroup var database: DatabaseOptions
        @Argument var login: String
        func run() async throws {
            let password = readPassword()
            try await database.withStore { store in
                try await store.accounts.resetPassword(login, to: password, within: try await countyScope(store), actor: .commandLine)
            }
            print("已重置密码 (password reset): \(login)")
        }
    }
}

/// Integration tokens for outside systems.
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage API tokens.", subcommands: [Add.self, List.self, Revoke.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print it once.")
        @OptionGroup var database: DatabaseOptions
        @Option var name: String
        @Option(help: "Code of the region the token may read.") var scope: String
        @Option(help: "Comma-separated API areas: \(AccountStore.apiAreas.sorted().joined(separator: ", ")).") var areas = "net"

        func run() async throws {
            let code = try parseCode(scope, name: "--scope")
            let areaSet = Set(areas.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            let token = try await database.withStore { store in
                try await store.accounts.addToken(name: name, scope: code, areas: areaSet, actor: .commandLine)
            }
            print(token)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
        @OptionGroup var database: DatabaseOptions
        func run() async throws {
            try await database.withStore { store in
                for t in try await store.accounts.tokens(within: try await countyScope(store)) {
                    print([String(t.id), t.name, t.scope, t.areas, t.createdBy, t.createdAt, t.revoked ? "revoked" : "active"].joined(separator: "\t"))
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id.")
        @OptionGroup var database: DatabaseOptions
        @Argument var id: Int64
        func run() async throws {
            try await database.withStore { store in
                try await store.accounts.revokeToken(id, within: try await countyScope(store), actor: .commandLine)
            }
            print("已吊销 (revoked): \(id)")
        }
    }
}

/// The audit trail.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check the audit trail.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recompute the hash chain; exit 1 if an entry was edited or deleted.")
        @OptionGroup var database: DatabaseOptions
        func run() async throws {
            let result = try await database.withStore { store in try await AuditLog.verify(store.database) }
            if let broken = result.brokenAt {
                fail("审计链在第 \(broken) 条处断裂:该条或其前一条被修改或删除 (audit chain broken at entry \(broken))")
            }
            print("审计链完整 (audit chain intact): \(result.entries) 条")
        }
    }
}

func countyScope(_ store: Store) async throws -> RegionCode {
    guard let county = try await store.net.county() else { throw StoreError.notFound(what: "县 (county)", key: "-") }
    return county
}

/// One line from stdin, without its newline.
func readPassword() -> String {
    (readLine(strippingNewline: true) ?? "")
}
