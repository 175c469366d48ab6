import ArgumentParser
import BackupCore
import Foundation

struct PinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pin", abstract: "Pin a backup: retention never deletes it.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The backup id, or its first 4 or more characters.")
    var id: String

    func run() async throws {
        try setPinned(true, id: id, global: global)
    }
}

struct UnpinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unpin", abstract: "Unpin a backup: retention may delete it again.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The backup id, or its first 4 or more characters.")
    var id: String

    func run() async throws {
        try setPinned(false, id: id, global: global)
    }
}

private func setPinned(_ pinned: Bool, id: String, global: GlobalOptions) throws {
    let catalog = try global.existingService().catalog
    let record = try catalog.annotate(id: try catalog.resolveID(id), note: nil, pinned: pinned)
    let output = global.output
    if global.json {
        output.printJSON(record.info)
    } else {
        output.line("\(pinned ? "pinned" : "unpinned") \(record.id)")
    }
}
