import Foundation

/// Where the web page's files are: a folder holding `web/` (HTML, CSS, ES modules) and `i18n/`
/// (the translations).
struct WebAssets: Sendable {
    let root: URL

    var web: String { root.appendingPathComponent("web").path }
    var i18n: String { root.appendingPathComponent("i18n").path }

    /// `explicit` when given (nil if it holds no page); else the working directory, else the
    /// folders above the executable (`.build/release/backup-api` sits three levels below the
    /// checkout).
    static func locate(_ explicit: String?) -> WebAssets? {
        if let explicit {
            return holdsPage(URL(fileURLWithPath: explicit)) ? WebAssets(root: URL(fileURLWithPath: explicit)) : nil
        }
        var candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        var folder = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            folder = folder.deletingLastPathComponent()
            candidates.append(folder)
        }
        return candidates.first(where: holdsPage).map { WebAssets(root: $0.standardizedFileURL) }
    }

    private static func holdsPage(_ folder: URL) -> Bool {
        let files = FileManager.default
        return files.fileExists(atPath: folder.appendingPathComponent("web/index.html").path)
            && files.fileExists(atPath: folder.appendingPathComponent("i18n/en.json").path)
    }
}
