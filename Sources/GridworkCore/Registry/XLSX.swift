#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// XLSX (Office Open XML spreadsheet) import and export, for residents.
//
// The reader streams the first worksheet: the sheet XML is inflated and scanned
// a chunk at a time by a small byte-level scanner for the SpreadsheetML subset,
// so a million-row sheet never sits in memory. Only the shared strings table is
// held whole. The writer streams rows into a deflated sheet, every cell an
// inline string, so ID numbers stay text and a leading "=" is never a formula.

// MARK: - Errors

/// Why an XLSX file could not be read or written: Chinese first, English in parentheses.
public struct XLSXError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String

    init(_ chinese: String, _ english: String) { description = "\(chinese) (\(english))" }

    static func cannotOpen(_ path: String) -> XLSXError { XLSXError("无法读取文件\(path)", "cannot read \(path)") }
    static func cannotCreate(_ path: String) -> XLSXError { XLSXError("无法创建文件\(path)", "cannot create \(path)") }
    static let empty = XLSXError("文件为空", "the file is empty")
    static let notZip = XLSXError("不是有效的XLSX文件(不是ZIP压缩包)", "not a valid XLSX file: not a ZIP archive")
    static let legacyOrEncrypted = XLSXError("这是旧版.xls或设置了打开密码的Excel文件,请在Excel中另存为不带密码的.xlsx或CSV",
                                             "a legacy .xls or password-protected workbook; save it as .xlsx without a password, or as CSV")
    static let truncated = XLSXError("XLSX文件不完整,可能没有下载或复制完", "truncated XLSX file")
    static let readFailed = XLSXError("读取XLSX文件时出错", "I/O error reading the XLSX file")
    static let encrypted = XLSXError("XLSX文件中有加密的内容,请去掉密码后再导入", "the XLSX file has encrypted entries")
    static let noWorksheet = XLSXError("不是有效的XLSX文件(缺少工作表)", "not a valid XLSX file: no worksheet")
    static let writeFailed = XLSXError("写入XLSX文件失败(磁盘已满或无权限?)", "cannot write the XLSX file")
    static let outputTooLarge = XLSXError("导出内容超过4GB,请分批导出", "the export exceeds 4 GiB; export in parts")
    static let closed = XLSXError("XLSX文件已关闭", "the XLSX writer is closed")

    static func unsupported(_ chinese: String, _ english: String) -> XLSXError {
        XLSXError("不支持的XLSX文件:\(chinese)", "unsupported XLSX file: \(english)")
    }
    static func corrupt(_ chinese: String, _ english: String) -> XLSXError {
        XLSXError("XLSX文件已损坏:\(chinese)", "corrupt XLSX file: \(english)")
    }
    static func tooLarge(_ entry: String) -> XLSXError {
        XLSXError("XLSX文件中的\(entry)解压后过大,疑似压缩炸弹", "\(entry) is too large when decompressed (zip bomb?)")
    }
    static func sizeMismatch(_ entry: String) -> XLSXError { corrupt("\(entry)的大小与目录不符", "\(entry) size differs from the directory") }
    static func badCRC(_ entry: String) -> XLSXError { corrupt("\(entry)校验和不符", "CRC mismatch in \(entry)") }
    static func badXML(_ part: String, _ chinese: String, _ english: String) -> XLSXError {
        corrupt("\(part)的XML格式错误,\(chinese)", "bad XML in \(part): \(english)")
    }
}

// MARK: - Reader

/// Reads the rows of the first worksheet of an XLSX file, a batch at a time,
/// in the shape of the CSV importer's `next() -> [[String]]?`.
///
/// How cells come out:
/// - Every row of the sheet, in order, one record per Excel row: rows missing from
///   the XML (gaps in `r=`) come out as empty records `[]`, so record *i* is
///   Excel row *i + 1* when the sheet starts at row 1. Callers should skip
///   (but count) empty records.
/// - Cells sit at their column (A = 0); gaps are "", trailing empty cells are dropped.
/// - Numbers as written, without exponent or trailing ".0" (`13800138000`,
///   `4.30524198001011E+17` → `430524198001011000`, `2.50` → `2.5`).
/// - Dates (a numeric cell whose style is a date format) as `yyyy-MM-dd`, time of day dropped.
/// - Booleans `TRUE`/`FALSE`; errors as Excel shows them (`#N/A`); formulas as their cached value.
///
/// Copies share one underlying stream: use one copy.
public struct XLSXReader {
    /// Rows per `next()` call, at most.
    public static let batchSize = 2_000

    /// The file's size in bytes.
    public let size: Int
    /// Progress through the file, for a progress bar: the parts read up front plus the
    /// compressed bytes of the sheet consumed so far; `size` once the end is reached.
    public private(set) var bytesRead = 0
    /// The name of the worksheet being read ("" when the workbook does not name it).
    public let sheetName: String

    private let archive: ZipArchive
    private let stream: ZipEntryStream
    private var scanner: XMLScanner
    private var sheet: SheetHandler
    private let bytesBefore: Int
    /// How many of `sheet.rows` were already handed out.
    private var handedOut = 0
    private var inputEnded = false
    private var failure: XLSXError?

