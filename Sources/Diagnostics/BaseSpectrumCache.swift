// Caches of the frozen base model's SVDs, keyed by content: singular values in memory and on disk,
// full singular vectors in memory only (they are as large as the weights).
//
// Key: SHA-256 of a domain tag with the algorithm version, the module's shape and its fp32 weight
// bytes. A changed weight, shape or algorithm gives a new key, so a stale entry can never be served;
// SHA-256 makes an accidental collision negligible (a 64-bit hash would not be for a shared cache).
// The key of each module is computed once per process: the base model is frozen.
//
// Disk file `<key hex>.sigma`, written with AtomicFile (temp, fsync, rename):
//     "ECKSIGMA" (8 bytes) · key digest (32) · count n (UInt32 LE) · n × Float32 LE · SHA-256 of all before (32)
// A file whose size, magic, key, checksum or values do not check out is ignored (and rewritten after
// the recomputation): a corrupt or truncated cache is never fatal and never trusted.
import Adapters
import Formats
import Foundation
import LinearAlgebra
import Models

/// Content-addressed caches of one base model's per-module SVDs.
public final class BaseSpectrumCache: @unchecked Sendable {
    /// Bumped whenever the computation of σ changes, so old cache files stop matching.
    public static let algorithmVersion = "eckart-base-sigma/1 sgesdd-f32"

    public let model: BaseModel
    /// Where σ files live; nil keeps the cache in memory only.
    public let directory: URL?
    private let values: LRUCache<String, [Float]>
    private let vectors: LRUCache<String, SingularValueDecomposition>
    private let lock = NSLock()
    private var keys: [String: [UInt8]] = [:]   // module name → digest (memoised; the model is frozen)

    /// - Parameters:
    ///   - valueBudget: bytes of singular values held in memory.
    ///   - vectorBudget: bytes of full SVDs (U, σ, Vᵀ) held in memory for alignment.
    public init(model: BaseModel, directory: URL?, valueBudget: Int = 64 << 20, vectorBudget: Int = 256 << 20) {
        self.model = model
        self.directory = directory
        values = LRUCache(budget: valueBudget)
        vectors = LRUCache(budget: vectorBudget)
    }

    /// The content digest of a module's weight (see the file header).
    public func key(of module: String) throws -> [UInt8] {
        if let key = lock.withLock({ keys[module] }) { return key }
        let weight = try self.weight(module)
        var hash = SHA256()
        hash.update(Array(Self.algorithmVersion.utf8) + [0])
        for dimension in weight.shape { hash.update(littleEndian(UInt64(dimension))) }
        weight.storage.withUnsafeBytes { hash.update($0) }   // fp32, the platform's (little-endian) layout
        let key = hash.finalize()
        lock.withLock { keys[module] = key }
        return key
    }

    /// σ of a module from memory or disk, or nil when neither holds a valid entry.
    public func cachedSingularValues(of module: String) throws -> [Float]? {
        let key = try key(of: module), name = SHA256.hex(key)
        if let sigma = values.value(for: name) { return sigma }
        guard let sigma = readFile(key: key, count: try weightRank(module)) else { return nil }
        values.insert(sigma, for: name, bytes: sigma.count * 4)
        return sigma
    }

    /// σ of a module: cached, or computed by a full SVD (LAPACK sgesdd) and then cached.
    /// `cached` says whether it came from a cache.
    public func singularValues(of module: String) throws -> (values: [Float], cached: Bool) {
        if let sigma = try cachedSingularValues(of: module) { return (sigma, true) }
        let sigma = try weight(module).singularValues()
        try store(sigma, for: module)
        return (sigma, false)
    }

    /// The full thin SVD of a module's weight (memory only); also fills the σ cache.
    public func decomposition(of module: String) throws -> SingularValueDecomposition {
        let name = SHA256.hex(try key(of: module))
        if let svd = vectors.value(for: name) { return svd }
        let svd = try weight(module).svd()
        vectors.insert(svd, for: name, bytes: (svd.u.count + svd.vt.count + svd.singularValues.count) * 4)
        if try cachedSingularValues(of: module) == nil { try store(svd.singularValues, for: module) }
        return svd
    }

    /// The file σ of `module` is (or would be) stored in; nil without a directory.
    public func fileURL(of module: String) throws -> URL? {
        directory?.appendingPathComponent(SHA256.hex(try key(of: module)) + ".sigma")
    }

    /// Drops the in-memory entries (the disk cache stays): what a restarted server would see.
    public func clearMemory() {
        values.removeAll { _ in true }
        vectors.removeAll { _ in true }
    }

    // MARK: - Internals

    private func weight(_ module: String) throws -> Matrix {
        guard let linear = model.linear(named: module) else { throw DiagnosticsError.missingBaseWeight(module: module) }
        return linear.weight
    }

    private func weightRank(_ module: String) throws -> Int {
        let w = try weight(module)
        return min(w.rows, w.cols)
    }

    private func store(_ sigma: [Float], for module: String) throws {
        let key = try key(of: module)
        values.insert(sigma, for: SHA256.hex(key), bytes: sigma.count * 4)
        guard let directory, let url = try fileURL(of: module) else { return }
        // A cache that cannot be written only costs a recomputation later: never fail the request.
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try? AtomicFile.write(Self.encode(sigma, key: key), to: url)
    }

    private func readFile(key: [UInt8], count: Int) -> [Float]? {
        guard let directory else { return nil }
        let url = directory.appendingPathComponent(SHA256.hex(key) + ".sigma")
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return Self.decode([UInt8](data), key: key, count: count)
    }

    static let magic = Array("ECKSIGMA".utf8)

    /// The file bytes for σ under `key` (see the file header).
    static func encode(_ sigma: [Float], key: [UInt8]) -> [UInt8] {
        var bytes = magic + key + littleEndian(UInt32(sigma.count))
        for s in sigma { bytes += littleEndian(s.bitPattern) }
        return bytes + SHA256.hash(bytes)
    }

    /// σ from file bytes, or nil unless everything checks out: size, magic, key, checksum, and
    /// `count` finite, non-negative, descending values.
    static func decode(_ bytes: [UInt8], key: [UInt8], count: Int) -> [Float]? {
        let header = magic.count + key.count + 4
        guard bytes.count == header + 4 * count + 32,
              Array(bytes[0..<magic.count]) == magic,
              Array(bytes[magic.count..<(magic.count + key.count)]) == key,
              readUInt32(bytes, at: magic.count + key.count) == UInt32(count),
              SHA256.hash(Array(bytes[0..<(header + 4 * count)])) == Array(bytes[(header + 4 * count)...])
        else { return nil }
        let sigma = (0..<count).map { Float(bitPattern: readUInt32(bytes, at: header + 4 * $0)) }
        guard sigma.allSatisfy({ $0.isFinite && $0 >= 0 }), zip(sigma, sigma.dropFirst()).allSatisfy({ $0 >= $1 }) else { return nil }
        return sigma
    }
}

private func littleEndian<T: FixedWidthInteger>(_ x: T) -> [UInt8] {
    (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: x >> (8 * $0)) }
}

private func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
}
