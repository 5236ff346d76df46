// Adapter routes: upload (multipart or a path under --adapter-root), list, describe, download, delete.
import Adapters
import Formats
import Foundation
import HTTP

extension Routes {
    func installAdapterRoutes(_ routes: RouteRegistrar) {
        routes.add("GET", "/adapters") { _ in
            json(.object(["adapters": .array(registry.list().map(describe))]))
        }
        routes.add("GET", "/adapters/{id}") { request in
            json(describe(try registry.description(of: try id(request))))
        }
        routes.add("DELETE", "/adapters/{id}") { request in
            try registry.delete(id: try id(request))
            return HTTPResponse(status: .noContent)
        }
        routes.add("GET", "/adapters/{id}/files/{file}") { request in
            // A stored adapter's PEFT files, byte for byte, so `peft` can load what Eckart serves.
            let files = try registry.store.files(of: try id(request))
            let (url, type): (URL, String) = switch request.pathParameters["file"] ?? "" {
            case AdapterStore.configFileName: (files.config, "application/json")
            case AdapterStore.weightsFileName: (files.weights, "application/octet-stream")
            case let other: throw HTTPError.notFound("no file \(other); adapters have \(AdapterStore.configFileName) and \(AdapterStore.weightsFileName)")
            }
            let body = try Data(contentsOf: url, options: .alwaysMapped)
            return HTTPResponse(status: .ok, headers: ["Content-Type": type,
                                                       "Content-Disposition": "attachment; filename=\"\(url.lastPathComponent)\""],
                                body: Array(body))
        }
        routes.add("POST", "/adapters", upload: true) { request in try upload(request) }
    }

    /// `POST /adapters`: multipart (`id`, `config`, `weights`) or JSON `{"id", "path"}` under --adapter-root.
    /// `?max_rank=k` / `?energy=τ` (or the server's --max-adapter-rank) store a truncated copy instead.
    func upload(_ request: HTTPRequest) throws -> HTTPResponse {
        let replace = request.query("replace") == "true"
        let truncationGoal = try uploadTruncationGoal(request)
        let contentType = request.headers["Content-Type"] ?? ""
        let id: String, configData: Data, weightsData: Data
        var allowBaseMismatch = request.query("allow_base_mismatch") == "true"
        if contentType.lowercased().hasPrefix("multipart/form-data") {
            let parts: [FormPart]
            do {
                parts = try parseMultipart(request.body, contentType: contentType)
            } catch let error as MultipartError {
                throw HTTPError.badRequest(error.description, code: "invalid_multipart")
            }
            func field(_ name: String) throws -> FormPart {
                let matching = parts.filter { $0.name == name }
                guard matching.count == 1 else {
                    throw HTTPError.badRequest(matching.isEmpty ? "multipart field \(name) is missing" : "multipart field \(name) appears more than once",
                                               code: "invalid_multipart")
                }
                return matching[0]
            }
            id = String(decoding: try field("id").body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if let allow = parts.last(where: { $0.name == "allow_base_mismatch" }) {
                allowBaseMismatch = allowBaseMismatch || String(decoding: allow.body, as: UTF8.self).trimmingCharacters(in: .whitespaces) == "true"
            }
            configData = Data(try field("config").body)
            let weights = try field("weights")
            // A PyTorch checkpoint would otherwise read as a safetensors header of absurd length.
            if isPyTorchCheckpoint(weights.body) {
                throw AdapterError.legacyPickleWeights("the uploaded weights (\(weights.filename ?? "field weights"))")
            }
            weightsData = Data(weights.body)
        } else {
            let body = try JSONBody(request)
            try body.allowOnly(["id", "path", "allow_base_mismatch"])
            allowBaseMismatch = try body.bool("allow_base_mismatch") ?? allowBaseMismatch
            guard let givenID = try body.string("id") else { throw HTTPError.badRequest("field id is required", code: "invalid_field") }
            guard let path = try body.string("path") else { throw HTTPError.badRequest("field path is required", code: "invalid_field") }
            id = givenID
            (configData, weightsData) = try adapterFiles(atPath: path)
        }
        try AdapterStore.validate(id: id)
        let check = baseCheck(configData)
        try check.enforce(allowMismatch: allowBaseMismatch)
        guard let truncationGoal else {
            let description = try registry.put(id: id, configData: configData, weightsData: weightsData, replace: replace)
            return json(withBaseCheck(describe(description), check), status: .created)
        }
        // Truncation on upload: the truncated adapter is stored instead of the original.
        if !replace, registry.contains(id) { throw StoreError.exists(id) }
        let truncated = try truncateUpload(id: id, configData: configData, weightsData: weightsData, goal: truncationGoal.goal)
        let description = try registry.put(id: id, configData: truncated.config, weightsData: truncated.weights, replace: replace)
        return json(withBaseCheck(withTruncation(describe(description), truncated.report), check), status: .created)
    }

    /// The description with `base_model_check` (see `BaseModelCheck`) added.
    func withBaseCheck(_ description: JSONValue, _ check: BaseModelCheck) -> JSONValue {
        guard case .object(var object) = description else { return description }
        object["base_model_check"] = check.json
        return .object(object)
    }

    /// The PEFT files of the adapter directory at `path` (confined to --adapter-root): the directory
    /// and each file must resolve, symlinks followed, to a path under the root.
    func adapterFiles(atPath path: String) throws -> (config: Data, weights: Data) {
        let directory = try confinedDirectory(path)
        let config = try confinedFile("adapter_config.json", in: directory, path: path)
        let weights = try confinedFile("adapter_model.safetensors", in: directory, path: path)
        do {
            return (try Data(contentsOf: config), try Data(contentsOf: weights, options: .alwaysMapped))
        } catch {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("adapter_model.bin").path) {
                throw AdapterError.legacyPickleWeights(directory.appendingPathComponent("adapter_model.bin").path)
            }
            throw HTTPError.badRequest("\(path) must hold adapter_config.json and adapter_model.safetensors", code: "invalid_adapter")
        }
    }

