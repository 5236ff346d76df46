// The machine's memory bandwidth, measured: a timed read of a buffer far larger than the last-level
// cache, split over the cores as the engine's GEMVs split their weights. Decoding one token reads
// every weight once, so this bounds single-stream decode at bandwidth / weight bytes.
import Dispatch
import Foundation

enum MemoryBandwidth {
    /// Bytes per second reading `bytes` of floats with `threads` threads; the best of `rounds`.
    static func measure(bytes: Int = 1 << 30, threads: Int, rounds: Int = 5) -> Double {
        let count = bytes / MemoryLayout<Float>.size
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        for i in 0..<count { buffer[i] = Float(i & 1023) }   // touch every page
        let chunk = (count / threads) & ~15
        var best = Double.infinity
        var sink: Float = 0
        for _ in 0..<rounds {
            let sums = UnsafeMutablePointer<Float>.allocate(capacity: threads)
            defer { sums.deallocate() }
            // Addresses cross into the worker closure as integers (raw pointers are not Sendable).
            let bufferAddress = Int(bitPattern: buffer), sumsAddress = Int(bitPattern: sums)
            let start = DispatchTime.now()
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                // Sixteen floats at a time, four accumulators: enough loads in flight to saturate memory.
                let base = UnsafeRawPointer(bitPattern: bufferAddress)! + t * chunk * MemoryLayout<Float>.size
                var a = SIMD16<Float>(), b = a, c = a, d = a
                var offset = 0
                let stride = 64 * MemoryLayout<Float>.size
                let end = chunk * MemoryLayout<Float>.size
                while offset + stride <= end {
                    a += base.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
                    b += base.loadUnaligned(fromByteOffset: offset + 64, as: SIMD16<Float>.self)
                    c += base.loadUnaligned(fromByteOffset: offset + 128, as: SIMD16<Float>.self)
                    d += base.loadUnaligned(fromByteOffset: offset + 192, as: SIMD16<Float>.self)
                    offset += stride
                }
                UnsafeMutablePointer<Float>(bitPattern: sumsAddress)![t] = (a + b + c + d).sum()
            }
            best = min(best, seconds(since: start))
            for t in 0..<threads { sink += sums[t] }
        }
        if sink == .infinity { print("") }   // keeps the sums alive
        return Double(chunk * threads * MemoryLayout<Float>.size) / best
    }
}
