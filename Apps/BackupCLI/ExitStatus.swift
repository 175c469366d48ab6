import BackupCore

/// The CLI's exit codes (see the spec's CLI section), derived from the core's error once.
enum ExitStatus {
    static let failed: Int32 = 1
    static let usage: Int32 = 2
    static let verificationFailed: Int32 = 3
    static let busy: Int32 = 4
    static let serverRunning: Int32 = 5

    static func of(_ error: BackupError) -> Int32 {
        switch error {
        case .verificationFailed: verificationFailed
        case .backupInProgress, .databaseLocked: busy
        case .serverHoldsDataDirectory: serverRunning
        case .invalidID, .invalidQuery, .invalidInput: usage
        case .notFound, .insufficientSpace, .payloadTooLarge, .sourceUnavailable, .cancelled, .conflict, .io: failed
        }
    }
}

/// A failure already reported to the user; only its exit status is left to return.
struct CommandFailure: Error {
    var status: Int32
}
