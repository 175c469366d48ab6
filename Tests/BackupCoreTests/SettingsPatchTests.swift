import Foundation
import Testing

@testable import BackupCore

@Suite("One settings parser: KEY=VALUE words and the API's JSON make the same change, judged by the same rules")
struct SettingsPatchTests {
    @Test("the same change written as words and as JSON gives the same settings")
    func wordsAndJSONAgree() throws {
        let words = try SettingsPatch(assignments: [
            "enabled=yes", "interval_hours=6", "keep_last=3", "retention.keep_daily=7", "include_manual=on",
            "codec=zstd", "compression_level=12", "webhook_url=https://hooks.example.com/x",
            "restore_lock_timeout_seconds=9", "max_import_bytes=2097152",
        ])
        let json = try JSONDecoder().decode(
            SettingsPatch.self,
            from: Data(
                """
                {"enabled": true, "interval_hours": 6, "retention": {"keep_last": 3, "keep_daily": 7,
                 "include_manual": true}, "codec": "zstd", "compression_level": 12,
                 "webhook_url": "https://hooks.example.com/x", "restore_lock_timeout_seconds": 9,
                 "max_import_bytes": 2097152}
                """.utf8))
        let fromWords = try words.applied(to: BackupSettings()).validated()
        #expect(fromWords == (try json.applied(to: BackupSettings()).validated()))
        #expect(fromWords.codec == .zstd && fromWords.compressionLevel == 12 && fromWords.retention.keepDaily == 7)
        #expect(try SettingsPatch(assignments: ["webhook_url="]).applied(to: fromWords).webhookURL == nil)
    }

    @Test("words of the wrong type, unknown keys and unknown codecs are named by their JSON field")
    func problemsNamed() {
        let error = #expect(throws: BackupError.self) {
            _ = try SettingsPatch(assignments: ["keep_last=many", "enabled=maybe", "colour=blue", "oops"])
        }
        guard case .invalidInput(let fields) = error else { return }
        #expect(fields["retention.keep_last"] == "must be an integer")
        #expect(fields["enabled"] == "must be true or false")
        #expect(fields["colour"]?.hasPrefix("is not a setting; use one of enabled, interval_hours, keep_last") == true)
        #expect(fields["oops"] == "must be KEY=VALUE")
        let codec = #expect(throws: BackupError.self) {
            _ = try SettingsPatch(assignments: ["codec=lz4"]).applied(to: BackupSettings())
        }
        #expect(codec == .invalidInput(fields: ["codec": "must be gzip or zstd"]))
    }

    @Test(
        "the level's range depends on the codec; a bad pair names both fields",
        arguments: [
            (CodecName.gzip, 1, true), (.gzip, 9, true), (.gzip, 10, false), (.gzip, 0, false),
            (.zstd, 1, true), (.zstd, 19, true), (.zstd, 20, false), (.zstd, 0, false),
        ])
    func levelRangeByCodec(codec: CodecName, level: Int, valid: Bool) {
        let problems = BackupSettings(codec: codec, compressionLevel: level).problems
        #expect(problems.isEmpty == valid)
        if !valid { #expect(Set(problems.keys) == ["codec", "compression_level"]) }
    }
}
