//! Prometheus metrics: requests by route and status, latency, write group
//! sizes. Route labels are templates (`/api/v1/tickets/{id}`), never raw
//! paths, so random URLs cannot grow the label set.

use std::{sync::LazyLock, time::Duration};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms … ~4 s
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    write_batch: Histogram,
    live_clients: Gauge,
}

/// One connected live (SSE) client, counted while it lives.
#[derive(Debug)]
pub struct LiveClient(Gauge);

impl Drop for LiveClient {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let write_batch = Histogram::new(exponential_buckets(1.0, 2.0, 10));
        let live_clients = Gauge::default();
        registry.register(
            "desk_http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "desk_http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register(
            "desk_store_write_batch_size",
            "Writes committed together in one transaction",
            write_batch.clone(),
        );
        registry.register(
            "desk_live_clients",
            "Connected live (SSE) clients",
            live_clients.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            write_batch,
            live_clients,
        }
    }

    /// Counts an answered request; `route` is its `route_template`.
    pub fn observe_request(
        &self,
        method: &str,
        route: &'static str,
        status: u16,
        elapsed: Duration,
    ) {
        let method = match method {
            "GET" => "GET",
            "POST" => "POST",
            "PATCH" => "PATCH",
            "PUT" => "PUT",
            "DELETE" => "DELETE",
            "OPTIONS" => "OPTIONS",
            "HEAD" => "HEAD",
            _ => "OTHER",
        };
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { route })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a connected live client until the guard is dropped.
    pub fn live_client(&self) -> LiveClient {
        self.live_clients.inc();
        LiveClient(self.live_clients.clone())
    }

    /// A callback for the store's writer.
    pub fn batch_observer(&self) -> Box<dyn Fn(usize) + Send> {
        let histogram = self.write_batch.clone();
        Box::new(move |size| histogram.observe(size as f64))
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// The documented route template `path` matches (the most specific one when
/// several do), or `other`. Runs for every request, so without allocating:
/// the templates are split once, by segment count, and the path once.
pub fn route_template(path: &str) -> &'static str {
    /// Longer than any route: a longer path is `other` anyway.
    const MAX: usize = 8;
    type Template = (Vec<&'static str>, &'static str);
    static BY_LENGTH: LazyLock<Vec<Vec<Template>>> = LazyLock::new(|| {
        let mut by_length = vec![Vec::new(); MAX + 1];
        for op in crate::openapi::OPERATIONS {
            let parts: Vec<_> = op.path.split('/').collect();
            let Some(same) = by_length.get_mut(parts.len()) else {
                continue;
            };
            if !same.iter().any(|(_, path)| *path == op.path) {
                same.push((parts, op.path));
            }
        }
        by_length
    });
    let mut segments = [""; MAX];
    let mut count = 0;
    for segment in path.trim_end_matches('/').split('/') {
        if count == MAX {
            return "other";
        }
        segments[count] = segment;
        count += 1;
    }
    let segments = &segments[..count];
    BY_LENGTH[count]
        .iter()
        .filter_map(|(parts, template)| {
            let mut literals = 0;
            for (part, segment) in parts.iter().zip(segments) {
                if part == segment {
                    literals += 1;
                } else if !part.starts_with('{') || segment.is_empty() {
                    return None;
                }
            }
            Some((literals, *template))
        })
        .max_by_key(|(literals, _)| *literals)
        .map_or("other", |(_, template)| template)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_templates() {
        assert_eq!(route_template("/api/v1/tickets/42"), "/api/v1/tickets/{id}");
        assert_eq!(route_template("/api/v1/tickets/my"), "/api/v1/tickets/my");
        assert_eq!(
            route_template("/api/v1/tickets/embed/abc"),
            "/api/v1/tickets/embed/{token}"
        );
        assert_eq!(
            route_template("/api/v1/tickets/42/history"),
            "/api/v1/tickets/{id}/history"
        );
        assert_eq!(
            route_template("/api/v1/tickets/embed/history"),
            "/api/v1/tickets/embed/{token}"
        );
        assert_eq!(route_template("/wp-admin/x.php"), "other");
    }

    #[test]
    fn rendering_includes_observed_requests() {
        let m = Metrics::new();
        m.observe_request(
            "GET",
            route_template("/api/v1/tickets/7"),
            200,
            Duration::from_millis(3),
        );
        (m.batch_observer())(4);
        let text = m.render();
        assert!(text.contains(r#"desk_http_requests_total{method="GET",route="/api/v1/tickets/{id}",status="200"} 1"#), "{text}");
        assert!(
            text.contains("desk_store_write_batch_size_count 1"),
            "{text}"
        );
    }
}
