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
        var text = text
        return text.withUTF8 { feed(bytes: $0) }
    }

    /// Feeds the next piece as UTF-8 bytes (a piece may end anywhere, even inside a quoted field).
    /// Runs of plain bytes are found in one scan and, when a field is one such run, made into its
    /// String straight from the piece, not byte by byte through `field`.
    public mutating func feed(bytes: UnsafeBufferPointer<UInt8>) -> [[String]] {
        var out: [[String]] = []
        // A field that is so far one run of this piece, not yet copied.
        var direct: Range<Int>?
        func spill(_ direct: inout Range<Int>?, into field: inout [UInt8]) {
            if let run = direct { field.append(contentsOf: bytes[run]); direct = nil }
        }
        var i = 0
        let n = bytes.count
        while i < n {
            if inQuotes {
                var j = i
                while j < n, bytes[j] != 0x22 { j += 1 }
                field.append(contentsOf: bytes[i..<j])
                if j < n { inQuotes = false; quoteJustClosed = true; j += 1 }
                i = j
                continue
            }
            let byte = bytes[i]
            switch byte {
            case 0x22: // "
                spill(&direct, into: &field)
                if quoteJustClosed { field.append(byte); inQuotes = true; quoteJustClosed = false }
                else if !fieldStarted { inQuotes = true; fieldStarted = true }
                else { field.append(byte) }
                i += 1
                continue
            case 0x2C: // ,
                endField(bytes, &direct)
                i += 1
            case 0x0A: // LF (a CR before it is dropped below)
                endField(bytes, &direct)
                out.append(endRecord())
                i += 1
            case 0x0D:
                i += 1
            default:
                var j = i + 1
                while j < n {
                    let b = bytes[j]
                    if b == 0x2C || b == 0x0A || b == 0x0D || b == 0x22 { break }
                    j += 1
                }
                fieldStarted = true
                // Taken straight from the piece only when the field ends within it at a comma or line end.
                if field.isEmpty, direct == nil, j < n, bytes[j] != 0x22 { direct = i..<j } else {
                    spill(&direct, into: &field)
                    field.append(contentsOf: bytes[i..<j])
                }
                i = j
            }
            quoteJustClosed = false
        }
        spill(&direct, into: &field)
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

    private mutating func endField(_ piece: UnsafeBufferPointer<UInt8>, _ direct: inout Range<Int>?) {
        if let run = direct {
            record.append(String(decoding: UnsafeBufferPointer(rebasing: piece[run]), as: UTF8.self))
            direct = nil
            fieldStarted = false
            quoteJustClosed = false
        } else {
            endField()
        }
    }

    private mutating func endField() {
        record.append(String(decoding: field, as: UTF8.self))
        field.removeAll(keepingCapacity: true)
        fieldStarted = false
        quoteJustClosed = false
    }

    /// A blank line is a record of one empty cell: it is a row to Excel, and row numbers are Excel's (callers skip it).
    private mutating func endRecord() -> [String] {
        defer { record.removeAll(keepingCapacity: true) }
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