    /// Opens the file and reads its workbook, styles and shared strings; throws `XLSXError`.
    public init(path: String) throws {
        let archive = try ZipArchive(path: path)
        self.archive = archive
        size = archive.file.size

        // The package's relationships name the workbook; the workbook's name its sheets and tables.
        var workbookPath = "xl/workbook.xml"
        if let entry = archive.entry(named: "_rels/.rels") {
            let rels = try Self.parse(RelationshipsHandler(), entry, in: archive)
            if let target = rels.first(type: "officeDocument") { workbookPath = Part.resolve(target, from: "") }
        }
        var sheetPath: String?, sharedStringsPath = "xl/sharedStrings.xml", stylesPath = "xl/styles.xml"
        var date1904 = false, name = ""
        if let entry = archive.entry(named: workbookPath) {
            let workbook = try Self.parse(WorkbookHandler(), entry, in: archive)
            date1904 = workbook.date1904
            let base = Part.directory(of: workbookPath)
            if let entry = archive.entry(named: base + "_rels/" + Part.fileName(of: workbookPath) + ".rels") {
                let rels = try Self.parse(RelationshipsHandler(), entry, in: archive)
                // The first sheet in workbook order that is a worksheet (not a chart sheet).
                for (sheetName, id) in workbook.sheets {
                    guard let rel = rels.list.first(where: { $0.id == id }), rel.type.hasSuffix("/worksheet") else { continue }
                    sheetPath = Part.resolve(rel.target, from: base); name = sheetName
                    break
                }
                if let t = rels.first(type: "sharedStrings") { sharedStringsPath = Part.resolve(t, from: base) }
                if let t = rels.first(type: "styles") { stylesPath = Part.resolve(t, from: base) }
            }
        }
        guard let sheetEntry = sheetPath.flatMap(archive.entry(named:)) ?? archive.entry(named: "xl/worksheets/sheet1.xml") else {
            throw XLSXError.noWorksheet
        }
        sheetName = name

        var sharedStrings: [String] = []
        if let entry = archive.entry(named: sharedStringsPath) {
            sharedStrings = try Self.parse(SharedStringsHandler(), entry, in: archive).strings
        }
        var dateStyles: [Bool] = []
        if let entry = archive.entry(named: stylesPath) {
            dateStyles = try Self.parse(StylesHandler(), entry, in: archive, maxBytes: 64 << 20).dateStyles
        }
        stream = try archive.open(sheetEntry)
        scanner = XMLScanner(part: sheetEntry.name)
        sheet = SheetHandler(sharedStrings: sharedStrings, dateStyles: dateStyles, date1904: date1904)
        bytesBefore = max(0, size - sheetEntry.compressedSize)
        bytesRead = bytesBefore
    }

    /// The next rows (at most `batchSize`); nil at the end. Throws `XLSXError`, and again on every later call.
    public mutating func next() throws -> [[String]]? {
        if let failure { throw failure }
        do { return try advance() } catch { failure = error; throw error }
    }

    private mutating func advance() throws(XLSXError) -> [[String]]? {
        while sheet.rows.count - handedOut < Self.batchSize, !inputEnded {
            if let chunk = try stream.read() {
                try scanner.feed(chunk, to: &sheet)
            } else {
                try scanner.finish(&sheet)
                try sheet.finish(part: stream.entry.name)
                inputEnded = true
            }
            bytesRead = bytesBefore + stream.compressedRead
        }
        if handedOut == sheet.rows.count { bytesRead = size; return nil }
        let batch: [[String]]
        if handedOut == 0, sheet.rows.count <= Self.batchSize {
            batch = sheet.rows
            sheet.rows = []
        } else {
            // A long gap of missing rows can queue many at once; hand them out without shifting the rest.
            let end = min(sheet.rows.count, handedOut + Self.batchSize)
            batch = Array(sheet.rows[handedOut..<end])
            handedOut = end
            if handedOut == sheet.rows.count { sheet.rows.removeAll(keepingCapacity: true); handedOut = 0 }
        }
        if inputEnded, sheet.rows.isEmpty { bytesRead = size }
        return batch
    }

    /// Streams a whole part through a handler.
    private static func parse<H: XMLHandler>(_ handler: H, _ entry: ZipEntry, in archive: ZipArchive,
                                            maxBytes: Int? = nil) throws(XLSXError) -> H {
        var handler = handler
        let stream = try archive.open(entry, maxBytes: maxBytes)
        var scanner = XMLScanner(part: entry.name)
        while let chunk = try stream.read() { try scanner.feed(chunk, to: &handler) }
        try scanner.finish(&handler)
        return handler
    }
}

/// Part names inside the package.
enum Part {
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[...slash])
    }

    static func fileName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// A relationship target, relative to `base` unless it starts with "/", with "." and ".." resolved.
    static func resolve(_ target: String, from base: String) -> String {
        let joined = target.hasPrefix("/") ? String(target.dropFirst()) : base + target
        var parts: [Substring] = []
        for piece in joined.split(separator: "/", omittingEmptySubsequences: true) {
            if piece == "." { continue }
            if piece == ".." { _ = parts.popLast(); continue }
            parts.append(piece)
        }
        return parts.joined(separator: "/")
    }
}

// MARK: - Cell values

/// How SpreadsheetML values become the text a person sees in Excel.
enum CellText {
    /// A numeric value as plain decimal digits: no exponent, no trailing zeros after the point.
    /// Text that is not a number comes back unchanged.
    static func number(_ v: [UInt8]) -> String {
        var i = 0
        var negative = false
        if i < v.count, v[i] == UInt8(ascii: "-") || v[i] == UInt8(ascii: "+") { negative = v[i] == UInt8(ascii: "-"); i += 1 }
        var integer: [UInt8] = [], fraction: [UInt8] = []
        while i < v.count, v[i] >= 0x30, v[i] <= 0x39 { integer.append(v[i]); i += 1 }
        var plain = true
        if i < v.count, v[i] == UInt8(ascii: ".") {
            plain = false
            i += 1
            while i < v.count, v[i] >= 0x30, v[i] <= 0x39 { fraction.append(v[i]); i += 1 }
        }
        var exponent = 0
        if i < v.count, v[i] == UInt8(ascii: "e") || v[i] == UInt8(ascii: "E") {
            plain = false
            i += 1
            var sign = 1
            if i < v.count, v[i] == UInt8(ascii: "-") || v[i] == UInt8(ascii: "+") { sign = v[i] == UInt8(ascii: "-") ? -1 : 1; i += 1 }
            let start = i
            while i < v.count, v[i] >= 0x30, v[i] <= 0x39, i - start < 4 { exponent = exponent * 10 + Int(v[i] - 0x30); i += 1 }
            guard i > start else { return String(decoding: v, as: UTF8.self) }
            exponent *= sign
        }
        guard i == v.count, !(integer.isEmpty && fraction.isEmpty), abs(exponent) <= 40 else { return String(decoding: v, as: UTF8.self) }
        if plain && v.first != UInt8(ascii: "+") { return String(decoding: v, as: UTF8.self) }

        let digits = integer + fraction
        let point = integer.count + exponent
        var whole: [UInt8], decimals: [UInt8]
        if point <= 0 {
            whole = []; decimals = [UInt8](repeating: 0x30, count: -point) + digits
        } else if point >= digits.count {
            whole = digits + [UInt8](repeating: 0x30, count: point - digits.count); decimals = []
        } else {
            whole = Array(digits[..<point]); decimals = Array(digits[point...])
        }
        while whole.first == 0x30 { whole.removeFirst() }
        while decimals.last == 0x30 { decimals.removeLast() }
        if whole.isEmpty { whole = [0x30] }
        let zero = whole == [0x30] && decimals.isEmpty
        var out: [UInt8] = negative && !zero ? [UInt8(ascii: "-")] : []
        out += whole
        if !decimals.isEmpty { out.append(UInt8(ascii: ".")); out += decimals }
        return String(decoding: out, as: UTF8.self)
    }

