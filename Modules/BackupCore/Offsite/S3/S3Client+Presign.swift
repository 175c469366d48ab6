import Foundation

extension S3Client {
    /// A URL that fetches the object without credentials until `now + expires` (a SigV4
    /// presigned GetObject; S3 accepts 1 s to 7 days). The secret is not in it, only a signature.
    public func presignedGet(key: String, expires: Duration, now: Date) throws(BackupError) -> URL {
        let seconds = Int(expires.components.seconds)
        guard (1...604_800).contains(seconds) else {
            throw .invalidInput(fields: ["expires": "must be between 1 second and 7 days"])
        }
        let path = location.path(key: key)
        let signed = signer.signQuery(
            SigV4Request(
                method: "GET", path: path, query: [], headers: [(name: "host", value: hostHeader)],
                payloadHash: SigV4Request.unsignedPayload),
            date: now, expires: seconds)
        return try location.url(
            path: path, encodedQuery: SigV4Request.canonicalQuery(signed.query.map { (name: $0.name, value: $0.value) })
        )
    }
}
