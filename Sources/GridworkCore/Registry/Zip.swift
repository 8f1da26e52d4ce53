import CZlib
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// A small ZIP reader and writer, just enough for XLSX packages. Everything a
// file claims (offsets, sizes, counts) is checked before it is trusted: an
// import file comes from outside, so a bad one must throw, never crash or
// swallow the machine's memory.

/// One file in a ZIP archive, as its central directory describes it.
struct ZipEntry: Sendable, Equatable {
    let name: String
    let method: UInt16
    let flags: UInt16
    let crc32: UInt32
    let compressedSize: Int
    let uncompressedSize: Int
    let localHeaderOffset: Int
}

/// Limits that keep a hostile archive from exhausting memory or disk.
struct ZipLimits: Sendable {
    /// The most one entry may inflate to.
    var maxEntryBytes = 2 << 30
    /// Above `ratioFloor` bytes, the most an entry may claim to expand by.
    /// Deflate cannot do better than about 1032:1, so a claim past 1000:1 is a bomb or a lie.
    var maxRatio = 1000
    var ratioFloor = 16 << 20
    /// The most entries, and the largest central directory, we will read.
    var maxEntries = 100_000
    var maxDirectoryBytes = 64 << 20
}

// MARK: - File access

/// An open file descriptor, closed when the last reference goes.
final class ZipFileHandle {
    let fd: Int32
    let size: Int

    init(readingAtPath path: String) throws(XLSXError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { close(fd); throw .cannotOpen(path) }
        self.fd = fd
        size = Int(st.st_size)
    }

    deinit { close(fd) }

    /// Reads exactly `count` bytes at `offset` into `buffer`, or throws on a short file.
    func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int) throws(XLSXError) {
        var done = 0
        while done < count {
            let n = pread(fd, buffer + done, count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw n == 0 ? .truncated : .readFailed }
            done += n
        }
    }

    func read(count: Int, at offset: Int) throws(XLSXError) -> [UInt8] {
        guard count >= 0, offset >= 0, offset <= size, count <= size - offset else { throw .truncated }
        var bytes = [UInt8](repeating: 0, count: count)
        if count == 0 { return bytes }
        var failure: XLSXError?
        bytes.withUnsafeMutableBytes { raw in
            do throws(XLSXError) { try read(into: raw.baseAddress!, count: count, at: offset) } catch { failure = error }
        }
        if let failure { throw failure }
        return bytes
    }
}

/// Little-endian field access with bounds checks; a short buffer reads as zero and sets `overrun`.
struct LittleEndianReader {
    let bytes: [UInt8]
    var position: Int
    private(set) var overrun = false

    init(_ bytes: [UInt8], at position: Int = 0) { self.bytes = bytes; self.position = position }

    mutating func u16() -> Int {
        guard position >= 0, position + 2 <= bytes.count else { overrun = true; return 0 }
        defer { position += 2 }
        return Int(bytes[position]) | Int(bytes[position + 1]) << 8
    }

    mutating func u32() -> Int { let lo = u16(); return lo | u16() << 16 }
    mutating func u64() -> UInt64 { let lo = UInt64(u32()); return lo | UInt64(u32()) << 32 }
    mutating func skip(_ n: Int) { position += n }

    mutating func take(_ n: Int) -> ArraySlice<UInt8> {
        guard n >= 0, position >= 0, position + n <= bytes.count else { overrun = true; return [] }
        defer { position += n }
        return bytes[position..<position + n]
    }
}

// MARK: - Reader

/// A ZIP archive opened for reading: the central directory is parsed up front,
/// entry data is read on demand.
final class ZipArchive {
    let file: ZipFileHandle
    let entries: [ZipEntry]
    let limits: ZipLimits
    /// Where entry data must end: the start of the central directory.
    private let dataLimit: Int

