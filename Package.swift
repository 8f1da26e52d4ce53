// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "gridwork",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gridwork", targets: ["gridwork"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .executableTarget(
            name: "gridwork",
            dependencies: [
                "GridworkCore", "GridworkStore", "GridworkServer", "GridworkDemo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        /// The system zlib, for XLSX (ZIP) import and export.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        /// The system OpenSSL's libcrypto, for sealing bulk imports (see `Sealer.Bulk`).
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", providers: [.apt(["libssl-dev"])]),
        .target(name: "GridworkCore", dependencies: ["CZlib"]),
        .target(
            name: "GridworkStore",
            dependencies: [
                "GridworkCore", "COpenSSL",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "GridworkDemo",
            dependencies: ["GridworkCore", "GridworkStore"]
        ),
        .target(
            name: "GridworkServer",
            dependencies: [
                "GridworkCore", "GridworkStore", "GridworkDemo",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources")]
        ),
        /// Opens a fresh, seeded database per test on SQLite or, with GRIDWORK_TEST_DB_URL, on PostgreSQL.
        .target(
            name: "GridworkTestSupport",
            dependencies: ["GridworkStore", "GridworkDemo"],
            path: "Tests/GridworkTestSupport"
        ),
        .testTarget(name: "GridworkCoreTests", dependencies: ["GridworkCore"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "GridworkStoreTests",
            dependencies: ["GridworkStore", "GridworkDemo", "GridworkTestSupport", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(name: "GridworkDemoTests", dependencies: ["GridworkDemo", "GridworkTestSupport"]),
        .testTarget(
            name: "GridworkServerTests",
            dependencies: [
                "GridworkServer", "GridworkTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
    ]
)
