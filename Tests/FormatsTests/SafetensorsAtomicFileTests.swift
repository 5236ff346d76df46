// AtomicFile, which safetensors files (and the adapter store) are written through: the destination is
// replaced whole or not at all, and no temporary file is left behind. Reference: POSIX rename(2) and
// fsync(2); huggingface/safetensors `buffered_write_to_file` (sibling temp file + rename).
import Formats
import Foundation
import Testing

@Suite struct SafetensorsAtomicFileTests {
    struct ProducerFailed: Error {}

    func entries(_ directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    @Test func createsAndReplacesFiles() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let url = directory.appendingPathComponent("file.bin")
        try AtomicFile.write([1, 2, 3], to: url)
        #expect(try Data(contentsOf: url) == Data([1, 2, 3]))
        try AtomicFile.write(Data([4, 5]), to: url)
        #expect(try Data(contentsOf: url) == Data([4, 5]))
        try AtomicFile.write(to: url) { sink in
            try sink.write([6])
            try [UInt8](repeating: 7, count: 100_000).withUnsafeBytes { try sink.write($0) }
        }
        #expect(try Data(contentsOf: url) == Data([6] + [UInt8](repeating: 7, count: 100_000)))
        #expect(try entries(directory) == ["file.bin"])
    }

    @Test func readersOfTheOldFileKeepTheOldContents() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let url = directory.appendingPathComponent("model.safetensors")
        try SafetensorsWriter.write([.init(name: "w", shape: [2], values: [1, 2])], to: url)
        let old = try SafetensorsFile(contentsOf: url)
        try SafetensorsWriter.write([.init(name: "w", shape: [3], values: [7, 8, 9])], to: url)
        // The mapping still sees the replaced file's bytes (rename never truncates it).
        #expect(try old.floats("w") == [1, 2])
        #expect(try SafetensorsFile(contentsOf: url).floats("w") == [7, 8, 9])
    }

    @Test func aFailingProducerLeavesTheDestinationUntouched() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let url = directory.appendingPathComponent("file.bin")
        try AtomicFile.write([1, 2, 3], to: url)
        #expect(throws: ProducerFailed.self) {
            try AtomicFile.write(to: url) { sink in
                try sink.write([9, 9, 9, 9])
                throw ProducerFailed()
            }
        }
        #expect(try Data(contentsOf: url) == Data([1, 2, 3]))
        #expect(try entries(directory) == ["file.bin"])
    }

    @Test func aFailedRenameLeavesNoTemporaryFile() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        // The destination is a non-empty directory: rename(2) refuses to replace it.
        let destination = directory.appendingPathComponent("occupied")
        try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: false)
        try Data([1]).write(to: destination.appendingPathComponent("inside"))
        do {
            try AtomicFile.write([1, 2, 3], to: destination)
            Issue.record("replaced a directory")
        } catch let AtomicFileError.cannotReplace(path, _) {
            #expect(path == destination.path)
        }
        #expect(try entries(directory) == ["occupied"])
        #expect(try entries(destination) == ["inside"])
    }

    @Test func aMissingDirectoryIsReported() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let missing = directory.appendingPathComponent("no/such/dir")
        do {
            try AtomicFile.write([1], to: missing.appendingPathComponent("f"))
            Issue.record("wrote into a missing directory")
        } catch let AtomicFileError.cannotCreateTemporary(path, reason) {
            #expect(path == missing.path)
            #expect(reason.contains("No such file or directory"))
        }
        #expect(try entries(directory).isEmpty)
    }
}
