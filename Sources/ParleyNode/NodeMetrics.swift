import Metrics
import Prometheus

/// The process's Prometheus registry, bootstrapped into swift-metrics on first use. A
/// process has one metrics system, so every node started in it (tests start several) shares
/// this registry.
public enum NodeMetrics {
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()
}
