// The listener: binds, accepts on a DispatchSource, enforces the connection
// limit, and shuts down gracefully. Per-connection work is in Connection.swift.

import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Handles one request. Runs on a concurrent queue; must eventually answer through the sink.
public typealias HTTPHandler = @Sendable (HTTPRequest, any ResponseSink) -> Void

public struct HTTPServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port; read it back from `HTTPServer.port`.
    public var port: Int
    public var backlog: Int
    /// Connections beyond this get a 503 JSON error and are closed at once, unless a slot can be
    /// reclaimed from an idle or slow connection (see SlotReclaim.swift).
    public var maxConnections: Int
    /// Seconds allowed from a request's first byte to the end of its header section. → 408
    public var headerReadTimeout: Double
    /// Seconds a keep-alive connection may sit idle (or a body may stall) before closing.
    public var idleTimeout: Double
    /// Seconds a write may wait for the client to accept data.
    public var writeTimeout: Double
    /// Bytes a second a request's head and body must average once they have been arriving for
    /// `receiveRateGracePeriod` seconds, else 408 (0: no minimum). → ConnectionDeadlines.swift
    public var minReceiveRate: Double = 500
    public var receiveRateGracePeriod: Double = 2
    /// Near the connection limit, a connection idle or arriving slower than `reclaimSlowerThan` bytes
    /// a second and at least `reclaimMinimumAge` seconds old gives its slot to a new one.
    public var reclaimSlowerThan: Double = 5000
    public var reclaimMinimumAge: Double = 0.25
    /// How many slots below `maxConnections` reclaiming starts, so that a burst of new clients still
    /// finds room: 1/16 of the limit, at least one.
    public var reclaimHeadroom: Int { max(1, maxConnections / 16) }
    public var limits: ParserLimits
    /// Where each request's handler runs (see `HandlerLane`); by default all on the shared pool.
    public var lane: @Sendable (HTTPRequest) -> HandlerLane = { _ in .pool }

    public init(host: String = "127.0.0.1", port: Int = 8080, backlog: Int = 128, maxConnections: Int = 256,
                headerReadTimeout: Double = 10, idleTimeout: Double = 60, writeTimeout: Double = 30,
                limits: ParserLimits = ParserLimits()) {
        self.host = host
        self.port = port
        self.backlog = backlog
        self.maxConnections = maxConnections
        self.headerReadTimeout = headerReadTimeout
        self.idleTimeout = idleTimeout
        self.writeTimeout = writeTimeout
        self.limits = limits
    }
}

/// Where a request's handler runs.
///
/// Quick handlers (probes, metrics, listings) share a Dispatch pool. A handler that may wait a long
/// time (a generation queued behind others, a diagnostics job) gets a thread of its own: parked on
/// the pool, two hundred of them would take every pool thread, and a liveness probe would wait behind
/// them until the orchestrator killed a server that was only busy.
public enum HandlerLane: Sendable {
    case pool
    case ownThread
}

/// One connection's unanswered work.
public struct ConnectionBacklog: Sendable, Hashable {
    /// Requests parsed and not yet answered: the one in flight plus those queued behind it.
    public var unansweredRequests: Int
    /// Bytes received for requests not yet parsed (unparsed input and a partial body).
    public var bufferedBytes: Int
    /// Whether the connection has stopped reading until it catches up.
    public var readingPaused: Bool
}

public final class HTTPServer: @unchecked Sendable {
    public let configuration: HTTPServerConfiguration
    private var currentHandler: HTTPHandler   // under `lock`
    private let acceptQueue = DispatchQueue(label: "eckart.http.accept")
    private let handlerQueue = DispatchQueue(label: "eckart.http.handlers", attributes: .concurrent)

    private let lock = NSLock()
    private var listenFD: Int32 = -1
    private var acceptSource: DispatchSourceRead?
    private var connections: [Int: Connection] = [:]
    /// Connections told to give up their slot (not yet closed): not counted against the limit.
    private var reclaiming: Set<Int> = []
    private var reclaimed = 0
    private var nextID = 0
    private var boundPort = 0
    private var running = false

    public init(configuration: HTTPServerConfiguration, handler: @escaping HTTPHandler) {
        self.configuration = configuration
        self.currentHandler = handler
    }

    /// Answers every request from now on with `handler` (requests already running finish with the
    /// old one): a server bound before its application is ready swaps in the real routes when it is.
    public func replaceHandler(_ handler: @escaping HTTPHandler) {
        lock.withLock { currentHandler = handler }
    }

    /// The handler connections call: whichever is current when a request starts.
    private var handler: HTTPHandler {
        { [weak self] request, sink in
            guard let self else { return }
            let current = self.lock.withLock { self.currentHandler }
            current(request, sink)
        }
    }

    /// The bound port (meaningful after `start()`).
    public var port: Int { lock.withLock { boundPort } }

    /// Connections currently open.
    public var connectionCount: Int { lock.withLock { connections.count } }

