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
        case .verificationFailed, .notABundle: verificationFailed
        case .backupInProgress, .backupInUse, .databaseLocked: busy
        case .serverHoldsDataDirectory, .serverAlreadyRunning: serverRunning
        case .invalidID, .idPrefixTooShort, .ambiguousID, .invalidQuery, .invalidInput: usage
        case .notFound, .notCompleted, .duplicateBackup, .pageSizeMismatch, .shuttingDown, .retentionWouldDelete,
            .insufficientSpace, .diskFull, .payloadTooLarge, .sourceUnavailable, .cancelled, .io,
            .dataDirectoryMissing, .fileNotFound, .offsite, .directoryNotConfigured, .pathInTheWay, .toolMissing,
            .toolOutdated, .toolFailed, .sourceKindMismatch:
            failed
        }
    }
}

/// A failure already reported to the user (for example `verify` printing the bundles that
/// failed); only its exit status is left to return.
struct CommandFailure: Error {
    var status: Int32
}

/// A command's own refusal, reported like any other error (see ``ErrorReport``).
struct Refusal: Error {
    var code: String
    var message: String
    var status: Int32

    /// Refused because the command needs a confirmation it cannot ask for (exit 2).
    static func confirmationRequired(_ message: String) -> Refusal {
        Refusal(code: "confirmation_required", message: message, status: ExitStatus.usage)
    }

    /// The operator answered no at the prompt (exit 1).
    static func declined(_ message: String) -> Refusal {
        Refusal(code: "declined", message: message, status: ExitStatus.failed)
    }
}
