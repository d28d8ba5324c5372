import Dispatch
import HTTPTypes
import Hummingbird
import Metrics
import Synchronization

/// Records, per route, method and status, how many requests were answered
/// (`hb.requests`), how long their handlers took (`http.server.request.duration`), how many
/// were refused or failed (`hb.request.errors`, any 4xx or 5xx, by status) and how many are
/// in progress (`http.server.active_requests`): the labels of Hummingbird's
/// `MetricsMiddleware`. It runs outside `ErrorMiddleware`, so a refusal counts with the status
/// the client got (inside it, every thrown domain error would count as a 500).
///
/// Unlike that middleware it leaves the response body as it is. Wrapping the body in a
/// post-write closure turns a one-buffer body into a streamed one, which Hummingbird then
/// writes as three parts (head, body, end), each a hop to the event loop and a flush of its
/// own: three socket writes per response instead of one. The duration measured here ends
/// when the handler returns its response (for a streamed download: at its first byte).
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private let cache = RequestMetricsCache()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let active = cache.activeRequests(request.method)
        active.increment()
        defer { active.decrement() }
        do {
            let response = try await next(request, context)
            let metrics = cache.endpoint(.init(route: context.endpointPath ?? "Unknown", method: request.method, status: response.status))
            metrics.requests.increment()
            metrics.duration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start))
            if response.status.code >= 400 { metrics.errors.increment() }
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            let metrics = cache.endpoint(.init(route: context.endpointPath ?? "NotFound", method: request.method, status: status))
            metrics.requests.increment()
            metrics.errors.increment()
            throw error
        }
    }
}

/// The metric handles of each method and each (route, method, status), made once: a metrics
/// factory's own lookup by label and dimensions is slower than this dictionary.
final class RequestMetricsCache: Sendable {
    struct Endpoint: Hashable {
        var route: String
        var method: HTTPRequest.Method
        var status: HTTPResponse.Status
    }

    struct EndpointMetrics: Sendable {
        let requests: Counter
        let duration: Metrics.Timer
        let errors: Counter

        init(_ endpoint: Endpoint) {
            let dimensions = [
                ("http.route", endpoint.route),
                ("http.request.method", endpoint.method.rawValue),
                ("http.response.status_code", String(endpoint.status.code)),
            ]
            requests = Counter(label: "hb.requests", dimensions: dimensions)
            duration = Metrics.Timer(label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds)
            errors = Counter(
                label: "hb.request.errors",
                dimensions: [
                    ("http.route", endpoint.route),
                    ("http.request.method", endpoint.method.rawValue),
                    ("error.type", String(endpoint.status.code)),
                ])
        }
    }

    private let endpoints = Mutex<[Endpoint: EndpointMetrics]>([:])
    private let methods = Mutex<[HTTPRequest.Method: Meter]>([:])

    func endpoint(_ endpoint: Endpoint) -> EndpointMetrics {
        endpoints.withLock { table in
            if let metrics = table[endpoint] { return metrics }
            let metrics = EndpointMetrics(endpoint)
            table[endpoint] = metrics
            return metrics
        }
    }

    func activeRequests(_ method: HTTPRequest.Method) -> Meter {
        methods.withLock { table in
            if let meter = table[method] { return meter }
            let meter = Meter(label: "http.server.active_requests", dimensions: [("http.request.method", method.rawValue)])
            table[method] = meter
            return meter
        }
    }
}
