//! Failing on command. A test queues [`Failure`]s per endpoint ([`Script::fail_next`]); each
//! later request to that endpoint takes the next one, in order, and [`answer`] applies it around
//! the endpoint's work. The endpoint type is each fake's own closed enum, so a script can only
//! name endpoints that fake has.
//!
//! A failure that is an answer of its own becomes a [`Refusal`], which the fake renders in its
//! platform's error envelope: envelopes differ per platform (and per endpoint: OAuth endpoints
//! answer in OAuth's shape), the failures do not.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::Response;

/// What one request to an endpoint meets instead of, or on top of, the normal answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// This status (503 when the number is not a 5xx).
    ServerError(u16),
    /// 429, the reset this many seconds ahead.
    RateLimited { reset_in_secs: i64 },
    /// Wait this long, then answer normally.
    Slow(Duration),
    /// Do the work, then send its 2xx with a body that breaks off, so the client learns the
    /// status but not what was created: the "accepted but the answer was lost" case that
    /// reconciliation exists for. On a token endpoint the work is done too (a refresh whose
    /// answer is lost has still spent a rotating refresh token).
    CreatedThenDropped,
    /// Do the work, then wait this long before answering (a client timeout leaves the outcome
    /// unknown).
    CreatedThenSlow(Duration),
    /// The platform's answer to an expired access token (on a token endpoint: an expired grant).
    ExpiredToken,
    /// The platform's answer to a revoked access token (on a token endpoint: a revoked grant).
    RevokedToken,
    /// The platform's validation error, with this message.
    Validation(String),
    /// The platform's duplicate-content error.
    Duplicate,
}

/// A scripted failure that replaces the answer; the fake renders it in its platform's envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Always a 5xx.
    ServerError(StatusCode),
    RateLimited {
        reset_in_secs: i64,
    },
    ExpiredToken,
    RevokedToken,
    Validation(String),
    Duplicate,
}

/// Per-endpoint failure queues and request counters, plus the latency every answer gets.
#[derive(Debug)]
pub struct Script<E> {
    failures: HashMap<E, VecDeque<Failure>>,
    requests: HashMap<E, usize>,
    latency: Duration,
}

impl<E> Default for Script<E> {
    fn default() -> Self {
        Self {
            failures: HashMap::new(),
            requests: HashMap::new(),
            latency: Duration::ZERO,
        }
    }
}

/// What one request was dealt by [`Script::begin`]; [`answer`] plays it.
#[derive(Debug)]
#[must_use = "a turn does nothing until `answer` plays it"]
pub struct Turn {
    failure: Option<Failure>,
    latency: Duration,
}

impl<E: Copy + Eq + Hash> Script<E> {
    /// Queues `failures` behind any already queued for `endpoint`.
    pub fn fail_next(&mut self, endpoint: E, failures: Vec<Failure>) {
        self.failures.entry(endpoint).or_default().extend(failures);
    }

    /// Failures still queued for `endpoint`.
    pub fn armed(&self, endpoint: E) -> usize {
        self.failures.get(&endpoint).map_or(0, VecDeque::len)
    }

    /// How long every answer takes (default none): a stand-in for the network and the
    /// platform's own work, for benchmarks.
    pub fn set_latency(&mut self, latency: Duration) {
        self.latency = latency;
    }

    /// Counts one request to `endpoint` and deals it the next queued failure, if any.
    pub fn begin(&mut self, endpoint: E) -> Turn {
        *self.requests.entry(endpoint).or_default() += 1;
        Turn {
            failure: self
                .failures
                .get_mut(&endpoint)
                .and_then(VecDeque::pop_front),
            latency: self.latency,
        }
    }

    /// Requests that reached `endpoint`, whatever they were answered.
    pub fn request_count(&self, endpoint: E) -> usize {
        self.requests.get(&endpoint).copied().unwrap_or(0)
    }
}

