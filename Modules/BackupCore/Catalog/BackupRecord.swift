import Foundation
import GRDB

/// A row of the catalog's `backup` table: the ``BackupInfo`` fields plus bookkeeping.
public struct BackupRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "backup"

    public var id: String
    /// The bundle's file name, which is also its key in ``store``.
    public var filename: String
    /// The name of the ``BundleStore`` that holds the bundle (``LocalStore/storeName``).
    public var store: String
    public var type: BackupType
    public var status: BackupStatus
    public var sizeBytes: Int64?
    public var sha256: String?
    /// When the backup was made, as its maker's clock said (an imported bundle's manifest).
    public var createdAt: Date
    /// When the record entered this catalog, by this machine's clock: what retention orders by.
    public var recordedAt: Date
    public var completedAt: Date?
    public var note: String?
    /// A note Backup Manager wrote, as a kind and its arguments (see ``NoteKind``).
    public var noteKind: NoteKind?
    public var noteArgs: [String: String]?
    public var pinned: Bool
    public var doneBytes: Int64
    public var totalBytes: Int64
    public var durationMs: Int64?
    public var sourcePageCount: Int64?
    public var error: String?
    /// When the bundle was last verified, and what was wrong with it (nil when it verified).
    public var verifiedAt: Date?
    public var verificationError: String?
    /// The off-site copy: where it stands, its object key, when it was confirmed, why it failed.
    public var offsiteStatus: OffsiteStatus
    public var offsiteKey: String?
    public var offsiteUploadedAt: Date?
    public var offsiteError: String?
    /// What the bundle holds: the database, the directories, or both (catalog v13).
    public var scope: BackupScope
    /// What the bundle's directory sources warned of (a file that changed while it was read, one
    /// that could not be read), at most ``BackupInfo/sourceWarningLimit`` and a count of the rest.
    public var sourceWarnings: [String]
    /// How the backup is stored (catalog v15): a bundle, or an incremental backup whose
    /// ``filename`` is its index in the repository (``store`` `repository`).
    public var format: BackupFormat
    /// The bytes the backup restores to (the sum of its entries' sizes); nil for bundles made
    /// before v15. For an incremental backup ``sizeBytes`` is what it added to the repository.
    public var logicalBytes: Int64?

    public enum CodingKeys: String, CodingKey, ColumnExpression {
        case id, filename, store, type, status
        case sizeBytes = "size_bytes"
        case sha256
        case createdAt = "created_at"
        case recordedAt = "recorded_at"
        case completedAt = "completed_at"
        case note
        case noteKind = "note_kind"
        case noteArgs = "note_args"
        case pinned
        case doneBytes = "done_bytes"
        case totalBytes = "total_bytes"
        case durationMs = "duration_ms"
        case sourcePageCount = "source_page_count"
        case error
        case verifiedAt = "verified_at"
        case verificationError = "verification_error"
        case offsiteStatus = "offsite_status"
        case offsiteKey = "offsite_key"
        case offsiteUploadedAt = "offsite_uploaded_at"
        case offsiteError = "offsite_error"
        case scope
        case sourceWarnings = "source_warnings"
        case format
        case logicalBytes = "logical_bytes"
    }

    public typealias Columns = CodingKeys

    /// A new `pending` record. `recordedAt` (when it enters this catalog) defaults to `createdAt`,
    /// right for a job that starts now; an imported bundle passes the time of its import. The
    /// file name ends as `codec`'s bundles do, with `.age` after it when `encrypted`.
    public init(
        id: String, type: BackupType, createdAt: Date, note: String?, noteKind: NoteKind? = nil,
        noteArgs: [String: String]? = nil, recordedAt: Date? = nil, codec: CodecName = .gzip, encrypted: Bool = false,
        scope: BackupScope = .database
    ) {
        self.id = id
        self.filename = BundleName.make(
            id: id, type: type, createdAt: createdAt, codec: codec, encrypted: encrypted)
        self.store = LocalStore.storeName
        self.type = type
        self.status = .pending
        self.createdAt = createdAt
        self.recordedAt = recordedAt ?? createdAt
        self.note = note
        self.noteKind = noteKind
        self.noteArgs = noteArgs
        self.pinned = false
        self.doneBytes = 0
        self.totalBytes = 0
        self.offsiteStatus = .none
        self.scope = scope
        self.sourceWarnings = []
        self.format = .bundle
    }

    /// The record as the faces show it.
    public var info: BackupInfo {
        BackupInfo(
            id: id, filename: filename, type: type, status: status, sizeBytes: sizeBytes, sha256: sha256,
            createdAt: createdAt, recordedAt: recordedAt, completedAt: completedAt, note: note, noteKind: noteKind,
            noteArgs: noteArgs, pinned: pinned,
            progress: status.isActive ? BackupProgress(doneBytes: doneBytes, totalBytes: totalBytes) : nil,
            error: error, warnings: warnings,
            verification: verifiedAt.map {
                VerificationSummary(checkedAt: $0, ok: verificationError == nil, error: verificationError)
            },
            store: store,
            offsite: OffsiteCopy(
                status: offsiteStatus, key: offsiteKey, uploadedAt: offsiteUploadedAt, error: offsiteError),
            scope: scope, sourceWarnings: sourceWarnings, format: format, logicalBytes: logicalBytes)
    }
}

extension BackupRecord {
    /// How far ahead of this machine's clock a bundle's `created_at` may be before it is flagged
    /// (clocks of two healthy machines differ by seconds, not minutes).
    public static let clockSkewTolerance: TimeInterval = 5 * 60

    /// What an operator should know about the record: `created_at_in_future` when the maker's
    /// clock was ahead of this machine's by more than ``clockSkewTolerance`` at recording time;
    /// `source_warnings` when its directory sources warned (``sourceWarnings``).
    public var warnings: [String] {
        var codes: [String] = []
        if createdAt.timeIntervalSince(recordedAt) > Self.clockSkewTolerance {
            codes.append(BackupInfo.createdAtInFuture)
        }
        if !sourceWarnings.isEmpty { codes.append(BackupInfo.sourceWarningsCode) }
        return codes
    }
}

extension BackupType: DatabaseValueConvertible {}
extension BackupStatus: DatabaseValueConvertible {}
extension NoteKind: DatabaseValueConvertible {}
