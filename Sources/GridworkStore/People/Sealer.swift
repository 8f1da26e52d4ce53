import Crypto
import Foundation

/// Seals personal fields (ID numbers, phones) before they reach the disk.
///
/// One master key (32 bytes, from config or a key file outside the repo)
/// derives two keys: one for AES-GCM, one for the HMAC blind index that makes
/// exact lookup possible without decrypting. The index is keyed, so a leaked
/// database alone cannot be brute-forced over the small space of ID numbers.
// SymmetricKey is immutable once made; swift-crypto 3 just does not declare it Sendable.
public struct Sealer: @unchecked Sendable {
    private let encryptionKey: SymmetricKey
    private let indexKey: SymmetricKey
    /// HMAC already keyed: copying it skips hashing the key for every value.
    private let keyedIndex: HMAC<SHA256>

    public init(masterKey: SymmetricKey) {
        encryptionKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: masterKey, info: Data("gridwork seal v1".utf8), outputByteCount: 32)
        indexKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: masterKey, info: Data("gridwork index v1".utf8), outputByteCount: 32)
        keyedIndex = HMAC<SHA256>(key: indexKey)
    }

    /// AES-GCM with a random nonce; base64 of nonce ‖ ciphertext ‖ tag.
    public func seal(_ plain: String) -> String {
        // AES-GCM sealing only fails for a malformed key or nonce, which we never build.
        let box = try! AES.GCM.seal(Data(plain.utf8), using: encryptionKey)
        return box.combined!.base64EncodedString()
    }

    public func open(_ sealed: String) throws -> String {
        guard let data = Data(base64Encoded: sealed) else { throw SealError.malformed }
        let box = try AES.GCM.SealedBox(combined: data)
        return String(decoding: try AES.GCM.open(box, using: encryptionKey), as: UTF8.self)
    }

    /// A deterministic keyed digest for exact-match lookup (hex, 32 chars).
    public func blindIndex(_ plain: String) -> String {
        blindIndexAndKey(plain).index
    }

    /// The blind index and its first 8 bytes as a number (a compact key for de-duplicating bulk loads).
    public func blindIndexAndKey(_ plain: String) -> (index: String, key: UInt64) {
        var mac = keyedIndex
        var plain = plain
        plain.withUTF8 { mac.update(data: UnsafeRawBufferPointer($0)) }
        let code = mac.finalize()
        return code.withUnsafeBytes { bytes in
            // Hex by hand: String(format:) cost more than the HMAC itself in bulk loads.
            let digits: StaticString = "0123456789abcdef"
            let index = String(unsafeUninitializedCapacity: 32) { out in
                digits.withUTF8Buffer { d in
                    for i in 0..<16 { out[2 * i] = d[Int(bytes[i] >> 4)]; out[2 * i + 1] = d[Int(bytes[i] & 15)] }
                }
                return 32
            }
            var key: UInt64 = 0
            for i in 0..<8 { key = key << 8 | UInt64(bytes[i]) }
            return (index, key)
        }
    }

    /// Like `seal(_:)`, with a nonce the caller drew (bulk loads draw them from the system in bulk, see `Nonces`).
    public func seal(_ plain: String, nonce: AES.GCM.Nonce) -> String {
        let box = try! AES.GCM.seal(Data(plain.utf8), using: encryptionKey, nonce: nonce)
        return box.combined!.base64EncodedString()
    }

    /// Random 96-bit AES-GCM nonces, read from the system's CSPRNG 64 KiB at a time rather than per value.
    public struct Nonces {
        private var pool: [UInt8] = []
        private var offset = 0
        private let urandom = FileHandle(forReadingAtPath: "/dev/urandom")

        public init() {}

        public mutating func next() -> AES.GCM.Nonce {
            if offset + 12 > pool.count {
                pool = [UInt8](repeating: 0, count: 65_532)
                // One read of the kernel's CSPRNG, not a system call per 8 bytes.
                if let data = try? urandom?.read(upToCount: pool.count), data.count == pool.count {
                    pool = [UInt8](data)
                } else {
                    var generator = SystemRandomNumberGenerator()
                    pool.withUnsafeMutableBytes { raw in
                        for i in stride(from: 0, to: raw.count, by: 4) {
                            raw.storeBytes(of: UInt32(truncatingIfNeeded: generator.next()), toByteOffset: i, as: UInt32.self)
                        }
                    }
                }
                offset = 0
            }
            defer { offset += 12 }
            return try! AES.GCM.Nonce(data: pool[offset..<offset + 12])
        }
    }

    /// Stored once in the database so that a wrong key is refused at start, not discovered later.
    public var keyCheck: String { blindIndex("gridwork key check") }

    public enum SealError: Error { case malformed }
}

/// Finds or makes the master key: `GRIDWORK_SEAL_KEY` (base64 of 32 bytes) wins;
/// otherwise a key file, created with mode 0600 on first use.
public enum SealKeySource {
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment,
                            keyFile: String) throws -> SymmetricKey {
        if let text = environment["GRIDWORK_SEAL_KEY"], !text.isEmpty {
            guard let data = Data(base64Encoded: text), data.count == 32 else {
                throw StoreError.invalid(field: "GRIDWORK_SEAL_KEY", reason: "应为32字节的base64密钥 (must be base64 of 32 bytes)")
            }
            return SymmetricKey(data: data)
        }
        if let text = try? String(contentsOfFile: keyFile, encoding: .utf8) {
            guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else {
                throw StoreError.invalid(field: keyFile, reason: "密钥文件内容无效 (key file does not hold base64 of 32 bytes)")
            }
            return SymmetricKey(data: data)
        }
        let key = SymmetricKey(size: .bits256)
        let text = key.withUnsafeBytes { Data($0).base64EncodedString() } + "\n"
        guard FileManager.default.createFile(atPath: keyFile, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw StoreError.invalid(field: keyFile, reason: "无法创建密钥文件 (cannot create the key file)")
        }
        return key
    }

    /// The key file that belongs to a database: beside the SQLite file, or `gridwork.key` in the working directory.
    public static func defaultKeyFile(for location: DatabaseLocation) -> String {
        switch location {
        case .sqlite(let path): path.hasSuffix(".sqlite") ? String(path.dropLast(7)) + ".key" : path + ".key"
        case .postgres: "gridwork.key"
        }
    }
}