    init(path: String, limits: ZipLimits = ZipLimits()) throws(XLSXError) {
        file = try ZipFileHandle(readingAtPath: path)
        self.limits = limits
        guard file.size >= 22 else { throw file.size == 0 ? .empty : .notZip }
        let head = try file.read(count: min(8, file.size), at: 0)
        // Legacy .xls files and password-protected .xlsx files are both OLE2 compound files.
        if head.starts(with: [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) { throw .legacyOrEncrypted }

        // The end-of-central-directory record sits in the last 22 + up to 65,535 (comment) bytes.
        let tailCount = min(file.size, 22 + 0xFFFF)
        let tailStart = file.size - tailCount
        let tail = try file.read(count: tailCount, at: tailStart)
        var eocd = -1
        var i = tail.count - 22
        while i >= 0 {
            if tail[i] == 0x50, tail[i + 1] == 0x4B, tail[i + 2] == 0x05, tail[i + 3] == 0x06 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw head.starts(with: [0x50, 0x4B]) ? .truncated : .notZip }
        var r = LittleEndianReader(tail, at: eocd + 4)
        let disk = r.u16(), cdDisk = r.u16()
        var count = r.u16()
        _ = r.u16()
        var cdSize = r.u32(), cdOffset = r.u32()
        guard disk == 0, cdDisk == 0 else { throw .unsupported("分卷压缩包", "multi-volume archive") }

        // ZIP64: a locator 20 bytes before the classic record points at the 64-bit one.
        let locatorAt = tailStart + eocd - 20
        if locatorAt >= 0 {
            var loc = LittleEndianReader(try file.read(count: 20, at: locatorAt))
            if loc.u32() == 0x0706_4B50 {
                loc.skip(4)
                let recordAt = loc.u64()
                guard recordAt < UInt64(file.size) else { throw .corrupt("ZIP64目录位置无效", "bad ZIP64 directory offset") }
                var rec = LittleEndianReader(try file.read(count: 56, at: Int(recordAt)))
                guard rec.u32() == 0x0606_4B50 else { throw .corrupt("ZIP64目录记录无效", "bad ZIP64 end record") }
                rec.skip(8 + 2 + 2 + 4 + 4 + 8)
                let count64 = rec.u64(), size64 = rec.u64(), offset64 = rec.u64()
                guard count64 <= UInt64(limits.maxEntries), size64 <= UInt64(file.size), offset64 <= UInt64(file.size) else {
                    throw .corrupt("ZIP64目录超出文件范围", "ZIP64 directory out of range")
                }
                count = Int(count64); cdSize = Int(size64); cdOffset = Int(offset64)
            }
        }
        guard count <= limits.maxEntries, cdSize <= limits.maxDirectoryBytes else {
            throw .corrupt("压缩包条目过多", "too many entries")
        }
        guard cdOffset + cdSize <= file.size else { throw .truncated }
        dataLimit = cdOffset

        let directory = try file.read(count: cdSize, at: cdOffset)
        var d = LittleEndianReader(directory)
        var entries: [ZipEntry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            guard d.u32() == 0x0201_4B50 else { throw .corrupt("中央目录损坏", "bad central directory") }
            d.skip(4) // versions
            let flags = d.u16(), method = d.u16()
            d.skip(4) // time, date
            let crc = d.u32()
            var compressed = d.u32(), uncompressed = d.u32()
            let nameLength = d.u16(), extraLength = d.u16(), commentLength = d.u16()
            d.skip(2 + 2 + 4) // disk, internal and external attributes
            var offset = d.u32()
            let name = d.take(nameLength)
            var extra = LittleEndianReader(Array(d.take(extraLength)))
            d.skip(commentLength)
            guard !d.overrun else { throw .corrupt("中央目录损坏", "bad central directory") }
            // A ZIP64 extra field holds, in order, whichever of the three fields overflowed.
            if uncompressed == 0xFFFF_FFFF || compressed == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
                var found = false
                while !extra.overrun, extra.position + 4 <= extra.bytes.count {
                    let id = extra.u16(), length = extra.u16()
                    guard id == 0x0001 else { extra.skip(length); continue }
                    func next(_ value: inout Int) {
                        guard value == 0xFFFF_FFFF else { return }
                        let v = extra.u64()
                        value = v > UInt64(Int.max / 2) ? Int.max / 2 : Int(v)
                    }
                    next(&uncompressed); next(&compressed); next(&offset)
                    found = !extra.overrun
                    break
                }
                guard found else { throw .corrupt("ZIP64扩展字段缺失", "missing ZIP64 extra field") }
            }
            entries.append(ZipEntry(name: String(decoding: name, as: UTF8.self), method: UInt16(method), flags: UInt16(flags),
                                    crc32: UInt32(crc), compressedSize: compressed, uncompressedSize: uncompressed,
                                    localHeaderOffset: offset))
        }
        self.entries = entries
    }

    /// The entry with this name; failing an exact match, one that differs only in letter case.
    func entry(named name: String) -> ZipEntry? {
        if let e = entries.first(where: { $0.name == name }) { return e }
        let lower = name.lowercased()
        return entries.first { $0.name.lowercased() == lower }
    }

