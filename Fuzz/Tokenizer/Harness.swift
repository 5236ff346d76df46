// Loads the input as tokenizer.json; a tokenizer that loads must encode and decode a fixed text.
import Foundation
import Tokenizers

let text = "Hello, wörld! 12 345\t  spaces 🤗 <s>[CLS] don't"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(UnsafeBufferPointer(start: data, count: size))
    guard let tokenizer = try? Tokenizer(data: bytes) else { return 0 }
    let ids = tokenizer.encode(text)
    _ = tokenizer.decode(ids)
    return 0
}
