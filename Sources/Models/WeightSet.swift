// The tensors of a Hugging Face model directory (one `model.safetensors`, or shards listed by
// `model.safetensors.index.json`), or of a GGUF file seen under Hugging Face's names. Loading is
// strict: every tensor must be used or explicitly ignored.
import Foundation
import Formats
import LinearAlgebra

/// All tensors of a model directory, with a record of which ones the architecture consumed.
final class WeightSet {
    private var fileOf: [String: SafetensorsFile] = [:]
    private var used: Set<String> = []
    /// When set, the weights of linear layers (and a decoder's token embedding) are quantized to this
    /// block type as they load (`eckart serve --quantize`); the float32 copy is not kept.
    var quantization: QuantizationType? = nil
    /// For a GGUF file: widen every weight to float32 instead of keeping its blocks (benchmarks compare
    /// the same model in each weight type); `quantization` then re-quantizes from those floats.
    var widenGGUF = false
    /// A GGUF file's tensors under Hugging Face names (see GGUFDecoder.swift), when loading one.
    private var gguf: GGUFSource? = nil

    struct GGUFSource {
        let file: GGUFFile
        /// Hugging Face tensor name → GGUF tensor name.
        let ggufName: [String: String]
        /// Rows to reorder (`hfRow[i] = ggufRow[order[i]]`), by Hugging Face tensor name.
        let rowOrder: [String: [Int]]
    }

    /// The tensors of a GGUF file under the Hugging Face names of `source.ggufName`; tensors it does
    /// not map keep their GGUF names (and fail `requireAllUsed` unless ignored).
    init(gguf source: GGUFSource) {
        gguf = source
    }

    /// Tensors already in memory (tests, benchmarks, uploads).
    init(files: [SafetensorsFile]) throws {
        for (index, file) in files.enumerated() {
            for name in file.tensorNames {
                if fileOf[name] != nil { throw ModelError.duplicateTensor(name, ["file \(index)"]) }
                fileOf[name] = file
            }
        }
    }