    /// Opens an entry for streaming, after checking it against the limits.
    func open(_ entry: ZipEntry, maxBytes: Int? = nil) throws(XLSXError) -> ZipEntryStream {
        if entry.flags & 0x41 != 0 { throw .encrypted }
        guard entry.method == 0 || entry.method == 8 else {
            throw .unsupported("压缩方式\(entry.method)", "compression method \(entry.method)")
        }
        let cap = min(maxBytes ?? limits.maxEntryBytes, limits.maxEntryBytes)
        guard entry.uncompressedSize <= cap else { throw .tooLarge(entry.name) }
        if entry.uncompressedSize > limits.ratioFloor,
           entry.uncompressedSize / max(entry.compressedSize, 1) > limits.maxRatio { throw .tooLarge(entry.name) }
        if entry.method == 0, entry.compressedSize != entry.uncompressedSize {
            throw .corrupt("条目大小不一致", "stored entry sizes differ")
        }
        guard entry.localHeaderOffset >= 0, entry.localHeaderOffset <= dataLimit - 30 else { throw .truncated }
        var local = LittleEndianReader(try file.read(count: 30, at: entry.localHeaderOffset))
        guard local.u32() == 0x0403_4B50 else { throw .corrupt("本地文件头损坏", "bad local file header") }
        local.skip(22)
        let start = entry.localHeaderOffset + 30 + local.u16() + local.u16()
        guard entry.compressedSize >= 0, start <= dataLimit, entry.compressedSize <= dataLimit - start else { throw .truncated }
        return try ZipEntryStream(file: file, entry: entry, dataStart: start)
    }

    /// A whole (small) entry in memory.
    func contents(of entry: ZipEntry, maxBytes: Int) throws(XLSXError) -> [UInt8] {
        let stream = try open(entry, maxBytes: maxBytes)
        var all: [UInt8] = []
        all.reserveCapacity(entry.uncompressedSize)
        while let chunk = try stream.read() { all += chunk }
        return all
    }
}

/// The decompressed bytes of one entry, a chunk at a time, with the CRC and size checked at the end.
final class ZipEntryStream {
    static let inputChunk = 64 << 10
    static let outputChunk = 256 << 10

    let entry: ZipEntry
    private let file: ZipFileHandle
    private var position: Int
    private let end: Int
    /// Compressed bytes consumed so far, for progress.
    private(set) var compressedRead = 0
    private(set) var produced = 0
    private var crc: UInt = 0
    private var streamEnded = false
    private var done = false
    private var stream: UnsafeMutablePointer<z_stream>?
    private let input: UnsafeMutablePointer<UInt8>
    private let output: UnsafeMutablePointer<UInt8>

    init(file: ZipFileHandle, entry: ZipEntry, dataStart: Int) throws(XLSXError) {
        self.file = file
        self.entry = entry
        position = dataStart
        end = dataStart + entry.compressedSize
        crc = CZlib.crc32(0, nil, 0)
        input = .allocate(capacity: Self.inputChunk)
        output = .allocate(capacity: Self.outputChunk)
        if entry.method == 8 {
            let s = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            s.initialize(to: z_stream())
            guard czlib_inflate_init_raw(s) == Z_OK else {
                s.deallocate()
                throw .corrupt("无法初始化解压", "inflateInit failed")
            }
            s.pointee.avail_in = 0
            stream = s
        }
    }

    deinit {
        if let stream { inflateEnd(stream); stream.deinitialize(count: 1); stream.deallocate() }
        input.deallocate()
        output.deallocate()
    }

    /// The next chunk of decompressed bytes (never empty); nil once the entry is complete and verified.
    func read() throws(XLSXError) -> [UInt8]? {
        if done { return nil }
        while !streamEnded {
            let n = try entry.method == 8 ? inflateSome() : copySome()
            if n > 0 {
                produced += n
                guard produced <= entry.uncompressedSize else { throw .sizeMismatch(entry.name) }
                crc = CZlib.crc32(crc, output, UInt32(n))
                return Array(UnsafeBufferPointer(start: output, count: n))
            }
        }
        done = true
        guard produced == entry.uncompressedSize else { throw .sizeMismatch(entry.name) }
        guard UInt32(truncatingIfNeeded: crc) == entry.crc32 else { throw .badCRC(entry.name) }
        return nil
    }

