import Foundation
import GRPCNIOTransportHTTP2Posix
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
    var serverSecurity: HTTP2ServerTransport.Posix.TransportSecurity {
        .mTLS(certificateChain: [.file(path: certificate, format: .pem)], privateKey: .file(path: privateKey, format: .pem)) { config in
            config.trustRoots = .certificates([.file(path: authority, format: .pem)])
            config.clientCertificateVerification = .noHostnameVerification
        }
    }

    /// What a client to a peer presents and checks: this node's certificate, and a server
    /// certificate signed by the cluster's authority for the address dialled.
    var clientSecurity: HTTP2ClientTransport.Posix.TransportSecurity {
        .mTLS(certificateChain: [.file(path: certificate, format: .pem)], privateKey: .file(path: privateKey, format: .pem)) { config in
            config.trustRoots = .certificates([.file(path: authority, format: .pem)])
            config.serverCertificateVerification = .fullVerification
        }
    }
}
