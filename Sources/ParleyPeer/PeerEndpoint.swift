import Foundation
import GRPCCore
import ParleyCluster

/// The `parley.peer.v1.Peer` service other nodes call: it answers their handshakes with this
/// node's view of the cluster and refuses nodes configured for another one.
struct PeerEndpoint: Parley_Peer_V1_Peer.SimpleServiceProtocol {
    let network: PeerNetwork

    func hello(request: Parley_Peer_V1_HelloRequest, context: ServerContext) async throws -> Parley_Peer_V1_HelloResponse {
        var response = Parley_Peer_V1_HelloResponse()
        response.nodeID = network.ownID.rawValue
        response.clusterFingerprint = network.membership.fingerprint
        response.clusterDescription = network.membership.canonicalDescription
        let refusal = network.membership.agreement(withFingerprint: request.clusterFingerprint, description: request.clusterDescription)
        network.greeted(by: request.nodeID, refusal: refusal)
        response.accepted = refusal == nil
        if let refusal {
            response.errorCode = refusal.code.rawValue
            response.errorMessage = refusal.message
        }
        return response
    }

    func exchange(request: Parley_Peer_V1_ExchangeRequest, context: ServerContext) async throws -> Parley_Peer_V1_ExchangeResponse {
        guard request.clusterFingerprint == network.membership.fingerprint else {
            throw RPCError(code: .failedPrecondition, message: "cluster_membership_mismatch: this node runs cluster \(network.membership.fingerprint)")
        }
        guard let sender = NodeID(request.nodeID), network.membership.member(sender) != nil else {
            throw RPCError(code: .permissionDenied, message: "\(request.nodeID) is not a member of this cluster")
        }
        guard let kind = PeerNetwork.kind(request.kind) else {
            throw RPCError(code: .invalidArgument, message: "unknown message kind \(request.kind.rawValue)")
        }
        do {
            var response = Parley_Peer_V1_ExchangeResponse()
            response.body = Data(try await network.inbox.deliver(kind, Array(request.body), from: sender))
            return response
        } catch {
            throw RPCError(code: .unavailable, message: error.description)
        }
    }
}
