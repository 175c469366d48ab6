import Foundation
import Testing

@testable import BackupCore

/// Our AWS Signature V4 signer against the AWS signing test suite (`Tests/Fixtures/sigv4/`).
@Suite("AWS Signature V4 test vectors")
struct SigV4VectorTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sigv4")

    static let names: [String] =
        (try? FileManager.default.contentsOfDirectory(atPath: root.path))?
        .filter { !$0.hasSuffix(".md") }.sorted() ?? []

    /// One vector: the request, its context and the expected files.
    struct Vector {
        var name: String
        var request: SigV4Request
        var signer: SigV4Signer
        var date: Date
        var expires: Int
        var signBody: Bool
        var normalize: Bool

        init(_ name: String) throws {
            self.name = name
            let folder = SigV4VectorTests.root.appendingPathComponent(name)
            let context = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("context.json")))
                    as? [String: Any])
            let credentials = try #require(context["credentials"] as? [String: String])
            let accessKeyID = try #require(credentials["access_key_id"])
            let secret = try #require(credentials["secret_access_key"])
            let region = try #require(context["region"] as? String)
            let service = try #require(context["service"] as? String)
            signer = SigV4Signer(
                credentials: S3Credentials(
                    accessKeyID: accessKeyID, secretAccessKey: secret, sessionToken: credentials["token"]),
                region: region, service: service)
            let timestamp = try #require(context["timestamp"] as? String)
            date = try #require(ISO8601DateFormatter().date(from: timestamp))
            expires = try #require(context["expiration_in_seconds"] as? Int)
            signBody = context["sign_body"] as? Bool ?? false
            normalize = context["normalize"] as? Bool ?? true
            request = try Vector.parse(
                String(decoding: Data(contentsOf: folder.appendingPathComponent("request.txt")), as: UTF8.self))
        }

        func expected(_ file: String) throws -> String {
            String(
                decoding: try Data(contentsOf: SigV4VectorTests.root.appendingPathComponent("\(name)/\(file)")),
                as: UTF8.self)
        }

        /// `METHOD PATH?QUERY HTTP/1.1`, `Name:value` lines, a blank line, the body.
        static func parse(_ text: String) throws -> SigV4Request {
            let (head, body) =
                text.range(of: "\n\n").map { (String(text[..<$0.lowerBound]), String(text[$0.upperBound...])) }
                ?? (text.hasSuffix("\n") ? String(text.dropLast()) : text, "")
            let lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let first = try #require(lines.first)
            let method = String(first.prefix { $0 != " " })
            let target = String(first.dropFirst(method.count + 1).dropLast(" HTTP/1.1".count))
            let path = String(target.prefix { $0 != "?" })
            var query: [(name: String, value: String)] = []
            if target.count > path.count {
                for item in target.dropFirst(path.count + 1).split(separator: "&") {
                    let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
                    let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
                    query.append((name: name, value: value))
                }
            }
            let headers = lines.dropFirst().filter { !$0.isEmpty }.map { line -> (name: String, value: String) in
                let colon = line.firstIndex(of: ":")!
                return (name: String(line[..<colon]), value: String(line[line.index(after: colon)...]))
            }
            let hash = SigV4Request.hash(Array(body.utf8))
            return SigV4Request(method: method, path: path, query: query, headers: headers, payloadHash: hash)
        }
    }

    @Test("the suite's subset is here")
    func subsetPresent() {
        #expect(SigV4VectorTests.names.count >= 20)
        #expect(SigV4VectorTests.names.contains("get-vanilla"))
    }

    @Test("header form: canonical request, string to sign, signature, Authorization", arguments: names)
    func headerForm(_ name: String) throws {
        let vector = try Vector(name)
        if vector.normalize {
            // S3 does not normalise paths: only vectors where normalising changes nothing apply.
            #expect(!vector.request.path.contains("//") && !vector.request.path.contains("/."), "\(name)")
        }
        let signed = vector.signer.signHeaders(vector.request, date: vector.date, contentSHA256Header: vector.signBody)
        #expect(signed.canonicalRequest == (try vector.expected("header-canonical-request.txt")))
        #expect(signed.stringToSign == (try vector.expected("header-string-to-sign.txt")))
        #expect(
            signed.signature
                == (try vector.expected("header-signature.txt")).trimmingCharacters(in: .whitespacesAndNewlines))
        let authorization = try vector.expected("header-signed-request.txt").split(separator: "\n")
            .first { $0.hasPrefix("Authorization:") }
        #expect(signed.headers.last.map { "\($0.name):\($0.value)" } == authorization.map(String.init))
    }

    @Test("query form (presigned URL): canonical request, string to sign, signature", arguments: names)
    func queryForm(_ name: String) throws {
        let vector = try Vector(name)
        let signed = vector.signer.signQuery(vector.request, date: vector.date, expires: vector.expires)
        #expect(signed.canonicalRequest == (try vector.expected("query-canonical-request.txt")))
        #expect(signed.stringToSign == (try vector.expected("query-string-to-sign.txt")))
        #expect(
            signed.signature
                == (try vector.expected("query-signature.txt")).trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(signed.query.last == .init(name: "X-Amz-Signature", value: signed.signature))
    }

    @Test("date stamps are UTC and calendar-free")
    func stamps() {
        #expect(SigV4Signer.stamps(Date(timeIntervalSince1970: 1_440_938_160)) == ("20150830", "20150830T123600Z"))
        #expect(SigV4Signer.stamps(Date(timeIntervalSince1970: 951_782_400)) == ("20000229", "20000229T000000Z"))
        #expect(SigV4Signer.stamps(Date(timeIntervalSince1970: 0)) == ("19700101", "19700101T000000Z"))
    }

    @Test("the credentials never print their secret")
    func redacted() {
        let credentials = S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "very-secret-value")
        for text in [
            "\(credentials)", String(reflecting: credentials),
            {
                var s = ""; dump(credentials, to: &s); return s
            }(),
        ] {
            #expect(!text.contains("very-secret-value"))
            #expect(text.contains("AKIDEXAMPLE"))
        }
    }
}
