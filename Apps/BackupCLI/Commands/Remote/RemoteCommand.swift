import ArgumentParser
import BackupCore
import Foundation

/// `backup remote …`: the off-site copy in the bucket the `offsite.*` settings name.
struct RemoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote",
        abstract: "The off-site copy: list the bucket, push, pull, prune.",
        subcommands: [
            RemoteListCommand.self, RemotePushCommand.self, RemotePullCommand.self, RemotePruneCommand.self,
        ])
}
