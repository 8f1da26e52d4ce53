import Foundation
import Testing
@testable import GridworkCore

// The two fixtures in Fixtures/ were written by real spreadsheet libraries (PyPI),
// with `pip install openpyxl==3.1.5 xlsxwriter==3.3.1` and this script:
//
//     import datetime, openpyxl, xlsxwriter
//     from openpyxl.cell.rich_text import CellRichText, TextBlock
//     from openpyxl.cell.text import InlineFont
//     # openpyxl 3.1 writes every string inline (t="inlineStr"), rich text as <is><r><t>.
//     wb = openpyxl.Workbook(); ws = wb.active; ws.title = "居民"
//     ws.append(["姓名", "身份证号", "性别", "出生日期", "手机号", None, "住址", "备注"])
//     ws.append(["王伟", "430524199005171234", "男", datetime.date(1990, 5, 17), 13800138000, None,
//                "湖南省隆回县桃洪镇, 3栋", CellRichText(["重点", TextBlock(InlineFont(b=True), "关注"), "&<人员>"])])
//     ws.append(["李娜", "43052419851203002X", "女", datetime.date(1985, 12, 3), 13912345678.0, None, "一单元\n二楼", True])
//     ws["D3"].number_format = 'yyyy"年"m"月"d"日"'
//     ws["A5"] = "张三"; ws["C5"] = 3.5; ws["D5"] = "=1+1"; ws["E5"] = -0.25
//     wb.create_sheet("其他")["A1"] = "不应读到"
//     wb.save("residents-openpyxl.xlsx")
//     # XlsxWriter writes a shared strings table, rich text inside it, and built-in date format 14.
//     wb = xlsxwriter.Workbook("residents-xlsxwriter.xlsx"); ws = wb.add_worksheet("居民")
//     bold = wb.add_format({"bold": True}); iso = wb.add_format({"num_format": 14})
//     cn = wb.add_format({"num_format": 'yyyy"年"m"月"d"日"'})
//     ws.write_row(0, 0, ["姓名", "身份证号", "性别", "出生日期", "手机号"]); ws.write(0, 6, "住址")
//     ws.write_string(1, 0, "王伟"); ws.write_string(1, 1, "430524199005171234"); ws.write_string(1, 2, "男")
//     ws.write_datetime(1, 3, datetime.datetime(1990, 5, 17), iso); ws.write_number(1, 4, 13800138000)
//     ws.write_rich_string(1, 6, "桃洪镇", bold, "3栋", ", 2单元")
//     ws.write_string(2, 0, "李娜"); ws.write_number(2, 1, 430524198512030021); ws.write_string(2, 2, "男")
//     ws.write_datetime(2, 3, datetime.datetime(1985, 12, 3, 14, 30), cn); ws.write_boolean(2, 4, False)
//     ws.write_string(4, 0, "=SUM(A1)"); ws.write_number(4, 1, 0.1)
//     wb.add_worksheet("其他").write(0, 0, "不应读到")
//     wb.close()

@Suite struct XLSXTests {
    // MARK: helpers

    /// A fresh directory for one test's files, removed by the caller's `defer`.
    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gridwork-xlsx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func fixture(_ name: String) throws -> String {
        try #require(Bundle.module.path(forResource: name, ofType: "xlsx", inDirectory: "Fixtures"))
    }

    /// Every row of the first sheet, checking batch sizes and progress on the way.
    static func readAll(_ path: String) throws -> [[String]] {
        var reader = try XLSXReader(path: path)
        var rows: [[String]] = []
        var progress = reader.bytesRead
        while let batch = try reader.next() {
            #expect(batch.count <= XLSXReader.batchSize)
            #expect(reader.bytesRead >= progress && reader.bytesRead <= reader.size)
            progress = reader.bytesRead
            rows += batch
        }
        #expect(reader.bytesRead == reader.size)
        #expect(try reader.next() == nil)
        return rows
    }

    static func write(_ rows: [[String]], to path: String, sheet: String = "居民") throws {
        var writer = try XLSXWriter(path: path, sheetName: sheet)
        for row in rows { try writer.append(row) }
        try writer.close()
    }

