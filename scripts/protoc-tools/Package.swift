// swift-tools-version:6.0
// The code generator `scripts/generate-protos` runs: swift-protobuf's protoc plugin, built
// from the package on this machine. Nothing here is part of the node.
import PackageDescription

let package = Package(
    name: "parley-protoc-tools",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
    ],
    targets: []
)
