//! The request log: one span per HTTP request (`http_request`, with `method`, `path` and, once
//! the session is known, `user`) and one event when the response is sent (`status`, `latency`
//! in milliseconds). Query strings and bodies are never logged: they carry names and identity
//! numbers (`?q=…`, forms, uploads). See `docs/logging.md`.

use axum::http::Request;
use tower_http::LatencyUnit;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, MakeSpan, TraceLayer};
use tracing::{Level, Span};

/// Makes the request span from the method and the path only.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, req: &Request<B>) -> Span {
        tracing::info_span!(
            "http_request",
            method = %req.method(),
            path = %req.uri().path(),
            user = tracing::field::Empty,
        )
    }
}

/// The tracing layer of the router: responses at `INFO`, server errors (5xx) also at `ERROR`.
pub fn layer() -> TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    RequestSpan,
    (),
    DefaultOnResponse,
    (),
    (),
    DefaultOnFailure,
> {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_request(())
        .on_response(
            DefaultOnResponse::new()
                .level(Level::INFO)
                .latency_unit(LatencyUnit::Millis),
        )
        .on_body_chunk(())
        .on_eos(())
        .on_failure(DefaultOnFailure::new().latency_unit(LatencyUnit::Millis))
}

/// Adds the logged-in user's id to the current request's span (called by the `Auth` extractor).
pub fn record_user(id: i64) {
    Span::current().record("user", id);
}
