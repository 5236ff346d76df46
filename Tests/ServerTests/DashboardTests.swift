// The dashboard: the static routes (exact bytes over a raw socket, so `..` reaches the server
// unnormalised) and the page itself, loaded by a real headless Chromium against a live server with
// the real MiniLM, its plots checked against the numbers the API returns, and a screenshot saved.
import FixtureSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Server
import Testing
import Tokenizers

let publicDirectory = repositoryRoot.appendingPathComponent("Public")

/// One request written byte for byte (`Connection: close`); the status, header fields (lowercased names) and body.
func rawRequest(port: Int, _ target: String, headers extra: String = "") throws -> (status: Int, headers: [String: String], body: String) {
    let fd = try connectedSocket(port: port, receiveTimeout: 10)
    defer { close(fd) }
    let request = Array("GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(extra)Connection: close\r\n\r\n".utf8)
    try #require(send(fd, request, request.count, 0) == request.count)
    var response: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { break }
        response += buffer[0..<n]
    }
    let text = String(decoding: response, as: UTF8.self)
    let head = try #require(text.range(of: "\r\n\r\n"))
    let lines = text[..<head.lowerBound].components(separatedBy: "\r\n")
    let status = Int(lines[0].split(separator: " ")[1]) ?? 0
    var fields: [String: String] = [:]
    for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return (status, fields, String(text[head.upperBound...]))
}

