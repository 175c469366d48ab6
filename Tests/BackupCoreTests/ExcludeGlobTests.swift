import Testing

@testable import BackupCore

@Suite("Exclude globs: base names at any depth, anchored paths, ** across whole segments")
struct ExcludeGlobTests {
    @Test(
        "each pattern matches what the settings document and nothing more",
        arguments: [
            ("*.tmp", "x.tmp", true), ("*.tmp", "a/b/x.tmp", true), ("*.tmp", "x.tmp.keep", false),
            (".DS_Store", "a/.DS_Store", true), ("?.log", "a.log", true), ("?.log", "ab.log", false),
            ("[ab].txt", "b.txt", true), ("[ab].txt", "c.txt", false),
            ("cache/**", "cache", false), ("cache/**", "cache/x", true), ("cache/**", "cache/x/y", true),
            ("cache/**", "a/cache/x", false), ("**/thumbs/*", "thumbs/t.jpg", true),
            ("**/thumbs/*", "a/b/thumbs/t.jpg", true), ("**/thumbs/*", "a/thumbs/x/t.jpg", false),
            ("a/*/c", "a/b/c", true), ("a/*/c", "a/b/x/c", false), ("a/**/c", "a/c", true),
            ("a/**/c", "a/b/x/c", true), ("/logs", "logs", true), ("/logs", "a/logs", false),
            ("logs/", "logs", true), ("*", "anything/at/all", true), ("a*b", "a/b", false),
        ])
    func matches(pattern: String, path: String, expected: Bool) {
        #expect(ExcludeGlob(pattern).matches(path) == expected, "\(pattern) on \(path)")
    }
}
