import Foundation

/// One line of an uploaded target list (e.g. a contact-tracing list): who to find in the registry.
public enum TargetEntry: Sendable, Equatable {
    case citizenID(CitizenID)
    case phone(MobilePhone)
    case nameAndAddress(name: String, address: String)

    /// What may be shown of the entry to staff: numbers masked.
    public var masked: String {
        switch self {
        case .citizenID(let id): "身份证 \(id.masked)"
        case .phone(let p): "电话 \(p.masked)"
        case .nameAndAddress(let name, let address): "\(name) \(address)"
        }
    }
}

/// A readable line of the list: its number in the file and who it names.
public struct TargetLine: Sendable, Equatable {
    public let line: Int
    public let entry: TargetEntry
    public init(line: Int, entry: TargetEntry) { self.line = line; self.entry = entry }
}

/// A line of the list that could not be read, with its reason.
public struct TargetLineProblem: Sendable, Equatable {
    public let line: Int
    /// The line as staff may see it (ID numbers and phones masked).
    public let shown: String
    public let reason: String
}

/// Reads an uploaded list: CSV or plain text in UTF-8 (with or without BOM) or GB18030/GBK as Excel in China
/// saves it, one person per line — an ID number, a mobile number, or a name and an address (two columns,
/// or separated by a space). A header line is skipped. Bad lines come back with their reason; the good ones go on.
public enum TargetList {
    public static let maxBytes = 2 * 1024 * 1024
    public static let maxEntries = 20_000

    public static func parse(_ bytes: [UInt8]) throws(FormProblem) -> (entries: [TargetLine], problems: [TargetLineProblem]) {
        guard !bytes.isEmpty else { throw FormProblem(field: "名单 (list)", reason: "文件为空 (empty file)") }
        guard bytes.count <= maxBytes else { throw FormProblem(field: "名单 (list)", reason: "名单文件不能超过2MB (at most 2 MB)") }
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || bytes.starts(with: [0xD0, 0xCF, 0x11, 0xE0]) {
            throw FormProblem(field: "名单 (list)", reason: "请在Excel中另存为CSV(逗号分隔)后上传 (save the workbook as CSV first)")
        }
        let text: String
        switch TextEncodingGuess.decode(bytes) {
        case .some(let t): text = t
        case .none: throw FormProblem(field: "名单 (list)", reason: "文件编码无法识别,请另存为UTF-8或GBK编码的CSV (not UTF-8 or GBK text)")
        }
        var parser = CSVParser()
        var records = parser.feed(Substring(text))
        do { if let last = try parser.finish() { records.append(last) } } catch {
            throw FormProblem(field: "第\(error.record)行 (line \(error.record))", reason: "引号未闭合 (a quoted field never ends)")
        }
        var entries: [TargetLine] = []
        var problems: [TargetLineProblem] = []
        var headerPossible = true // the first line with anything in it may be a header (blank lines before it count)
        for (i, record) in records.enumerated() {
            let line = i + 1
            var cells = record.map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
            if cells.count == 1, cells[0].contains(" ") {
                cells = cells[0].split(separator: " ", maxSplits: 1).map { String($0).trimmingWhitespace() }
            }
            guard !cells.isEmpty else { continue }
            defer { headerPossible = false }
            if headerPossible, cells.contains(where: { ["姓名", "身份证号", "公民身份号码", "电话", "手机", "联系电话", "住址", "地址"].contains($0) }) { continue }
            if entries.count >= maxEntries {
                throw FormProblem(field: "名单 (list)", reason: "一次最多\(maxEntries)人,请分批上传 (at most \(maxEntries) people per list)")
            }
            let first = cells[0]
            if cells.count == 1, first.count == 18 || (first.count >= 15 && first.allSatisfy({ ($0.isASCII && $0.isNumber) || $0 == "X" || $0 == "x" })) {
                do { entries.append(TargetLine(line: line, entry: .citizenID(try CitizenID(first)))) } catch {
                    problems.append(TargetLineProblem(line: line, shown: masked(first), reason: error.reason))
                }
            } else if cells.count == 1, let phone = MobilePhone(first) {
                entries.append(TargetLine(line: line, entry: .phone(phone)))
            } else if cells.count == 1, first.allSatisfy({ $0.isASCII && $0.isNumber }) {
                problems.append(TargetLineProblem(line: line, shown: masked(first), reason: "不是有效的身份证号或手机号 (neither an ID number nor a mobile number)"))
            } else if cells.count >= 2, (1...20).contains(first.count), !first.contains(where: { $0.isASCII && $0.isNumber }) {
                // (ASCII digits only: 三 and 四 are numbers to Unicode, and common in names.)
                entries.append(TargetLine(line: line, entry: .nameAndAddress(name: first, address: cells[1...].joined(separator: " "))))
            } else {
                problems.append(TargetLineProblem(line: line, shown: masked(cells.joined(separator: " ")),
                                                  reason: "每行应为身份证号、手机号,或“姓名,住址” (an ID number, a phone, or name and address)"))
            }
        }
        guard !entries.isEmpty || !problems.isEmpty else { throw FormProblem(field: "名单 (list)", reason: "名单中没有人 (the list names nobody)") }
        return (entries, problems)
    }

    /// Digits beyond the first 6 and last 4 hidden: a bad line is shown without revealing a whole number.
    static func masked(_ text: String) -> String {
        let digits = text.filter { $0.isASCII && $0.isNumber }.count
        guard digits >= 11 else { return String(text.prefix(40)) }
        return String(text.prefix(6)) + String(repeating: "*", count: max(0, min(text.count, 40) - 10)) + String(text.suffix(4))
    }
}

/// Text as Excel in China saves it: UTF-8 with or without BOM, otherwise GB18030 (a superset of GBK).
public enum TextEncodingGuess {
    public static let gb18030 = String.Encoding(rawValue: 0x8000_0632)

    /// The text, or nil when the bytes are neither.
    public static func decode(_ bytes: [UInt8]) -> String? {
        // NUL bytes mean UTF-16 or a binary file: neither is text Excel saves as CSV.
        if bytes.contains(0) { return nil }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return String(bytes: bytes.dropFirst(3), encoding: .utf8) }
        if let text = String(bytes: bytes, encoding: .utf8) { return text }
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) { return nil }
        return String(bytes: bytes, encoding: gb18030)
    }
}