/// Plays `turn` around `work`: the latency first, then the failure, which either replaces the
/// answer (rendered by `render`), delays the work, or spoils the answer the work produced.
/// `work` runs at most once, and not at all when the answer is a refusal.
pub async fn answer(
    turn: Turn,
    render: impl FnOnce(Refusal) -> Response,
    work: impl Future<Output = Response>,
) -> Response {
    if !turn.latency.is_zero() {
        tokio::time::sleep(turn.latency).await;
    }
    let Some(failure) = turn.failure else {
        return work.await;
    };
    tracing::debug!(?failure, "sandbox: scripted failure");
    let refusal = match failure {
        Failure::Slow(delay) => {
            tokio::time::sleep(delay).await;
            return work.await;
        }
        Failure::CreatedThenDropped => return lose_body(work.await),
        Failure::CreatedThenSlow(delay) => {
            let response = work.await;
            tokio::time::sleep(delay).await;
            return response;
        }
        Failure::ServerError(status) => Refusal::ServerError(
            StatusCode::from_u16(status)
                .ok()
                .filter(StatusCode::is_server_error)
                .unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
        ),
        Failure::RateLimited { reset_in_secs } => Refusal::RateLimited { reset_in_secs },
        Failure::ExpiredToken => Refusal::ExpiredToken,
        Failure::RevokedToken => Refusal::RevokedToken,
        Failure::Validation(message) => Refusal::Validation(message),
        Failure::Duplicate => Refusal::Duplicate,
    };
    render(refusal)
}

/// Keeps the status and headers but swaps the body for one that fails at once: the client
/// learns "201" and then loses the connection before it can read what was created.
pub fn lose_body(response: Response) -> Response {
    let (parts, _) = response.into_parts();
    let broken = futures_util::stream::iter([Err::<Bytes, std::io::Error>(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "sandbox: the answer was dropped on purpose",
    ))]);
    Response::from_parts(parts, Body::from_stream(broken))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::body::to_bytes;
    use axum::response::IntoResponse as _;

    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    enum Endpoint {
        Create,
        Read,
    }

    fn render(refusal: Refusal) -> Response {
        let status = match refusal {
            Refusal::ServerError(status) => status,
            Refusal::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Refusal::ExpiredToken | Refusal::RevokedToken => StatusCode::UNAUTHORIZED,
            Refusal::Validation(_) => StatusCode::BAD_REQUEST,
            Refusal::Duplicate => StatusCode::CONFLICT,
        };
        status.into_response()
    }

    async fn play(
        script: &mut Script<Endpoint>,
        endpoint: Endpoint,
        runs: &AtomicUsize,
    ) -> Response {
        let turn = script.begin(endpoint);
        answer(turn, render, async {
            runs.fetch_add(1, Ordering::SeqCst);
            StatusCode::CREATED.into_response()
        })
        .await
    }

    #[tokio::test]
    async fn failures_are_taken_in_order_per_endpoint() {
        let mut script = Script::default();
        let runs = AtomicUsize::new(0);
        script.fail_next(
            Endpoint::Create,
            vec![Failure::ServerError(200), Failure::Duplicate],
        );
        assert_eq!(script.armed(Endpoint::Create), 2);
        let statuses = [
            play(&mut script, Endpoint::Read, &runs).await.status(),
            play(&mut script, Endpoint::Create, &runs).await.status(),
            play(&mut script, Endpoint::Create, &runs).await.status(),
            play(&mut script, Endpoint::Create, &runs).await.status(),
        ];
        assert_eq!(
            statuses,
            [
                StatusCode::CREATED,
                StatusCode::SERVICE_UNAVAILABLE,
                StatusCode::CONFLICT,
                StatusCode::CREATED
            ]
        );
        assert_eq!(runs.load(Ordering::SeqCst), 2, "refusals skip the work");
        assert_eq!(script.request_count(Endpoint::Create), 3);
        assert_eq!(script.request_count(Endpoint::Read), 1);
    }

    #[tokio::test]
    async fn a_dropped_answer_does_the_work_and_breaks_the_body() {
        let mut script = Script::default();
        let runs = AtomicUsize::new(0);
        script.fail_next(Endpoint::Create, vec![Failure::CreatedThenDropped]);
        let response = play(&mut script, Endpoint::Create, &runs).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(to_bytes(response.into_body(), usize::MAX).await.is_err());
    }
}
