// The `eckart` executable: one root command with a subcommand per job.
import ArgumentParser
import Foundation

struct EckartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eckart",
        abstract: "Serve many LoRA adapters on one frozen base transformer.",
        version: eckartVersion,
        subcommands: [ServeCommand.self, LogitsCommand.self, EmbedCommand.self, SpectrumCommand.self, SweepCommand.self, TruncateCommand.self, BenchCommand.self, ServeBenchCommand.self, ModelBenchCommand.self])
}

/// Prints `error: <message>` to stderr and exits 1: the CLI's one error path.
func failing<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(1)
    }
}
