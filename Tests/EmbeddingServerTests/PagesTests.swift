import Foundation
import Testing
@testable import EmbeddingServer
@testable import FeatureStore

/// Debian's headless Chromium, when installed (scripts/setup.sh installs it).
let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
    .first { FileManager.default.isExecutableFile(atPath: $0) }

/// The DOM Chromium builds for `url` after loading it.
func dumpDOM(_ url: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: chromium!)
    process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--dump-dom", url]
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

@Suite(.serialized) struct PagesTests {
    @Test func pagesRenderServerSideWithEscapedText() async throws {
        let f = try await Fixture(label: "pages-plain")
        do {
            let (status, _, catalog) = try await f.request("GET", "/?q=graph")
            #expect(status == 200 && catalog.contains("<a href=\"/embeddings/users\">users</a>") && catalog.contains("1 of 1 embeddings"))
            #expect(catalog.contains("Accounts &lt;from&gt; the follow graph"))
            let (_, _, none) = try await f.request("GET", "/?owner=nobody")
            #expect(none.contains("0 of 1 embeddings"))
            let (_, _, page) = try await f.request("GET", "/embeddings/users?id=acct3&k=4")
            #expect(page.contains("class=\"timeline\"") && page.contains("class=\"scores\"") && page.contains("class=\"map\""))
            #expect(page.components(separatedBy: "class=\"version-bar\"").count == 3)
            #expect(page.components(separatedBy: "class=\"score-point\"").count == 3)
            let expected = f.tables[1].nearestNeighbors(of: [3], k: 4)[0].map { "acct\($0.row)" }
            for id in expected { #expect(page.contains(">\(id)</a></td>")) }
            let (_, _, bad) = try await f.request("GET", "/embeddings/users?id=ghost")
            #expect(bad.contains("id=\"explore-error\"") && bad.contains("ghost"))
            let (code, _, _) = try await f.request("GET", "/embeddings/nope")
            #expect(code == 404)
            let (svgStatus, _, svg) = try await f.request("GET", "/embeddings/users/map.svg")
            #expect(svgStatus == 200 && svg.components(separatedBy: "<circle").count == 51)
        }
        await f.stop()
    }

    @Test(.enabled(if: chromium != nil, "chromium not installed (apt-get install -y chromium; scripts/setup.sh does)"))
    func chromiumLoadsTheCatalogAndTheEmbeddingPage() async throws {
        let f = try await Fixture(label: "pages-chromium")
        do {
            let base = "http://127.0.0.1:\(f.port)"
            let catalog = try dumpDOM(base + "/?tag=svd")
            #expect(catalog.contains("<table id=\"catalog\">") && catalog.contains(">users</a>") && catalog.contains("1 of 1 embeddings"))
            let page = try dumpDOM(base + "/embeddings/users?id=acct3&k=5")
            #expect(page.contains("<h1 id=\"name\">users</h1>"))
            #expect(page.contains("<table id=\"neighbors\">"))
            #expect(page.components(separatedBy: "<tr><td>").count - 1 >= 5 + 2)   // 5 neighbours + 2 version rows
            #expect(page.contains("id=\"snippet-swift\"") && page.contains("id=\"snippet-python\"") && page.contains("id=\"snippet-curl\""))
            #expect(page.contains("np.load") && page.contains("/v1/embeddings/users/vectors/acct3"))
        }
        await f.stop()
    }
}
