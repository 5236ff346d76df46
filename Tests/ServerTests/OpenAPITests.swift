// openapi.yaml is a valid OpenAPI 3.1 document and lists exactly the routes the server has.
import FixtureSupport
import Foundation
import Testing

let specURL = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("openapi.yaml")

/// "METHOD /path" for every operation under `paths:` (two-space path keys, four-space methods).
func specRoutes() throws -> [String] {
    let text = try String(contentsOf: specURL, encoding: .utf8)
    var routes: [String] = [], path: String? = nil, inPaths = false
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.isEmpty { continue }   // blank lines inside multi-line descriptions
        if !line.hasPrefix(" ") { inPaths = line == "paths:"; continue }
        guard inPaths else { continue }
        if line.hasPrefix("  /") && !line.hasPrefix("   ") { path = String(line.dropFirst(2).dropLast()) }
        for method in ["get", "post", "put", "delete", "patch"] where line == "    \(method):" {
            routes.append("\(method.uppercased()) \(path!)")
        }
    }
    return routes
}

@Test func specListsExactlyTheServersRoutes() throws {
    let live = try LiveServer(model: "qwen2-tiny")
    defer { live.stop() }
    #expect(Set(try specRoutes()) == Set(live.server.routeTable))
    #expect(try specRoutes().count == live.server.routeTable.count)
}

/// The response statuses openapi.yaml lists for one operation ("METHOD /path").
func specStatuses(_ route: String) throws -> Set<String> {
    let text = try String(contentsOf: specURL, encoding: .utf8)
    let parts = route.split(separator: " ").map(String.init)
    var statuses = Set<String>(), inPath = false, inMethod = false
    for line in text.split(separator: "\n") {
        if line.hasPrefix("  /") && !line.hasPrefix("   ") { inPath = line == "  \(parts[1]):"; inMethod = false; continue }
        if inPath && line.hasPrefix("    ") && !line.hasPrefix("     ") { inMethod = line == "    \(parts[0].lowercased()):"; continue }
        let trimmed = line.drop { $0 == " " }
        if inPath && inMethod && trimmed.hasPrefix("\"") && trimmed.dropFirst(4).hasPrefix("\":") {
            statuses.insert(String(trimmed.dropFirst().prefix(3)))
        }
    }
    return statuses
}

/// Statuses the server really answers with are documented (each found missing once).
@Test func specListsTheStatusesTheServerAnswers() throws {
    let live = try LiveServer(model: "qwen2-tiny")
    defer { live.stop() }
    let cases: [(route: String, path: String, status: Int)] = [
        ("GET /adapters/{id}/files/{file}", "/adapters/bad%20id/files/adapter_config.json", 400),
        ("GET /adapters/{id}/files/{file}", "/adapters/nope/files/adapter_config.json", 404),
    ]
    for (route, path, status) in cases {
        #expect(try live.request("GET", path).status == status, "\(path)")
        #expect(try specStatuses(route).contains(String(status)), "openapi.yaml: \(route) does not list \(status)")
    }
}

@Test(.enabled(if: ProcessInfo.processInfo.environment["ECKART_PYTHON"] != nil, "needs ECKART_PYTHON with openapi-spec-validator (make test sets it)"))
func specIsValidOpenAPI31() throws {
    let check = try runProcess(URL(fileURLWithPath: ProcessInfo.processInfo.environment["ECKART_PYTHON"]!), ["-c", """
        import sys, yaml
        from openapi_spec_validator import validate
        from openapi_spec_validator.readers import read_from_filename
        spec, _ = read_from_filename(sys.argv[1])
        assert spec["openapi"].startswith("3.1"), spec["openapi"]
        validate(spec)
        """, specURL.path])
    #expect(check.status == 0, "\(check.stderr)")
}
