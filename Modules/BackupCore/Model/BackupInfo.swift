import Foundation
import Synchronization

/// How far a running job has come.
public struct BackupProgress: Codable, Equatable, Sendable {
    public var doneBytes: Int64
    public var totalBytes: Int64

    public init(doneBytes: Int64, totalBytes: Int64) {
        self.doneBytes = doneBytes
        self.totalBytes = totalBytes
    }

    /// 0 to 100, one decimal.
    public var percent: Double {
        guard totalBytes > 0 else { return 0 }
        return (min(1, Double(doneBytes) / Double(totalBytes)) * 1000).rounded() / 10
    }

    enum CodingKeys: String, CodingKey {
        case doneBytes = "done_bytes"
        case totalBytes = "total_bytes"
        case percent
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        doneBytes = try container.decode(Int64.self, forKey: .doneBytes)
        totalBytes = try container.decode(Int64.self, forKey: .totalBytes)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(doneBytes, forKey: .doneBytes)
        try container.encode(totalBytes, forKey: .totalBytes)
        try container.encode(percent, forKey: .percent)
    }
}

/// The outcome of the last verification of a bundle.
public struct VerificationSummary: Codable, Equatable, Sendable {
    public var checkedAt: Date
    public var ok: Bool
    @ExplicitNull public var error: String?

    enum CodingKeys: String, CodingKey {
        case checkedAt = "checked_at"
        case ok, error
    }
}

/// One backup as the faces show it (the spec's `BackupInfo`).
public struct BackupInfo: Codable, Equatable, Sendable {
    public var id: String
    public var filename: String
    public var type: BackupType
    public var status: BackupStatus
    @ExplicitNull public var sizeBytes: Int64?
    @ExplicitNull public var sha256: String?
    /// When the backup was made, by its maker's clock (for an import: what its manifest says).
    public var createdAt: Date
    /// When it entered this catalog, by this machine's clock; retention orders by this.
    public var recordedAt: Date
    @ExplicitNull public var completedAt: Date?
    /// What a person wrote about the backup.
    @ExplicitNull public var note: String?
    /// A note Backup Manager wrote (the safety backup before a restore), with its arguments;
    /// faces word it in their reader's language. Nil on backups without one.
    @ExplicitNull public var noteKind: NoteKind?
    @ExplicitNull public var noteArgs: [String: String]?
    public var pinned: Bool
    /// Present while a job works on the backup.
    @ExplicitNull public var progress: BackupProgress?
    @ExplicitNull public var error: String?
    /// Codes of what an operator should know: ``createdAtInFuture``, ``sourceWarningsCode``.
    public var warnings: [String]
    /// The last verification's outcome; nil when never verified.
    @ExplicitNull public var verification: VerificationSummary?
    /// Where the bundle is: `local` (`backups/`, perhaps with an off-site copy too) or `s3` (a
    /// remote-only backup: only in the off-site bucket).
    public var store: String
    /// The off-site copy (status `none` when off-site storage is off).
    public var offsite: OffsiteCopy
    /// Whether the bundle is encrypted in the age format (its file name ends in `.age`).
    public var encrypted: Bool
    /// What the backup's state allows (``BackupStatus/allows(_:)``): the faces offer these
    /// and no others, and the core refuses the rest.
    public var actions: [BackupAction]
    /// What the bundle holds: the database, the configured directories, or both.
    public var scope: BackupScope
    /// What the bundle's directory sources warned of, as sentences (a file changed while it
    /// was read, a file that could not be read); empty when nothing.
    public var sourceWarnings: [String]
    /// How the backup is stored: `bundle` or `incremental` (in the repository).
    public var format: BackupFormat
    /// The bytes the backup restores to; nil when unknown (bundles made before the repository).
    @ExplicitNull public var logicalBytes: Int64?
    /// ``logicalBytes`` / ``sizeBytes`` (what the backup stored: for an incremental backup, what
    /// it added), two decimals; nil when either is unknown or the size is 0.
    @ExplicitNull public var dedupRatio: Double?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, filename, type, status
        case sizeBytes = "size_bytes"
        case sha256
        case createdAt = "created_at"
        case recordedAt = "recorded_at"
        case completedAt = "completed_at"
        case note
        case noteKind = "note_kind"
        case noteArgs = "note_args"
        case pinned, progress, error, warnings, verification, store, offsite, encrypted, actions, scope
        case sourceWarnings = "source_warnings"
        case format
        case logicalBytes = "logical_bytes"
        case dedupRatio = "dedup_ratio"
    }

    /// Every field of the JSON form, so a face can tell a read-only field from an unknown one.
    public static var fieldNames: [String] { CodingKeys.allCases.map(\.stringValue) }
    /// The fields a person may change on a backup: its note and its pin.
    public static let changeableFields = ["note", "pinned"]

    /// The note to show in English: what a person wrote, else the generated note's wording.
    public var noteText: String? {
        note ?? noteKind?.english(noteArgs ?? [:])
    }

    /// The warning of a backup whose `created_at` was ahead of this machine's clock when it was
    /// recorded (a wrong clock where it was made, or a forged bundle): kept as information, never
    /// used by retention.
    public static let createdAtInFuture = "created_at_in_future"

    /// The warning of a backup whose directory sources warned (``sourceWarnings`` says what).
    public static let sourceWarningsCode = "source_warnings"
    /// How many source warnings a record keeps; the rest are counted in one last line.
    public static let sourceWarningLimit = 100

    public init(
        id: String, filename: String, type: BackupType, status: BackupStatus, sizeBytes: Int64?,
        sha256: String?, createdAt: Date, recordedAt: Date? = nil, completedAt: Date?, note: String?,
        noteKind: NoteKind? = nil, noteArgs: [String: String]? = nil, pinned: Bool, progress: BackupProgress?,
        error: String?, warnings: [String] = [], verification: VerificationSummary? = nil,
        store: String = LocalStore.storeName, offsite: OffsiteCopy = .none, scope: BackupScope = .database,
        sourceWarnings: [String] = [], format: BackupFormat = .bundle, logicalBytes: Int64? = nil
    ) {
        self.id = id
        self.filename = filename
        self.type = type
        self.status = status
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
        self.createdAt = createdAt
        self.recordedAt = recordedAt ?? createdAt
        self.completedAt = completedAt
        self.note = note
        self.noteKind = noteKind
        self.noteArgs = noteArgs
        self.pinned = pinned
        self.progress = progress
        self.error = error
        self.warnings = warnings
        self.verification = verification
        self.store = store
        self.offsite = offsite
        self.encrypted = filename.hasSuffix(BundleName.encryptedExtension)
        self.actions = status.actions
        self.scope = scope
        self.sourceWarnings = sourceWarnings
        self.format = format
        self.logicalBytes = logicalBytes
        self.dedupRatio = Self.ratio(logical: logicalBytes, stored: sizeBytes)
    }

    /// `logical` / `stored`, rounded to two decimals; nil when either is unknown or `stored` is 0.
    static func ratio(logical: Int64?, stored: Int64?) -> Double? {
        guard let logical, let stored, stored > 0 else { return nil }
        return (Double(logical) / Double(stored) * 100).rounded() / 100
    }
}

