import Crypto
import Foundation

extension S3Client {
    /// The connection test: puts, heads, gets and deletes a small object
    /// `<prefix>/.backup-manager-probe-<random>`. The error names the step and what failed
    /// (DNS, TLS, the key, the secret, the bucket, a permission).
    public func probe(prefix: String) async throws(BackupError) {
        let name = ".backup-manager-probe-" + SymmetricKey(size: .bits128).withUnsafeBytes { Array($0) }.hexString
        let key = S3Client.key(prefix: prefix, name: name)
        let bytes = Array("backup-manager connection test \(SigV4Signer.stamps(tuning.now()).dateTime)\n".utf8)
        try await step("write") { () async throws(BackupError) in
            try await self.put(key: key, bytes: bytes, contentType: "text/plain", metadata: [:])
        }
        do throws(BackupError) {
            try await step("read back") { () async throws(BackupError) in
                guard let object = try await self.head(key: key) else {
                    throw .offsite(OffsiteFailure(kind: .server, detail: "the object just written is not there"))
                }
                guard object.size == Int64(bytes.count) else {
                    throw .offsite(
                        OffsiteFailure(
                            kind: .integrity,
                            detail: "the object just written has \(object.size) bytes, not \(bytes.count)"))
                }
                guard try await self.get(key: key, range: nil) == bytes else {
                    throw .offsite(
                        OffsiteFailure(kind: .integrity, detail: "the object just written reads back different"))
                }
            }
        } catch {
            try? await delete(key: key)
            throw error
        }
        try await step("delete") { () async throws(BackupError) in try await self.delete(key: key) }
    }

    /// Runs one probe step, naming it in an off-site failure.
    private func step(
        _ name: String, _ body: () async throws(BackupError) -> Void
    ) async throws(BackupError) {
        do {
            try await body()
        } catch .offsite(let failure) {
            throw .offsite(OffsiteFailure(kind: failure.kind, detail: "\(name) test object: \(failure.detail)"))
        }
    }
}
