import Hummingbird
import Prometheus

/// Counts and times requests per route pattern (never per raw path, which would explode the label space).
struct RequestMetrics<Context: RequestContext>: RouterMiddleware {
    let registry: PrometheusCollectorRegistry

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var status = 500
        defer {
            let labels = [("route", context.endpointPath ?? "unmatched"), ("method", request.method.rawValue), ("status", String(status))]
            registry.makeCounter(descriptor: .init(metricName: "gridwork_http_requests", unitName: "total", helpText: "HTTP requests served"),
                                 labels: labels).increment()
            registry.makeDurationHistogram(
                descriptor: .init(metricName: "gridwork_http_request_duration", unitName: "seconds", helpText: "Time to answer an HTTP request"),
                labels: [("route", context.endpointPath ?? "unmatched")],
                buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(20), .milliseconds(100), .milliseconds(500), .seconds(2)]
            ).record(ContinuousClock.now - start)
        }
        do {
            let response = try await next(request, context)
            status = Int(response.status.code)
            return response
        } catch let error as any HTTPResponseError {
            status = Int(error.status.code)
            throw error
        }
    }
}