    /// A date serial as `yyyy-MM-dd`, as Excel shows it: the 1900 system keeps Excel's
    /// (Lotus's) phantom 1900-02-29 as serial 60, and serial 0 is "1900-01-00".
    /// Nil outside Excel's range (negative or past 9999-12-31).
    static func date(serial: Double, date1904: Bool) -> String? {
        guard serial.isFinite, serial >= 0, serial < (date1904 ? 2_957_004 : 2_958_466) else { return nil }
        // Excel stores times to the millisecond; a value a hair below midnight is the next day.
        let day = Int((serial + 0.5 / 86_400_000).rounded(.down))
        let days: Int
        if date1904 {
            days = daysFromCivil(1904, 1, 1) + day
        } else {
            if day == 0 { return "1900-01-00" }
            if day == 60 { return "1900-02-29" }
            days = daysFromCivil(1899, 12, 31) + day - (day > 60 ? 1 : 0)
        }
        let (y, m, d) = civilFromDays(days)
        return CivilDate(year: y, month: m, day: d)?.iso
    }

    /// Whether a number format shows a date: a built-in date or time id, or a custom code
    /// with y, m or d outside quoted text, [brackets] and escaped characters.
    static func isDateFormat(id: Int, code: String?) -> Bool {
        guard let code else {
            switch id {
            case 14...22, 27...36, 45...47, 50...58: return true
            default: return false
            }
        }
        var inQuotes = false, inBrackets = false, skipNext = false
        for c in code.unicodeScalars {
            if skipNext { skipNext = false; continue }
            if inQuotes { if c == "\"" { inQuotes = false }; continue }
            if inBrackets { if c == "]" { inBrackets = false }; continue }
            switch c {
            case "\"": inQuotes = true
            case "[": inBrackets = true
            case "\\", "_", "*": skipNext = true
            case "y", "Y", "m", "M", "d", "D": return true
            default: break
            }
        }
        return false
    }

    // Days since 1970-01-01 (proleptic Gregorian), after Howard Hinnant's algorithms.
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// The 0-based column of a cell reference such as "B2" or "AA10"; nil without letters or past XFD.
    static func column(ofReference ref: UnsafeBufferPointer<UInt8>) -> Int? {
        var column = 0, letters = 0
        for b in ref {
            let upper = b & 0xDF
            guard upper >= UInt8(ascii: "A"), upper <= UInt8(ascii: "Z"), b != UInt8(ascii: "$") else {
                if b == UInt8(ascii: "$") && letters == 0 { continue }
                break
            }
            column = column * 26 + Int(upper - UInt8(ascii: "A")) + 1
            letters += 1
            if letters > 3 { return nil }
        }
        guard letters > 0, column <= XLSXWriter.maxColumns else { return nil }
        return column - 1
    }

    /// The letters of a 0-based column: 0 → A, 25 → Z, 26 → AA.
    static func columnName(_ index: Int) -> [UInt8] {
        var n = index + 1
        var out: [UInt8] = []
        while n > 0 {
            n -= 1
            out.insert(UInt8(ascii: "A") + UInt8(n % 26), at: 0)
            n /= 26
        }
        return out
    }

    /// A non-negative decimal integer; nil for anything else or past ten digits.
    static func integer(_ bytes: some Sequence<UInt8>) -> Int? {
        var n = 0, count = 0
        for b in bytes {
            guard b >= 0x30, b <= 0x39, count < 10 else { return nil }
            n = n * 10 + Int(b - 0x30)
            count += 1
        }
        return count > 0 ? n : nil
    }
}

// MARK: - XML scanning

/// One start tag, viewed in the scanner's buffer: valid only during the callback.
struct XMLTag {
    /// The local name (any namespace prefix removed).
    let name: UnsafeBufferPointer<UInt8>
    /// The raw text between the name and the closing `>` or `/>`.
    let attributes: UnsafeBufferPointer<UInt8>

    func `is`(_ local: StaticString) -> Bool { XMLScanner.equals(name, local) }

    /// The raw (not entity-decoded) value of the attribute with this local name.
    func attribute(_ local: StaticString) -> UnsafeBufferPointer<UInt8>? {
        let a = attributes
        var i = 0
        while i < a.count {
            while i < a.count, XMLScanner.isSpace(a[i]) { i += 1 }
            let nameStart = i
            var localStart = i
            while i < a.count, a[i] != UInt8(ascii: "="), !XMLScanner.isSpace(a[i]) {
                if a[i] == UInt8(ascii: ":") { localStart = i + 1 }
                i += 1
            }
            let nameEnd = i
            while i < a.count, XMLScanner.isSpace(a[i]) { i += 1 }
            guard i < a.count, a[i] == UInt8(ascii: "="), nameEnd > nameStart else { return nil }
            i += 1
            while i < a.count, XMLScanner.isSpace(a[i]) { i += 1 }
            guard i < a.count, a[i] == UInt8(ascii: "\"") || a[i] == UInt8(ascii: "'") else { return nil }
            let quote = a[i]
            i += 1
            let valueStart = i
            while i < a.count, a[i] != quote { i += 1 }
            guard i < a.count else { return nil }
            let value = UnsafeBufferPointer(rebasing: a[valueStart..<i])
            i += 1
            if XMLScanner.equals(UnsafeBufferPointer(rebasing: a[localStart..<nameEnd]), local) { return value }
        }
        return nil
    }

