// SHA-256 against the FIPS 180-4 / NIST example vectors, including block-boundary splits.
import Formats
import Testing

@Test func sha256MatchesFIPSVectors() {
    #expect(SHA256.hex(SHA256.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(SHA256.hex(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(SHA256.hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    // One million 'a', fed in uneven pieces so partial blocks are carried across updates.
    var h = SHA256()
    let piece = [UInt8](repeating: UInt8(ascii: "a"), count: 997)
    var fed = 0
    while fed < 1_000_000 {
        let n = min(piece.count, 1_000_000 - fed)
        h.update(Array(piece[0..<n]))
        fed += n
    }
    #expect(SHA256.hex(h.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
}

@Test func sha256SplitsEqualOneShot() {
    let message = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    let whole = SHA256.hash(message)
    for split in [0, 1, 55, 56, 63, 64, 65, 128, 299, 300] {
        var h = SHA256()
        h.update(Array(message[0..<split]))
        h.update(Array(message[split...]))
        #expect(h.finalize() == whole, "split at \(split)")
    }
}
