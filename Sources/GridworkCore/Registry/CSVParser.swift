/// An RFC 4180 parser that takes text in pieces, so a 100 MB file is never
/// held whole. Quoted fields may hold commas, doubled quotes and newlines,
/// also across pieces.
public struct CSVParser: Sendable {
    // Works on UTF-8 bytes: the quote, comma, CR and LF never occur inside a multi-byte character.
    private var field: [UInt8] = []
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
        for byte in text.utf8 {
            if inQuotes {
                if byte == 0x22 { inQuotes = false; quoteJustClosed = true } else { field.append(byte) }
                continue
            }
            switch byte {
            case 0x22: // "
                if quoteJustClosed { field.append(byte); inQuotes = true; quoteJustClosed = false }
                else if !fieldStarted { inQuotes = true; fieldStarted = true }
                else { field.append(byte) }
                continue
            case 0x2C: // ,
                endField()
            case 0x0A: // LF (a CR before it is dropped below)
                endField()
                if let r = endRecord() { out.append(r) }
            case 0x0D:
                break
            default:
                fieldStarted = true
                field.append(byte)
            }
            quoteJustClosed = false
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
        record.append(String(decoding: field, as: UTF8.self))
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