    /// The entity-decoded value of an attribute, as a string.
    func string(_ local: StaticString) -> String? {
        guard let raw = attribute(local) else { return nil }
        var out: [UInt8] = []
        XMLScanner.appendDecoded(raw, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func integer(_ local: StaticString) -> Int? { attribute(local).flatMap { CellText.integer($0) } }
}

/// What a scanner reports. Text arrives whole between two pieces of markup, so an entity is never split.
protocol XMLHandler {
    mutating func start(_ tag: XMLTag, selfClosing: Bool) throws(XLSXError)
    mutating func end(_ name: UnsafeBufferPointer<UInt8>) throws(XLSXError)
    /// Character data inside the root element: still entity-encoded unless `raw` (CDATA).
    mutating func text(_ bytes: UnsafeBufferPointer<UInt8>, raw: Bool) throws(XLSXError)
}

/// A forgiving-but-safe, streaming, byte-level XML scanner for the subset OOXML uses:
/// elements, attributes, text, entities, CDATA, comments and processing instructions.
/// It checks that tags nest; a DOCTYPE is refused (OOXML never has one, and entity
/// declarations are how XML bombs work).
struct XMLScanner {
    /// The longest piece of markup or text we will wait for: Excel caps a cell at 32,767 characters.
    static let maxPending = 16 << 20

    let part: String
    private var pending: [UInt8] = []
    private var openNames: [UInt8] = []
    private var openLengths: [Int] = []
    private var sawRoot = false
    private var started = false

    init(part: String) { self.part = part }

    mutating func feed<H: XMLHandler>(_ chunk: [UInt8], to handler: inout H) throws(XLSXError) {
        if pending.isEmpty { pending = chunk } else { pending += chunk }
        if !started {
            guard pending.count >= 3 else { return }
            started = true
            if pending.starts(with: [0xEF, 0xBB, 0xBF]) { pending.removeFirst(3) } // a byte-order mark
        }
        try run(&handler, final: false)
    }

    /// Ends the input: anything left open is an error.
    mutating func finish<H: XMLHandler>(_ handler: inout H) throws(XLSXError) {
        try run(&handler, final: true)
        guard pending.allSatisfy(Self.isSpace) else { throw bad("文件意外结束", "unexpected end of file") }
        guard sawRoot else { throw bad("没有根元素", "no root element") }
        guard openLengths.isEmpty else { throw bad("元素未闭合", "unclosed elements at end of file") }
    }

    private mutating func run<H: XMLHandler>(_ handler: inout H, final: Bool) throws(XLSXError) {
        let buffer = pending
        var consumed = 0
        var failure: XLSXError?
        buffer.withUnsafeBufferPointer { p in
            do throws(XLSXError) { consumed = try scan(p, &handler, final: final) } catch { failure = error }
        }
        if let failure { throw failure }
        pending = consumed == buffer.count ? [] : Array(buffer[consumed...])
        if !final, pending.count > Self.maxPending { throw bad("元素或文本过长", "element or text too long") }
    }

    /// Scans whole pieces of markup and text; returns how many bytes it used.
    private mutating func scan<H: XMLHandler>(_ p: UnsafeBufferPointer<UInt8>, _ handler: inout H,
                                              final: Bool) throws(XLSXError) -> Int {
        let n = p.count
        guard let base = p.baseAddress else { return 0 }
        var i = 0
        while i < n {
            if p[i] != UInt8(ascii: "<") {
                let found = memchr(base + i, Int32(UInt8(ascii: "<")), n - i)
                let j = found.map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base } ?? n
                if found == nil && !final { return i } // the text may go on in the next chunk
                if !openLengths.isEmpty { try handler.text(UnsafeBufferPointer(rebasing: p[i..<j]), raw: false) }
                else if !p[i..<j].allSatisfy(Self.isSpace) { throw bad("根元素之外有文本", "text outside the root element") }
                i = j
                continue
            }
            guard i + 1 < n else { return i }
            switch p[i + 1] {
            case UInt8(ascii: "?"):
                guard let close = Self.find(p, "?>", from: i + 2) else { return try incomplete(i, n, final) }
                i = close + 2
            case UInt8(ascii: "!"):
                if Self.hasPrefix(p, "<!--", at: i) {
                    guard let close = Self.find(p, "-->", from: i + 4) else { return try incomplete(i, n, final) }
                    i = close + 3
                } else if Self.hasPrefix(p, "<![CDATA[", at: i) {
                    guard let close = Self.find(p, "]]>", from: i + 9) else { return try incomplete(i, n, final) }
                    if !openLengths.isEmpty { try handler.text(UnsafeBufferPointer(rebasing: p[(i + 9)..<close]), raw: true) }
                    i = close + 3
                } else if n - i < 9 && !final {
                    return i
                } else {
                    throw bad("不支持DOCTYPE或未知标记", "DOCTYPE or unknown markup")
                }
            case UInt8(ascii: "/"):
                guard let close = Self.tagEnd(p, from: i + 2) else { return try incomplete(i, n, final) }
                var nameEnd = close
                while nameEnd > i + 2, Self.isSpace(p[nameEnd - 1]) { nameEnd -= 1 }
                let qualified = UnsafeBufferPointer(rebasing: p[(i + 2)..<nameEnd])
                try pop(qualified)
                try handler.end(Self.localName(qualified))
                i = close + 1
            default:
                guard let close = Self.tagEnd(p, from: i + 1) else { return try incomplete(i, n, final) }
                let selfClosing = close > i + 1 && p[close - 1] == UInt8(ascii: "/")
                let inner = i + 1..<(selfClosing ? close - 1 : close)
                var nameEnd = inner.lowerBound
                while nameEnd < inner.upperBound, !Self.isSpace(p[nameEnd]) { nameEnd += 1 }
                let qualified = UnsafeBufferPointer(rebasing: p[inner.lowerBound..<nameEnd])
                guard !qualified.isEmpty, Self.isNameStart(qualified[0]) else { throw bad("标签名无效", "bad tag name") }
                if openLengths.isEmpty {
                    guard !sawRoot else { throw bad("有多个根元素", "more than one root element") }
                    sawRoot = true
                }
                let tag = XMLTag(name: Self.localName(qualified), attributes: UnsafeBufferPointer(rebasing: p[nameEnd..<inner.upperBound]))
                try handler.start(tag, selfClosing: selfClosing)
                if !selfClosing { openNames.append(contentsOf: qualified); openLengths.append(qualified.count) }
                i = close + 1
            }
        }
        return i
    }

    private func incomplete(_ i: Int, _ n: Int, _ final: Bool) throws(XLSXError) -> Int {
        if final { throw bad("标记未结束", "unterminated markup") }
        return i
    }

    private mutating func pop(_ name: UnsafeBufferPointer<UInt8>) throws(XLSXError) {
        guard let length = openLengths.last else { throw bad("多余的结束标签", "end tag without a start tag") }
        let start = openNames.count - length
        let matches = length == name.count && openNames.withUnsafeBufferPointer {
            UnsafeBufferPointer(rebasing: $0[start...]).elementsEqual(name)
        }
        guard matches else {
            throw bad("结束标签</\(String(decoding: name, as: UTF8.self))>与开始标签不匹配", "mismatched end tag")
        }
        openLengths.removeLast()
        openNames.removeLast(length)
    }

    private func bad(_ chinese: String, _ english: String) -> XLSXError { .badXML(part, chinese, english) }

    // MARK: byte helpers

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    static func isNameStart(_ b: UInt8) -> Bool {
        (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") || b == UInt8(ascii: "_") || b == UInt8(ascii: ":") || b >= 0x80
    }

    static func localName(_ qualified: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        guard let colon = qualified.lastIndex(of: UInt8(ascii: ":")) else { return qualified }
        return UnsafeBufferPointer(rebasing: qualified[(colon + 1)...])
    }

    static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ s: StaticString) -> Bool {
        guard bytes.count == s.utf8CodeUnitCount else { return false }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return true }
        return memcmp(base, s.utf8Start, bytes.count) == 0
    }

