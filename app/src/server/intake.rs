//! Intake limits: what one client, or many, can hold of the server before a signature is
//! checked. See `docs/deploy.md` ("Intake limits") for the numbers and why.
//!
//! - A connection's request headers must arrive within `header_timeout`, an idle
//!   keep-alive connection is closed after the same time, and request headers are at most
//!   64 KiB.
//! - `POST /webhook` needs a well-formed `X-Hub-Signature-256` and a `Content-Length` of
//!   at most `max_body_bytes` before a byte of the body is read; the body must then arrive
//!   within `body_timeout`, and all bodies being read at once hold at most
//!   `max_inflight_bytes` (503 beyond).
//! - At most `max_connections` connections are served; up to `overflow_connections` more
//!   are answered on the probes (`/healthz`, `/readyz`) only (everything else 503, no
//!   keep-alive, a header timeout of 2 s at most), the oldest of them closed when a newer
//!   one needs its place, so a probe still gets through while the server is full and
//!   connections never pile up to the descriptor limit.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot, watch};
use tower::ServiceExt as _;

/// The largest webhook body accepted by default: 2 MiB.
///
/// GitHub caps deliveries at 25 MB, but the events lockwatch handles are far smaller: a
/// `pull_request` payload is 20 to 60 KB; its largest free-text fields are the title (256
/// characters) and the body (65,536 characters, at most 393,216 bytes even if every
/// character were JSON-escaped as `\uXXXX`); a `check_run` carries its output's summary and
/// text (65,535 characters each); `merge_group`, `check_suite`, `ping` and `installation`
/// payloads are a few KB (an `installation` lists at most the selected repositories, about
/// 150 bytes each). 2 MiB leaves room for all of that and keeps 16 bodies in flight inside
/// the 32 MiB in-flight budget.
pub const DEFAULT_MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Bytes of request headers (request line included) read for one request.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// The bounds of the HTTP intake.
#[derive(Debug, Clone)]
pub struct IntakeLimits {
    /// Largest `Content-Length` of a webhook body.
    pub max_body_bytes: usize,
    /// Bytes of all webhook bodies being read at once.
    pub max_inflight_bytes: usize,
    /// Time to receive a request's headers (and the longest idle keep-alive).
    pub header_timeout: Duration,
    /// Time to receive a webhook body once its headers are in.
    pub body_timeout: Duration,
    /// How long a webhook waits for room in the in-flight budget before a 503.
    pub inflight_wait: Duration,
    /// Connections served in full.
    pub max_connections: usize,
    /// Connections beyond `max_connections` that are answered on `/healthz` only.
    pub overflow_connections: usize,
}

impl Default for IntakeLimits {
    fn default() -> Self {
        IntakeLimits {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_inflight_bytes: 32 * 1024 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            inflight_wait: Duration::from_secs(2),
            max_connections: 256,
            overflow_connections: 32,
        }
    }
}

/// The in-flight byte budget, shared by every webhook request.
#[derive(Debug)]
pub struct Intake {
    pub limits: IntakeLimits,
    inflight: Arc<Semaphore>,
}

impl Intake {
    pub fn new(limits: IntakeLimits) -> Self {
        let permits = limits.max_inflight_bytes.clamp(1, Semaphore::MAX_PERMITS);
        Intake {
            inflight: Arc::new(Semaphore::new(permits)),
            limits,
        }
    }

    /// Reserve `bytes` of the in-flight budget, waiting at most `inflight_wait`.
    pub async fn reserve(&self, bytes: usize) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let n = u32::try_from(bytes.max(1)).ok()?;
        tokio::time::timeout(
            self.limits.inflight_wait,
            self.inflight.clone().acquire_many_owned(n),
        )
        .await
        .ok()?
        .ok()
    }
}

impl Default for Intake {
    fn default() -> Self {
        Intake::new(IntakeLimits::default())
    }
}

const REFUSED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 17\r\nretry-after: 5\r\nconnection: close\r\n\r\ntoo many clients\n";

/// The connections beyond `max_connections`: answered on the probes only, and the oldest
/// is closed when a new one needs its place, so a client that opens connections faster
/// than they time out cannot keep a probe out.
struct Overflow {
    cap: usize,
    live: Mutex<VecDeque<(u64, oneshot::Sender<()>)>>,
    next: AtomicU64,
}

