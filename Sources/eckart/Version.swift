// The one place the release version is written; `eckart --version` prints it (openapi.yaml's
// info.version states the same number, checked by CLITests).

/// Eckart's version (semantic versioning).
let eckartVersion = "0.1.0"
