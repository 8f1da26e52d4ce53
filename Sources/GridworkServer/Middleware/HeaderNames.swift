import HTTPTypes

extension HTTPField.Name {
    /// The session's CSRF token, for scripts that POST JSON.
    static let csrfToken = Self("X-CSRF-Token")!
    /// Set by a TLS-terminating proxy; makes cookies Secure.
    static let forwardedProto = Self("X-Forwarded-Proto")!
    static let frameOptions = Self("X-Frame-Options")!
}

extension HTTPField.Name {
    /// Makes a progress page reload itself without script.
    static let refresh = Self("Refresh")!
}