impl Overflow {
    /// Room for one more (closing the oldest if needed): its id and its kill switch.
    fn admit(&self) -> Option<(u64, oneshot::Receiver<()>)> {
        if self.cap == 0 {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        while live.len() >= self.cap {
            // Dropping the sender ends that connection's task.
            live.pop_front();
        }
        live.push_back((id, tx));
        Some((id, rx))
    }

    fn leave(&self, id: u64) {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.retain(|(i, _)| *i != id);
    }

    fn close_all(&self) {
        self.live.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// Paths an overflow connection is answered on: the orchestrator's probes.
fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz")
}

fn busy() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [("retry-after", "5")],
        "too many clients\n",
    )
        .into_response()
}

/// Serve `app` on `listener` within `limits` until `stop` resolves; then stop accepting,
/// let the requests in flight finish (new ones on kept-alive connections are refused) and
/// return once every connection is closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &IntakeLimits,
    stop: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let full = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let overflow = Arc::new(Overflow {
        cap: limits.overflow_connections,
        live: Mutex::new(VecDeque::new()),
        next: AtomicU64::new(0),
    });
    let (close_tx, close_rx) = watch::channel(false);
    let mut stop = pin!(stop);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut stop => break,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                // EMFILE and friends: wait a little instead of spinning on the error.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (permit, overflowed) = match full.clone().try_acquire_owned() {
            Ok(p) => (Some(p), None),
            Err(_) => match overflow.admit() {
                Some(o) => (None, Some(o)),
                None => {
                    // Best effort, never waits: the client learns why, the descriptor is freed now.
                    let _ = stream.try_write(REFUSED);
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let is_overflow = overflowed.is_some();
        let header_timeout = if is_overflow {
            limits.header_timeout.min(Duration::from_secs(2))
        } else {
            limits.header_timeout
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let app = app.clone();
            async move {
                let req = req.map(Body::new);
                if is_overflow && !is_probe(req.uri().path()) {
                    return Ok::<_, Infallible>(busy());
                }
                app.oneshot(req).await
            }
        });
        let mut close_rx = close_rx.clone();
        let overflow = overflow.clone();
        tokio::spawn(async move {
            let _permit = permit;
            // A served connection's kill switch is never pulled: its sender lives here.
            let (_never, unused) = oneshot::channel::<()>();
            let (id, mut kill) = match overflowed {
                Some((id, rx)) => (Some(id), rx),
                None => (None, unused),
            };
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_buf_size(MAX_HEADER_BYTES.max(8192))
                .keep_alive(!is_overflow);
            let mut conn = pin!(builder.serve_connection(TokioIo::new(stream), service));
            let mut closing = false;
            loop {
                tokio::select! {
                    r = conn.as_mut() => {
                        if let Err(e) = r {
                            tracing::trace!(error = %e, "connection ended");
                        }
                        break;
                    }
                    _ = &mut kill => {
                        tracing::trace!("overflow connection closed for a newer one");
                        break;
                    }
                    _ = close_rx.changed(), if !closing => {
                        closing = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
            if let Some(id) = id {
                overflow.leave(id);
            }
        });
    }
    drop(listener);
    let _ = close_tx.send(true);
    overflow.close_all();
    // Every served connection holds one permit: all permits back means all closed.
    let all = u32::try_from(limits.max_connections.max(1)).unwrap_or(u32::MAX);
    let _ = full.acquire_many(all).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_in_flight_budget_is_shared_and_given_back() {
        let intake = Intake::new(IntakeLimits {
            max_inflight_bytes: 100,
            inflight_wait: Duration::from_millis(20),
            ..IntakeLimits::default()
        });
        let first = intake.reserve(80).await;
        assert!(first.is_some());
        // 80 + 30 > 100: refused after the wait, not queued for ever.
        assert!(intake.reserve(30).await.is_none());
        assert!(intake.reserve(20).await.is_some());
        drop(first);
        assert!(intake.reserve(100).await.is_some());
        // More than the whole budget can never be had.
        assert!(intake.reserve(101).await.is_none());
    }

    #[test]
    fn the_default_body_limit_is_documented_and_fits_the_budget() {
        let l = IntakeLimits::default();
        assert_eq!(l.max_body_bytes, 2 * 1024 * 1024);
        assert!(l.max_inflight_bytes >= 16 * l.max_body_bytes);
        assert!(l.header_timeout <= Duration::from_secs(10));
        assert!(l.body_timeout <= Duration::from_secs(10));
    }
}
