import ArgumentParser
import Foundation

// ECKART_<FLAG> environment variables fill in `eckart serve` flags the command line leaves out
// (ServeEnvironment.swift).
EckartCommand.main(ServeEnvironment.arguments(Array(CommandLine.arguments.dropFirst()),
                                              environment: ProcessInfo.processInfo.environment))
