//! Prometheus metrics: requests by route and status, latency, write group
//! sizes, live clients, webhook attempts by outcome and failing endpoints.
//! Route labels are templates (`/api/v1/tickets/{id}`), never raw paths,
//! so random URLs cannot grow the label set.

use std::time::Duration;

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

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// What one webhook attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Answered 2xx.
    Delivered,
    /// Failed; the delivery is tried again later.
    Retry,
    /// Failed, and the delivery is given up on (the retry window ran out,
    /// or the target was refused): its endpoint is marked failing.
    GivenUp,
}

impl AttemptOutcome {
    const ALL: [AttemptOutcome; 3] = [
        AttemptOutcome::Delivered,
        AttemptOutcome::Retry,
        AttemptOutcome::GivenUp,
    ];

    fn label(self) -> &'static str {
        match self {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Retry => "retry",
            AttemptOutcome::GivenUp => "given_up",
        }
    }
}

/// The webhook deliveries' share of the metrics, handed to their tasks.
#[derive(Debug, Clone)]
pub struct WebhookMetrics {
    attempts: Family<OutcomeLabels, Counter>,
    failing: Gauge,
}

impl WebhookMetrics {
    /// Counts one attempt.
    pub fn attempt(&self, outcome: AttemptOutcome) {
        self.attempts
            .get_or_create(&OutcomeLabels {
                outcome: outcome.label(),
            })
            .inc();
    }

    /// How many endpoints are marked failing, as the store last said.
    pub fn set_failing(&self, endpoints: usize) {
        self.failing
            .set(i64::try_from(endpoints).unwrap_or(i64::MAX));
    }
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
    webhooks: WebhookMetrics,
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
        let webhooks = WebhookMetrics {
            attempts: Family::default(),
            failing: Gauge::default(),
        };
        // Every outcome shows from the start, at 0, so a rate over it is
        // defined before the first attempt.
        for outcome in AttemptOutcome::ALL {
            drop(webhooks.attempts.get_or_create(&OutcomeLabels {
                outcome: outcome.label(),
            }));
        }
        registry.register(
            "desk_webhook_attempts",
            "Webhook delivery attempts by outcome (delivered, retry, given_up)",
            webhooks.attempts.clone(),
        );
        registry.register(
            "desk_webhook_endpoints_failing",
            "Webhook endpoints marked failing (deliveries stopped until an admin reactivates them)",
            webhooks.failing.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            write_batch,
            live_clients,
            webhooks,
        }
    }

    /// The handles the webhook deliveries count with.
    pub fn webhooks(&self) -> WebhookMetrics {
        self.webhooks.clone()
    }

    /// Counts an answered request; `route` is its route's template.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_includes_observed_requests() {
        let m = Metrics::new();
        m.observe_request("GET", "/api/v1/tickets/{id}", 200, Duration::from_millis(3));
        (m.batch_observer())(4);
        let text = m.render();
        assert!(text.contains(r#"desk_http_requests_total{method="GET",route="/api/v1/tickets/{id}",status="200"} 1"#), "{text}");
        assert!(
            text.contains("desk_store_write_batch_size_count 1"),
            "{text}"
        );
    }

    #[test]
    fn webhook_outcomes_show_at_zero_and_count_each_attempt() {
        let m = Metrics::new();
        let text = m.render();
        for outcome in ["delivered", "retry", "given_up"] {
            let line = format!(r#"desk_webhook_attempts_total{{outcome="{outcome}"}} 0"#);
            assert!(text.contains(&line), "{text}");
        }
        let hooks = m.webhooks();
        hooks.attempt(AttemptOutcome::Retry);
        hooks.attempt(AttemptOutcome::Retry);
        hooks.attempt(AttemptOutcome::Delivered);
        hooks.set_failing(2);
        let text = m.render();
        assert!(
            text.contains(r#"desk_webhook_attempts_total{outcome="retry"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"desk_webhook_attempts_total{outcome="delivered"} 1"#),
            "{text}"
        );
        assert!(text.contains("desk_webhook_endpoints_failing 2"), "{text}");
    }
}
