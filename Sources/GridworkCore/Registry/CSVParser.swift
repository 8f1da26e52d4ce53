/// An RFC 4180 parser that takes text in pieces, so a 100 MB file is never
/// held whole. Quoted fields may hold commas, doubled quotes and newlines,
/// also across pieces.
public struct CSVParser: Sendable {
    private var field: [Character] = []
    private var record: [String] = []
    private var inQuotes = false
    private var quoteJustClosed = false
    private var fieldStarted = false
    /// Records completed so far (including the header), for row numbers.
    public private(set) var recordsRead = 0

    public init() {}

    /// Feeds the next piece of text; returns the records it completed.
    public mutating func feed(_ text: Substring) -> [[String]] {
        var out: [[String]] = []
        for c in text {
            if inQuotes {
                if c == "\"" { inQuotes = false; quoteJustClosed = true } else { field.append(c) }
                continue
            }
            switch c {
            case "\"":
                if quoteJustClosed { field.append("\""); inQuotes = true; quoteJustClosed = false }
                else if !fieldStarted { inQuotes = true; fieldStarted = true }
                else { field.append(c) }
            case ",":
                endField()
            case "\n", "\r\n":
                endField()
                if let r = endRecord() { out.append(r) }
            case "\r":
                break
            default:
                quoteJustClosed = false
                fieldStarted = true
                field.append(c)
            }
            if c != "\"" { quoteJustClosed = false }
        }
        return out
    }

    /// Ends the input: the last record, or an error for a quote left open.
    public mutating func finish() throws(Unterminated) -> [String]? {
        if inQuotes { throw Unterminated(record: recordsRead + 1) }
        if fieldStarted || !record.isEmpty { endField(); return endRecord() }
        return nil
    }

    public struct Unterminated: Error, Equatable, Sendable {
        /// The 1-based record (counting the header) whose quote never closed.
        public let record: Int
    }

    private mutating func endField() {
        record.append(String(field))
        field.removeAll(keepingCapacity: true)
        fieldStarted = false
        quoteJustClosed = false
    }

    private mutating func endRecord() -> [String]? {
        defer { record.removeAll(keepingCapacity: true) }
        // A blank line is no record.
        if record.count == 1 && record[0].isEmpty { return nil }
        recordsRead += 1
        return record
    }
}

/// Cells that a spreadsheet would run as a formula (CSV injection).
public enum SpreadsheetSafety {
    public static func looksLikeFormula(_ cell: String) -> Bool {
        guard let first = cell.first else { return false }
        return "=+-@".contains(first) || first == "\t" || first == "\r"
    }

    /// Neutralises a cell for export: a leading apostrophe makes Excel show it as text.
    public static func neutralised(_ cell: String) -> String {
        looksLikeFormula(cell) ? "'" + cell : cell
    }

    /// One CSV field, quoted when it must be.
    public static func csvField(_ cell: String) -> String {
        let safe = neutralised(cell)
        guard safe.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return safe }
        var quoted = "\""
        for c in safe { quoted.append(c); if c == "\"" { quoted.append("\"") } }
        return quoted + "\""
    }
}
