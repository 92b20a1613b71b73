//! `HttpRemote` against a scripted HTTP/1.1 server on a loopback socket.

use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::StreamExt;
use serde_json::json;
use time::OffsetDateTime;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};
use uuid::Uuid;

use super::*;
use crate::{
    model::{Role, User},
    wire::sync::{BootstrapLine, Poke},
};

#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    bearer: Option<String>,
    body: String,
}

struct Reply {
    status: u16,
    content_type: &'static str,
    /// Written one by one, flushed in between.
    chunks: Vec<Vec<u8>>,
}

fn reply(status: u16, body: serde_json::Value) -> Reply {
    Reply {
        status,
        content_type: "application/json",
        chunks: vec![body.to_string().into_bytes()],
    }
}

fn error(status: u16, code: &str, details: serde_json::Value) -> Reply {
    reply(
        status,
        json!({"error": code, "message": format!("{code} happened"), "details": details}),
    )
}

type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

/// Serves `handler` on 127.0.0.1; one request per connection.
async fn serve(handler: Handler) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let handler = Arc::clone(&handler);
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut read = BufReader::new(read);
                let mut line = String::new();
                read.read_line(&mut line).await.unwrap();
                let mut parts = line.split_whitespace();
                let method = parts.next().unwrap_or_default().to_string();
                let path = parts.next().unwrap_or_default().to_string();
                let (mut length, mut bearer) = (0usize, None);
                loop {
                    let mut header = String::new();
                    read.read_line(&mut header).await.unwrap();
                    let header = header.trim_end();
                    if header.is_empty() {
                        break;
                    }
                    let (name, value) = header.split_once(':').unwrap();
                    match name.to_ascii_lowercase().as_str() {
                        "content-length" => length = value.trim().parse().unwrap(),
                        "authorization" => {
                            bearer = value.trim().strip_prefix("Bearer ").map(str::to_string)
                        }
                        _ => {}
                    }
                }
                let mut body = vec![0; length];
                read.read_exact(&mut body).await.unwrap();
                let request = Request {
                    method,
                    path,
                    bearer,
                    body: String::from_utf8(body).unwrap(),
                };
                let reply = handler(&request);
                let head = format!(
                    "HTTP/1.1 {} X\r\ncontent-type: {}\r\nconnection: close\r\n\r\n",
                    reply.status, reply.content_type
                );
                write.write_all(head.as_bytes()).await.unwrap();
                for chunk in reply.chunks {
                    write.write_all(&chunk).await.unwrap();
                    write.flush().await.unwrap();
                    tokio::task::yield_now().await;
                }
                let _ = write.shutdown().await;
            });
        }
    });
    format!("http://{addr}/")
}

fn session(access: &str, refresh: &str) -> serde_json::Value {
    let user = User {
        id: Uuid::from_u128(7),
        email: "bob@example.com".into(),
        name: "Bob".into(),
        role: Role::Agent,
        active: true,
        created_at: OffsetDateTime::UNIX_EPOCH,
    };
    json!({"access_token": access, "refresh_token": refresh, "token_type": "bearer",
           "expires_in": 900, "user": user})
}

fn pull_body() -> serde_json::Value {
    json!({"epoch": "e", "next": 9, "has_more": false, "last_client_seq": 2,
           "tickets": [], "removed": []})
}

