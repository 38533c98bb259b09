import Foundation
import Testing

/// The result of running the real `flexbms` binary.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// The built `flexbms` executable: it sits beside the test bundle in the build folder.
func flexbmsBinary() throws -> URL {
    let runner = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).resolvingSymlinksInPath()
    var dir = runner.deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("flexbms")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    throw CLIError.binaryNotFound(runner.path)
}

enum CLIError: Error { case binaryNotFound(String) }

/// Runs `flexbms arguments…` in `directory` and collects its output.
func flexbms(_ arguments: [String], in directory: URL? = nil) throws -> CLIResult {
    let process = Process()
    process.executableURL = try flexbmsBinary()
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CLIResult(status: process.terminationStatus,
                     stdout: String(decoding: stdout, as: UTF8.self),
                     stderr: String(decoding: stderr, as: UTF8.self))
}

/// A fresh temporary directory, removed by `cleanup()`.
struct Scratch {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("flexbms-cli-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: url.appendingPathComponent(name))
    }
    func read(_ name: String) throws -> String {
        String(decoding: try Data(contentsOf: url.appendingPathComponent(name)), as: UTF8.self)
    }
    func cleanup() { try? FileManager.default.removeItem(at: url) }
}
