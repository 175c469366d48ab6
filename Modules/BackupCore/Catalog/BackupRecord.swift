import Foundation
import GRDB

/// A row of the catalog's `backup` table: the ``BackupInfo`` fields plus bookkeeping.
public struct BackupRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "backup"

    public var id: String
    public var filename: String
    public var type: BackupType
    public var status: BackupStatus
    public var sizeBytes: Int64?
    public var sha256: String?
    public var createdAt: Date
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

    public enum CodingKeys: String, CodingKey, ColumnExpression {
        case id, filename, type, status
        case sizeBytes = "size_bytes"
        case sha256
        case createdAt = "created_at"
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
    }

    public typealias Columns = CodingKeys

    /// A new `pending` record for a job that starts now.
    public init(
        id: String, type: BackupType, createdAt: Date, note: String?, noteKind: NoteKind? = nil,
        noteArgs: [String: String]? = nil
    ) {
        self.id = id
        self.filename = BundleName.make(id: id, type: type, createdAt: createdAt)
        self.type = type
        self.status = .pending
        self.createdAt = createdAt
        self.note = note
        self.noteKind = noteKind
        self.noteArgs = noteArgs
        self.pinned = false
        self.doneBytes = 0
        self.totalBytes = 0
    }

    /// The record as the faces show it.
    public var info: BackupInfo {
        BackupInfo(
            id: id, filename: filename, type: type, status: status, sizeBytes: sizeBytes, sha256: sha256,
            createdAt: createdAt, completedAt: completedAt, note: note, noteKind: noteKind,
            noteArgs: noteArgs, pinned: pinned,
            progress: status.isActive ? BackupProgress(doneBytes: doneBytes, totalBytes: totalBytes) : nil,
            error: error,
            verification: verifiedAt.map {
                VerificationSummary(checkedAt: $0, ok: verificationError == nil, error: verificationError)
            })
    }
}

extension BackupType: DatabaseValueConvertible {}
extension BackupStatus: DatabaseValueConvertible {}
extension NoteKind: DatabaseValueConvertible {}