    /// Resolves `path` and refuses anything outside --adapter-root (after resolving symlinks).
    func confinedDirectory(_ path: String) throws -> URL {
        let root = try resolvedAdapterRoot()
        let candidate = (path.hasPrefix("/") ? URL(fileURLWithPath: path) : URL(fileURLWithPath: root).appendingPathComponent(path))
            .standardizedFileURL
        let resolved = realPath(candidate.path) ?? candidate.resolvingSymlinksInPath().path
        guard isUnder(root: root, resolved) else {
            throw HTTPError(.forbidden, code: "path_outside_root", message: "\(path) is outside the adapter root")
        }
        return URL(fileURLWithPath: resolved)
    }

    /// `name` in the (already confined) `directory`, as the real path it resolves to; refused when a
    /// symlink leads it outside --adapter-root. A missing file is returned as is (reading it fails).
    func confinedFile(_ name: String, in directory: URL, path: String) throws -> URL {
        let file = directory.appendingPathComponent(name)
        guard let resolved = realPath(file.path) else { return file }
        guard isUnder(root: try resolvedAdapterRoot(), resolved) else {
            throw HTTPError(.forbidden, code: "path_outside_root",
                            message: "\(name) in \(path) is a symlink to a file outside the adapter root")
        }
        // Read the resolved path, so the file checked is the file read.
        return URL(fileURLWithPath: resolved)
    }

    /// --adapter-root with every symlink resolved.
    private func resolvedAdapterRoot() throws -> String {
        guard let root = options.adapterRoot else {
            throw HTTPError(.forbidden, code: "path_loading_disabled", message: "loading adapters by path needs the server's --adapter-root")
        }
        return realPath(root.standardizedFileURL.path) ?? root.standardizedFileURL.resolvingSymlinksInPath().path
    }
}

/// realpath(3): `path` with every symlink, `.` and `..` resolved, or nil if it does not exist.
private func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}

/// Whether the resolved `path` is `root` or inside it.
private func isUnder(root: String, _ path: String) -> Bool {
    path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/")
}

/// Whether `bytes` start as `torch.save` writes: a zip archive ("PK\u{3}\u{4}") since PyTorch 1.6, a bare
/// pickle (0x80 then protocol 2...5) before. Read as a safetensors header length (8 bytes, little-endian),
/// what follows either prefix gives gigabytes, so no accepted safetensors file starts this way.
func isPyTorchCheckpoint(_ bytes: [UInt8]) -> Bool {
    bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || (bytes.count >= 2 && bytes[0] == 0x80 && (2...5).contains(bytes[1]))
}
