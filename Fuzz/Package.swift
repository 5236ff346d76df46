// swift-tools-version: 6.0
// libFuzzer harnesses for Eckart's parsers of untrusted input, one executable per harness.
//
// A separate package, so that `swift build` / `swift test` at the repository root never see them: a
// harness defines `LLVMFuzzerTestOneInput` and no `main` (libFuzzer supplies it), so it links only
// with `--sanitize fuzzer`. It depends on the root package by path. Build and run them with
// `scripts/fuzz.sh` (or `make fuzz FUZZ_SECONDS=60`).
import PackageDescription

let package = Package(
    name: "EckartFuzz",
    dependencies: [
        .package(name: "Eckart", path: ".."),
    ],
    targets: [
        // HTTP/1.1 request parser (a pure state machine): one-shot and split feeds must agree.
        .executableTarget(name: "FuzzHTTPRequest", dependencies: [.product(name: "HTTP", package: "Eckart")], path: "HTTPRequest"),
        // multipart/form-data bodies of adapter uploads.
        .executableTarget(name: "FuzzMultipart", dependencies: [.product(name: "Server", package: "Eckart")], path: "Multipart"),
        // The strict JSON parser behind every request body and every config file.
        .executableTarget(name: "FuzzJSON", dependencies: [.product(name: "Formats", package: "Eckart")], path: "JSON"),
        // A safetensors file's header and layout.
        .executableTarget(name: "FuzzSafetensors", dependencies: [.product(name: "Formats", package: "Eckart")], path: "Safetensors"),
        // adapter_config.json, then PEFT's target resolution over a fixed Llama-shaped module list.
        .executableTarget(name: "FuzzAdapterConfig", dependencies: [.product(name: "Formats", package: "Eckart")], path: "AdapterConfig"),
        // tokenizer.json loading, then encode/decode of a fixed text.
        .executableTarget(name: "FuzzTokenizer", dependencies: [.product(name: "Tokenizers", package: "Eckart")], path: "Tokenizer"),
        // Chat-template parsing (the Jinja subset).
        .executableTarget(name: "FuzzChatTemplate", dependencies: [.product(name: "ChatTemplates", package: "Eckart")], path: "ChatTemplate"),
        // A GGUF file: header, metadata, tensor layout, then the tokenizer, chat template and decoder built from it.
        .executableTarget(name: "FuzzGGUF", dependencies: [
            .product(name: "Formats", package: "Eckart"), .product(name: "Tokenizers", package: "Eckart"),
            .product(name: "ChatTemplates", package: "Eckart"), .product(name: "Models", package: "Eckart"),
        ], path: "GGUF"),
    ]
)
