// A detached POSIX thread for one handler (HandlerLane.ownThread), without Foundation.
#if canImport(Glibc)
import Glibc
#endif

private final class ThreadBody {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

/// Runs `body` on a new detached thread; if no thread can be made, runs it on the calling one.
func runOnOwnThread(_ body: @escaping @Sendable () -> Void) {
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    pthread_attr_setstacksize(&attributes, 8 << 20)
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var thread = pthread_t()
    let created = pthread_create(&thread, &attributes, { context in
        let box = Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue()
        box.body()
        return nil
    }, context)
    if created != 0 {
        Unmanaged<ThreadBody>.fromOpaque(context).takeRetainedValue().body()
    }
}