@Test func dashboardFilesAreServedWithTypesAndNothingElse() throws {
    // A scratch public directory holding the real page plus things that must never be served.
    let scratch = try Fixtures.scratchCopy(of: publicDirectory)
    defer { try? FileManager.default.removeItem(at: scratch) }
    try Data("secret".utf8).write(to: scratch.appendingPathComponent(".env"))
    try Data("not served".utf8).write(to: scratch.appendingPathComponent("notes.yaml"))
    try FileManager.default.createDirectory(at: scratch.appendingPathComponent("sub.js"), withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(at: scratch.appendingPathComponent("link.json"),
                                               withDestinationURL: repositoryRoot.appendingPathComponent("Package.swift"))
    let live = try LiveServer(model: "qwen2-tiny") {
        $0.publicDirectory = scratch
        $0.apiKey = "s3cret"
    }
    defer { live.stop() }
    let port = live.server.port

    let page = try rawRequest(port: port, "/?adapter=demo")
    #expect(page.status == 200)
    #expect(page.headers["content-type"] == "text/html; charset=utf-8")
    #expect(page.headers["cache-control"] == "no-cache")
    #expect(page.body.contains(#"<script type="module" src="/ui/app.js"></script>"#))
    for (file, type) in [("app.js", "text/javascript; charset=utf-8"), ("plot.js", "text/javascript; charset=utf-8"),
                         ("api.js", "text/javascript; charset=utf-8"), ("format.js", "text/javascript; charset=utf-8"),
                         ("style.css", "text/css; charset=utf-8"),
                         ("favicon.svg", "image/svg+xml"), ("index.html", "text/html; charset=utf-8")] {
        let reply = try rawRequest(port: port, "/ui/\(file)")
        #expect(reply.status == 200, "\(file)")
        #expect(reply.headers["content-type"] == type, "\(file)")
        #expect(reply.headers["cache-control"] == "no-cache", "\(file)")
        #expect(reply.body == (try String(contentsOf: scratch.appendingPathComponent(file), encoding: .utf8)), "\(file)")
    }
    // Traversal, hidden files, unknown types, directories, links and missing files: all 404 JSON.
    for target in ["/ui/..%2Fopenapi.yaml", "/ui/%2E%2E%2FPackage.swift", "/ui/..", "/ui/%2E%2E", "/ui/.env", "/ui/notes.yaml",
                   "/ui/sub.js", "/ui/link.json", "/ui/nope.js", "/ui/app.js%00.css", "/ui/%2Fetc%2Fpasswd", "/ui/../openapi.yaml"] {
        let reply = try rawRequest(port: port, target)
        #expect(reply.status == 404, "\(target): \(reply.body)")
        #expect(reply.headers["content-type"] == "application/json", "\(target)")
        #expect(!reply.body.contains("secret") && !reply.body.contains("openapi: 3.1") && !reply.body.contains("PackageDescription"), "\(target)")
    }
    #expect(try rawRequest(port: port, "/ui/a/b.js").status == 404)
    // The page is open; the data it reads still needs the key.
    #expect(try rawRequest(port: port, "/adapters").status == 401)
    #expect(try rawRequest(port: port, "/adapters", headers: "Authorization: Bearer s3cret\r\n").status == 200)
}

@Test func dashboardSaysWhereItLookedWhenItHasNoDirectory() throws {
    let missing = FileManager.default.temporaryDirectory.appendingPathComponent("eckart-no-public-\(UUID().uuidString)")
    let live = try LiveServer(model: "qwen2-tiny") { $0.publicDirectory = missing }
    defer { live.stop() }
    let reply = try rawRequest(port: live.server.port, "/")
    #expect(reply.status == 404)
    #expect(reply.body.contains(missing.path) && reply.body.contains("--public-dir"), "\(reply.body)")
    let off = try LiveServer(model: "qwen2-tiny")
    defer { off.stop() }
    let offReply = try rawRequest(port: off.server.port, "/ui/app.js")
    #expect(offReply.status == 404 && offReply.body.contains("--public-dir"), "\(offReply.body)")
}

@Test(.enabled(if: Fixtures.miniLM != nil, "needs models/all-MiniLM-L6-v2 (make model)"))
func dashboardPlotsTheServersNumbersInChromium() throws {
    guard let chromium = HeadlessChromium.find() else {
        Issue.record("no Chromium at $ECKART_CHROMIUM or /usr/bin/chromium: run `make deps`, which installs Debian's chromium package")
        return
    }
    let directory = try #require(Fixtures.miniLM)
    let live = try LiveServer(model: "all-MiniLM-L6-v2", modelDirectory: directory,
                              tokenizer: try Tokenizer(contentsOf: directory.appendingPathComponent("tokenizer.json"))) {
        $0.publicDirectory = publicDirectory
    }
    defer { live.stop() }
    #expect(try live.upload(id: "demo", adapter: "demo-minilm").status == 201)
    #expect(try live.upload(id: "minilm-lora", adapter: "minilm-lora").status == 201)
    let listed = try #require(try live.request("GET", "/adapters").json["adapters"] as? [[String: Any]]).map { $0["id"] as? String }
    let modules = try #require(try live.request("GET", "/diagnostics/spectrum?adapter=demo").json["modules"] as? [[String: Any]])
    try #require(modules.count == 18)

    let probeText = "The adapter changes how this sentence is embedded."
    let page = URL(string: "/?adapter=demo&base=1&quant=q8_0&probe=" + probeText.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!,
                   relativeTo: live.base)!.absoluteURL
    let run = try chromium.dumpDOM(page)
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.pageErrors.isEmpty, "\(run.pageErrors)")
    let dom = HTMLScan(run.stdout)
    try #require(dom.startTags("body").first?["data-state"] == "ready", "the page did not finish loading: \(run.stdout.prefix(2000))")
    #expect(dom.startTags("button", class: "adapter").map { $0["data-adapter"] } == listed)

    // One σ series per module, one point per singular value the server returned for it.
    let series = dom.groups(class: "sv-series")
    #expect(series.count == modules.count)
    for module in modules {
        let name = try #require(module["name"] as? String)
        let count = try #require(module["singular_values"] as? [Any]).count
        let drawn = try #require(series.first { $0.attributes["data-module"] == name }, "no σ series for \(name)")
        #expect(drawn.attributes["data-count"] == String(count), "\(name)")
        #expect(drawn.count("sv-point") == count, "\(name)")
    }

    // The energy curve of the first (default) module, its 90/95/99 % lines and where it crosses them.
    let first = modules[0]
    let curve = try #require(dom.groups(class: "energy-curve").first)
    #expect(curve.attributes["data-module"] == first["name"] as? String)
    let energy = try #require(first["energy"] as? [Any])
    #expect(curve.count("energy-point") == energy.count && curve.attributes["data-count"] == String(energy.count))
    #expect(dom.startTags("line", class: "energy-threshold").map { $0["data-threshold"] } == ["0.90", "0.95", "0.99"])
    let crossings = try #require(first["energy_rank"] as? [String: Int])
    #expect(Set(dom.startTags("line", class: "energy-rank").compactMap { $0["data-rank"] }) == Set(crossings.values.map(String.init)))

    // The sweep: every rank 0…r of this rank-8 adapter, errors as the server computes them.
    let sweep = try #require(try live.post("/diagnostics/rank-sweep", json: #"{"adapter": "demo", "ranks": [0, 1, 2, 3, 4, 5, 6, 7, 8]}"#)
        .json["sweep"] as? [[String: Any]])
    let sweepSeries = try #require(dom.groups(class: "sweep-series").first)
    #expect(sweepSeries.count("sweep-point") == sweep.count && sweepSeries.attributes["data-count"] == String(sweep.count))
    for row in sweep {
        let error = try #require(row["relative_error"] as? Double)
        #expect(run.stdout.contains(String(format: ">%.2f %%<", error * 100)), "sweep table lacks the error of rank \(row["rank"] ?? "?")")
    }

    // The probe's cosine similarity per rank once the server measures probes; a clear "not available" before.
    let tokens = try #require(try live.post("/tokenize", json: #"{"text": "\#(probeText)"}"#).json["tokens"] as? [Int])
    let probed = try live.post("/diagnostics/rank-sweep", json: #"{"adapter": "demo", "ranks": [0, 1, 2, 3, 4, 5, 6, 7, 8], "probe": {"tokens": [\#(tokens)]}}"#)
    if probed.status == 200 {
        let rows = try #require(probed.json["sweep"] as? [[String: Any]])
        let probeSeries = try #require(dom.groups(class: "probe-series").first)
        #expect(probeSeries.count("cosine-point") == rows.filter { $0["probe"] != nil }.count && rows.allSatisfy { $0["probe"] != nil })
    } else {
        #expect(run.stdout.contains(#"class="status error" role="status">The rank sweep with a probe is not available"#), "\(probed.text)")
    }

    // The base-weight table once the server has it; a clear "not available" before.
    let base = try live.request("GET", "/diagnostics/spectrum?base=true")
    if base.status == 200 {
        let table = try #require(base.json["table"] as? [[String: Any]])
        #expect(dom.startTags("tr").compactMap { $0["data-projection"] } == table.map { $0["projection"] as? String ?? "" })
    } else {
        #expect(run.stdout.contains(#"<p id="base-status" class="status error" role="status">The base-weight spectrum is not available"#))
    }

    // The quantization error per base module, Q8_0 against the demo adapter: one point and one row each.
    // (an SVD of every error matrix: slow in a debug build under a full test run)
    let quantization = try live.request("GET", "/diagnostics/quantization?type=q8_0&adapter=demo", timeout: 120)
    #expect(quantization.status == 200, "\(quantization.text)")
    let measured = try #require(quantization.json["modules"] as? [[String: Any]])
    let quantSeries = try #require(dom.groups(class: "quant-series").first)
    #expect(quantSeries.count("quant-point") == measured.count && measured.count > modules.count)
    #expect(dom.startTags("tr").compactMap { $0["data-quant-module"] } == measured.map { $0["name"] as? String ?? "" })
    for module in measured.prefix(4) {
        let error = try #require(module["relative_error"] as? Double)
        #expect(run.stdout.contains(String(format: ">%.2f %%<", error * 100)), "quantization table lacks \(module["name"] ?? "?")")
    }

    // A screenshot for people to look at.
    let artifacts = repositoryRoot.appendingPathComponent(".build/test-artifacts")
    try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
    let png = artifacts.appendingPathComponent("dashboard.png")
    try? FileManager.default.removeItem(at: png)
    let shot = try chromium.screenshot(page, to: png)
    #expect(shot.status == 0, "\(shot.stderr)")
    let image = try Data(contentsOf: png)
    #expect(image.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) && image.count > 20_000)
    print("dashboard screenshot: \(png.path)")
}

