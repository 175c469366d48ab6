import ArgumentParser
import BackupCore
import Foundation

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a backup out as a classic, self-contained bundle file (tar -xzf opens it).",
        discussion: """
            The compression follows the output's extension: FILE.tar.gz or FILE.tar.zst. An \
            incremental backup is assembled from its chunks, each checked against its SHA-256 and \
            each file against the manifest (a damaged or missing chunk fails, exit 3); a bundle \
            backup is copied when its compression is the one asked (an encrypted bundle is refused: \
            an export is in the clear). The file is written as FILE.partial and moved into place \
            once complete; an existing FILE is never overwritten (exit 2).
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The backup id, or its first 4 or more characters.")
    var id: String

    @Option(help: "The bundle file to write: a path ending in .tar.gz or .tar.zst.")
    var output: String

    struct Result: Encodable {
        var id: String
        var path: String
        var sizeBytes: Int64
        var sha256: String
        var codec: CodecName

        enum CodingKeys: String, CodingKey {
            case id, path, sha256, codec
            case sizeBytes = "size_bytes"
        }
    }

    func run() async throws {
        let service = try global.existingService()
        let id = try service.catalog.resolveID(id)
        let target = URL(fileURLWithPath: output)
        let exported = try await global.withProgress { progress in
            try service.exportBackup(id: id, to: target, progress: progress)
        }
        let out = global.output
        if global.json {
            out.printJSON(
                Result(
                    id: id, path: exported.path, sizeBytes: exported.sizeBytes, sha256: exported.sha256,
                    codec: exported.codec))
        } else {
            out.line("exported \(id) to \(exported.path) (\(ByteCount.format(exported.sizeBytes)))")
        }
    }
}
