import Crypto
import Foundation
import GridworkCore

/// Reads a residents file in pieces: an Excel workbook (XLSX, its first sheet),
/// or a CSV in UTF-8 (with or without BOM) or GB18030/GBK as Excel in China
/// writes it; yields records without holding the file in memory.
struct ImportFile {
    enum Encoding: String { case utf8 = "UTF-8", gb18030 = "GB18030", xlsx = "XLSX" }

    static let gb18030 = String.Encoding(rawValue: 0x8000_0632)
    static let chunkSize = 1 << 20

    let path: String
    let size: Int
    private let handle: FileHandle
    private var pending = Data()
    private var parser = CSVParser()
    private(set) var encoding: Encoding?
    private var csvBytesRead = 0
    private var finished = false
    /// Set for a workbook, recognised by the ZIP signature whatever the file is called.
    private var workbook: XLSXReader?

    var bytesRead: Int { workbook?.bytesRead ?? csvBytesRead }

    init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreError.invalid(field: path, reason: "无法读取文件 (cannot read the file)")
        }
        self.path = path
        self.handle = handle
        size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let signature = (try? handle.read(upToCount: 4)).map { [UInt8]($0) } ?? []
        try handle.seek(toOffset: 0)
        if signature == [0x50, 0x4B, 0x03, 0x04] {
            do { workbook = try XLSXReader(path: path) } catch {
                throw StoreError.invalid(field: "文件 (file)", reason: String(describing: error))
            }
            encoding = .xlsx
        } else if signature.starts(with: [0xD0, 0xCF, 0x11, 0xE0]) {
            throw StoreError.invalid(field: "文件 (file)", reason: "这是旧版Excel(.xls)文件,请在Excel中另存为.xlsx或CSV后再导入 (an old .xls workbook; save it as .xlsx or CSV)")
        }
    }

    /// SHA-256 of the whole file, so the same file resumes the same run.
    static func digest(path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreError.invalid(field: path, reason: "无法读取文件 (cannot read the file)")
        }
        defer { try? handle.close() }
        var hash = SHA256()
        while let data = try handle.read(upToCount: chunkSize), !data.isEmpty { hash.update(data: data) }
        return hash.finalize().hex
    }

    /// The next records (possibly none while a quoted field spans pieces); nil at the end.
    mutating func next() throws -> [[String]]? {
        if workbook != nil {
            do { return try workbook?.next() } catch { throw StoreError.invalid(field: "文件 (file)", reason: String(describing: error)) }
        }
        if finished { return nil }
        let data = try handle.read(upToCount: Self.chunkSize) ?? Data()
        csvBytesRead += data.count
        pending.append(data)
        let atEnd = data.isEmpty
        // Cut at the last newline: in UTF-8 and GB18030 a 0x0A byte is never inside a character.
        let cut = atEnd ? pending.endIndex : (pending.lastIndex(of: 0x0A).map { $0 + 1 } ?? pending.startIndex)
        var piece = pending[pending.startIndex..<cut]
        if encoding == nil, !piece.isEmpty || atEnd {
            if piece.starts(with: [0xEF, 0xBB, 0xBF]) { piece = piece.dropFirst(3); encoding = .utf8 }
            else { encoding = String(data: piece, encoding: .utf8) != nil ? .utf8 : .gb18030 }
        }
        var records: [[String]] = []
        if !piece.isEmpty {
            guard var text = String(data: piece, encoding: encoding == .utf8 ? .utf8 : Self.gb18030) else {
                throw StoreError.invalid(field: "编码 (encoding)",
                                         reason: "第\(bytesRead - data.count + 1)字节附近的内容不是\(encoding!.rawValue)编码,请另存为UTF-8或GBK的CSV (bytes near offset \(bytesRead - data.count) are not \(encoding!.rawValue))")
            }
            records = text.withUTF8 { parser.feed(bytes: $0) }
        }
        pending = Data(pending[cut...])
        if atEnd {
            finished = true
            try? handle.close()
            do {
                if let last = try parser.finish() { records.append(last) }
            } catch {
                throw StoreError.invalid(field: "第\(error.record)行 (row \(error.record))", reason: "引号未闭合,文件可能被截断 (a quoted field never ends)")
            }
        }
        return records
    }
}
