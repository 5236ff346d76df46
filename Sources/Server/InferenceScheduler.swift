// The one queue in front of the engine. Every forward pass goes through it, so batching requests
// with different adapters can be added here without touching the handlers.
import Dispatch
import Foundation

/// Admits at most `concurrency` engine jobs at once; the rest wait in arrival order.
///
/// With the default of one job at a time, OpenBLAS may use every core for that job; with more,
/// the server sets OpenBLAS to one thread per job so the two kinds of parallelism do not fight.
final class InferenceScheduler: Sendable {
    private let slots: DispatchSemaphore
    let concurrency: Int

    init(concurrency: Int) {
        self.concurrency = max(1, concurrency)
        slots = DispatchSemaphore(value: self.concurrency)
    }

    /// Runs `job` when a slot is free and returns its result with the time spent waiting.
    func run<T>(_ job: () throws -> T) rethrows -> (result: T, queuedMilliseconds: Double) {
        let arrived = DispatchTime.now()
        slots.wait()
        defer { slots.signal() }
        let queued = milliseconds(since: arrived)
        return (try job(), queued)
    }
}

func milliseconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
}