    /// One entry of a hand-built ZIP, stored (not compressed), with optional lies in its header.
    struct RawEntry {
        var name: String
        var data: [UInt8]
        var crc: UInt32?
        var declaredSize: UInt64?
        var flags: UInt16 = 0x0800

        init(_ name: String, _ text: String) { self.name = name; data = Array(text.utf8) }
        init(_ name: String, bytes: [UInt8]) { self.name = name; data = bytes }
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// A ZIP archive of stored entries, written byte by byte (ZIP64 extra field when a size claims > 4 GiB).
    static func rawZip(_ entries: [RawEntry]) -> [UInt8] {
        var out: [UInt8] = [], directory: [UInt8] = []
        for e in entries {
            let name = Array(e.name.utf8), offset = out.count
            let crc = Int(e.crc ?? crc32(e.data))
            let declared = e.declaredSize ?? UInt64(e.data.count)
            let size32 = declared > 0xFFFF_FFFE ? 0xFFFF_FFFF : Int(declared)
            out.le32(0x0403_4B50); out.le16(20); out.le16(Int(e.flags)); out.le16(0); out.le32(0)
            out.le32(crc); out.le32(e.data.count); out.le32(e.data.count); out.le16(name.count); out.le16(0)
            out += name + e.data
            var extra: [UInt8] = []
            if size32 == 0xFFFF_FFFF { extra.le16(1); extra.le16(8); extra.le32(Int(declared & 0xFFFF_FFFF)); extra.le32(Int(declared >> 32)) }
            directory.le32(0x0201_4B50); directory.le16(20); directory.le16(20); directory.le16(Int(e.flags)); directory.le16(0)
            directory.le32(0); directory.le32(crc); directory.le32(e.data.count); directory.le32(size32)
            directory.le16(name.count); directory.le16(extra.count); directory.le16(0); directory.le16(0); directory.le16(0)
            directory.le32(0); directory.le32(offset)
            directory += name + extra
        }
        let start = out.count
        out += directory
        out.le32(0x0605_4B50); out.le16(0); out.le16(0); out.le16(entries.count); out.le16(entries.count)
        out.le32(directory.count); out.le32(start); out.le16(0)
        return out
    }

    static let main = "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\""

    /// A minimal package around one sheet XML, found by the `xl/worksheets/sheet1.xml` fallback.
    static func package(sheet: String, sharedStrings: String? = nil) -> [RawEntry] {
        var entries = [RawEntry("xl/worksheets/sheet1.xml", sheet)]
        if let sharedStrings { entries.append(RawEntry("xl/sharedStrings.xml", sharedStrings)) }
        return entries
    }

    static func expectXLSXError(_ bytes: [UInt8], in dir: URL, _ comment: Comment, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = dir.appendingPathComponent("bad-\(UUID().uuidString).xlsx").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: XLSXError.self, comment, sourceLocation: sourceLocation) { _ = try readAll(path) }
    }

    // MARK: writer → reader

    @Test func roundTripKeepsEveryCellAsText() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("居民.xlsx").path
        let rows: [[String]] = [
            ["姓名", "身份证号", "手机号", "住址", "备注"],
            ["王伟", "430524199005171234", "13800138000", "湖南省隆回县, 桃洪镇\n3栋\"2\"单元", "=HYPERLINK(\"http://x\",\"点我\")"],
            ["", "43052419851203002X", "", "<b>&amp;</b> 'x' ]]>", "  前后有空格  "],
            ["tab\there", "cr\r\nlf", "_x0041_ 原样", "👨‍👩‍👧 表情", "\u{1}响铃\u{7}\u{FFFE}"],
            [],
            ["只有第一列"],
            ["", "", "", "", "只有最后一列", "", ""],
            ["+86 138", "-1", "@SUM(A1)", "000123", "1E5"],
        ]
        try Self.write(rows, to: path)
        let read = try Self.readAll(path)
        var expected = rows
        expected[3][4] = "响铃" // control characters and U+FFFE are not XML characters
        expected[6] = ["", "", "", "", "只有最后一列"] // trailing empty cells are not kept
        #expect(read == expected)

