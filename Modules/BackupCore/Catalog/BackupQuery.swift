import Foundation

/// A page request over the backups, newest first.
public struct BackupQuery: Sendable, Equatable {
    public static let maximumLimit = 500
    public static let defaultLimit = 50

    public var limit: Int
    /// The opaque cursor of the previous page's `nextCursor`.
    public var cursor: String?
    public var type: BackupType?
    public var status: BackupStatus?
    /// Only backups of this scope.
    public var scope: BackupScope?

    public init(
        limit: Int = defaultLimit, cursor: String? = nil, type: BackupType? = nil, status: BackupStatus? = nil,
        scope: BackupScope? = nil
    ) {
        self.limit = limit
        self.cursor = cursor
        self.type = type
        self.status = status
        self.scope = scope
    }
}

/// One page of backups and the cursor of the next one (nil on the last page).
public struct BackupPage: Sendable, Equatable {
    public var items: [BackupInfo]
    public var nextCursor: String?
}

/// The position after the last item of a page: its creation time (as stored) and id.
struct PageCursor: Equatable {
    var createdAt: String
    var id: String

    var encoded: String {
        Data("\(createdAt)|\(id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    init(createdAt: String, id: String) {
        self.createdAt = createdAt
        self.id = id
    }

    init(decoding text: String) throws(BackupError) {
        let invalid = BackupError.invalidQuery(parameter: "cursor", reason: "is not a cursor from a previous page")
        guard text.utf8.count <= 128 else { throw invalid }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.utf8.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let decoded = String(data: data, encoding: .utf8) else {
            throw invalid
        }
        let parts = decoded.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 2, BackupID.isValid(String(parts[1])), parts[0].utf8.count <= 32 else { throw invalid }
        createdAt = String(parts[0])
        id = String(parts[1])
    }
}