    /// What each open connection holds for requests it has not answered yet (for tests and
    /// diagnostics: pipelining is bounded, see Connection.swift).
    public var connectionBacklogs: [ConnectionBacklog] {
        lock.withLock { Array(connections.values) }.map(\.backlog)
    }

    /// Binds and starts accepting. Also sets SIGPIPE to ignored for the process
    /// (writes use MSG_NOSIGNAL as well; this covers any other descriptor).
    public func start() throws {
        signal(SIGPIPE, SIG_IGN)
        let (fd, port) = try Socket.listen(host: configuration.host, port: configuration.port, backlog: configuration.backlog)
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: acceptQueue)
        source.setEventHandler { [weak self] in self?.acceptPending() }
        source.setCancelHandler { close(fd) }
        lock.withLock {
            listenFD = fd
            boundPort = port
            acceptSource = source
            running = true
        }
        source.resume()
    }

    private func acceptPending() {
        // Bounded: at most 64 accepts per readiness event; the source fires again if more wait.
        for _ in 0..<64 {
            let fd = lock.withLock { running ? listenFD : -1 }
            guard fd >= 0, let client = Socket.accept(fd) else { return }
            let (connection, victim): (Connection?, Connection?) = lock.withLock {
                var victim: Connection? = nil
                if connections.count - reclaiming.count >= configuration.maxConnections - configuration.reclaimHeadroom {
                    victim = reclaimableConnection()
                }
                guard connections.count - reclaiming.count < configuration.maxConnections else { return (nil, nil) }
                nextID += 1
                let c = Connection(id: nextID, fd: client, config: configuration, handler: handler,
                                   handlerQueue: handlerQueue, onClosed: { [weak self] id in self?.remove(id) })
                connections[nextID] = c
                return (c, victim)
            }
            if let victim {
                let id = victim.id
                victim.reclaim { [weak self] in self?.lock.withLock { _ = self?.reclaiming.remove(id) } }
            }
            if let connection {
                connection.start()
            } else {
                rejectOverCapacity(client)
            }
        }
    }

    private func rejectOverCapacity(_ fd: Int32) {
        let error = HTTPError(.serviceUnavailable, code: "too_many_connections",
                              message: "The server has reached its limit of \(configuration.maxConnections) connections")
        _ = Socket.sendAll(fd, ResponseWriter.serialize(error.response, close: true), timeout: 1)
        Glibc.shutdown(fd, Int32(SHUT_WR))
        // Drain whatever the client already sent so close() does not reset the connection.
        var scratch = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<16 where scratch.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
        close(fd)
    }

    /// Picks (under `lock`) the connection to give up its slot, and marks it as leaving.
    /// At the limit itself the minimum age drops to a fifth: a client's head arrives right behind the
    /// handshake that let `accept` return, so even that young a connection has had its chance, and a
    /// burst of slow clients that all just connected cannot fill every slot.
    private func reclaimableConnection() -> Connection? {
        let candidates = connections.filter { !reclaiming.contains($0.key) }.map { (id: $0.key, status: $0.value.slotStatus) }
        let atLimit = connections.count - reclaiming.count >= configuration.maxConnections
        let minimumAge = configuration.reclaimMinimumAge / (atLimit ? 5 : 1)
        guard let id = SlotReclaim.victim(candidates, now: DispatchTime.now().uptimeNanoseconds,
                                          minimumAge: minimumAge, slowBelow: configuration.reclaimSlowerThan),
              let victim = connections[id] else { return nil }
        reclaiming.insert(id)
        reclaimed += 1
        return victim
    }

    /// Connections closed so far to make room for new ones.
    public var reclaimedConnections: Int { lock.withLock { reclaimed } }

    private func remove(_ id: Int) {
        lock.withLock {
            _ = connections.removeValue(forKey: id)
            reclaiming.remove(id)
        }
    }

    /// Stops accepting, lets in-flight requests finish, closes idle connections, and
    /// returns once every connection is closed or `timeout` seconds have passed (then
    /// the rest are closed forcibly). Returns true if everything finished in time.
    /// Blocks the caller; do not call it from a handler.
    @discardableResult
    public func shutdown(timeout: Double) -> Bool {
        let open: [Connection] = lock.withLock {
            guard running else { return [] }
            running = false
            acceptSource?.cancel()
            acceptSource = nil
            listenFD = -1
            return Array(connections.values)
        }
        for connection in open { connection.beginShutdown() }
        let clean = waitForConnections(timeout: timeout)
        if !clean {
            for connection in lock.withLock({ Array(connections.values) }) { connection.forceClose() }
            _ = waitForConnections(timeout: 1)
        }
        return clean
    }

    private func waitForConnections(timeout: Double) -> Bool {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, timeout) * 1e9)
        while connectionCount > 0 {
            if DispatchTime.now().uptimeNanoseconds >= deadline { return false }
            usleep(5_000)
        }
        return true
    }
}
