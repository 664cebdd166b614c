//! The webhook intake under hostile clients (issue 14): raw TCP connections on loopback
//! against a real `lockwatch serve`, one bound per test. None of these tests sends a body
//! it announces: each shows that the server answers (or closes) without waiting for it.

use lockwatch::server::RunningServer;
use lockwatch_tests::fake_github::FakeGitHub;
use lockwatch_tests::fake_github::webhooks::{self, Sign, delivery_id};
use lockwatch_tests::harness::{SECRET, serve_args};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Bound on every wait of these tests: long enough never to be hit by a correct server.
const WAIT: Duration = Duration::from_secs(30);

async fn start(extra: &[&str]) -> (FakeGitHub, RunningServer, tempfile::TempDir) {
    let fake = FakeGitHub::start().await;
    let data = tempfile::tempdir().expect("test step");
    let args = serve_args(&fake.url, data.path(), SECRET, extra);
    let server = lockwatch::server::start(args).await.expect("server starts");
    (fake, server, data)
}

/// Open a connection and write `head` (and nothing else).
fn connect(addr: SocketAddr, head: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(WAIT)).expect("test step");
    s.write_all(head.as_bytes()).expect("write");
    s
}

/// Everything the server sends until it closes the connection (bounded by WAIT); `None`
/// when it kept the connection open that long.
fn until_closed(mut s: TcpStream) -> Option<String> {
    let deadline = Instant::now() + WAIT;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            // A reset after the answer is a close too.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(String::from_utf8_lossy(&got).into_owned());
            }
            Err(_) => return None,
        }
    }
    None
}

/// The head of a `POST /webhook`.
fn webhook_head(length: &str, signature: Option<&str>) -> String {
    let mut h = format!(
        "POST /webhook HTTP/1.1\r\nHost: lockwatch\r\nContent-Type: application/json\r\nX-GitHub-Event: pull_request\r\nX-GitHub-Delivery: {}\r\nContent-Length: {length}\r\n",
        delivery_id()
    );
    if let Some(sig) = signature {
        h.push_str(&format!("X-Hub-Signature-256: {sig}\r\n"));
    }
    h.push_str("\r\n");
    h
}

fn status_of(response: &str) -> &str {
    response.get(9..12).unwrap_or("")
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("test step")
}

