import ArgumentParser
import BackupCore
import Foundation

/// `backup key …`: the data directory's age identity, `DATA_DIR/backup-key`.
struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Make or show the key bundles are encrypted to.",
        subcommands: [GenerateKey.self, ShowKey.self])

    /// What the key commands print with `--json`: never the identity, only where it is.
    struct KeyInfo: Encodable {
        var recipient: String
        var identityFile: String

        enum CodingKeys: String, CodingKey {
            case recipient
            case identityFile = "identity_file"
        }
    }

    struct GenerateKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract: "Write a new age identity to DATA_DIR/backup-key and print its recipient.",
            discussion: """
                The identity (AGE-SECRET-KEY-1…) is written with mode 0600 and never overwritten: \
                an existing key file is refused. Keep a copy of it somewhere else: an encrypted \
                backup opens only with it (or with another recipient or passphrase it was encrypted \
                to). Then turn encryption on: backup settings set encryption.enabled=true.
                """)

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let key = BackupKey(dataDirectory: try global.dataDirectory)
            let identity = try key.generate(now: Date())
            KeyCommand.print(recipient: identity.recipient, file: key.file, global: global)
        }
    }

    struct ShowKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Print the recipient (age1…) of DATA_DIR/backup-key.")

        @OptionGroup var global: GlobalOptions

        func run() throws {
            try global.dataDirectory.requireExisting()
            let key = BackupKey(dataDirectory: try global.dataDirectory)
            guard let recipient = try key.recipient() else {
                throw BackupError.fileNotFound(path: key.file.path)
            }
            KeyCommand.print(recipient: recipient, file: key.file, global: global)
        }
    }

    static func print(recipient: AgeRecipient, file: URL, global: GlobalOptions) {
        let output = global.output
        if global.json {
            output.printJSON(KeyInfo(recipient: recipient.description, identityFile: file.path))
        } else {
            output.line(recipient.description)
        }
    }
}

/// `--identity FILE` and `--passphrase-file FILE`: keys for reading encrypted bundles besides
/// the data directory's own (a machine whose data directory lost its key).
struct KeyOptions: ParsableArguments {
    @Option(name: .customLong("identity"), help: "An age identity file that may open encrypted bundles (repeatable).")
    var identities: [String] = []

    @Option(help: "A file whose first line is a passphrase that may open encrypted bundles.")
    var passphraseFile: String?

    /// `service` with these keys given (read now; a file others may read is refused).
    func apply(to service: BackupService) throws -> BackupService {
        var service = service
        for path in identities {
            service.givenKeys += try BackupKey.readIdentities(URL(fileURLWithPath: path)).map(AgeKey.identity)
        }
        if let passphraseFile {
            service.givenKeys.append(.passphrase(try PassphraseFile.read(passphraseFile)))
        }
        return service
    }
}
