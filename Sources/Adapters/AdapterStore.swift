// The on-disk adapter store: one PEFT-layout directory per id under the `--adapter-dir` root,
// `<root>/<id>/adapter_config.json` + `<root>/<id>/adapter_model.safetensors`.
//
// Crash safety (POSIX rename(2) of directories within one file system is atomic):
// - put: both files are written into a staging directory `<root>/.~staging-<hex>` (each with
//   AtomicFile: fsync the file, rename, fsync the staging directory), then the staging directory is
//   renamed to `<root>/<id>` and the root fsynced. A crash before the rename leaves only a staging
//   directory, which `scan` deletes; after it, the complete new entry.
// - replace: `<root>/<id>` is renamed aside to `<root>/.~old-<hex>-<id>`, the staging directory renamed
//   to `<root>/<id>`, the root fsynced, the aside directory deleted. A crash between the two renames
//   leaves no `<id>` but a complete aside copy: `scan` renames it back (the old adapter survives). A
//   crash after the second rename leaves both: `scan` deletes the aside copy (the new one wins).
// - remove: `<root>/<id>` is renamed to `<root>/.~deleted-<hex>-<id>` (the id is gone atomically), the
//   root fsynced, then the copy deleted; `scan` finishes deleting any such leftover.
// - "~" is not allowed in ids, so staging and aside names never collide with an adapter.
// Readers: `contents(of:)` opens both files under the store's lock, so it never pairs an old config
// with new weights; open files and mappings keep the old inodes alive after a replace or remove.
//
// Many processes, one root (replicas sharing a ReadWriteMany volume):
// - Every put also writes `<id>/.eckart-generation`, a random token, into the staging directory, so
//   the token names one complete entry: `generation(of:)` reads it (one small file), and a replica
//   that cached another token knows the entry was replaced. Entries written before the token existed
//   fall back to the directory's inode and modification time.
// - `contents(of:)` reads the token before and after the two files and retries if they differ, so a
//   pair read while another process replaced the entry is never returned. (A replaced directory is
//   renamed aside and deleted, never renamed back, so equal tokens mean both files came from it.)
// - put, remove and the clean-up half of `scan` hold an exclusive flock(2) on `<root>/.~lock`
//   (Linux NFS clients map it to a byte-range lock), so "exists?" and the renames are one step across
//   processes, and a starting replica's scan never deletes another replica's staging directory.
import Foundation
import Formats
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `scan` found in the store's root.
public struct AdapterScanReport: Sendable, Equatable {
    /// Ids that were read back and validated, sorted.
    public var valid: [String] = []
    /// Entries that were not registered, with why. They are left on disk for inspection.
    public var damaged: [DamagedEntry] = []
    /// Leftover staging / aside / deleted directories that were deleted.
    public var cleaned: [String] = []
    /// Ids whose replacement was interrupted and whose old copy was put back.
    public var restored: [String] = []

    public init() {}

    /// A directory in the root that could not be registered.
    public struct DamagedEntry: Sendable, Equatable {
        public let id: String
        public let reason: String
    }
}

/// The two files of one stored adapter, as read from disk.
public struct StoredAdapter: Sendable {
    public let id: String
    public let configData: Data
    /// The safetensors bytes (memory-mapped where the platform allows).
    public let weightsData: Data
    /// When the entry was written (modification time of its directory).
    public let created: Date
    /// The entry's generation token (see `AdapterStore.generation(of:)`).
    public let generation: String
}

/// The paths of one stored adapter's files, e.g. for downloads.
public struct StoredAdapterFiles: Sendable, Equatable {
    public let config: URL
    public let weights: URL
}

/// A directory of PEFT adapters keyed by id. Thread-safe: writes and reads take one lock.
public final class AdapterStore: @unchecked Sendable {
    public static let configFileName = "adapter_config.json"
    public static let weightsFileName = "adapter_model.safetensors"
    static let stagingPrefix = ".~staging-"
    static let asidePrefix = ".~old-"
    static let deletedPrefix = ".~deleted-"
    /// The cross-process write lock, in the root.
    static let lockFileName = ".~lock"
    /// The generation token inside each entry.
    public static let generationFileName = ".eckart-generation"

    public let root: URL
    private let lock = NSLock()

    /// Opens (creating if needed) the store at `root`. Call `scan` before serving.
    public init(root: URL) throws {
        self.root = root.standardizedFileURL
        do {
            try FileManager.default.createDirectory(at: self.root, withIntermediateDirectories: true)
        } catch {
            throw StoreError.io(operation: "create directory", path: self.root.path, reason: "\(error)")
        }
    }

