import Foundation
import NIOSSL
import ParleyCluster

/// Mutual TLS between the nodes of a cluster: every node presents a certificate signed by the
/// cluster's own certificate authority and accepts only peers whose certificate that authority
/// signed. `scripts/make-peer-certs` makes such a directory with OpenSSL.
///
/// The directory holds `ca.pem` (the authority), and for each node `<node id>.pem` (its
/// certificate chain, with the node's peer host as an IP or DNS subject alternative name) and
/// `<node id>-key.pem` (its private key). One directory serves every node of a cluster file.
public struct PeerTLS: Sendable, Equatable {
    public let authority: String
    public let certificate: String
    public let privateKey: String

    /// The files of `node` in `directory`; fails with `cluster_invalid_membership` naming the
    /// first one missing, so a node never starts half secured.
    public init(directory: String, node: NodeID) throws(ClusterError) {
        authority = directory + "/ca.pem"
        certificate = directory + "/\(node.rawValue).pem"
        privateKey = directory + "/\(node.rawValue)-key.pem"
        for file in [authority, certificate, privateKey] where !FileManager.default.isReadableFile(atPath: file) {
            throw ClusterError(.invalidMembership, "peer TLS file \(file) is missing or unreadable (scripts/make-peer-certs makes them)")
        }
    }

    /// What the peer server offers and demands: its certificate, and a client certificate the
    /// cluster's authority signed (any host name: clients dial from ephemeral addresses).
    func serverContext() throws(ClusterError) -> NIOSSLContext {
        try context { certificates, key in
            var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: certificates, privateKey: key)
            configuration.certificateVerification = .noHostnameVerification
            return configuration
        }
    }

    /// What a client to a peer presents and checks: this node's certificate, and a server
    /// certificate signed by the cluster's authority for the address dialled.
    func clientContext() throws(ClusterError) -> NIOSSLContext {
        try context { certificates, key in
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateChain = certificates
            configuration.privateKey = key
            configuration.certificateVerification = .fullVerification
            return configuration
        }
    }

    private func context(
        _ make: ([NIOSSLCertificateSource], NIOSSLPrivateKeySource) -> TLSConfiguration
    ) throws(ClusterError) -> NIOSSLContext {
        do {
            let certificates = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            var configuration = make(certificates, .privateKey(try NIOSSLPrivateKey(file: privateKey, format: .pem)))
            configuration.trustRoots = .file(authority)
            configuration.minimumTLSVersion = .tlsv12
            configuration.applicationProtocols = ["h2"]
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ClusterError(.invalidMembership, "peer TLS files in \((authority as NSString).deletingLastPathComponent) cannot be used: \(error)")
        }
    }
}