    /// The `>` closing a tag that starts before `from`, skipping quoted attribute values.
    static func tagEnd(_ p: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        var quote: UInt8 = 0
        var i = from
        while i < p.count {
            let b = p[i]
            if quote != 0 { if b == quote { quote = 0 } }
            else if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") { quote = b }
            else if b == UInt8(ascii: ">") { return i }
            i += 1
        }
        return nil
    }

    static func hasPrefix(_ p: UnsafeBufferPointer<UInt8>, _ s: StaticString, at i: Int) -> Bool {
        let n = s.utf8CodeUnitCount
        guard i + n <= p.count, let base = p.baseAddress else { return false }
        return memcmp(base + i, s.utf8Start, n) == 0
    }

    static func find(_ p: UnsafeBufferPointer<UInt8>, _ s: StaticString, from: Int) -> Int? {
        var i = from
        let first = s.utf8Start.pointee
        while i + s.utf8CodeUnitCount <= p.count {
            if p[i] == first, hasPrefix(p, s, at: i) { return i }
            i += 1
        }
        return nil
    }

    /// Appends text with the five XML entities and numeric character references decoded.
    /// An unknown or malformed reference is kept as written.
    static func appendDecoded(_ src: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        guard let base = src.baseAddress, memchr(base, Int32(UInt8(ascii: "&")), src.count) != nil else {
            out.append(contentsOf: src)
            return
        }
        var i = 0
        while i < src.count {
            let b = src[i]
            guard b == UInt8(ascii: "&") else { out.append(b); i += 1; continue }
            var j = i + 1
            while j < src.count, j - i <= 10, src[j] != UInt8(ascii: ";") { j += 1 }
            guard j < src.count, src[j] == UInt8(ascii: ";") else { out.append(b); i += 1; continue }
            let name = UnsafeBufferPointer(rebasing: src[(i + 1)..<j])
            if equals(name, "amp") { out.append(UInt8(ascii: "&")) }
            else if equals(name, "lt") { out.append(UInt8(ascii: "<")) }
            else if equals(name, "gt") { out.append(UInt8(ascii: ">")) }
            else if equals(name, "quot") { out.append(UInt8(ascii: "\"")) }
            else if equals(name, "apos") { out.append(UInt8(ascii: "'")) }
            else if name.count >= 2, name[0] == UInt8(ascii: "#"), let scalar = numericReference(name) {
                appendUTF8(scalar, to: &out)
            } else {
                out.append(b); i += 1; continue
            }
            i = j + 1
        }
    }

    private static func numericReference(_ name: UnsafeBufferPointer<UInt8>) -> Unicode.Scalar? {
        let hex = name[1] == UInt8(ascii: "x") || name[1] == UInt8(ascii: "X")
        var value: UInt32 = 0
        let digits = name.dropFirst(hex ? 2 : 1)
        guard !digits.isEmpty, digits.count <= 8 else { return nil }
        for b in digits {
            guard let d = hexValue(b), hex || d < 10 else { return nil }
            value = value * (hex ? 16 : 10) + UInt32(d)
        }
        return Unicode.Scalar(value) ?? "\u{FFFD}"
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        case 0x61...0x66: b - 0x61 + 10
        default: nil
        }
    }

    static func appendUTF8(_ scalar: Unicode.Scalar, to out: inout [UInt8]) {
        UTF8.encode(scalar) { out.append($0) }
    }

    /// Decodes Excel's `_xHHHH_` escapes (used for control characters and for a literal "_x").
    static func decodeExcelEscapes(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count >= 7, bytes.contains(UInt8(ascii: "_")) else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "_"), i + 6 < bytes.count, bytes[i + 1] == UInt8(ascii: "x"), bytes[i + 6] == UInt8(ascii: "_"),
               let a = hexValue(bytes[i + 2]), let b = hexValue(bytes[i + 3]), let c = hexValue(bytes[i + 4]), let d = hexValue(bytes[i + 5]) {
                let value = UInt32(a) << 12 | UInt32(b) << 8 | UInt32(c) << 4 | UInt32(d)
                appendUTF8(Unicode.Scalar(value) ?? "\u{FFFD}", to: &out)
                i += 7
            } else {
                out.append(bytes[i]); i += 1
            }
        }
        return out
    }
}

// MARK: - Part handlers

/// `_rels/*.rels`: relationship id, type and target.
struct RelationshipsHandler: XMLHandler {
    struct Relationship { let id: String; let type: String; let target: String }
    var list: [Relationship] = []

    func first(type suffix: String) -> String? { list.first { $0.type.hasSuffix("/" + suffix) }?.target }

    mutating func start(_ tag: XMLTag, selfClosing: Bool) throws(XLSXError) {
        guard tag.is("Relationship"), let id = tag.string("Id"), let target = tag.string("Target") else { return }
        if tag.string("TargetMode") == "External" { return }
        list.append(Relationship(id: id, type: tag.string("Type") ?? "", target: target))
    }
    mutating func end(_ name: UnsafeBufferPointer<UInt8>) throws(XLSXError) {}
    mutating func text(_ bytes: UnsafeBufferPointer<UInt8>, raw: Bool) throws(XLSXError) {}
}

/// `xl/workbook.xml`: the sheets in order, and the date system.
struct WorkbookHandler: XMLHandler {
    var sheets: [(name: String, relationship: String)] = []
    var date1904 = false