    init(directory: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelError.notADirectory(directory.path)
        }
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        let shardNames: [String]
        if FileManager.default.fileExists(atPath: index.path) {
            shardNames = try Self.shards(listedIn: index)
        } else {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            shardNames = entries.filter { $0.hasSuffix(".safetensors") }.sorted()
        }
        guard !shardNames.isEmpty else { throw ModelError.noWeights(directory.path) }
        var fileNameOf: [String: String] = [:]
        for shard in shardNames {
            let file = try SafetensorsFile(contentsOf: directory.appendingPathComponent(shard))
            for name in file.tensorNames {
                if let other = fileNameOf[name] { throw ModelError.duplicateTensor(name, [other, shard]) }
                fileNameOf[name] = shard
                fileOf[name] = file
            }
        }
    }

    /// The distinct shard file names of `model.safetensors.index.json`'s `weight_map`.
    private static func shards(listedIn index: URL) throws -> [String] {
        guard let data = try? Data(contentsOf: index),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let map = object["weight_map"] as? [String: String] else {
            throw ModelError.shardIndexMalformed(index.path, "expected an object with a weight_map of tensor name to file name")
        }
        let files = Set(map.values)
        for file in files where file.contains("/") || !file.hasSuffix(".safetensors") {
            throw ModelError.shardIndexMalformed(index.path, "shard \(file) is not a .safetensors file in the model directory")
        }
        return files.sorted()
    }

    var names: [String] {
        guard let gguf else { return Array(fileOf.keys) }
        let mapped = Set(gguf.ggufName.values)
        return Array(gguf.ggufName.keys) + gguf.file.tensorNames.filter { !mapped.contains($0) }
    }

    func contains(_ name: String) -> Bool {
        if let gguf { return gguf.ggufName[name] != nil }
        return fileOf[name] != nil
    }

    /// A GGUF tensor's info under a Hugging Face name, marked used.
    private func ggufTensor(_ name: String, _ gguf: GGUFSource) throws -> GGUFFile.TensorInfo {
        guard let ggufName = gguf.ggufName[name], let info = gguf.file.info(ggufName) else { throw ModelError.missingTensor(name) }
        used.insert(name)
        return info
    }

    /// A GGUF tensor stored as F32/F16/BF16, in float32 with its rows in Hugging Face's order; nil for
    /// a tensor in quantized blocks. Checks the shape and that every value is finite.
    private func ggufFloats(_ name: String, rows: Int, cols: Int, _ gguf: GGUFSource) throws -> Matrix? {
        let info = try ggufTensor(name, gguf)
        guard info.shape == [rows, cols] else { throw ModelError.tensorShape(name, expected: [rows, cols], actual: info.shape) }
        guard let values = gguf.file.floats(gguf.ggufName[name]!) else { return nil }
        var m = Matrix(rows: rows, cols: cols, storage: values)
        guard m.isFinite else { throw ModelError.nonFiniteTensor(name) }
        if let order = gguf.rowOrder[name] {
            m = Matrix(rows: rows, cols: cols, storage: order.flatMap { m.storage[($0 * cols)..<(($0 + 1) * cols)] })
        }
        return m
    }

    /// A GGUF matrix as the forward pass holds it: float32 for F32/F16/BF16, the blocks as stored
    /// (borrowed from the mapping, rows reordered where the converter permuted them) otherwise.
    private func ggufStored(_ name: String, rows: Int, cols: Int, _ gguf: GGUFSource) throws -> Linear.Stored {
        if let m = try ggufFloats(name, rows: rows, cols: cols, gguf) { return .dense(PanelMatrix(m)) }
        let ggufName = gguf.ggufName[name]!
        let order = gguf.rowOrder[name]
        let info = gguf.file.info(ggufName)!
        guard let type = QuantizationType(ggufTypeID: Int(info.type.id)), let (address, owner) = gguf.file.tensorAddress(ggufName) else {
            throw ModelError.unsupportedTensorType(ggufName, type: info.type.name)
        }
        var q = try QuantizedMatrix(type: type, rows: rows, cols: cols, mapped: address, byteCount: info.byteCount, owner: owner)
        if let order { q = q.rowsPermuted(order) }
        guard widenGGUF else { return .quantized(q) }
        let widened = q.dequantized()
        guard let quantization, cols % quantization.blockSize == 0 else { return .dense(PanelMatrix(widened)) }
        return .quantized(try QuantizedMatrix.quantize(widened, as: quantization))
    }

    private func file(_ name: String) throws -> SafetensorsFile {
        guard let file = fileOf[name] else { throw ModelError.missingTensor(name) }
        used.insert(name)
        return file
    }

    /// A 2-D tensor of exactly `rows × cols`, converted to Float32 and checked finite.
    func matrix(_ name: String, rows: Int, cols: Int) throws -> Matrix {
        if let gguf { return try ggufFloats(name, rows: rows, cols: cols, gguf) ?? ggufStored(name, rows: rows, cols: cols, gguf).dense }
        let file = try file(name)
        let shape = file.info(name)?.shape ?? []
        // Check the header's shape before converting any data.
        guard shape == [rows, cols] else { throw ModelError.tensorShape(name, expected: [rows, cols], actual: shape) }
        let m = try file.matrix(name)
        guard m.isFinite else { throw ModelError.nonFiniteTensor(name) }
        return m
    }

    /// A 1-D tensor of exactly `count` elements, converted to Float32 and checked finite.
    func vector(_ name: String, count: Int) throws -> [Float] {
        if let gguf {
            let info = try ggufTensor(name, gguf)
            guard info.shape == [count] else { throw ModelError.tensorShape(name, expected: [count], actual: info.shape) }
            guard let v = gguf.file.floats(gguf.ggufName[name]!) else { throw ModelError.unsupportedTensorType(name, type: info.type.name) }
            guard v.allSatisfy({ $0.isFinite }) else { throw ModelError.nonFiniteTensor(name) }
            return v
        }
        let file = try file(name)
        let shape = file.info(name)?.shape ?? []
        guard shape == [count] else { throw ModelError.tensorShape(name, expected: [count], actual: shape) }
        let v = try file.floats(name)
        guard v.allSatisfy({ $0.isFinite }) else { throw ModelError.nonFiniteTensor(name) }
        return v
    }

    /// A weight matrix as the forward pass holds it: float32, or quantized when `quantization` is set
    /// and its rows are whole blocks.
    func stored(_ name: String, rows: Int, cols: Int) throws -> Linear.Stored {
        if let gguf { return try ggufStored(name, rows: rows, cols: cols, gguf) }
        let m = try matrix(name, rows: rows, cols: cols)
        guard let quantization, cols % quantization.blockSize == 0 else { return .dense(PanelMatrix(m)) }
        return .quantized(try QuantizedMatrix.quantize(m, as: quantization))
    }

    /// A linear layer `prefix.weight` (out × in) with `prefix.bias` when `bias` is true.
    func linear(_ prefix: String, out: Int, in inFeatures: Int, bias: Bool) throws -> Linear {
        Linear(stored: try stored(prefix + ".weight", rows: out, cols: inFeatures),
               bias: bias ? try vector(prefix + ".bias", count: out) : nil)
    }

    /// The float32 tensors as the files hold them, for a model quantized at load: what its quantized
    /// weights were made from (the files stay mapped; nothing is read until asked for).
    var originals: OriginalWeights { OriginalWeights(files: fileOf) }

    /// Marks tensors the architecture knowingly does not use (buffers, unused heads) as accounted for.
    func ignore(where isIgnored: (String) -> Bool) {
        for name in names where isIgnored(name) { used.insert(name) }
    }

    /// Throws if any tensor was neither used nor ignored: a misnamed or foreign checkpoint.
    func requireAllUsed() throws {
        let unused = names.filter { !used.contains($0) }.sorted()
        guard unused.isEmpty else { throw ModelError.unusedTensors(unused) }
    }
}
