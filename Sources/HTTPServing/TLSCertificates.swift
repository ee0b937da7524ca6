import Crypto
import Foundation
import LinuxSystem
import KubeAPI
import NIOSSL
import SwiftASN1
import Values
import X509

/// The control plane's serving certificates: a CA kept in the data directory (so kubeconfigs written
/// earlier stay valid) and a server certificate issued at every start for the addresses it serves on.
/// kubectl sends bearer tokens only over TLS, so the API is always served with TLS.
public struct TLSCertificates: Sendable {
    public let caPEM: String
    let serverChainPEM: String
    let serverKeyPEM: String

    /// Loads or creates `ca.crt`/`ca.key` in `directory` and issues a server certificate for `addresses`
    /// (IPs) and `dnsNames`.
    public static func prepare(directory: String, addresses: [IPAddress], dnsNames: [String], now: Date = Date()) throws -> TLSCertificates {
        let caCertPath = directory + "/ca.crt", caKeyPath = directory + "/ca.key"
        let caKey: P256.Signing.PrivateKey
        let caCert: Certificate
        if let certPEM = try? String(contentsOfFile: caCertPath, encoding: .utf8), let keyPEM = try? String(contentsOfFile: caKeyPath, encoding: .utf8) {
            caKey = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
            caCert = try Certificate(pemEncoded: certPEM)
        } else {
            caKey = P256.Signing.PrivateKey()
            let name = try DistinguishedName { CommonName("kproxy-ca") }
            caCert = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(caKey.publicKey),
                notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
                issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: .init(caKey.publicKey))
                },
                issuerPrivateKey: .init(caKey))
            try writePrivate(caKey.pemRepresentation, to: caKeyPath)
            try writePrivate(try caCert.serializeAsPEM().pemString, to: caCertPath)
        }

        let serverKey = P256.Signing.PrivateKey()
        var names: [GeneralName] = dnsNames.map { .dnsName($0) }
        for a in addresses { names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(a.bytes)))) }
        let server = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(serverKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(365 * 86400),
            issuer: caCert.subject, subject: try DistinguishedName { CommonName("kube-apiserver") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(caKey))
        let caPEM = try caCert.serializeAsPEM().pemString
        return TLSCertificates(caPEM: caPEM, serverChainPEM: try server.serializeAsPEM().pemString, serverKeyPEM: serverKey.pemRepresentation)
    }

    /// A NIOSSL server context serving HTTP/1.1.
    public func serverContext() throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(serverChainPEM.utf8)).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(bytes: Array(serverKeyPEM.utf8), format: .pem)
        var config = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        config.applicationProtocols = ["http/1.1"]
        config.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: config)
    }

    private static func writePrivate(_ text: String, to path: String) throws {
        try PrivateFiles.write(text, to: path)
    }
}
