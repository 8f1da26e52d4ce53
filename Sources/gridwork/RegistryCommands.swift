import ArgumentParser
import Foundation
import GridworkCore
import GridworkStore

extension ImportColumn: ExpressibleByArgument {}

/// Imports into the registry.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Import into the registry.", subcommands: [Residents.self])

    struct Residents: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import residents from a CSV (UTF-8 with or without BOM, or GB18030/GBK as Excel saves it).",
            discussion: "Every row is validated, sealed and merged by ID number; rejected rows go to FILE.report.csv with row, field and reason. Re-running the same file resumes an interrupted import and never duplicates anyone.")

        @OptionGroup var database: DatabaseOptions

        @Argument(help: "The CSV file.")
        var file: String

        @Flag(help: "Check every row and report, but write nothing.")
        var dryRun = false

        @Option(help: "Where to write rows that need attention (default: FILE.report.csv).")
        var report: String?

        @Option(name: .customLong("map"), help: "Map an unrecognised header to a column: 表头=column (columns: \(ImportColumn.allCases.map(\.rawValue).joined(separator: ", "))). Repeatable.")
        var mappings: [String] = []

        func run() async throws {
            var options = ImportOptions()
            options.dryRun = dryRun
            options.reportPath = report
            options.today = CivilDate.today()
            for m in mappings {
                let parts = m.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let column = ImportColumn(rawValue: parts[1]) else {
                    throw ValidationError("--map 应为 表头=列名,列名为 \(ImportColumn.allCases.map(\.rawValue).joined(separator: "/")) (use --map HEADER=column)")
                }
                options.mapping[parts[0]] = column
            }
            guard FileManager.default.isReadableFile(atPath: file) else { fail("无法读取文件 (cannot read) \(file)") }
            let options_ = options
            let tty = isatty(STDERR_FILENO) == 1
            let started = ContinuousClock.now
            let result = try await database.withStore { store in
                try await ResidentImporter(store: store).run(file: file, options: options_, actor: .commandLine) { bytes, total, rows in
                    guard tty else { return }
                    let width = 30, filled = total > 0 ? min(width, bytes * width / total) : 0
                    let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
                    FileHandle.standardError.write(Data("\r\(bar) \(total > 0 ? bytes * 100 / total : 0)% \(rows) 行".utf8))
                }
            }
            if tty { FileHandle.standardError.write(Data("\n".utf8)) }
            let seconds = (ContinuousClock.now - started).seconds
            print("\(dryRun ? "试导入(未写入) dry run" : "导入完成 imported"): \(result.rows) 行, 新增 \(result.created), 更新 \(result.updated), 未变 \(result.unchanged), 拒绝 \(result.rejected), 冲突 \(result.conflicts); 编码 \(result.encoding); 用时 \(String(format: "%.1f", seconds)) s")
            if result.resumedFrom > 0 { print("从第 \(result.resumedFrom) 行之后继续 (resumed after row \(result.resumedFrom))") }
            if !result.unknownHeaders.isEmpty { print("未识别的列已忽略 (ignored columns): \(result.unknownHeaders.joined(separator: "、"))") }
            if let reportFile = result.reportFile { print("需处理的行见 (rows to fix): \(reportFile)") }
        }
    }
}


/// Exports from the registry.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Export from the registry.", subcommands: [Residents.self])

    struct Residents: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export residents within a scope as CSV (UTF-8 with BOM) or XLSX, in the importer's columns; masked unless --unmasked (audited).")

        @OptionGroup var database: DatabaseOptions

        @Option(help: "The file to write (.csv or .xlsx).")
        var out: String

        @Option(help: "csv or xlsx (default: from the file's extension, else csv).")
        var format: String?

        @Option(help: "Only residents within this code (default: the county).")
        var scope: String?

        @Flag(help: "Write full ID numbers and phones (audited).")
        var unmasked = false

        func run() async throws {
            let name = format ?? (out.lowercased().hasSuffix(".xlsx") ? "xlsx" : "csv")
            guard let format = ExportFormat(rawValue: name.lowercased()) else {
                throw ValidationError("--format 应为 csv 或 xlsx,实际“\(name)” (--format must be csv or xlsx)")
            }
            let written = try await database.withStore { store in
                let county = try await countyScope(store)
                let within = try scope.map { try parseCode($0, name: "--scope") } ?? county
                let viewer = Viewer(userID: 0, login: "cli", role: .countyAdmin, scope: within)
                return try await ResidentExporter(store: store).export(to: out, format: format, viewer: viewer, unmasked: unmasked, address: "local")
            }
            print("已导出 (exported) \(written) 人 → \(out)\(unmasked ? " (完整号码,已记入审计 unmasked, audited)" : "")")
        }
    }
}
