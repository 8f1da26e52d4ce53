import ArgumentParser
import GridworkCore
import GridworkStore

/// Changes to the net made by the county office on the server itself.
struct Building: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Change buildings of the net.",
        subcommands: [Move.self])

    struct Move: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a building to another grid (its households, residents and building head go with it).")

        @OptionGroup var database: DatabaseOptions

        @Argument(help: "The building's 18-digit code.")
        var building: String

        @Option(help: "The 15-digit code of the grid it moves to.")
        var to: String

        func run() async throws {
            let from = try parseCode(building, name: "building")
            let grid = try parseCode(to, name: "--to")
            let moved = try await database.withStore { store in try await store.net.moveBuilding(from, to: grid, actor: .commandLine) }
            print("楼栋已移至网格 (moved): \(from) → \(moved)")
        }
    }
}

func parseCode(_ text: String, name: String) throws -> RegionCode {
    do { return try RegionCode(text) } catch { throw ValidationError("\(name): \(error.reason)") }
}