        var reader = try XLSXReader(path: path)
        #expect(reader.sheetName == "居民")
        #expect(try reader.next()?.first == rows[0])
    }

    @Test func writerOutputIsAPlainInlineStringSheetWithFrozenBoldHeader() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("out.xlsx").path
        try Self.write([["身份证号"], ["=1+1"]], to: path, sheet: "a/b[c]:d*e?f\\居民名单超过三十一个字符的工作表名称会被截断的部分内容")
        let archive = try ZipArchive(path: path)
        #expect(Set(archive.entries.map(\.name)) == ["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml",
                                                      "xl/_rels/workbook.xml.rels", "xl/styles.xml", "xl/worksheets/sheet1.xml"])
        let sheet = try #require(archive.entry(named: "xl/worksheets/sheet1.xml"))
        #expect(sheet.method == 8)
        let xml = String(decoding: try archive.contents(of: sheet, maxBytes: 1 << 20), as: UTF8.self)
        #expect(xml.contains("<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>"))
        #expect(xml.contains("<c r=\"A1\" s=\"1\" t=\"inlineStr\"><is><t>身份证号</t></is></c>"))
        #expect(xml.contains("<c r=\"A2\" s=\"2\" t=\"inlineStr\"><is><t>=1+1</t></is></c>"))
        #expect(!xml.contains("<f>"))
        let reader = try XLSXReader(path: path)
        #expect(reader.sheetName == "abcdef居民名单超过三十一个字符的工作表名称会被截断的部分")
        #expect(reader.sheetName.utf16.count == 31)
    }

    @Test func writerRefusesWhatExcelCannotHold() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        var writer = try XLSXWriter(path: dir.appendingPathComponent("x.xlsx").path, sheetName: "x")
        #expect(throws: XLSXError.self) { try writer.append([String(repeating: "长", count: 32_768)]) }
        #expect(throws: XLSXError.self) { try writer.append(Array(repeating: "x", count: 16_385)) }
        try writer.close()
        try writer.close() // a second close does nothing
        #expect(throws: XLSXError.self) { try writer.append(["late"]) }
    }

    // MARK: files from real spreadsheet libraries

    @Test func readsOpenpyxlInlineStringsRichTextDatesAndNumbers() throws {
        let rows = try Self.readAll(try Self.fixture("residents-openpyxl"))
        #expect(rows == [
            ["姓名", "身份证号", "性别", "出生日期", "手机号", "", "住址", "备注"],
            ["王伟", "430524199005171234", "男", "1990-05-17", "13800138000", "", "湖南省隆回县桃洪镇, 3栋", "重点关注&<人员>"],
            ["李娜", "43052419851203002X", "女", "1985-12-03", "13912345678", "", "一单元\n二楼", "TRUE"],
            [], // row 4 is not in the file
            ["张三", "", "3.5", "", "-0.25"], // D5 is a formula with no cached value
        ])
    }

    @Test func readsXlsxWriterSharedStringsAndTheFirstSheetOnly() throws {
        let path = try Self.fixture("residents-xlsxwriter")
        let rows = try Self.readAll(path)
        #expect(rows == [
            ["姓名", "身份证号", "性别", "出生日期", "手机号", "", "住址"],
            ["王伟", "430524199005171234", "男", "1990-05-17", "13800138000", "", "桃洪镇3栋, 2单元"],
            // An ID typed as a number has already lost its last digits in Excel; we show what Excel shows.
            ["李娜", "430524198512030000", "男", "1985-12-03", "FALSE"],
            [],
            ["=SUM(A1)", "0.1"],
        ])
        #expect(try XLSXReader(path: path).sheetName == "居民")
    }

    // MARK: the SpreadsheetML subset, by hand

    @Test func handWrittenWorkbookWithPrefixesGapsRichTextAnd1904Dates() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ns = "xmlns:x=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\""
        let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        let entries = [
            RawEntry("_rels/.rels", """
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
                <Relationship Id="rId1" Type="\(rel)/officeDocument" Target="/xl/workbook.xml"/></Relationships>
                """),
            RawEntry("xl/workbook.xml", """
                <?xml version="1.0" encoding="UTF-8"?>
                <x:workbook \(ns)><x:workbookPr date1904="true"/><x:sheets>
                <x:sheet name="图表" sheetId="3" r:id="rId3"/><x:sheet name="第二" sheetId="2" r:id="rId2"/>
                <x:sheet name="第一" sheetId="1" r:id="rId1"/></x:sheets></x:workbook>
                """),
            RawEntry("xl/_rels/workbook.xml.rels", """
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
                <Relationship Id="rId1" Type="\(rel)/worksheet" Target="worksheets/sheet1.xml"/>
                <Relationship Id="rId2" Type="\(rel)/worksheet" Target="./worksheets/../worksheets/sheet2.xml"/>
                <Relationship Id="rId3" Type="\(rel)/chartsheet" Target="chartsheets/sheet1.xml"/>
                <Relationship Id="rId4" Type="\(rel)/sharedStrings" Target="strings.xml"/>
                <Relationship Id="rId5" Type="\(rel)/styles" Target="styles.xml"/></Relationships>
                """),
            RawEntry("xl/strings.xml", "\u{FEFF}<?xml version=\"1.0\"?><!-- strings --><sst \(Self.main)>"
                     + "<si><t xml:space=\"preserve\"> 甲 </t></si>"
                     + "<si><r><t>乙</t></r><r><rPr><b/></rPr><t>丙</t></r><rPh sb=\"0\" eb=\"1\"><t>ヨミ</t></rPh></si>"
                     + "<si/><si><t>_x000D_a_x005F_x0041_</t></si></sst>"),
            RawEntry("xl/styles.xml", """
                <styleSheet \(Self.main)><numFmts count="3">
                <numFmt numFmtId="200" formatCode="[$-804]yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/>
                <numFmt numFmtId="201" formatCode="0.00&quot;m&quot;"/><numFmt numFmtId="202" formatCode="[Red]0.00"/></numFmts>
                <cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs>
                <cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="200"/><xf numFmtId="201"/><xf numFmtId="14"/><xf numFmtId="202"/></cellXfs>
                </styleSheet>
                """),
            RawEntry("xl/worksheets/sheet1.xml", "<worksheet \(Self.main)><sheetData><row r=\"1\"><c t=\"inlineStr\"><is><t>不应读到</t></is></c></row></sheetData></worksheet>"),
            RawEntry("xl/worksheets/sheet2.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <!-- a <row> in a comment is not a row -->
                <x:worksheet \(ns)><x:dimension ref="A2:AA7"/>
                <x:sheetData>
                <x:row r="2"><x:c r="B2" t="s"><x:v>0</x:v></x:c><x:c r="D2" t="s"><x:v>1</x:v></x:c></x:row>
                <x:row r="3"/>
                <x:row r="5" spans="1:5"><x:c t="inlineStr"><x:is><x:t>a&amp;b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#20013;&#x6587; &bogus; & x</x:t></x:is></x:c><x:c s="1"><x:v>0</x:v></x:c><x:c s="2"><x:v>12.50</x:v></x:c><x:c s="3" t="n"><x:v>1.5E3</x:v></x:c><x:c s="4"><x:v>1E-3</x:v></x:c></x:row>
                <x:row><x:c r="A6" t="b"><x:v>0</x:v></x:c><x:c r="C6"/><x:c r="E6" t="e"><x:v>#N/A</x:v></x:c><x:c r="F6" t="str"><x:f>A1&amp;"x"</x:f><x:v>计算结果</x:v></x:c><x:c r="G6" t="inlineStr"><x:is><x:t><![CDATA[<raw & text>]]></x:t></x:is></x:c></x:row>
                <x:row r="7"><x:c r="AA7" t="inlineStr"><x:is><x:r><x:t>AA</x:t></x:r><x:r><x:t>列</x:t></x:r></x:is></x:c><x:c r="B7" t="s"><x:v>3</x:v></x:c><x:c r="C7" t="s"><x:v>2</x:v></x:c></x:row>
                </x:sheetData></x:worksheet>
                """),
        ]
        let path = dir.appendingPathComponent("hand.xlsx").path
        try Data(Self.rawZip(entries)).write(to: URL(fileURLWithPath: path))
        let rows = try Self.readAll(path)
        var row7 = ["", "\ra_x0041_"] + Array(repeating: "", count: 24)
        row7.append("AA列")
        #expect(rows == [
            [],
            ["", " 甲 ", "", "乙丙"],
            [],
            [],
            // 1904 system: serial 0 is 1904-01-01, 1500 is 1908-02-09; "0.00\"m\"" and "[Red]0.00" are not dates.
            ["a&b <c> \"d\" 'e' 中文 &bogus; & x", "1904-01-01", "12.5", "1908-02-09", "0.001"],
            ["FALSE", "", "", "", "#N/A", "计算结果", "<raw & text>"],
            row7,
        ])
        #expect(try XLSXReader(path: path).sheetName == "第二")
    }

    @Test func numbersShowAsExcelShowsThem() {
        func n(_ s: String) -> String { CellText.number(Array(s.utf8)) }
        #expect(n("13800138000") == "13800138000")
        #expect(n("4.30524198001011E+17") == "430524198001011000")
        #expect(n("13912345678.0") == "13912345678")
        #expect(n("2.50") == "2.5")
        #expect(n("-0.25") == "-0.25")
        #expect(n("1.5E-3") == "0.0015")
        #expect(n("-0.0") == "0")
        #expect(n("0.30000000000000004") == "0.30000000000000004")
        #expect(n("1E+400") == "1E+400")
        #expect(n("abc") == "abc")
    }

    @Test func dateSerialsFollowExcel() {
        func d(_ serial: Double, _ date1904: Bool = false) -> String? { CellText.date(serial: serial, date1904: date1904) }
        #expect(d(1) == "1900-01-01")
        #expect(d(59) == "1900-02-28")
        #expect(d(60) == "1900-02-29") // Excel's phantom leap day
        #expect(d(61) == "1900-03-01")
        #expect(d(33010) == "1990-05-17")
        #expect(d(45000.75) == "2023-03-15")
        #expect(d(45000.9999999999) == "2023-03-16") // a hair under midnight rounds, as Excel does
        #expect(d(2_958_465) == "9999-12-31")
        #expect(d(0, true) == "1904-01-01")
        #expect(d(-1) == nil)
        #expect(d(3_000_000) == nil)
        #expect(CellText.isDateFormat(id: 14, code: nil))
        #expect(!CellText.isDateFormat(id: 49, code: nil))
        #expect(CellText.isDateFormat(id: 176, code: "yyyy\"年\"m\"月\"d\"日\""))
        #expect(!CellText.isDateFormat(id: 177, code: "#,##0.00\"元\";[Red]-#,##0.00"))
        #expect(!CellText.isDateFormat(id: 178, code: "General"))
    }

    @Test func columnLetters() {
        func c(_ s: String) -> Int? { Array(s.utf8).withUnsafeBufferPointer { CellText.column(ofReference: $0) } }
        #expect(c("A1") == 0)
        #expect(c("Z9") == 25)
        #expect(c("AA10") == 26)
        #expect(c("$B$2") == 1)
        #expect(c("XFD1") == 16_383)
        #expect(c("XFE1") == nil)
        #expect(c("12") == nil)
        for i in [0, 25, 26, 701, 702, 16_383] {
            #expect(Array(CellText.columnName(i)).withUnsafeBufferPointer { CellText.column(ofReference: $0) } == i)
        }
        #expect(CellText.columnName(27) == Array("AB".utf8))
    }

    // MARK: bad input

    @Test func malformedFilesThrowXLSXError() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("good.xlsx").path
        try Self.write((0..<300).map { ["行\($0)", "430524199005171234", String(repeating: "地址", count: $0 % 7)] }, to: good)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: good)))
        let sheet = "<worksheet \(Self.main)><sheetData><row r=\"1\"><c t=\"inlineStr\"><is><t>x</t></is></c></row></sheetData></worksheet>"

        try Self.expectXLSXError([], in: dir, "empty file")
        try Self.expectXLSXError(Array(bytes[..<(bytes.count / 2)]), in: dir, "cut in half")
        try Self.expectXLSXError(Array(bytes.dropLast(10)), in: dir, "end record cut")
        var flipped = bytes
        if let at = Self.offsetOfData(named: "xl/worksheets/sheet1.xml", in: bytes) { flipped[at + 40] ^= 0x55 }
        try Self.expectXLSXError(flipped, in: dir, "a flipped byte in the deflated sheet")
        var lcg: UInt64 = 42
        let garbage = (0..<10_000).map { _ in lcg = lcg &* 6364136223846793005 &+ 1442695040888963407; return UInt8(lcg >> 56) }
        try Self.expectXLSXError(garbage, in: dir, "garbage")
        try Self.expectXLSXError([0x50, 0x4B, 0x03, 0x04] + garbage, in: dir, "garbage after a ZIP signature")
        try Self.expectXLSXError([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] + garbage, in: dir, "legacy .xls")
        try Self.expectXLSXError(Array("姓名,身份证号\n王伟,430524199005171234\n".utf8), in: dir, "a CSV file")
        try Self.expectXLSXError(Self.rawZip([RawEntry("word/document.xml", "<w/>")]), in: dir, "a ZIP without a worksheet")

        var wrongCRC = Self.package(sheet: sheet)
        wrongCRC[0].crc = 0x1234_5678
        try Self.expectXLSXError(Self.rawZip(wrongCRC), in: dir, "wrong CRC")
        var encrypted = Self.package(sheet: sheet)
        encrypted[0].flags |= 1
        try Self.expectXLSXError(Self.rawZip(encrypted), in: dir, "encrypted entry")
        var tenGigabytes = Self.package(sheet: sheet)
        tenGigabytes[0].declaredSize = 10 << 30
        try Self.expectXLSXError(Self.rawZip(tenGigabytes), in: dir, "an entry claiming 10 GB")
        var understated = Self.package(sheet: sheet)
        understated[0].declaredSize = 10
        try Self.expectXLSXError(Self.rawZip(understated), in: dir, "a stored entry with more data than the directory says")
        var shortDeflated = bytes
        if let at = Self.offsetOfDirectoryEntry(named: "xl/worksheets/sheet1.xml", in: bytes) {
            shortDeflated.replaceSubrange((at + 24)..<(at + 28), with: [100, 0, 0, 0])
        }
        try Self.expectXLSXError(shortDeflated, in: dir, "a deflated entry inflating past its declared size")

        for (xml, why) in [
            ("<worksheet><sheetData><row><c></row></sheetData></worksheet>", "mismatched tags"),
            ("<worksheet><sheetData><row r=\"1\"><c t=\"inlineStr\"><is><t>x</t></is></c>", "unclosed elements"),
            ("<worksheet><sheetData><row r=\"1\"><c t=\"inlineStr\"><is><t>x</t></is></c></row></sheetData></worksheet", "unterminated tag"),
            ("<!DOCTYPE x [<!ENTITY a \"aaaa\">]><worksheet><sheetData/></worksheet>", "a DOCTYPE"),
            ("<worksheet><sheetData><row r=\"1\"><c t=\"s\"><v>7</v></c></row></sheetData></worksheet>", "a shared string that does not exist"),
            ("<worksheet><sheetData><row r=\"9999999\"/></sheetData></worksheet>", "a row number past Excel's last row"),
            ("<worksheet><sheetData><row><c r=\"ZZZZ1\"/></row></sheetData></worksheet>", "a column past XFD"),
            ("<worksheet><cols/></worksheet>", "no sheetData"),
            ("not xml at all", "text"),
            ("<worksheet><sheetData/></worksheet><worksheet/>", "two roots"),
        ] {
            try Self.expectXLSXError(Self.rawZip(Self.package(sheet: xml)), in: dir, Comment(rawValue: why))
        }
        try Self.expectXLSXError(Self.rawZip(Self.package(sheet: sheet, sharedStrings: "<sst><si><t>x</sst>")), in: dir, "bad shared strings")
    }

    @Test func aDeflateBombIsRefusedBeforeInflating() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bomb.xlsx").path
        // 32 MiB of one byte deflates about 1000:1, which no real sheet does.
        let zip = try ZipWriter(path: path)
        try zip.add("xl/worksheets/sheet1.xml", [UInt8](repeating: 0x20, count: 32 << 20))
        try zip.finish()
        let size = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(size < 64 << 10)
        #expect(throws: XLSXError.tooLarge("xl/worksheets/sheet1.xml")) { _ = try XLSXReader(path: path) }
    }

    @Test func aLongGapOfMissingRowsComesOutInBatches() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("gap.xlsx").path
        let sheet = "<worksheet \(Self.main)><sheetData><row r=\"1\"><c t=\"inlineStr\"><is><t>头</t></is></c></row>"
            + "<row r=\"5001\"><c t=\"inlineStr\"><is><t>尾</t></is></c></row></sheetData></worksheet>"
        try Data(Self.rawZip(Self.package(sheet: sheet))).write(to: URL(fileURLWithPath: path))
        var reader = try XLSXReader(path: path)
        var sizes: [Int] = [], rows: [[String]] = []
        while let batch = try reader.next() { sizes.append(batch.count); rows += batch }
        #expect(sizes == [2_000, 2_000, 1_001])
        #expect(rows.count == 5_001 && rows.first == ["头"] && rows.last == ["尾"])
        #expect(rows.dropFirst().dropLast().allSatisfy { $0.isEmpty })
    }

    @Test func anEmptySheetHasNoRows() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("empty.xlsx").path
        try Data(Self.rawZip(Self.package(sheet: "<worksheet \(Self.main)><sheetData/></worksheet>"))).write(to: URL(fileURLWithPath: path))
        #expect(try Self.readAll(path).isEmpty)
        var writer = try XLSXWriter(path: path, sheetName: "空")
        try writer.close()
        #expect(try Self.readAll(path).isEmpty)
    }

    // MARK: size

    @Test func twoHundredThousandRowsStreamThroughBothWays() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("big.xlsx").path
        let count = 200_000
        var writer = try XLSXWriter(path: path, sheetName: "居民")
        try writer.append(["姓名", "身份证号", "手机号", "住址"])
        for i in 0..<count {
            try writer.append(["居民\(i)", "4305241990\(String(i).leftPadded(to: 8))", "138\(String(i).leftPadded(to: 8))", "桃洪镇\(i % 97)栋"])
        }
        try writer.close()
        #expect(writer.rowsWritten == count + 1)

        var reader = try XLSXReader(path: path)
        var rows = 0, batches = 0
        var last: [String] = []
        while let batch = try reader.next() {
            #expect(batch.count <= XLSXReader.batchSize)
            for row in batch {
                if rows == 123_457 { #expect(row == ["居民123456", "430524199000123456", "13800123456", "桃洪镇72栋"]) }
                rows += 1
            }
            last = batch.last ?? last
            batches += 1
        }
        #expect(rows == count + 1)
        #expect(batches >= count / XLSXReader.batchSize)
        #expect(last == ["居民199999", "430524199000199999", "13800199999", "桃洪镇82栋"])
        #expect(reader.bytesRead == reader.size)
    }
}

extension XLSXTests {
    /// Where an entry's central directory record starts.
    static func offsetOfDirectoryEntry(named name: String, in bytes: [UInt8]) -> Int? {
        let needle = Array(name.utf8)
        var i = 0
        while i + 46 + needle.count <= bytes.count {
            if bytes[i] == 0x50, bytes[i + 1] == 0x4B, bytes[i + 2] == 1, bytes[i + 3] == 2,
               Array(bytes[(i + 46)..<(i + 46 + needle.count)]) == needle {
                return i
            }
            i += 1
        }
        return nil
    }

    /// Where an entry's data starts in a ZIP written by `ZipWriter` (no extra fields).
    static func offsetOfData(named name: String, in bytes: [UInt8]) -> Int? {
        let needle = Array(name.utf8)
        var i = 0
        while i + 30 + needle.count <= bytes.count {
            if bytes[i] == 0x50, bytes[i + 1] == 0x4B, bytes[i + 2] == 3, bytes[i + 3] == 4,
               Array(bytes[(i + 30)..<(i + 30 + needle.count)]) == needle {
                return i + 30 + needle.count
            }
            i += 1
        }
        return nil
    }
}