    private func copySome() throws(XLSXError) -> Int {
        let n = min(Self.outputChunk, end - position)
        if n == 0 { streamEnded = true; return 0 }
        try file.read(into: output, count: n, at: position)
        position += n
        compressedRead += n
        return n
    }

    private func inflateSome() throws(XLSXError) -> Int {
        guard let s = stream else { return 0 }
        if s.pointee.avail_in == 0 {
            let n = min(Self.inputChunk, end - position)
            if n > 0 {
                try file.read(into: input, count: n, at: position)
                position += n
                s.pointee.next_in = input
                s.pointee.avail_in = UInt32(n)
            }
        }
        let before = Int(s.pointee.avail_in)
        s.pointee.next_out = output
        s.pointee.avail_out = UInt32(Self.outputChunk)
        let status = inflate(s, Z_NO_FLUSH)
        compressedRead += before - Int(s.pointee.avail_in)
        let n = Self.outputChunk - Int(s.pointee.avail_out)
        switch status {
        case Z_STREAM_END:
            streamEnded = true
        case Z_OK:
            break
        case Z_BUF_ERROR:
            // No progress possible: the input ran out before the deflate stream ended.
            if n == 0 && s.pointee.avail_in == 0 && position >= end { throw .truncated }
        default:
            throw .corrupt("压缩数据损坏(\(entry.name))", "corrupt deflate data in \(entry.name)")
        }
        if n == 0, !streamEnded, s.pointee.avail_in == 0, position >= end { throw .truncated }
        return n
    }
}

// MARK: - Writer

/// Writes a ZIP archive front to back: each entry deflated as it streams in, its
/// sizes and CRC patched into the local header afterwards (no data descriptors),
/// then the central directory. No ZIP64: entries and the archive stay under 4 GiB.
final class ZipWriter {
    private struct Written { let name: [UInt8]; let offset: Int; let crc: UInt32; let compressed: Int; let uncompressed: Int }

    private var fd: Int32
    private var buffer: [UInt8] = []
    /// Bytes handed to the file so far (written or buffered).
    private var offset = 0
    private var written: [Written] = []
    private let stream: UnsafeMutablePointer<z_stream>
    private let output: UnsafeMutablePointer<UInt8>
    private static let outputChunk = 64 << 10
    private let dosTime: UInt16, dosDate: UInt16

    // The entry being written.
    private var current: (name: [UInt8], offset: Int, crc: UInt, compressed: Int, uncompressed: Int)?

