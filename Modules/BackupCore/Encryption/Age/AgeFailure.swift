/// The reasons an age file fails to open, as ``BackupError/verificationFailed(reason:)``: each names
/// the cause in plain words and starts with "age: ".
enum AgeFailure {
    static func malformedHeader(_ detail: String) -> BackupError {
        .verificationFailed(reason: "age: malformed header: \(detail)")
    }

    static let noKeyOpens = BackupError.verificationFailed(
        reason: "age: no key opens this bundle (it is encrypted to other recipients)")
    static let wrongPassphrase = BackupError.verificationFailed(reason: "age: wrong passphrase")
    static let needsPassphrase = BackupError.verificationFailed(
        reason: "age: this bundle is encrypted with a passphrase, and no passphrase was given")
    static let headerChanged = BackupError.verificationFailed(
        reason: "age: the header was changed (its MAC does not match)")
    static let endsEarly = BackupError.verificationFailed(reason: "age: the file ends early (no final chunk)")
    static let dataAfterEnd = BackupError.verificationFailed(reason: "age: data after the final chunk")

    /// `index` counts from 1, as a reader would.
    static func chunkFailed(_ index: UInt64) -> BackupError {
        .verificationFailed(
            reason:
                "age: chunk \(index) failed authentication (the file was changed, cut short or extended, or its chunks reordered)"
        )
    }

    static let noNonce = BackupError.verificationFailed(reason: "age: the file ends early (in the payload nonce)")

    static func emptyFinalChunk(_ index: UInt64) -> BackupError {
        .verificationFailed(reason: "age: malformed payload: chunk \(index) is an empty final chunk")
    }
}
