// The diagnostics dashboard: `GET /` serves Public/index.html and `GET /ui/{file}` the other files
// of that one flat directory (no build step, nothing fetched from elsewhere). Files are read per
// request, so editing the page needs no restart. Open without the API key: the page asks for it.
import Foundation
import HTTP

extension Routes {
    func installDashboardRoutes(_ routes: RouteRegistrar) {
        routes.add("GET", "/") { _ in try dashboardFile("index.html") }
        routes.add("GET", "/ui/{file}") { request in try dashboardFile(request.pathParameters["file"] ?? "") }
    }

    /// One file of `options.publicDirectory`, or a 404 naming what was looked for.
    func dashboardFile(_ name: String) throws -> HTTPResponse {
        guard let directory = options.publicDirectory else {
            throw HTTPError.notFound("the dashboard is off: this server was started without a public directory (--public-dir)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw HTTPError.notFound("no dashboard directory at \(directory.path); run from the repository root or pass --public-dir")
        }
        guard let type = DashboardFiles.contentType(ofFileNamed: name) else {
            throw HTTPError.notFound("no dashboard file \(name); files are plain names with one of the extensions "
                                     + DashboardFiles.contentTypes.keys.sorted().joined(separator: ", "))
        }
        let url = directory.appendingPathComponent(name, isDirectory: false)
        // attributesOfItem does not follow symbolic links: only regular files directly in the directory are served.
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
              attributes[.type] as? FileAttributeType == .typeRegular,
              let body = try? Data(contentsOf: url) else {
            throw HTTPError.notFound("no dashboard file \(name) in \(directory.path)")
        }
        return HTTPResponse(status: .ok, headers: DashboardFiles.headers(contentType: type), body: Array(body))
    }
}

/// What may be served from the public directory and with which headers.
enum DashboardFiles {
    static let contentTypes: [String: String] = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
        "svg": "image/svg+xml", "png": "image/png", "ico": "image/x-icon", "json": "application/json",
        "txt": "text/plain; charset=utf-8",
    ]

    /// The Content-Type for a plain file name (letters, digits, `.`, `_`, `-`; not starting with a dot;
    /// a known extension), or nil for anything else, such as `../openapi.yaml` or `.env`.
    static func contentType(ofFileNamed name: String) -> String? {
        guard (1...128).contains(name.utf8.count), !name.hasPrefix("."), !name.contains(".."),
              name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) }),
              let dot = name.lastIndex(of: ".") else { return nil }
        return contentTypes[String(name[name.index(after: dot)...]).lowercased()]
    }

    /// `no-cache` so an edited page shows on reload; the policy keeps the page to its own origin.
    static func headers(contentType: String) -> HTTPHeaders {
        [
            "Content-Type": contentType,
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ]
    }
}
