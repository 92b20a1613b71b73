//! A crash loses nothing that was acknowledged: the real `deskd` binary takes
//! concurrent creates, is killed with SIGKILL mid-stream, restarts, and must
//! hold every ticket it had answered 201 for. Several rounds, on each store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use desk_testkit::{
    daemon::{Daemon, Deskd},
    postgres::TestDatabase,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use uuid::Uuid;

const ROUNDS: usize = 4;
const WRITERS: usize = 16;
/// Kill after this many acknowledgements in a round.
const KILL_AFTER: usize = 60;

async fn login(http: &reqwest::Client, url: &str) -> String {
    let session = desk_testkit::login(http, url, ("alice@example.com", "alice123")).await;
    session["access_token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_create_survives_sigkill() {
    survives_sigkill(&deskd()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_create_survives_sigkill_on_postgres() {
    let Some(database) =
        TestDatabase::create("every_acknowledged_create_survives_sigkill_on_postgres").await
    else {
        return;
    };
    survives_sigkill(&deskd().postgres(database.url())).await;
}

async fn survives_sigkill(deskd: &Deskd) {
    let dir = tempfile::tempdir().unwrap();
    deskd.seed(dir.path(), 0).await;

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut acknowledged: Vec<Uuid> = Vec::new();
    for round in 0..ROUNDS {
        let Daemon { mut child, url, .. } = deskd.start(dir.path(), "info").await;
        let token = login(&http, &url).await;
        let (acks, mut acked) = mpsc::unbounded_channel::<Uuid>();
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (http, url, token, acks) = (http.clone(), url.clone(), token.clone(), acks.clone());
                tokio::spawn(async move {
                    for n in 0.. {
                        let id = Uuid::new_v4();
                        let sent = http
                            .post(format!("{url}/api/v1/tickets"))
                            .bearer_auth(&token)
                            .json(&json!({"id": id, "subject": format!("round {round} writer {w} #{n}")}))
                            .send()
                            .await;
                        match sent {
                            Ok(r) if r.status() == StatusCode::CREATED => {
                                let _ = acks.send(id);
                            }
                            // The server is gone: this writer's round is over.
                            _ => return,
                        }
                    }
                })
            })
            .collect();
        drop(acks);
        let mut this_round = 0;
        while this_round < KILL_AFTER {
            acknowledged.push(acked.recv().await.expect("writers stopped early"));
            this_round += 1;
        }
        child.kill().await.unwrap(); // SIGKILL
        for w in writers {
            w.await.unwrap();
        }
        // Answers that arrived before the kill count too.
        while let Some(id) = acked.recv().await {
            acknowledged.push(id);
        }

        let Daemon { mut child, url, .. } = deskd.start(dir.path(), "info").await;
        let token = login(&http, &url).await;
        for id in &acknowledged {
            let r = http
                .get(format!("{url}/api/v1/tickets/{id}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                StatusCode::OK,
                "round {round}: acknowledged ticket {id} was lost"
            );
        }
        // Numbers stay gap-free across crashes: 1..=total with no holes.
        let page: Value = http
            .get(format!("{url}/api/v1/tickets?per_page=1&sort=-number"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            page["items"][0]["number"], page["total"],
            "round {round}: numbering has gaps"
        );
        child.kill().await.unwrap();
    }
    assert!(acknowledged.len() >= ROUNDS * KILL_AFTER);
}

fn deskd() -> Deskd {
    Deskd::new(env!("CARGO_BIN_EXE_deskd"))
}
