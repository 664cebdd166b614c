//! The baseline of `tests/bench/webhook-intake-wrk.sh`: a bare axum handler that answers
//! `POST /webhook` with 202 and does nothing else, as its own process (same tokio runtime
//! shape as `lockwatch serve`: one worker thread per core).
//!
//! `cargo run --release -p lockwatch-tests --example bare_webhook -- 127.0.0.1:0` prints
//! the address it listens on, then serves until killed.

#![allow(clippy::print_stdout, clippy::expect_used)]

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use std::io::Write;

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_string());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .expect("bind the listen address");
    println!("{}", listener.local_addr().expect("a bound address"));
    std::io::stdout().flush().expect("stdout");
    let app = Router::new().route("/webhook", post(|| async { StatusCode::ACCEPTED }));
    axum::serve(listener, app).await.expect("serve");
}
