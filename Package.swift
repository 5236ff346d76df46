// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    // Linux only: the HTTP layer is written on Glibc's sockets (and the build on Debian's OpenBLAS),
    // so no Apple platform is declared.
    name: "Eckart",
    products: [
        .executable(name: "eckart", targets: ["eckart"]),
        // For Fuzz/Package.swift, the libFuzzer harnesses, which depend on this package by path.
        .library(name: "HTTP", targets: ["HTTP"]),
        .library(name: "Formats", targets: ["Formats"]),
        .library(name: "Tokenizers", targets: ["Tokenizers"]),
        .library(name: "ChatTemplates", targets: ["ChatTemplates"]),
        .library(name: "Models", targets: ["Models"]),
        .library(name: "Server", targets: ["Server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // cblas.h + lapacke.h from Debian's libopenblas-dev and liblapacke-dev.
        .systemLibrary(
            name: "COpenBLAS",
            path: "Sources/COpenBLAS",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        // Eckart's own SIMD kernels in C (AVX2 + FMA chosen at run time, portable C elsewhere).
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        // Matrix storage and the only callers of BLAS and LAPACK.
        .target(name: "LinearAlgebra", dependencies: ["COpenBLAS", "CKernels"]),
        // safetensors, Hugging Face config.json, PEFT adapter config, strict JSON.
        .target(name: "Formats", dependencies: ["LinearAlgebra"]),
        // Llama family and BERT family forward passes, KV cache, model registry.
        .target(name: "Models", dependencies: ["LinearAlgebra", "Formats", "CKernels"]),
        // PEFT LoRA / DoRA adapters: loading, validation, unmerged and merged application.
        .target(name: "Adapters", dependencies: ["LinearAlgebra", "Formats", "Models"]),
        .target(name: "Tokenizers", dependencies: ["Formats"]),
        // Jinja chat templates (the subset transformers' chat templates use), rendered as transformers does.
        .target(name: "ChatTemplates", dependencies: ["Formats"]),
        .target(name: "HTTP"),
        // Spectra of adapter updates via QR of the factors, effective ranks, truncation error.
        .target(name: "Diagnostics", dependencies: ["LinearAlgebra", "Formats", "Adapters", "Models"]),
        // The HTTP API: routes, handlers, JSON types, scheduler, metrics.
        .target(name: "Server", dependencies: ["HTTP", "Adapters", "Diagnostics", "Tokenizers", "ChatTemplates", "Models", "Formats", "LinearAlgebra"]),
        .executableTarget(
            name: "eckart",
            dependencies: [
                "LinearAlgebra", "Formats", "Models", "Adapters", "Diagnostics", "Tokenizers", "ChatTemplates", "Server",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Locates and decodes Tests/Fixtures for the test targets below.
        .target(name: "FixtureSupport", dependencies: ["LinearAlgebra", "Formats"], path: "Tests/FixtureSupport"),
        .testTarget(name: "LinearAlgebraTests", dependencies: ["LinearAlgebra", "FixtureSupport"]),
        .testTarget(name: "FormatsTests", dependencies: ["Formats", "LinearAlgebra", "FixtureSupport"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Formats", "LinearAlgebra", "FixtureSupport"]),
        .testTarget(name: "AdaptersTests", dependencies: ["Adapters", "Models", "Formats", "LinearAlgebra", "FixtureSupport"]),
        .testTarget(name: "ServerTests", dependencies: ["Server", "ChatTemplates", "Adapters", "Models", "Tokenizers", "Formats", "LinearAlgebra", "FixtureSupport"]),
        .testTarget(name: "DiagnosticsTests", dependencies: ["Diagnostics", "Adapters", "Models", "Formats", "LinearAlgebra", "FixtureSupport"]),
        .testTarget(name: "CLITests", dependencies: ["eckart", "Adapters", "Models", "Formats", "LinearAlgebra", "FixtureSupport"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "Formats", "FixtureSupport"]),
        .testTarget(name: "ChatTemplatesTests", dependencies: ["ChatTemplates", "Formats", "FixtureSupport"]),
    ]
)