fn query() -> PullQuery {
    PullQuery {
        since: 3,
        mark: None,
        epoch: "e".into(),
        limit: None,
        client_id: Some(Uuid::from_u128(5)),
    }
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_for_concurrent_calls() {
    let refreshes = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&refreshes);
    let base = serve(Arc::new(move |r: &Request| {
        match (r.method.as_str(), r.path.as_str()) {
            ("POST", "/api/v1/auth/login") => {
                assert!(r.body.contains("bob@example.com"));
                reply(200, session("a1", "r1"))
            }
            ("POST", "/api/v1/auth/refresh") => {
                // Rotation: r1 is good exactly once.
                if r.body.contains("\"r1\"") && counter.fetch_add(1, Ordering::SeqCst) == 0 {
                    reply(200, session("a2", "r2"))
                } else {
                    error(401, "E_UNAUTHORIZED", json!({}))
                }
            }
            ("GET", path) if path.starts_with("/api/v1/sync/pull?") => {
                assert!(
                    path.contains("since=3") && path.contains("epoch=e"),
                    "{path}"
                );
                match r.bearer.as_deref() {
                    Some("a2") => reply(200, pull_body()),
                    _ => error(401, "E_UNAUTHORIZED", json!({})),
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }))
    .await;

    let (remote, session) = HttpRemote::login(&base, "bob@example.com", "pw")
        .await
        .unwrap();
    assert_eq!(session.user.name, "Bob");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let remote = Arc::new(remote.on_tokens(Arc::new(move |t: &Tokens| {
        sink.lock().unwrap().push(t.clone())
    })));
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let remote = Arc::clone(&remote);
            tokio::spawn(async move { remote.pull(&query()).await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().next, 9);
    }
    assert_eq!(refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![Tokens {
            access: "a2".into(),
            refresh: "r2".into()
        }]
    );
    assert_eq!(
        format!("{:?}", remote.tokens()),
        "Tokens { access: <redacted>, refresh: <redacted> }"
    );
}

#[tokio::test]
async fn a_spent_session_is_unauthorized() {
    let base = serve(Arc::new(|r: &Request| match r.path.as_str() {
        "/api/v1/auth/refresh" => error(401, "E_UNAUTHORIZED", json!({})),
        _ => error(401, "E_UNAUTHORIZED", json!({})),
    }))
    .await;
    let remote = HttpRemote::new(
        &base,
        Tokens {
            access: "old".into(),
            refresh: "spent".into(),
        },
    )
    .unwrap();
    assert!(matches!(
        remote.pull(&query()).await,
        Err(RemoteError::Unauthorized)
    ));
}

#[tokio::test]
async fn error_answers_map_to_what_the_engine_needs() {
    let base = serve(Arc::new(|r: &Request| match r.body.as_str() {
        b if b.contains("\"gap\"") => error(409, "E_CONFLICT", json!({"last_client_seq": 17})),
        b if b.contains("\"old\"") => error(410, "E_RESYNC", json!({})),
        b if b.contains("\"theirs\"") => error(403, "E_FORBIDDEN", json!({})),
        b if b.contains("\"boom\"") => error(503, "E_UNAVAILABLE", json!({})),
        _ => Reply {
            status: 200,
            content_type: "application/json",
            chunks: vec![b"{not json".to_vec()],
        },
    }))
    .await;
    let remote = HttpRemote::new(
        &base,
        Tokens {
            access: "a".into(),
            refresh: "r".into(),
        },
    )
    .unwrap();
    let push = |epoch: &str| PushRequest {
        client_id: Uuid::from_u128(1),
        epoch: epoch.into(),
        since: None,
        mark: None,
        ops: vec![],
    };
    assert!(matches!(
        remote.push(&push("gap")).await,
        Err(RemoteError::Gap {
            last_client_seq: 17
        })
    ));
    assert!(matches!(
        remote.push(&push("old")).await,
        Err(RemoteError::Resync)
    ));
    assert!(matches!(
        remote.push(&push("theirs")).await,
        Err(RemoteError::Forbidden(m)) if m == "E_FORBIDDEN happened"
    ));
    let busy = remote.push(&push("boom")).await.unwrap_err();
    assert!(busy.is_retryable());
    assert!(
        matches!(busy, RemoteError::Server { status: 503, body: Some(b) } if b.error == ErrorCode::Unavailable)
    );
    assert!(matches!(
        remote.push(&push("fine")).await,
        Err(RemoteError::Decode(_))
    ));

    let nobody = HttpRemote::new(
        "http://127.0.0.1:9",
        Tokens {
            access: "a".into(),
            refresh: "r".into(),
        },
    )
    .unwrap();
    let down = nobody.pull(&query()).await.unwrap_err();
    assert!(matches!(down, RemoteError::Network(_)) && down.is_retryable());
}

#[tokio::test]
async fn bootstrap_streams_lines_split_across_chunks() {
    let ticket = json!({"id": Uuid::from_u128(9), "number": 1, "subject": "s", "description": "",
        "status": "open", "priority": "normal", "requester": {"id": Uuid::from_u128(7), "name": "Bob"},
        "assignee": null, "tags": [], "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z", "version": 1, "embed_url": null, "comments": []});
    let body = format!(
        "{ticket}\n{ticket}\n{}\n",
        json!({"_meta": {"seq": 4, "epoch": "e", "count": 2, "users": []}})
    )
    .into_bytes();
    let base = serve(Arc::new(move |r: &Request| {
        assert_eq!(r.path, "/api/v1/sync/bootstrap");
        Reply {
            status: 200,
            content_type: "application/x-ndjson",
            chunks: body.chunks(7).map(<[u8]>::to_vec).collect(),
        }
    }))
    .await;
    let remote = HttpRemote::new(
        &base,
        Tokens {
            access: "a".into(),
            refresh: "r".into(),
        },
    )
    .unwrap();
    let lines: Vec<BootstrapLine> = remote
        .bootstrap()
        .await
        .unwrap()
        .map(|l| l.unwrap())
        .collect()
        .await;
    assert_eq!(lines.len(), 3);
    assert!(matches!(&lines[0], BootstrapLine::Ticket(t) if t.ticket.subject == "s"));
    assert!(matches!(&lines[2], BootstrapLine::Meta(m) if m.seq == 4 && m.count == 2));
}

#[tokio::test]
async fn events_yield_pokes_and_skip_keep_alives() {
    let base = serve(Arc::new(|r: &Request| {
        assert_eq!(
            (r.path.as_str(), r.bearer.as_deref()),
            ("/api/v1/sync/events", Some("a"))
        );
        Reply {
            status: 200,
            content_type: "text/event-stream",
            chunks: vec![
                b": keep-alive\n\n".to_vec(),
                b"id: 5\ndata: {\"se".to_vec(),
                b"q\": 5}\n\nid: 6\ndata: {\"seq\": 6}\n\n".to_vec(),
            ],
        }
    }))
    .await;
    let remote = HttpRemote::new(
        &base,
        Tokens {
            access: "a".into(),
            refresh: "r".into(),
        },
    )
    .unwrap();
    let pokes: Vec<Poke> = remote
        .events()
        .await
        .unwrap()
        .map(|p| p.unwrap())
        .collect()
        .await;
    assert_eq!(
        pokes,
        vec![Poke { seq: 5, mark: None }, Poke { seq: 6, mark: None }]
    );
}

#[test]
fn compression_is_asked_for_except_on_loopback() {
    for url in [
        "http://127.0.0.1:7878",
        "http://localhost:7878/",
        "http://[::1]:80",
        "http://127.1.2.3",
    ] {
        assert!(is_loopback(url), "{url}");
    }
    for url in [
        "https://desk.example.com",
        "http://10.0.0.5:7878",
        "not a url",
    ] {
        assert!(!is_loopback(url), "{url}");
    }
}
