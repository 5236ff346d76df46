// Replacing a file atomically and durably: readers see the old contents or the new, never a mix, and
// after a crash the file is one or the other.
//
// Reference: POSIX rename(2) (atomic replacement within one file system) and fsync(2), in the usual
// sequence: write a temporary file in the destination's directory, fsync it, rename it over the
// destination, fsync the directory so the rename itself is durable. (huggingface/safetensors
// `buffered_write_to_file` writes a sibling temporary file and renames it for the same reason: an
// existing file may be memory-mapped by readers and must never be truncated in place.)
import Foundation
#if canImport(Glibc)
import Glibc
private let posixWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let posixWrite = Darwin.write
#endif

/// Why an atomic write failed. Unless the case says otherwise the destination was left untouched and the
/// temporary file removed.
public enum AtomicFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The temporary file could not be created (missing directory, permissions, ...).
    case cannotCreateTemporary(directory: String, reason: String)
    /// Writing or syncing the temporary file failed (disk full, I/O error, ...).
    case cannotWrite(path: String, reason: String)
    /// The temporary file could not be renamed over the destination.
    case cannotReplace(path: String, reason: String)
    /// The destination was replaced, but syncing its directory failed: the new contents are in place
    /// but may not survive a crash.
    case cannotSyncDirectory(directory: String, reason: String)

    public var description: String {
        switch self {
        case .cannotCreateTemporary(let directory, let reason):
            return "cannot create a temporary file in \(directory): \(reason)"
        case .cannotWrite(let path, let reason):
            return "cannot write \(path): \(reason)"
        case .cannotReplace(let path, let reason):
            return "cannot replace \(path): \(reason)"
        case .cannotSyncDirectory(let directory, let reason):
            return "wrote the file but cannot sync directory \(directory): \(reason)"
        }
    }
}

/// Atomic, durable file replacement.
public enum AtomicFile {
    /// Writes the bytes a producer hands over to the temporary file, in order.
    public struct Sink {
        fileprivate let fd: Int32
        fileprivate let path: String

        /// Appends `bytes` to the file.
        public func write(_ bytes: UnsafeRawBufferPointer) throws {
            guard var next = bytes.baseAddress else { return }
            var remaining = bytes.count
            while remaining > 0 {
                let written = posixWrite(fd, next, min(remaining, 1 << 30))
                if written < 0 {
                    if errno == EINTR { continue }
                    throw AtomicFileError.cannotWrite(path: path, reason: errnoDescription())
                }
                next += written
                remaining -= written
            }
        }

        /// Appends `bytes` to the file.
        public func write(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try write($0) }
        }
    }

    /// Replaces `url` with `bytes`.
    /// - Parameter permissions: mode of a newly created file (before the process umask).
    public static func write(_ bytes: [UInt8], to url: URL, permissions: mode_t = 0o644) throws {
        try write(to: url, permissions: permissions) { try $0.write(bytes) }
    }

    /// Replaces `url` with `data`.
    public static func write(_ data: Data, to url: URL, permissions: mode_t = 0o644) throws {
        try write(to: url, permissions: permissions) { sink in try data.withUnsafeBytes { try sink.write($0) } }
    }

    /// Replaces `url` with what `produce` writes to the sink: a temporary file in the same directory is
    /// written, fsynced and renamed over `url`, then the directory is fsynced. If `produce` or any step
    /// before the rename throws, `url` is untouched and the temporary file is removed.
    public static func write(to url: URL, permissions: mode_t = 0o644, _ produce: (Sink) throws -> Void) throws {
        let destination = url.path
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)

        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
        guard fd >= 0 else {
            throw AtomicFileError.cannotCreateTemporary(directory: directory, reason: errnoDescription())
        }
        var closed = false
        var renamed = false
        defer {
            if !closed { close(fd) }
            if !renamed { unlink(temporary) }
        }
        try produce(Sink(fd: fd, path: temporary))
        guard fsync(fd) == 0 else { throw AtomicFileError.cannotWrite(path: temporary, reason: errnoDescription()) }
        closed = true
        guard close(fd) == 0 else { throw AtomicFileError.cannotWrite(path: temporary, reason: errnoDescription()) }
        guard rename(temporary, destination) == 0 else {
            throw AtomicFileError.cannotReplace(path: destination, reason: errnoDescription())
        }
        renamed = true

        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryFD >= 0 else {
            throw AtomicFileError.cannotSyncDirectory(directory: directory, reason: errnoDescription())
        }
        defer { close(directoryFD) }
        guard fsync(directoryFD) == 0 else {
            throw AtomicFileError.cannotSyncDirectory(directory: directory, reason: errnoDescription())
        }
    }
}