/// RFC 3339 UTC with milliseconds (`2026-11-22T14:03:28.123Z`), the precision the catalog keeps.
///
/// The formatters are made once: creating an `ISO8601DateFormatter` costs far more than using
/// it, and a page of 50 backups formats about 150 dates (one per date made a `GET /api/backups`
/// take 15 to 25 ms instead of about 2). A formatter is not safe to share between threads, so
/// each sits behind its own lock.
enum RFC3339 {
    private static let withFraction = Mutex(makeFormatter(fractionalSeconds: true))
    private static let withoutFraction = Mutex(makeFormatter(fractionalSeconds: false))

    private static func makeFormatter(fractionalSeconds: Bool) -> ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions =
            fractionalSeconds ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return formatter
    }

    static func string(from date: Date) -> String {
        withFraction.withLock { $0.string(from: date) }
    }

    /// Reads RFC 3339 with or without fractional seconds.
    static func date(from text: String) -> Date? {
        if let date = withFraction.withLock({ $0.date(from: text) }) { return date }
        return withoutFraction.withLock { $0.date(from: text) }
    }
}

extension JSONEncoder {
    /// The encoder every face uses for core values: RFC 3339 UTC dates with milliseconds, sorted keys.
    public static func backupManager(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.string(from: date))
        }
        encoder.outputFormatting =
            pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

extension JSONDecoder {
    /// The decoder matching ``Foundation/JSONEncoder/backupManager(pretty:)``.
    public static func backupManager() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = RFC3339.date(from: text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 date: \(text)")
            }
            return date
        }
        return decoder
    }
}