/// Just enough reading of Chromium's serialised DOM for the test: start tags with their attributes,
/// and the contents of flat SVG groups (no nested `<g>`).
struct HTMLScan {
    let html: String
    init(_ html: String) { self.html = html }

    struct Group {
        let attributes: [String: String]
        let inner: String
        /// Elements inside whose class list starts with `className`.
        func count(_ className: String) -> Int { inner.components(separatedBy: #"class="\#(className)"#).count - 1 }
    }

    /// Attributes of every `<tag …>` whose class list contains `className` (all of them when nil).
    func startTags(_ tag: String, class className: String? = nil) -> [[String: String]] {
        matches(#"<\#(tag)(\s[^>]*)?>"#).map { Self.attributes(String($0[0].dropFirst(tag.count + 1))) }
            .filter { className == nil || ($0["class"] ?? "").split(separator: " ").contains(Substring(className!)) }
    }

    /// Every `<g class="className …">…</g>`.
    func groups(class className: String) -> [Group] {
        matches(#"<g\s([^>]*)>((?:(?!<g[\s>]).)*?)</g>"#).map { Group(attributes: Self.attributes($0[1]), inner: $0[2]) }
            .filter { ($0.attributes["class"] ?? "").split(separator: " ").contains(Substring(className)) }
    }

    private func matches(_ pattern: String) -> [[String]] {
        let regex = try! NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators])
        return regex.matches(in: html, range: NSRange(html.startIndex..., in: html)).map { match in
            (0..<match.numberOfRanges).map { i in Range(match.range(at: i), in: html).map { String(html[$0]) } ?? "" }
        }
    }

    private static func attributes(_ text: String) -> [String: String] {
        let regex = try! NSRegularExpression(pattern: #"([A-Za-z_:][-A-Za-z0-9_:.]*)="([^"]*)""#)
        var result: [String: String] = [:]
        for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let name = String(text[Range(match.range(at: 1), in: text)!])
            let value = String(text[Range(match.range(at: 2), in: text)!])
            result[name] = value.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<")
                .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
        }
        return result
    }
}

@Test func dashboardAsksForTheKeyWhenTheServerHasOne() throws {
    guard let chromium = HeadlessChromium.find() else {
        Issue.record("no Chromium at $ECKART_CHROMIUM or /usr/bin/chromium: run `make deps`, which installs Debian's chromium package")
        return
    }
    let live = try LiveServer(model: "qwen2-tiny") {
        $0.publicDirectory = publicDirectory
        $0.apiKey = "s3cret"
    }
    defer { live.stop() }
    let run = try chromium.dumpDOM(live.base.appendingPathComponent("/"))
    #expect(run.pageErrors.isEmpty, "\(run.pageErrors)")
    let dom = HTMLScan(run.stdout)
    #expect(dom.startTags("body").first?["data-state"] == "ready")
    #expect(dom.startTags("p").first { $0["id"] == "banner" }?["hidden"] == nil, "the key banner is hidden")
    #expect(run.stdout.contains("This server needs an API key"))
    #expect(run.stdout.contains("The adapter list is not available: missing or wrong API key"))
}