    mutating func start(_ tag: XMLTag, selfClosing: Bool) throws(XLSXError) {
        if tag.is("sheet"), let id = tag.string("id") {
            sheets.append((tag.string("name") ?? "", id))
        } else if tag.is("workbookPr"), let flag = tag.string("date1904") {
            date1904 = flag == "1" || flag.lowercased() == "true"
        }
    }
    mutating func end(_ name: UnsafeBufferPointer<UInt8>) throws(XLSXError) {}
    mutating func text(_ bytes: UnsafeBufferPointer<UInt8>, raw: Bool) throws(XLSXError) {}
}

/// `xl/styles.xml`: which cell formats (`s=` indexes into cellXfs) show dates.
struct StylesHandler: XMLHandler {
    private var codes: [Int: String] = [:]
    private var formats: [Int] = []
    private var inCellFormats = false

    var dateStyles: [Bool] { formats.map { CellText.isDateFormat(id: $0, code: codes[$0]) } }

    mutating func start(_ tag: XMLTag, selfClosing: Bool) throws(XLSXError) {
        if tag.is("numFmt"), let id = tag.integer("numFmtId") {
            codes[id] = tag.string("formatCode") ?? ""
        } else if tag.is("cellXfs") {
            inCellFormats = !selfClosing
        } else if inCellFormats, tag.is("xf") {
            guard formats.count < 1 << 20 else { throw .corrupt("样式过多", "too many cell formats") }
            formats.append(tag.integer("numFmtId") ?? 0)
        }
    }
    mutating func end(_ name: UnsafeBufferPointer<UInt8>) throws(XLSXError) {
        if XMLScanner.equals(name, "cellXfs") { inCellFormats = false }
    }
    mutating func text(_ bytes: UnsafeBufferPointer<UInt8>, raw: Bool) throws(XLSXError) {}
}

/// `xl/sharedStrings.xml`: each `<si>` is its `<t>` texts joined, phonetic runs (`<rPh>`) left out.
struct SharedStringsHandler: XMLHandler {
    /// More strings than a full sheet could use is a bomb, not a workbook.
    static let maxStrings = 1 << 24

    var strings: [String] = []
    private var inItem = false, capturing = false
    private var phoneticDepth = 0
    private var value: [UInt8] = []

    mutating func start(_ tag: XMLTag, selfClosing: Bool) throws(XLSXError) {
        if tag.is("si") {
            guard strings.count < Self.maxStrings else { throw .tooLarge("sharedStrings.xml") }
            if selfClosing { strings.append("") } else { inItem = true; value.removeAll(keepingCapacity: true) }
        } else if tag.is("rPh") {
            if !selfClosing { phoneticDepth += 1 }
        } else if tag.is("t") {
            capturing = inItem && phoneticDepth == 0 && !selfClosing
        }
    }

    mutating func end(_ name: UnsafeBufferPointer<UInt8>) throws(XLSXError) {
        if XMLScanner.equals(name, "t") { capturing = false }
        else if XMLScanner.equals(name, "rPh") { phoneticDepth = max(0, phoneticDepth - 1) }
        else if XMLScanner.equals(name, "si"), inItem {
            strings.append(String(decoding: XMLScanner.decodeExcelEscapes(value), as: UTF8.self))
            inItem = false
        }
    }

    mutating func text(_ bytes: UnsafeBufferPointer<UInt8>, raw: Bool) throws(XLSXError) {
        guard capturing else { return }
        if raw { value.append(contentsOf: bytes) } else { XMLScanner.appendDecoded(bytes, to: &value) }
    }
}

/// A worksheet's `<sheetData>`: rows of cells, turned into display text.
struct SheetHandler: XMLHandler {
    static let maxRows = 1_048_576

    let sharedStrings: [String]
    let dateStyles: [Bool]
    let date1904: Bool
    /// Completed rows not yet handed out.
    var rows: [[String]] = []

    private enum Kind { case number, shared, inline, formulaString, boolean, error, date }

    private var sawSheetData = false, inSheetData = false, inRow = false
    private var row: [String] = []
    private var rowNumber = 0, lastRowNumber = 0
    private var nextColumn = 0
    private var inCell = false, capturing = false, inInline = false
    private var phoneticDepth = 0
    private var column = 0, style = 0
    private var kind = Kind.number
    private var value: [UInt8] = []

    init(sharedStrings: [String], dateStyles: [Bool], date1904: Bool) {
        self.sharedStrings = sharedStrings; self.dateStyles = dateStyles; self.date1904 = date1904
    }

    mutating func finish(part: String) throws(XLSXError) {
        guard sawSheetData else { throw .corrupt("\(part)中没有表格数据(sheetData)", "no sheetData in \(part)") }
    }

    mutating func start(_ tag: XMLTag, selfClosing: Bool) throws(XLSXError) {
        if tag.is("sheetData") {
            sawSheetData = true
            inSheetData = !selfClosing
            return
        }
        guard inSheetData else { return }
        if tag.is("row") {
            if inRow { emitRow() }
            if let r = tag.integer("r"), r > lastRowNumber {
                guard r <= Self.maxRows else { throw .corrupt("行号\(r)超出Excel范围", "row number \(r) out of range") }
                for _ in 0..<(r - lastRowNumber - 1) { rows.append([]) }
                rowNumber = r
            } else {
                rowNumber = lastRowNumber + 1
                guard rowNumber <= Self.maxRows else { throw .corrupt("行数超出Excel范围", "too many rows") }
            }
            inRow = true
            nextColumn = 0
            if selfClosing { emitRow() }
        } else if tag.is("c") {
            if let ref = tag.attribute("r") {
                guard let c = CellText.column(ofReference: ref) else {
                    throw .corrupt("单元格位置“\(String(decoding: ref, as: UTF8.self).prefix(20))”无效", "bad cell reference")
                }
                column = c
            } else {
                column = nextColumn
                guard column < XLSXWriter.maxColumns else { throw .corrupt("列数超出Excel范围", "too many columns") }
            }
            style = tag.integer("s") ?? 0
            kind = Self.kind(tag.attribute("t"))
            value.removeAll(keepingCapacity: true)
            inCell = true
            inInline = false
            phoneticDepth = 0
            if selfClosing { try endCell() }
        } else if inCell {
            if tag.is("v") {
                capturing = !selfClosing
            } else if tag.is("is") {
                inInline = !selfClosing
            } else if tag.is("rPh") {
                if !selfClosing { phoneticDepth += 1 }
            } else if tag.is("t") {
                capturing = inInline && phoneticDepth == 0 && !selfClosing
            }
        }
    }

