import Foundation
import TestSupport
import Testing

/// The committed man pages against what the binaries say about themselves
/// (`--experimental-dump-help`, argument-parser's own description of every command): a new
/// subcommand or option without `make man` fails here.
@Suite("docs/man pages and shell completion: everything the commands define is in them")
struct ManPageCLITests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// What `--experimental-dump-help` says about one command.
    struct Command: Decodable {
        struct Argument: Decodable {
            struct Name: Decodable {
                var kind: String
                var name: String
            }
            var names: [Name]?
            var shouldDisplay: Bool
        }
        var commandName: String
        var subcommands: [Command]?
        var arguments: [Argument]?

        /// This command and every one below it, each with its path (`remote push`).
        func all(prefix: [String] = []) -> [(path: [String], command: Command)] {
            let path = prefix + [commandName]
            return [(path, self)] + (subcommands ?? []).flatMap { $0.all(prefix: path) }
        }

        /// The long option names shown in help (`data-dir`), without the built-in ones.
        var longOptions: [String] {
            let shown: [Argument] = (arguments ?? []).filter(\.shouldDisplay)
            let names: [Argument.Name] = shown.flatMap { $0.names ?? [] }
            return names.filter { $0.kind == "long" && $0.name != "help" && $0.name != "version" }.map(\.name)
        }
    }

    struct Dump: Decodable {
        var command: Command
    }

    static func dump(_ product: String) async throws -> Command {
        let result = try await ChildProcess(product: product).runOffPool(["--experimental-dump-help"])
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONDecoder().decode(Dump.self, from: Data(result.stdout.utf8)).command
    }

    @Test("docs/man/backup.1 and backup-api.1 name every subcommand and every option the binaries list")
    func manPagesAreCurrent() async throws {
        for product in ["backup", "backup-api"] {
            let page = try String(
                contentsOf: Self.repository.appendingPathComponent("docs/man/\(product).1"), encoding: .utf8)
            #expect(page.contains(".Dt \(product.uppercased()) 1"), "\(product).1 is a section 1 page")
            let commands = try await Self.dump(product).all()
            if product == "backup" {
                #expect(commands.contains { $0.path == ["backup", "doctor"] })
                #expect(commands.contains { $0.path == ["backup", "remote", "push"] })
            }
            for (path, command) in commands.dropFirst() {
                #expect(page.contains("Em \(command.commandName)"), "\(product).1 lacks \(path.joined(separator: " "))")
            }
            for (path, command) in commands {
                for option in command.longOptions {
                    #expect(
                        page.contains("Fl -\(option)"),
                        "\(product).1 lacks --\(option) of \(path.joined(separator: " ")): run make man")
                }
            }
        }
    }

    @Test("the completion scripts name every subcommand; bash's parses and registers a completion for backup")
    func completionScripts() async throws {
        let backup = try ChildProcess(product: "backup")
        let commands = try await Self.dump("backup").all().dropFirst()
        for shell in ["bash", "zsh", "fish"] {
            let script = try await backup.runOffPool(["--generate-completion-script", shell])
            #expect(script.status == 0)
            for (path, command) in commands {
                #expect(script.stdout.contains(command.commandName), "\(shell) lacks \(path.joined(separator: " "))")
            }
        }
        let directory = TemporaryDirectory("completion")
        let file = directory.url.appendingPathComponent("backup.bash")
        try await backup.runOffPool(["--generate-completion-script", "bash"]).stdout.write(
            to: file, atomically: true, encoding: .utf8)
        let bash = try await ChildProcess(executablePath: "/bin/bash").runOffPool([
            "-c", "source \(file.path) && complete -p backup",
        ])
        #expect(bash.status == 0, "\(bash.stderr)")
        #expect(bash.stdout.contains("backup"), "\(bash.stdout)")
        // Completing `backup rem` offers `remote`, as a shell would on Tab.
        let completed = try await ChildProcess(executablePath: "/bin/bash").runOffPool([
            "-c",
            """
            source \(file.path)
            COMP_WORDS=(backup rem); COMP_CWORD=1; COMP_LINE='backup rem'; COMP_POINT=${#COMP_LINE}
            function=$(complete -p backup | sed -E 's/.*-F ([^ ]+).*/\\1/')
            "$function" backup rem backup
            printf '%s\\n' "${COMPREPLY[@]}"
            """,
        ])
        #expect(completed.status == 0, "\(completed.stderr)")
        #expect(completed.stdout.split(separator: "\n").contains("remote"), "\(completed.stdout) \(completed.stderr)")
    }
}