async fn metrics(addr: SocketAddr) -> String {
    reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("test step")
        .text()
        .await
        .expect("test step")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_or_oversized_bodies_are_refused_before_a_byte_is_read() {
    let (_fake, server, _data) = start(&[]).await;
    let addr = server.addr();
    // 24 MB announced, no signature, no byte of body sent: 401 and closed.
    let unsigned = blocking(move || until_closed(connect(addr, &webhook_head("24000000", None))))
        .await
        .expect("the server closed the connection");
    assert_eq!(status_of(&unsigned), "401", "{unsigned}");
    // A well-formed (but unverifiable) signature and a Content-Length of 10^12: 413, closed.
    let sig = webhooks::signature(SECRET, b"whatever");
    let s = sig.clone();
    let huge = blocking(move || {
        until_closed(connect(
            addr,
            &webhook_head("1000000000000", Some(s.as_str())),
        ))
    })
    .await
    .expect("the server closed the connection");
    assert_eq!(status_of(&huge), "413", "{huge}");
    // Just over the documented 2 MiB limit, far under GitHub's 25 MB: 413.
    let s = sig.clone();
    let over = blocking(move || {
        until_closed(connect(
            addr,
            &webhook_head(&(2 * 1024 * 1024 + 1).to_string(), Some(s.as_str())),
        ))
    })
    .await
    .expect("the server closed the connection");
    assert_eq!(status_of(&over), "413", "{over}");
    // A Content-Length that is not a number: refused (by the HTTP parser or the intake).
    let s = sig.clone();
    let bad = blocking(move || until_closed(connect(addr, &webhook_head("-1", Some(s.as_str())))))
        .await
        .expect("the server closed the connection");
    assert!(matches!(status_of(&bad), "400" | "411"), "{bad}");
    // Chunked, so no length to check up front: 411.
    let s = sig.clone();
    let chunked = blocking(move || {
        let head = format!(
            "POST /webhook HTTP/1.1\r\nHost: lockwatch\r\nX-GitHub-Event: ping\r\nX-GitHub-Delivery: {}\r\nX-Hub-Signature-256: {s}\r\nTransfer-Encoding: chunked\r\n\r\n",
            delivery_id()
        );
        until_closed(connect(addr, &head))
    })
    .await
    .expect("the server closed the connection");
    assert_eq!(status_of(&chunked), "411", "{chunked}");
    let m = metrics(addr).await;
    assert!(
        m.contains("lockwatch_webhook_signature_failures_total 1\n"),
        "{m}"
    );
    // The server is fine: a real delivery is accepted.
    let ping =
        serde_json::to_vec(&webhooks::fixture("ping/with-app_id.payload.json")).expect("test step");
    let url = format!("http://{addr}");
    let (status, _) = webhooks::send(&url, "ping", &delivery_id(), &ping, Sign::With(SECRET)).await;
    assert_eq!(status, 200);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_bodies_and_slow_headers_are_closed_after_the_timeout() {
    let (_fake, server, _data) = start(&["--intake-timeout-ms", "400"]).await;
    let addr = server.addr();
    let sig = webhooks::signature(SECRET, b"x".repeat(100).as_slice());
    // A signed delivery whose body stops after 10 of its 100 bytes: 408, then closed.
    let (slow_body, waited) = blocking(move || {
        let mut s = connect(addr, &webhook_head("100", Some(sig.as_str())));
        s.write_all(b"xxxxxxxxxx").expect("write");
        let t = Instant::now();
        (until_closed(s), t.elapsed())
    })
    .await;
    let slow_body = slow_body.expect("the server closed the connection");
    assert_eq!(status_of(&slow_body), "408", "{slow_body}");
    assert!(
        waited >= Duration::from_millis(300),
        "closed after {waited:?}: not the body timeout"
    );
    // Headers that never end.
    let slow_head = blocking(move || {
        until_closed(connect(
            addr,
            "POST /webhook HTTP/1.1\r\nHost: lockwatch\r\nX-GitHub-Event: ping\r\n",
        ))
    })
    .await;
    assert!(
        slow_head.is_some(),
        "a connection with half its headers was kept open"
    );
    // A connection that says nothing, and one kept alive idle after an answer.
    let silent = blocking(move || until_closed(connect(addr, ""))).await;
    assert_eq!(
        silent.as_deref(),
        Some(""),
        "an idle connection was kept open"
    );
    let idle = blocking(move || {
        until_closed(connect(
            addr,
            "GET /healthz HTTP/1.1\r\nHost: lockwatch\r\n\r\n",
        ))
    })
    .await
    .expect("an idle keep-alive connection was kept open");
    assert!(idle.starts_with("HTTP/1.1 200"), "{idle}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_while_every_connection_slot_is_taken() {
    // Four full slots; the held connections never time out during the test.
    let (_fake, server, _data) =
        start(&["--max-connections", "4", "--intake-timeout-ms", "60000"]).await;
    let addr = server.addr();
    let get = |path: &'static str| {
        blocking(move || {
            until_closed(connect(
                addr,
                &format!("GET {path} HTTP/1.1\r\nHost: lockwatch\r\nConnection: close\r\n\r\n"),
            ))
            .expect("answered and closed")
        })
    };
    // 4 slots and the 32 overflow places taken, and 64 more connections on top.
    let held = blocking(move || {
        (0..100)
            .map(|_| {
                let s = TcpStream::connect(addr).expect("connect");
                std::thread::sleep(Duration::from_millis(2));
                s
            })
            .collect::<Vec<_>>()
    })
    .await;
    let health = get("/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let ready = get("/readyz").await;
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    // Anything else waits for a slot: 503 now, not a hang.
    let busy = get("/metrics").await;
    assert!(busy.starts_with("HTTP/1.1 503"), "{busy}");
    drop(held);
    // Once the clients leave, the slots are free again (bounded wait for the server to see
    // the closes).
    let deadline = Instant::now() + WAIT;
    loop {
        let m = get("/metrics").await;
        if m.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "slots never freed: {m}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.shutdown().await;
}
