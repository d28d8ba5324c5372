// swift-tools-version:6.0
// The code generators `scripts/generate-protos` runs: protoc and the Swift and gRPC Swift 2
// plugins, built from the packages on this machine. Nothing here is part of the node.
import PackageDescription

let package = Package(
    name: "parley-protoc-tools",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "2.4.1"),
    ],
    targets: []
)