    /// Throws `invalidID` unless `id` is 1–64 characters of `[A-Za-z0-9._-]` and not "." or "..".
    public static func validate(id: String) throws {
        guard !id.isEmpty else { throw StoreError.invalidID(id, reason: "empty") }
        guard id.utf8.count <= 64 else { throw StoreError.invalidID(id, reason: "longer than 64 characters") }
        guard id != ".", id != ".." else { throw StoreError.invalidID(id, reason: "\".\" and \"..\" are not ids") }
        for byte in id.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            default:
                throw StoreError.invalidID(id, reason: "only A-Z, a-z, 0-9, '.', '_' and '-' are allowed")
            }
        }
    }

    /// The directory of `id` (after validating it; it cannot leave the root).
    public func directory(of id: String) throws -> URL {
        try Self.validate(id: id)
        return root.appendingPathComponent(id, isDirectory: true)
    }

    /// Stores an adapter. `validate` sees the bytes first and throws to refuse them; nothing is
    /// written then. Throws `exists` if the id is taken and `replace` is false. Returns the new
    /// entry's generation token.
    @discardableResult
    public func put(id: String, configData: Data, weightsData: Data, replace: Bool,
                    validate: (Data, Data) throws -> Void = { _, _ in }) throws -> String {
        let target = try directory(of: id)
        try validate(configData, weightsData)
        let token = Self.randomHex() + Self.randomHex()
        try exclusively {
            let exists = Self.isDirectory(target)
            if exists && !replace { throw StoreError.exists(id) }
            let staging = root.appendingPathComponent(Self.stagingPrefix + Self.randomHex(), isDirectory: true)
            try Self.posix("create directory", staging.path) { mkdir(staging.path, 0o755) }
            var committed = false
            defer { if !committed { try? FileManager.default.removeItem(at: staging) } }
            do {
                try AtomicFile.write(configData, to: staging.appendingPathComponent(Self.configFileName))
                try AtomicFile.write(weightsData, to: staging.appendingPathComponent(Self.weightsFileName))
                try AtomicFile.write(Data(token.utf8), to: staging.appendingPathComponent(Self.generationFileName))
            } catch {
                throw StoreError.io(operation: "write", path: staging.path, reason: "\(error)")
            }
            if exists {
                let aside = root.appendingPathComponent(Self.asidePrefix + Self.randomHex() + "-" + id, isDirectory: true)
                try Self.posix("move aside", target.path) { rename(target.path, aside.path) }
                do {
                    try Self.posix("rename into place", staging.path) { rename(staging.path, target.path) }
                } catch {
                    rename(aside.path, target.path)   // put the old one back
                    throw error
                }
                committed = true
                try syncRoot()
                try? FileManager.default.removeItem(at: aside)
            } else {
                try Self.posix("rename into place", staging.path) { rename(staging.path, target.path) }
                committed = true
                try syncRoot()
            }
        }
        return token
    }

    /// Deletes a stored adapter. Throws `notFound` if absent.
    public func remove(id: String) throws {
        let target = try directory(of: id)
        try exclusively {
            guard Self.isDirectory(target) else { throw StoreError.notFound(id) }
            // Rename first so the id disappears atomically, then delete the contents. The name differs
            // from a replace's aside copy so that `scan` finishes the deletion instead of restoring it.
            let aside = root.appendingPathComponent(Self.deletedPrefix + Self.randomHex() + "-" + id, isDirectory: true)
            try Self.posix("remove", target.path) { rename(target.path, aside.path) }
            try syncRoot()
            try? FileManager.default.removeItem(at: aside)
        }
    }

    /// The generation token of `id`'s current entry, or nil if there is none. Cheap (one small
    /// read): replicas call it per request to notice uploads, replacements and deletions made by
    /// other processes.
    public func generation(of id: String) -> String? {
        guard let target = try? directory(of: id) else { return nil }
        return Self.generation(at: target)
    }

    /// Whether a directory for `id` exists (false for invalid ids).
    public func contains(_ id: String) -> Bool {
        guard let target = try? directory(of: id) else { return false }
        return lock.withLock { Self.isDirectory(target) }
    }

    /// Ids of the directories in the root, sorted (valid or not; see `scan`).
    public func list() -> [String] {
        lock.withLock { listLocked().ids }
    }

    /// Paths of the two files of `id`. For a consistent pair of bytes prefer `contents(of:)`.
    public func files(of id: String) throws -> StoredAdapterFiles {
        let target = try directory(of: id)
        guard contains(id) else { throw StoreError.notFound(id) }
        return StoredAdapterFiles(config: target.appendingPathComponent(Self.configFileName),
                                  weights: target.appendingPathComponent(Self.weightsFileName))
    }

    /// Reads both files of `id` under the lock: the pair always comes from one `put`.
    public func contents(of id: String) throws -> StoredAdapter {
        let target = try directory(of: id)
        return try lock.withLock { try readConsistent(id: id, at: target) }
    }

    /// Walks the root after a restart: deletes leftover staging directories, resolves interrupted
    /// replacements, and calls `validate` on every entry. Problems are reported, never thrown.
    public func scan(validate: (StoredAdapter) throws -> Void) -> AdapterScanReport {
        lock.withLock {
            var report = AdapterScanReport()
            // Under the file lock no other process is between its staging write and its rename, so
            // what is left over here is from a crash. (If the lock cannot be taken, clean nothing.)
            let names: (ids: [String], other: [String])
            do {
                names = try withFileLock { cleanLocked(&report) }
            } catch {
                names = listLocked()
            }
            for id in Set(names.ids + report.restored).sorted() {
                do {
                    try validate(try readConsistent(id: id, at: root.appendingPathComponent(id, isDirectory: true)))
                    report.valid.append(id)
                } catch let StoreError.damaged(_, reason) {
                    report.damaged.append(.init(id: id, reason: reason))
                } catch {
                    report.damaged.append(.init(id: id, reason: "\(error)"))
                }
            }
            return report
        }
    }

    // MARK: - Internals

    /// `scan`'s first half: deletes staging and deleted leftovers, restores interrupted replacements.
    /// Call with both locks held. Returns the listing it worked from.
    private func cleanLocked(_ report: inout AdapterScanReport) -> (ids: [String], other: [String]) {
        let names = listLocked()
        for name in names.other.sorted() where name != Self.lockFileName {
            let url = root.appendingPathComponent(name)
            if name.hasPrefix(Self.stagingPrefix) || name.hasPrefix(Self.deletedPrefix) {
                try? FileManager.default.removeItem(at: url)
                report.cleaned.append(name)
            } else if name.hasPrefix(Self.asidePrefix) {
                // .~old-<16 hex>-<id>
                let id = String(name.dropFirst(Self.asidePrefix.count + 17))
                if (try? Self.validate(id: id)) != nil, !Self.isDirectory(root.appendingPathComponent(id)),
                   rename(url.path, root.appendingPathComponent(id).path) == 0 {
                    report.restored.append(id)
                } else {
                    try? FileManager.default.removeItem(at: url)
                    report.cleaned.append(name)
                }
            } else {
                report.damaged.append(.init(id: name, reason: "not an adapter directory with a valid id"))
            }
        }
        if !report.restored.isEmpty { try? syncRoot() }
        return names
    }

    /// Reads `id` between two reads of its generation token and retries while they differ: another
    /// process may replace the entry between the config and the weights.
    private func readConsistent(id: String, at target: URL) throws -> StoredAdapter {
        var attempts = 0
        while true {
            guard let before = Self.generation(at: target) else { throw StoreError.notFound(id) }
            let read: Result<StoredAdapter, Error> = Result { try readOnce(id: id, at: target, generation: before) }
            if Self.generation(at: target) == before { return try read.get() }
            attempts += 1
            if attempts >= 16 {
                throw StoreError.io(operation: "read", path: target.path, reason: "replaced by another process \(attempts) times while reading")
            }
        }
    }

    private func readOnce(id: String, at target: URL, generation: String) throws -> StoredAdapter {
        guard Self.isDirectory(target) else { throw StoreError.notFound(id) }
        let configURL = target.appendingPathComponent(Self.configFileName)
        let weightsURL = target.appendingPathComponent(Self.weightsFileName)
        guard let config = try? Data(contentsOf: configURL) else {
            throw StoreError.damaged(id: id, reason: "cannot read \(Self.configFileName)")
        }
        guard let weights = try? Data(contentsOf: weightsURL, options: .alwaysMapped) else {
            throw StoreError.damaged(id: id, reason: "cannot read \(Self.weightsFileName)")
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: target.path)
        let created = attributes?[.modificationDate] as? Date ?? Date()
        return StoredAdapter(id: id, configData: config, weightsData: weights, created: created, generation: generation)
    }

    /// The token in `<target>/.eckart-generation`; for entries written before it existed, the
    /// directory's inode and modification time (a replace renames a new directory into place).
    private static func generation(at target: URL) -> String? {
        if let data = FileManager.default.contents(atPath: target.appendingPathComponent(generationFileName).path),
           let token = String(data: data, encoding: .utf8), !token.isEmpty {
            return token
        }
        var info = stat()
        guard stat(target.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { return nil }
        return "inode-\(info.st_ino)-\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }

    /// Runs `body` holding the store's lock (this process's threads) and the file lock (other processes).
    private func exclusively<T>(_ body: () throws -> T) throws -> T {
        try lock.withLock { try withFileLock(body) }
    }

    /// Runs `body` holding an exclusive flock(2) on `<root>/.~lock`, across processes.
    private func withFileLock<T>(_ body: () throws -> T) throws -> T {
        let path = root.appendingPathComponent(Self.lockFileName).path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.io(operation: "open", path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }   // closing the descriptor releases the lock
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw StoreError.io(operation: "flock", path: path, reason: String(cString: strerror(errno))) }
        }
        return try body()
    }

    /// Directory names in the root: valid ids, and everything else.
    private func listLocked() -> (ids: [String], other: [String]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        var ids: [String] = [], other: [String] = []
        for name in names {
            if (try? Self.validate(id: name)) != nil && Self.isDirectory(root.appendingPathComponent(name)) {
                ids.append(name)
            } else {
                other.append(name)
            }
        }
        return (ids.sorted(), other)
    }

    private func syncRoot() throws {
        let fd = open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.io(operation: "open", path: root.path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        try Self.posix("fsync", root.path) { fsync(fd) }
    }

    private static func posix(_ operation: String, _ path: String, _ call: () -> Int32) throws {
        guard call() == 0 else { throw StoreError.io(operation: operation, path: path, reason: String(cString: strerror(errno))) }
    }

    private static func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    private static func randomHex() -> String {
        let hex = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
