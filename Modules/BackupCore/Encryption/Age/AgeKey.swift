/// What may open a file: every identity is tried against every X25519 stanza, a passphrase
/// against an scrypt stanza (work factors above ``AgeDecryptingReader/maxWorkFactor`` refused).
public enum AgeKey: Sendable {
    case identity(AgeIdentity)
    case passphrase(String)
}