    mutating func end(_ name: UnsafeBufferPointer<UInt8>) throws(XLSXError) {
        if XMLScanner.equals(name, "v") || XMLScanner.equals(name, "t") {
            capturing = false
        } else if XMLScanner.equals(name, "c") {
            if inCell { try endCell() }
        } else if XMLScanner.equals(name, "row") {
            if inRow { emitRow() }
        } else if XMLScanner.equals(name, "is") {
            inInline = false
        } else if XMLScanner.equals(name, "rPh") {
            phoneticDepth = max(0, phoneticDepth - 1)
        } else if XMLScanner.equals(name, "sheetData") {
            if inRow { emitRow() }
            inSheetData = false
        }
    }

    mutating func text(_ bytes: UnsafeBufferPointer<UInt8>, raw: Bool) throws(XLSXError) {
        guard capturing else { return }
        if raw { value.append(contentsOf: bytes) } else { XMLScanner.appendDecoded(bytes, to: &value) }
    }

    private static func kind(_ t: UnsafeBufferPointer<UInt8>?) -> Kind {
        guard let t else { return .number }
        if XMLScanner.equals(t, "s") { return .shared }
        if XMLScanner.equals(t, "inlineStr") { return .inline }
        if XMLScanner.equals(t, "str") { return .formulaString }
        if XMLScanner.equals(t, "b") { return .boolean }
        if XMLScanner.equals(t, "e") { return .error }
        if XMLScanner.equals(t, "d") { return .date }
        return .number
    }

    private mutating func endCell() throws(XLSXError) {
        inCell = false
        capturing = false
        inInline = false
        let text: String
        switch kind {
        case .shared:
            guard let index = CellText.integer(value), index < sharedStrings.count else {
                throw .corrupt("第\(rowNumber)行的共享字符串编号无效", "bad shared string index in row \(rowNumber)")
            }
            text = sharedStrings[index]
        case .inline:
            text = String(decoding: XMLScanner.decodeExcelEscapes(value), as: UTF8.self)
        case .formulaString, .error:
            text = String(decoding: value, as: UTF8.self)
        case .boolean:
            text = value == [0x31] ? "TRUE" : value == [0x30] ? "FALSE" : String(decoding: value, as: UTF8.self)
        case .date:
            // ISO 8601 (strict OOXML): keep the calendar date.
            let s = String(decoding: value, as: UTF8.self)
            text = s.count >= 10 && CivilDate(iso: String(s.prefix(10))) != nil ? String(s.prefix(10)) : s
        case .number:
            if value.isEmpty {
                text = ""
            } else if style < dateStyles.count, dateStyles[style],
                      let serial = Double(String(decoding: value, as: UTF8.self)),
                      let date = CellText.date(serial: serial, date1904: date1904) {
                text = date
            } else {
                text = CellText.number(value)
            }
        }
        guard inRow else { return } // a cell outside any row: nowhere to put it
        if column >= row.count {
            if column > row.count { row.append(contentsOf: repeatElement("", count: column - row.count)) }
            row.append(text)
        } else {
            row[column] = text
        }
        nextColumn = column + 1
    }

    private mutating func emitRow() {
        while row.last?.isEmpty == true { row.removeLast() }
        rows.append(row)
        row = []
        lastRowNumber = rowNumber
        inRow = false
    }
}

// MARK: - Writer

/// Writes rows to a new single-sheet XLSX file, streaming: memory stays flat however many rows.
///
/// Every cell is an inline string (`t="inlineStr"`) in the Text number format, so an
/// 18-digit ID number stays exact and "=…" is shown, never calculated. Empty cells are
/// left out. Row 1 is bold and frozen. Characters XML 1.0 forbids (control characters
/// other than tab, newline and CR) are dropped. Call `close()` to finish the file;
/// copies share one underlying file: use one copy.
public struct XLSXWriter {
    public static let maxRows = 1_048_576
    public static let maxColumns = 16_384
    /// Excel's limit on one cell, in UTF-16 code units.
    public static let maxCellLength = 32_767

    /// Rows appended so far.
    public private(set) var rowsWritten = 0

    private let zip: ZipWriter
    private var xml: [UInt8] = []
    private var columnNames: [[UInt8]] = []
    private var closed = false
    private static let flushSize = 256 << 10

    /// Creates (or replaces) the file at `path`; throws `XLSXError`.
    /// `sheetName` is cleaned to what Excel accepts (no `[]:*?/\`, at most 31 characters).
    public init(path: String, sheetName: String) throws {
        zip = try ZipWriter(path: path)
        let name = Self.escaped(Self.cleanSheetName(sheetName), attribute: true)
        try zip.add("[Content_Types].xml", Array(Self.contentTypes.utf8))
        try zip.add("_rels/.rels", Array(Self.packageRelationships.utf8))
        try zip.add("xl/workbook.xml", Array(Self.workbook(sheetName: name).utf8))
        try zip.add("xl/_rels/workbook.xml.rels", Array(Self.workbookRelationships.utf8))
        try zip.add("xl/styles.xml", Array(Self.styles.utf8))
        try zip.begin("xl/worksheets/sheet1.xml")
        xml.reserveCapacity(Self.flushSize + (64 << 10))
        xml += Self.sheetStart.utf8
    }

