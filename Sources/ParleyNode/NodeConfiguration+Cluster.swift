import ParleyCluster

extension NodeConfiguration {
    /// The cluster this configuration describes: its `clusterNodes`, or this node alone.
    public func clusterMembership() throws(ConfigurationError) -> ClusterMembership {
        func refuse(_ reason: String) -> ConfigurationError { ConfigurationError(source: "configuration", key: "nodes", reason: reason) }
        guard let ownID = NodeID(nodeID) else { throw refuse("node_id \(nodeID) is not a node name") }
        var members: [ClusterMember] = []
        for entry in clusterNodes {
            guard let id = NodeID(entry.id) else { throw refuse("\(entry.id) is not a node name (1 to 64 of A-Z a-z 0-9 . _ -)") }
            guard let peer = HostPort(entry.peer) else { throw refuse("node \(entry.id): peer \(entry.peer) is not host:port") }
            guard let client = HostPort(entry.client) else { throw refuse("node \(entry.id): client \(entry.client) is not host:port") }
            members.append(ClusterMember(id: id, peerAddress: peer, clientAddress: client))
        }
        if members.isEmpty {
            // This node alone.
            members = [ClusterMember(id: ownID, peerAddress: HostPort(host: peerHost, port: peerPort), clientAddress: HostPort(host: clientHost, port: clientPort))]
        }
        guard members.contains(where: { $0.id == ownID }) else {
            throw refuse("node_id \(nodeID) is not among the nodes (\(clusterNodes.map(\.id).joined(separator: ", ")))")
        }
        do {
            return try ClusterMembership(members: members, partitionCount: partitions, replicationFactor: replicationFactor)
        } catch {
            throw refuse(error.message)
        }
    }

    /// This node's listeners and data directory taken from its own entry of `clusterNodes`
    /// (a no-op without one). The addresses are the cluster's (its peers dial them); the data
    /// directory is the node's own, so `PARLEY_DATA_DIR` may still move it.
    mutating func adoptOwnClusterEntry(keepingDataDirectory: Bool = false) throws(ConfigurationError) {
        let membership = try clusterMembership()
        guard !clusterNodes.isEmpty, let id = NodeID(nodeID), let own = membership.member(id) else { return }
        clientHost = own.clientAddress.host
        clientPort = own.clientAddress.port
        peerHost = own.peerAddress.host
        peerPort = own.peerAddress.port
        if !keepingDataDirectory, let directory = clusterNodes.first(where: { $0.id == nodeID })?.dataDirectory { dataDirectory = directory }
    }
}
