// swift-tools-version:6.1
// A package that uses swift-embeddings the way a user's package does: by path, through the
// umbrella product only. scripts/check-consumer-package.sh copies the README's library example
// into Sources/ConsumerCheck/main.swift and builds and runs this package.
import PackageDescription

let package = Package(
    name: "ConsumerPackage",
    dependencies: [.package(name: "swift-embeddings", path: "../..")],
    targets: [
        .executableTarget(name: "ConsumerCheck", dependencies: [.product(name: "Embeddings", package: "swift-embeddings")]),
    ]
)
