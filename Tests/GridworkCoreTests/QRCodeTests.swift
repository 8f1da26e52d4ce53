import Foundation
import GridworkCore
import Testing

// Fixtures/qr-reference.txt was written by the `qrcode` package from PyPI (one byte-mode segment, level M, the
// mask given, no quiet zone): a header "# MASK VERSION TEXT" and the symbol's rows, 1 for dark.
@Suite struct QRCodeTests {
    struct Reference { let mask: Int; let version: Int; let text: String; let rows: [String] }

    static func references() throws -> [Reference] {
        let path = try #require(Bundle.module.path(forResource: "qr-reference", ofType: "txt", inDirectory: "Fixtures"))
        var out: [Reference] = []
        for block in try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "# ").dropFirst() {
            let lines = block.split(separator: "\n", omittingEmptySubsequences: false)
            let head = lines[0].split(separator: " ", maxSplits: 2)
            out.append(Reference(mask: Int(head[0])!, version: Int(head[1])!, text: String(head[2]),
                                 rows: lines.dropFirst().map(String.init).filter { !$0.isEmpty }))
        }
        return out
    }

    @Test func symbolsMatchAnIndependentEncoderModuleForModule() throws {
        let refs = try Self.references()
        #expect(refs.map(\.version) == [1, 4, 5, 9])   // 9 carries version information
        for r in refs {
            let qr = try QRCode(r.text, mask: r.mask)
            #expect(qr.version == r.version && qr.size == r.rows.count)
            let rows = (0..<qr.size).map { y in String((0..<qr.size).map { qr[$0, y] ? "1" : "0" }) }
            #expect(rows == r.rows, "\(r.text)")
        }
    }

    @Test func theMaskWithTheLowestPenaltyIsChosenAndTheSVGDrawsEveryDarkModule() throws {
        let qr = try QRCode("http://127.0.0.1:8080/directory/buildings/430524001001001001")
        #expect((0..<8).contains(qr.mask) && qr.version == 4)
        let svg = qr.svg(pixelsPerModule: 4)
        #expect(svg.hasPrefix("<svg") && svg.contains("viewBox=\"0 0 41 41\"") && svg.contains("width=\"164\""))
        // Each run of dark modules is one "h" segment; together they cover every dark module.
        let widths = svg.split(separator: "h").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
        #expect(widths.reduce(0, +) == qr.modules.filter { $0 }.count)
        #expect(throws: QRCode.Failure.tooLong(bytes: 300)) { try QRCode(String(repeating: "a", count: 300)) }
    }
}