    /// Adds one row; throws `XLSXError` past Excel's limits or on a write failure.
    public mutating func append(_ row: [String]) throws {
        guard !closed else { throw XLSXError.closed }
        guard rowsWritten < Self.maxRows else {
            throw XLSXError("超过Excel的最大行数\(Self.maxRows),请分批导出", "more than \(Self.maxRows) rows; export in parts")
        }
        guard row.count <= Self.maxColumns else {
            throw XLSXError("第\(rowsWritten + 1)行超过Excel的最大列数\(Self.maxColumns)", "row \(rowsWritten + 1) has more than \(Self.maxColumns) columns")
        }
        rowsWritten += 1
        let r = rowsWritten
        var number: [UInt8] = []
        Self.appendDecimal(r, to: &number)
        xml += "<row r=\"".utf8; xml += number; xml += "\">".utf8
        for (i, cell) in row.enumerated() where !cell.isEmpty {
            // A string has no more UTF-16 units than UTF-8 bytes, so most cells skip the count.
            guard cell.utf8.count <= Self.maxCellLength || cell.utf16.count <= Self.maxCellLength else {
                throw XLSXError("第\(r)行第\(i + 1)列超过Excel单元格上限\(Self.maxCellLength)个字符",
                                "row \(r), column \(i + 1) is longer than \(Self.maxCellLength) characters")
            }
            while columnNames.count <= i { columnNames.append(CellText.columnName(columnNames.count)) }
            xml += "<c r=\"".utf8; xml += columnNames[i]; xml += number
            xml += (r == 1 ? "\" s=\"1\" t=\"inlineStr\"><is><t" : "\" s=\"2\" t=\"inlineStr\"><is><t").utf8
            Self.appendCellText(cell, to: &xml)
            xml += "</t></is></c>".utf8
        }
        xml += "</row>".utf8
        if xml.count >= Self.flushSize {
            try zip.write(xml)
            xml.removeAll(keepingCapacity: true)
        }
    }

    /// Finishes the sheet and the package. Calling it again does nothing.
    public mutating func close() throws {
        guard !closed else { return }
        closed = true
        xml += "</sheetData></worksheet>".utf8
        try zip.write(xml)
        xml = []
        try zip.end()
        try zip.finish()
    }

    // MARK: text

    /// `>` then the escaped text, with `xml:space="preserve"` when Excel would otherwise trim it.
    static func appendCellText(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            let edge: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
            let preserve = (bytes.first.map(edge) ?? false) || (bytes.last.map(edge) ?? false)
                || bytes.contains(0x0A) || bytes.contains(0x09) || bytes.contains(0x0D)
            out += (preserve ? " xml:space=\"preserve\">" : ">").utf8
            appendEscaped(bytes, to: &out, attribute: false)
        }
    }

    static func escaped(_ text: String, attribute: Bool) -> String {
        var out: [UInt8] = []
        var text = text
        text.withUTF8 { appendEscaped($0, to: &out, attribute: attribute) }
        return String(decoding: out, as: UTF8.self)
    }

    /// XML-escapes UTF-8 text, drops what XML 1.0 forbids, keeps CR as `&#13;`
    /// (a parser would turn a raw CR into LF), and protects a literal `_xHHHH_` as `_x005F_xHHHH_`.
    static func appendEscaped(_ s: UnsafeBufferPointer<UInt8>, to out: inout [UInt8], attribute: Bool) {
        var i = 0
        while i < s.count {
            let b = s[i]
            switch b {
            case UInt8(ascii: "&"): out += "&amp;".utf8
            case UInt8(ascii: "<"): out += "&lt;".utf8
            case UInt8(ascii: ">"): out += "&gt;".utf8
            case UInt8(ascii: "\"") where attribute: out += "&quot;".utf8
            case 0x0D: out += "&#13;".utf8
            case 0x09, 0x0A: if attribute { out += (b == 0x09 ? "&#9;" : "&#10;").utf8 } else { out.append(b) }
            case 0x00..<0x20: break
            case 0xEF where i + 2 < s.count && s[i + 1] == 0xBF && (s[i + 2] == 0xBE || s[i + 2] == 0xBF):
                i += 2 // U+FFFE and U+FFFF are not XML characters
            case UInt8(ascii: "_") where !attribute && i + 6 < s.count && s[i + 1] == UInt8(ascii: "x") && s[i + 6] == UInt8(ascii: "_")
                && (2...5).allSatisfy({ XMLScanner.hexValue(s[i + $0]) != nil }):
                out += "_x005F_".utf8
            default: out.append(b)
            }
            i += 1
        }
    }

    static func appendDecimal(_ n: Int, to out: inout [UInt8]) {
        if n >= 10 { appendDecimal(n / 10, to: &out) }
        out.append(UInt8(ascii: "0") + UInt8(n % 10))
    }

    static func cleanSheetName(_ name: String) -> String {
        var cleaned = String(name.unicodeScalars.filter { !"[]:*?/\\".unicodeScalars.contains($0) && $0.value >= 0x20 })
        while cleaned.utf16.count > 31 { cleaned.removeLast() }
        while cleaned.hasPrefix("'") { cleaned.removeFirst() }
        while cleaned.hasSuffix("'") { cleaned.removeLast() }
        return cleaned.isEmpty || cleaned == "History" ? "Sheet1" : cleaned
    }

    // MARK: package parts

    private static let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    private static let officeRelationships = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    private static let header = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"

    private static let contentTypes = header + """
        <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
        <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
        <Default Extension="xml" ContentType="application/xml"/>\
        <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
        <Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
        <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
        </Types>
        """

    private static let packageRelationships = header + """
        <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
        <Relationship Id="rId1" Type="\(officeRelationships)/officeDocument" Target="xl/workbook.xml"/>\
        </Relationships>
        """

    private static func workbook(sheetName: String) -> String {
        header + """
            <workbook xmlns="\(main)" xmlns:r="\(officeRelationships)">\
            <bookViews><workbookView activeTab="0"/></bookViews>\
            <sheets><sheet name="\(sheetName)" sheetId="1" r:id="rId1"/></sheets>\
            </workbook>
            """
    }

    private static let workbookRelationships = header + """
        <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
        <Relationship Id="rId1" Type="\(officeRelationships)/worksheet" Target="worksheets/sheet1.xml"/>\
        <Relationship Id="rId2" Type="\(officeRelationships)/styles" Target="styles.xml"/>\
        </Relationships>
        """

    /// Style 0 default, 1 bold text (the header), 2 text ("@", so edited cells stay text).
    private static let styles = header + """
        <styleSheet xmlns="\(main)">\
        <fonts count="2"><font><sz val="11"/><name val="等线"/><family val="2"/><charset val="134"/></font>\
        <font><b/><sz val="11"/><name val="等线"/><family val="2"/><charset val="134"/></font></fonts>\
        <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
        <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
        <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
        <cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
        <xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyNumberFormat="1"/>\
        <xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>\
        <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
        </styleSheet>
        """

    private static let sheetStart = header + """
        <worksheet xmlns="\(main)" xmlns:r="\(officeRelationships)">\
        <sheetViews><sheetView tabSelected="1" workbookViewId="0">\
        <pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>\
        <selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>\
        <sheetFormatPr defaultColWidth="20" defaultRowHeight="15"/><sheetData>
        """
}
