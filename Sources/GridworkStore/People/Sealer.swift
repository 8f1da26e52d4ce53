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

    public init(masterKey: SymmetricKey) {
        encryptionKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: masterKey, info: Data("gridwork seal v1".utf8), outputByteCount: 32)
        indexKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: masterKey, info: Data("gridwork index v1".utf8), outputByteCount: 32)
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
        let mac = HMAC<SHA256>.authenticationCode(for: Data(plain.utf8), using: indexKey)
        // Hex by hand (Sequence.hex): String(format:) cost more than the HMAC itself in bulk loads.
        return mac.prefix(16).hex
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
