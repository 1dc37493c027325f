//! Counting requests in flight, so a shutdown can say how many it had to cut when the grace
//! period ran out (and that it cut none when it did not).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

#[derive(Debug, Default)]
pub struct InFlight(AtomicUsize);

impl InFlight {
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Decrements on drop, so a request whose future is dropped (client gone, cut at shutdown)
/// is not counted for ever.
struct Guard(Arc<InFlight>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Middleware: counts the request while it runs.
pub async fn count_in_flight(
    State(in_flight): State<Arc<InFlight>>,
    request: Request,
    next: Next,
) -> Response {
    in_flight.0.fetch_add(1, Ordering::SeqCst);
    let _guard = Guard(in_flight);
    next.run(request).await
}
