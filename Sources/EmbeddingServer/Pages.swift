import FeatureStore
import Foundation
import Hummingbird

/// The server-rendered discovery pages: a catalog with search and filters, and a page per
/// embedding (versions timeline, scores chart, lineage, 2-D map, neighbour explorer, snippets).
extension EmbeddingServer {
    func addPageRoutes(to router: Router<BasicRequestContext>) {
        router.get("/") { request, _ in
            try authorize(request, write: false)
            let q = request.uri.queryParameters
            return html(try catalogPage(q: q.get("q") ?? "", tag: q.get("tag") ?? "", entityType: q.get("entity_type") ?? "",
                                        owner: q.get("owner") ?? ""))
        }
        router.get("/embeddings/{name}") { request, context in
            try authorize(request, write: false)
            let q = request.uri.queryParameters
            let host = request.head.authority ?? "\(configuration.host):\(configuration.port)"
            return html(try embeddingPage(try name(context), explore: q.get("id"), k: q.get("k"), host: host))
        }
        router.get("/embeddings/{name}/map.svg") { request, context in
            try authorize(request, write: false)
            let version = try online.version(of: try name(context), try selector(request))
            return Response(status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "max-age=3600"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: maps.svg(for: version))))
        }
    }

    func html(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    func layout(_ title: String, _ body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(esc(title))</title>
        <style>
        body{font-family:system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:0;color:#222;background:#fff}
        header{background:#14324a;color:#fff;padding:10px 24px}header a{color:#fff;text-decoration:none;font-weight:600}
        main{max-width:1000px;margin:0 auto;padding:16px 24px}
        table{border-collapse:collapse;width:100%;margin:8px 0}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e3e3e3;font-size:14px}
        th{background:#f4f6f8}#catalog td:nth-child(-n+5){white-space:nowrap}code,pre{font-family:"DejaVu Sans Mono",monospace;font-size:13px}
        pre{background:#f4f6f8;padding:10px;overflow-x:auto;border-radius:4px}
        .tag{display:inline-block;background:#e8f0f8;border-radius:10px;padding:1px 8px;margin-right:4px;font-size:12px}
        form.search input,form.search select{padding:5px;margin-right:6px}
        .muted{color:#666}.grid{display:flex;gap:24px;flex-wrap:wrap}.error{color:#b00020}
        </style></head>
        <body><header><a href="/">Embeddings catalog</a></header><main>
        \(body)
        </main></body></html>
        """
    }

    func catalogPage(q: String, tag: String, entityType: String, owner: String) throws -> String {
        let all = try store.embeddings()
        let found = try store.embeddings(search: q, tag: tag, entityType: entityType, owner: owner)
        func select(_ name: String, _ label: String, _ values: [String], _ chosen: String) -> String {
            "<select name=\"\(name)\" aria-label=\"\(label)\"><option value=\"\">any \(label)</option>"
                + Set(values).filter { !$0.isEmpty }.sorted().map { "<option\($0 == chosen ? " selected" : "")>\(esc($0))</option>" }.joined()
                + "</select>"
        }
        var body = "<h1>Embeddings</h1><form class=\"search\" method=\"get\" action=\"/\">"
        body += "<input type=\"search\" name=\"q\" value=\"\(esc(q))\" placeholder=\"search name, description, tags\" aria-label=\"search\">"
        body += select("tag", "tag", all.flatMap(\.embedding.tags), tag)
        body += select("entity_type", "entity type", all.map(\.embedding.entityType), entityType)
        body += select("owner", "owner", all.map(\.embedding.owner), owner)
        body += "<button type=\"submit\">Search</button></form>"
        body += "<p class=\"muted\" id=\"result-count\">\(found.count) of \(all.count) embeddings</p>"
        body += "<table id=\"catalog\"><thead><tr><th>Name</th><th>Entity</th><th>Latest</th><th>Shape</th><th>Owner</th><th>Tags</th><th>Description</th></tr></thead><tbody>"
        for s in found {
            let e = s.embedding
            body += "<tr class=\"embedding\"><td><a href=\"/embeddings/\(urlEncode(e.name))\">\(esc(e.name))</a></td><td>\(esc(e.entityType))</td>"
            body += "<td>\(esc(s.latest?.version ?? "-"))</td><td>\(s.latest.map { "\($0.count) &times; \($0.dimension)" } ?? "-")</td>"
            body += "<td>\(esc(e.owner))</td><td>\(e.tags.map { "<span class=\"tag\">\(esc($0))</span>" }.joined())</td><td>\(esc(e.description))</td></tr>"
        }
        body += "</tbody></table>"
        return layout("Embeddings catalog", body)
    }

    func embeddingPage(_ name: String, explore: String?, k kText: String?, host: String) throws -> String {
        let detail = try store.embedding(name)
        let e = detail.embedding
        var body = "<h1 id=\"name\">\(esc(e.name))</h1>"
        body += "<p>\(esc(e.description.isEmpty ? "No description." : e.description))</p>"
        body += "<p class=\"muted\">\(esc(e.entityType)) embeddings"
        if !e.owner.isEmpty { body += " &middot; owner \(esc(e.owner))" }
        body += " &middot; " + e.tags.map { "<span class=\"tag\">\(esc($0))</span>" }.joined() + "</p>"
        body += "<p>Aliases: " + (detail.aliases.isEmpty ? "none" : detail.aliases.map { "<code>\(esc($0.alias)) &rarr; \(esc($0.version))</code>" }.joined(separator: " ")) + "</p>"
        body += "<h2>Versions</h2>" + Charts.timeline(detail.versions)
        body += "<table id=\"versions\"><thead><tr><th>Version</th><th>Valid from</th><th>Valid to</th><th>Shape</th><th>Algorithm</th><th>Status</th><th>Published</th></tr></thead><tbody>"
        for v in detail.versions.reversed() {
            body += "<tr><td>\(esc(v.version))</td><td>\(Timestamp.format(v.validFrom))</td><td>\(v.validTo.map(Timestamp.format) ?? "open")</td>"
            body += "<td>\(v.count) &times; \(v.dimension)</td><td>\(esc(v.algorithm))</td><td>\(v.status.rawValue)</td><td>\(esc(v.publishedAt))</td></tr>"
        }
        body += "</tbody></table><h2>Benchmark scores</h2>" + Charts.scores(detail.versions)
        body += "<h2>Lineage</h2><ul id=\"lineage\">"
        for v in detail.versions.reversed() {
            for l in v.lineage {
                let target = l.kind == "version" ? "<a href=\"/embeddings/\(urlEncode(String(l.reference.split(separator: "@")[0])))\">\(esc(l.reference))</a>" : "<code>\(esc(l.reference))</code>"
                body += "<li>\(esc(v.version)) &larr; \(esc(l.kind)) \(target)\(l.checksum.map { " <span class=\"muted\">\(esc(String($0.prefix(19))))&hellip;</span>" } ?? "")</li>"
            }
        }
        body += "</ul>"
        let latest = detail.aliases.contains { $0.alias == "latest" } ? try online.version(of: name) : nil
        if let latest {
            body += "<div class=\"grid\"><div><h2>Map</h2>\(maps.svg(for: latest))<p class=\"muted\">\(latest.record.version): \(min(latest.count, 3000)) rows on their top two principal axes.</p></div>"
            body += "<div><h2>Neighbour explorer</h2><form id=\"explore\" method=\"get\" action=\"/embeddings/\(urlEncode(name))\">"
            body += "<input name=\"id\" value=\"\(esc(explore ?? ""))\" placeholder=\"an id, e.g. \(esc(latest.count > 0 ? latest.id(atRow: 0) : ""))\" aria-label=\"id\"> "
            body += "<input name=\"k\" type=\"number\" min=\"1\" max=\"100\" value=\"\(esc(kText ?? "10"))\" aria-label=\"k\"> <button type=\"submit\">Find neighbours</button></form>"
            if let explore, !explore.isEmpty {
                let k = min(max(Int(kText ?? "10") ?? 10, 1), 100)
                do {
                    try StoreNames.validateID(explore)
                    let list = try neighbours.find(id: explore, k: k, in: latest)
                    body += "<table id=\"neighbors\"><thead><tr><th>#</th><th>Id</th><th>Cosine</th></tr></thead><tbody>"
                    for (i, n) in list.neighbors.enumerated() {
                        body += "<tr><td>\(i + 1)</td><td><a href=\"/embeddings/\(urlEncode(name))?id=\(urlEncode(n.id))&k=\(k)\">\(esc(n.id))</a></td><td>\(String(format: "%.4f", n.similarity))</td></tr>"
                    }
                    body += "</tbody></table>"
                } catch {
                    body += "<p class=\"error\" id=\"explore-error\">\(esc("\(error)"))</p>"
                }
            }
            body += "</div></div>"
            body += snippets(name: name, version: latest.record, example: explore ?? (latest.count > 0 ? latest.id(atRow: 0) : "ID"), host: host)
        }
        return layout("\(e.name) · embeddings", body)
    }

    func snippets(name: String, version: VersionRecord, example: String, host: String) -> String {
        let dir = store.directory(of: version).path
        let swift = """
            import FeatureStore
            let store = try FeatureStore(directory: URL(fileURLWithPath: "\(store.directory.path)"))
            let online = try store.openOnline(name: "\(name)")            // memory-mapped latest version
            let vector = online.vector(for: "\(example)")                  // [Float]?
            let asOf = try store.vectors(name: "\(name)", .asOf(Timestamp.parse("2024-05-01")!), ids: ["\(example)"])
            """
        let python = """
            import numpy as np
            d = "\(dir)"
            vectors = np.load(d + "/vectors.npy", mmap_mode="r")          # (\(version.count), \(version.dimension)) float32
            ids = open(d + "/ids.tsv").read().split("\\n")[:-1]
            row = {x: i for i, x in enumerate(ids)}
            v = vectors[row["\(example)"]]
            """
        let curl = """
            curl -s http://\(host)/v1/embeddings/\(urlEncode(name))/vectors/\(urlEncode(example))
            curl -s http://\(host)/v1/embeddings/\(urlEncode(name))/neighbors/\(urlEncode(example))?k=10
            curl -s -X POST -H 'Content-Type: application/json' -d '{"ids": ["\(example)"]}' http://\(host)/v1/embeddings/\(urlEncode(name))/vectors
            """
        return "<h2>Use it</h2><h3>Swift</h3><pre id=\"snippet-swift\">\(esc(swift))</pre><h3>Python (numpy)</h3><pre id=\"snippet-python\">\(esc(python))</pre><h3>curl</h3><pre id=\"snippet-curl\">\(esc(curl))</pre>"
    }
}
