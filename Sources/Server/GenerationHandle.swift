// What a request holds while the batch engine generates for it: a bounded channel of events that
// the engine fills without ever blocking, and a way to stop the generation. Socket writes, text
// decoding and SSE framing happen on the request's side of this channel, never on the engine's.
import Foundation
import LinearAlgebra
import Models

/// One thing the engine tells a request.
enum EngineEvent: Sendable {
    /// A token was chosen (in order).
    case token(Int)
    /// The generation ended. `promptLogits` holds the prompt rows the request asked for.
    case finished(EngineOutcome)
    /// The step this sequence was in failed.
    case failed(String)
}

/// How a generation ended, with its timings.
struct EngineOutcome: Sendable {
    var reason: FinishReason
    var promptLogits: Matrix
    /// Arrival to admission, admission to the first token (or the end of the prompt), first token to the end.
    var queuedMilliseconds: Double
    var prefillMilliseconds: Double
    var decodeMilliseconds: Double
    /// False when an `auto` request's rows ran unmerged in some step (see `BatchEngine`).
    var ranMergedThroughout: Bool
    /// The engine's step counter when the sequence was admitted and when it ended (nil: never admitted).
    var admittedAtStep: Int?
    var finishedAtStep: Int
}

/// The request's side of one generation. Thread-safe.
final class GenerationHandle: @unchecked Sendable {
    /// Tokens the request may leave untaken before the engine gives up on it (`EngineLimits`).
    let maxPendingTokens: Int

    private let condition = NSCondition()
    private var events: [EngineEvent] = []
    private var head = 0
    private var stopRequest: FinishReason? = nil

    init(maxPendingTokens: Int) {
        self.maxPendingTokens = maxPendingTokens
    }

    /// Called by the engine: appends without blocking. Returns false (and appends nothing) when the
    /// request is too far behind; the engine then cancels the sequence.
    func push(_ event: EngineEvent) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if events.count - head >= maxPendingTokens, case .token = event { return false }
        events.append(event)
        condition.signal()
        return true
    }

    /// The next event, waiting for it; nil if none came within `timeout` seconds.
    func next(timeout: Double = 3600) -> EngineEvent? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(timeout)
        while head == events.count {
            if !condition.wait(until: deadline) { return nil }
        }
        let event = events[head]
        head += 1
        if head > 256 && head * 2 > events.count {   // drop what was taken, now and then
            events.removeFirst(head)
            head = 0
        }
        return event
    }

    /// Asks the engine to end the generation (`.stop` for a stop string, `.cancelled` for a client
    /// that went away). The engine drops the sequence before its next step.
    func stop(_ reason: FinishReason) {
        condition.lock()
        if stopRequest == nil { stopRequest = reason }
        condition.unlock()
    }

    /// What the request asked for, if anything (read by the engine).
    var requestedStop: FinishReason? {
        condition.lock()
        defer { condition.unlock() }
        return stopRequest
    }
}
