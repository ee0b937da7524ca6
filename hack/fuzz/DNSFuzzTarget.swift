// libFuzzer entry for the DNS wire decoder, compiled together with Sources/DNSCore by hack/fuzz-dns.sh.
// Every input must decode or throw; whatever decodes must survive encode → decode unchanged and
// be answerable by the zone answerer.
import KubeAPI

let fuzzIndex = ServiceIndex.build(options: ZoneOptions(pods: .insecure), services: [Service](), slices: [EndpointSlice]())

@_cdecl("LLVMFuzzerTestOneInput")
public func dnsFuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let message = try? DNSMessage.decode(bytes) else { return 0 }
    let wire = message.encode()
    guard let again = try? DNSMessage.decode(wire), again == message else {
        preconditionFailure("round trip changed the message")
    }
    _ = message.encode(maxSize: 512)
    _ = ZoneAnswerer.answer(message, index: fuzzIndex)
    return 0
}
