import KubeAPI

/// Every error the client reports: bad configuration, a failed transport, an API error, or a
/// response that could not be decoded.
public enum KubeClientError: Error, Sendable, CustomStringConvertible {
    /// The kubeconfig or in-cluster environment is missing something or is inconsistent.
    case config(String)
    /// The request never got an HTTP response (connect, TLS, timeout, connection reset).
    case transport(String)
    /// The server answered with a non-2xx status; the body decoded as (or synthesised into) a `Status`.
    case status(Status)
    /// The response body was not the expected JSON.
    case decoding(String)

    /// The HTTP (or watch ERROR event) code, when the error is an API status.
    public var statusCode: Int? {
        if case .status(let s) = self { return s.code }
        return nil
    }

    /// True for 410 Gone / `Expired`: the requested resourceVersion is older than the server's history.
    public var isExpired: Bool { statusCode == 410 }
    /// True for 404 Not Found.
    public var isNotFound: Bool { statusCode == 404 }
    /// True for 409 Conflict or AlreadyExists.
    public var isConflict: Bool { statusCode == 409 }

    public var description: String {
        switch self {
        case .config(let m): "kubeconfig: \(m)"
        case .transport(let m): "transport: \(m)"
        case .status(let s): "API error \(s.code) \(s.reason ?? ""): \(s.message ?? "")"
        case .decoding(let m): "decoding: \(m)"
        }
    }
}

extension Status {
    /// A `Status` for a response whose body was not one (a proxy's HTML page, an empty 503, …),
    /// with the reason upstream's client-go would derive from the code.
    public static func synthesised(code: Int, body: String) -> Status {
        let reason: String = switch code {
        case 400: "BadRequest"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "NotFound"
        case 405: "MethodNotAllowed"
        case 406: "NotAcceptable"
        case 409: "Conflict"
        case 410: "Expired"
        case 415: "UnsupportedMediaType"
        case 422: "Invalid"
        case 429: "TooManyRequests"
        case 500: "InternalError"
        case 503: "ServiceUnavailable"
        case 504: "Timeout"
        default: "Unknown"
        }
        let trimmed = body.count > 512 ? String(body.prefix(512)) + "…" : body
        let message = trimmed.isEmpty ? "the server responded with HTTP \(code)" : trimmed
        return Status(message: message, reason: reason, code: code)
    }
}