    init(path: String, level: Int32 = 6) throws(XLSXError) {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotCreate(path) }
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        output = .allocate(capacity: Self.outputChunk)
        if czlib_deflate_init_raw(stream, level) != Z_OK {
            close(fd); fd = -1
            stream.deallocate(); output.deallocate()
            throw .writeFailed
        }
        var now = time(nil), parts = tm()
        localtime_r(&now, &parts)
        dosTime = UInt16((Int(parts.tm_hour) << 11) | (Int(parts.tm_min) << 5) | (Int(parts.tm_sec) / 2))
        dosDate = UInt16((max(Int(parts.tm_year) - 80, 0) << 9) | ((Int(parts.tm_mon) + 1) << 5) | Int(parts.tm_mday))
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        output.deallocate()
        if fd >= 0 { close(fd) }
    }

    /// Adds a whole entry.
    func add(_ name: String, _ bytes: [UInt8]) throws(XLSXError) {
        try begin(name)
        try write(bytes)
        try end()
    }

    /// Starts a streamed entry; `write` its bytes, then `end` it.
    func begin(_ name: String) throws(XLSXError) {
        guard fd >= 0, current == nil else { throw .writeFailed }
        let nameBytes = Array(name.utf8)
        current = (nameBytes, offset, CZlib.crc32(0, nil, 0), 0, 0)
        var h: [UInt8] = []
        h.le32(0x0403_4B50); h.le16(20); h.le16(0x0800) // UTF-8 names
        h.le16(8); h.le16(Int(dosTime)); h.le16(Int(dosDate))
        h.le32(0); h.le32(0); h.le32(0) // crc and sizes, patched by `end`
        h.le16(nameBytes.count); h.le16(0)
        h += nameBytes
        try emit(h)
        guard deflateReset(stream) == Z_OK else { throw .writeFailed }
    }

    func write(_ bytes: [UInt8]) throws(XLSXError) {
        guard var entry = current else { throw .writeFailed }
        if bytes.isEmpty { return }
        entry.uncompressed += bytes.count
        guard entry.uncompressed < 0xFFFF_FFFF else { throw .outputTooLarge }
        var failure: XLSXError?
        bytes.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress else { return }
            entry.crc = CZlib.crc32(entry.crc, base, UInt32(buf.count))
            stream.pointee.next_in = UnsafeMutablePointer(mutating: base)
            stream.pointee.avail_in = UInt32(buf.count)
            do throws(XLSXError) { entry.compressed += try pump(flush: Z_NO_FLUSH) } catch { failure = error }
            stream.pointee.next_in = nil
        }
        current = entry
        if let failure { throw failure }
    }

    func end() throws(XLSXError) {
        guard var entry = current else { throw .writeFailed }
        stream.pointee.avail_in = 0
        entry.compressed += try pump(flush: Z_FINISH)
        current = nil
        guard entry.compressed < 0xFFFF_FFFF else { throw .outputTooLarge }
        let crc = UInt32(truncatingIfNeeded: entry.crc)
        try flushBuffer()
        var patch: [UInt8] = []
        patch.le32(Int(crc)); patch.le32(entry.compressed); patch.le32(entry.uncompressed)
        let ok = patch.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(entry.offset + 14)) == $0.count }
        guard ok else { throw .writeFailed }
        written.append(Written(name: entry.name, offset: entry.offset, crc: crc,
                               compressed: entry.compressed, uncompressed: entry.uncompressed))
    }

    /// Writes the central directory and closes the file.
    func finish() throws(XLSXError) {
        guard fd >= 0, current == nil else { throw .writeFailed }
        let directoryStart = offset
        for w in written {
            var h: [UInt8] = []
            h.le32(0x0201_4B50); h.le16(0x031E) // made by Unix, spec 3.0
            h.le16(20); h.le16(0x0800); h.le16(8); h.le16(Int(dosTime)); h.le16(Int(dosDate))
            h.le32(Int(w.crc)); h.le32(w.compressed); h.le32(w.uncompressed)
            h.le16(w.name.count); h.le16(0); h.le16(0); h.le16(0); h.le16(0)
            h.le32(0o100644 << 16) // a regular file, rw-r--r--
            h.le32(w.offset)
            h += w.name
            try emit(h)
        }
        let directorySize = offset - directoryStart
        guard offset < 0xFFFF_FFFF, written.count < 0xFFFF else { throw .outputTooLarge }
        var e: [UInt8] = []
        e.le32(0x0605_4B50); e.le16(0); e.le16(0); e.le16(written.count); e.le16(written.count)
        e.le32(directorySize); e.le32(directoryStart); e.le16(0)
        try emit(e)
        try flushBuffer()
        let failed = fsync(fd) != 0
        let closed = close(fd) == 0
        fd = -1
        guard !failed, closed else { throw .writeFailed }
    }

    /// Runs deflate over the pending input; returns the compressed bytes produced.
    private func pump(flush: Int32) throws(XLSXError) -> Int {
        var total = 0
        while true {
            stream.pointee.next_out = output
            stream.pointee.avail_out = UInt32(Self.outputChunk)
            let status = deflate(stream, flush)
            guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else { throw .writeFailed }
            let n = Self.outputChunk - Int(stream.pointee.avail_out)
            if n > 0 { try emit(UnsafeBufferPointer(start: output, count: n)); total += n }
            if flush == Z_FINISH { if status == Z_STREAM_END { return total } }
            else if stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 { return total }
            if n == 0 && status == Z_BUF_ERROR { throw .writeFailed }
        }
    }

    private func emit<C: Collection<UInt8>>(_ bytes: C) throws(XLSXError) {
        buffer.append(contentsOf: bytes)
        offset += bytes.count
        if buffer.count >= 1 << 20 { try flushBuffer() }
    }

    private func flushBuffer() throws(XLSXError) {
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeBytes { posixWrite(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .writeFailed }
            done += n
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// POSIX write(2), named apart from `ZipWriter.write`.
private func posixWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(fd, bytes, count) }

extension [UInt8] {
    mutating func le16(_ v: Int) { append(UInt8(truncatingIfNeeded: v)); append(UInt8(truncatingIfNeeded: v >> 8)) }
    mutating func le32(_ v: Int) { le16(v & 0xFFFF); le16(v >> 16 & 0xFFFF) }
}
