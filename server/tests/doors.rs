#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Slow and hostile clients over real sockets: a request's head must come in
//! time, idle connections are closed, connections are capped, and a shutdown
//! does not wait forever for a client that never finishes.

use std::time::{Duration, Instant};

use desk_testkit::*;
use reqwest::Method;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

fn addr(s: &TestServer) -> String {
    s.url.trim_start_matches("http://").to_string()
}

/// A connection that has sent `bytes`.
async fn sent(s: &TestServer, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr(s)).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    stream
}

/// A connection that has been answered `GET /health` once.
async fn answered(s: &TestServer) -> TcpStream {
    let mut stream = sent(s, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    stream
}

/// Waits (up to `within`) for the server to close `stream`: `true` if it did.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // An answer (e.g. 408) before the close is fine.
            Ok(Ok(_)) => continue,
        }
    }
}

/// A normal request, timed.
async fn health_in(s: &TestServer) -> Duration {
    let started = Instant::now();
    let r = s.call(Method::GET, "/health", None, None).await;
    assert_eq!(r.status, reqwest::StatusCode::OK, "{}", r.text);
    started.elapsed()
}

#[tokio::test]
async fn slow_and_idle_clients_are_cut_off_while_others_are_served() {
    let s = TestServer::start_with(|c| {
        c.server.header_timeout_s = 1;
        c.server.max_connections_per_address = 10_000;
    })
    .await;
    // 500 clients that send half a request head and stop, 500 that connect
    // and say nothing.
    let mut slow = Vec::new();
    for _ in 0..500 {
        slow.push(sent(&s, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ").await);
    }
    for _ in 0..500 {
        slow.push(TcpStream::connect(addr(&s)).await.unwrap());
    }
    for _ in 0..5 {
        let took = health_in(&s).await;
        assert!(
            took < Duration::from_secs(1),
            "a normal request took {took:?}"
        );
    }
    // Every one of them is closed soon after the header timeout.
    for (i, stream) in slow.iter_mut().enumerate() {
        assert!(
            closed_within(stream, Duration::from_secs(10)).await,
            "connection {i} is still open"
        );
    }
}

#[tokio::test]
async fn a_kept_alive_connection_left_idle_is_closed() {
    let s = TestServer::start_with(|c| c.server.header_timeout_s = 1).await;
    let mut stream = answered(&s).await;
    assert!(closed_within(&mut stream, Duration::from_secs(10)).await);
}

#[tokio::test]
async fn connections_past_the_cap_are_closed_at_once_and_places_come_back() {
    let s = TestServer::start_with(|c| {
        c.server.max_connections_per_address = 5;
        c.server.header_timeout_s = 60;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..5 {
        // Answered, so the server has surely accepted them all.
        held.push(answered(&s).await);
    }
    let mut refused = TcpStream::connect(addr(&s)).await.unwrap();
    assert!(
        closed_within(&mut refused, Duration::from_secs(2)).await,
        "a sixth connection from the same address was kept"
    );
    drop(held);
    // Their places come back once the server sees them closed.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ok = s
            .http
            .get(format!("{}/health", s.url))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ok {
            break;
        }
        assert!(Instant::now() < deadline, "the places never came back");
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_shutdown_does_not_wait_forever_for_a_half_sent_request() {
    let s = TestServer::start_with(|c| {
        c.server.header_timeout_s = 3600;
        c.server.shutdown_grace_s = 1;
    })
    .await;
    let mut stream = sent(
        &s,
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{",
    )
    .await;
    // The server has the request when it answers another one.
    health_in(&s).await;
    let stopped = tokio::time::timeout(Duration::from_secs(20), s.stop()).await;
    assert!(
        stopped.is_ok(),
        "the shutdown waited on the half-sent request"
    );
    assert!(closed_within(&mut stream, Duration::from_secs(5)).await);
}

/// Sends `request` whole (the server may stop reading and close early) and
/// reads the answer to the end: its status and JSON body.
async fn raw_answer(s: &TestServer, request: Vec<u8>) -> (u16, serde_json::Value) {
    let stream = TcpStream::connect(addr(s)).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let writing = tokio::spawn(async move {
        // Past a limit the server answers before it has read everything.
        let _ = writer.write_all(&request).await;
        writer
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut answer)).await;
    drop(writing.await);
    let text = String::from_utf8_lossy(&answer).to_string();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no answer head: {text:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status: {head}"));
    let body = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("status {status}: body {body:?} is not JSON: {e}"));
    (status, body)
}

fn assert_contract_body(body: &serde_json::Value, code: &str) {
    assert_eq!(body["error"], code, "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert!(body["details"].is_object(), "{body}");
}

/// Requests hyper refuses before any route runs — a URI over 64 KiB, a head
/// with a 1 MB header or 200 header lines, a header name that is not text —
/// are answered with the contract's error body like every other error.
#[tokio::test]
async fn requests_refused_before_routing_get_the_contracts_body() {
    let s = TestServer::start().await;
    let long_uri = format!(
        "GET /api/v1/tickets?q={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(70_000)
    );
    let (status, body) = raw_answer(&s, long_uri.into_bytes()).await;
    assert_eq!(status, 414, "{body}");
    assert_contract_body(&body, "E_BAD_REQUEST");

    let huge_header = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "b".repeat(1_000_000)
    );
    let (status, body) = raw_answer(&s, huge_header.into_bytes()).await;
    assert_eq!(status, 431, "{body}");
    assert_contract_body(&body, "E_BAD_REQUEST");

    let many: String = (0..200).map(|n| format!("X-H{n}: {n}\r\n")).collect();
    let many_headers = format!("GET /health HTTP/1.1\r\nHost: x\r\n{many}\r\n");
    let (status, body) = raw_answer(&s, many_headers.into_bytes()).await;
    assert_eq!(status, 431, "{body}");
    assert_contract_body(&body, "E_BAD_REQUEST");

    let bad_name = b"GET /health HTTP/1.1\r\nHost: x\r\nX-\xff\xfe: 1\r\n\r\n".to_vec();
    let (status, body) = raw_answer(&s, bad_name).await;
    assert_eq!(status, 400, "{body}");
    assert_contract_body(&body, "E_BAD_REQUEST");

    // A value that is not UTF-8 reaches the router, which says which header.
    let bad_value =
        b"GET /api/v1/auth/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer \xff\xfe\r\n\r\n"
            .to_vec();
    let (status, body) = raw_answer(&s, bad_value).await;
    assert_eq!(status, 400, "{body}");
    assert_contract_body(&body, "E_BAD_REQUEST");

    // The server is unharmed.
    health_in(&s).await;
}
