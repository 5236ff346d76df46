// Why an operation on the adapter store or registry failed.

/// A failed store or registry operation. Each case names the adapter id (and path) at fault.
/// Suggested HTTP mapping: invalidID 400, exists 409, notFound 404, damaged 500, io 500.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The id is not 1–64 characters of `[A-Za-z0-9._-]`, or is "." or "..".
    case invalidID(String, reason: String)
    /// An adapter with this id is stored and replacing it was not asked for.
    case exists(String)
    /// No adapter with this id is stored or registered.
    case notFound(String)
    /// The stored entry cannot be read back: a file is missing, or it no longer validates.
    case damaged(id: String, reason: String)
    /// A file-system operation failed.
    case io(operation: String, path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidID(let id, let reason): "invalid adapter id \"\(id)\": \(reason)"
        case .exists(let id): "adapter \"\(id)\" already exists (pass replace to overwrite it)"
        case .notFound(let id): "adapter \"\(id)\" not found"
        case .damaged(let id, let reason): "stored adapter \"\(id)\" is damaged: \(reason)"
        case .io(let operation, let path, let reason): "cannot \(operation) \(path): \(reason)"
        }
    }
}
