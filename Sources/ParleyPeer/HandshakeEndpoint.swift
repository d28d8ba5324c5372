import GRPCCore
import ParleyCluster

/// The `parley.peer.v1.PeerHandshake` service other nodes call: it answers their handshakes
/// with this node's view of the cluster and refuses nodes configured for another one.
struct HandshakeEndpoint: Parley_Peer_V1_PeerHandshake.SimpleServiceProtocol {
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
}
