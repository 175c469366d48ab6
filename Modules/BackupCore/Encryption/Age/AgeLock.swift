/// What a file is encrypted to.
public enum AgeLock: Sendable {
    /// One X25519 stanza per recipient (any of them opens the file).
    case recipients([AgeRecipient])
    /// One scrypt stanza (age allows no other stanza beside it); `workFactor` is the base-two
    /// logarithm of scrypt's N, 18 as the `age` command uses.
    case passphrase(String, workFactor: Int = 18)
}
