// A read-only memory map of a whole file.
//
// Reference: POSIX open(2), fstat(2), mmap(2) (PROT_READ, MAP_PRIVATE) and munmap(2), as the Rust
// safetensors users map files with memmap2 `Mmap::map`. The mapping shares pages with the page cache:
// nothing is read until touched. As with any mapping, truncating the file underneath it makes later
// reads fault; Eckart replaces files by rename (AtomicFile.swift), never truncates them in place.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be mapped.
public enum MappedFileError: Error, Equatable, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case notARegularFile(path: String)
    case cannotMap(path: String, reason: String)

    /// The problem without the path.
    public var reason: String {
        switch self {
        case .cannotOpen(_, let reason): return "cannot open: \(reason)"
        case .notARegularFile: return "not a regular file"
        case .cannotMap(_, let reason): return "cannot map into memory: \(reason)"
        }
    }

    public var description: String {
        switch self {
        case .cannotOpen(let path, _), .notARegularFile(let path), .cannotMap(let path, _): return "\(path): \(reason)"
        }
    }
}

/// The bytes of a file, mapped read-only for the lifetime of this object and unmapped on deinit.
/// Immutable, so it may be shared across threads.
public final class MappedFile: @unchecked Sendable {
    /// The path the file was opened at.
    public let path: String
    /// The file's length in bytes at the time it was mapped.
    public let count: Int
    private let base: UnsafeRawPointer?

    /// Maps the regular file at `path`. An empty file gives an empty buffer (nothing is mapped).
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MappedFileError.cannotOpen(path: path, reason: errnoDescription()) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw MappedFileError.cannotOpen(path: path, reason: errnoDescription()) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw MappedFileError.notARegularFile(path: path) }
        guard let size = Int(exactly: info.st_size), size >= 0 else {
            throw MappedFileError.cannotMap(path: path, reason: "size \(info.st_size) out of range")
        }
        count = size
        if size == 0 {
            base = nil
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw MappedFileError.cannotMap(path: path, reason: errnoDescription())
        }
        base = UnsafeRawPointer(address)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// Calls `body` with the mapped bytes. The buffer is valid only during the call.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }
}

/// `strerror(errno)` for messages.
func errnoDescription(_ code: Int32 = errno) -> String {
    String(cString: strerror(code)) + " (errno \(code))"
}
