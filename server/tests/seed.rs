//! The demo data is realistic and consistent with what live writes produce.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use desk_server::seed;
use desk_testkit::*;
use reqwest::StatusCode;

#[tokio::test]
async fn demo_tickets_are_varied_and_their_history_is_oldest_first() {
    let s = TestServer::start().await;
    // The harness seeded the accounts; a second seed is refused, not doubled.
    assert!(matches!(
        seed::seed_demo(s.store(), 5).await,
        Err(seed::SeedError::AlreadySeeded)
    ));

    let dir = tempfile::tempdir().unwrap();
    let mut settings = desk_config::ServerSettings::for_data_dir(dir.path());
    settings.server.bind = "127.0.0.1:0".parse().unwrap();
    let server = desk_server::http::server::Server::start(settings)
        .await
        .unwrap();
    let seeded = seed::seed_demo(server.store(), 60).await.unwrap();
    assert_eq!(seeded.tickets, 60);
    let s = TestServer::attach(server, dir).await;
    let carol = s.token(CAROL).await;

    let page = s.get("/api/v1/tickets?per_page=200", &carol).await.body;
    let tickets = page["items"].as_array().unwrap();
    assert_eq!(page["total"], 60);
    let statuses: HashSet<&str> = tickets
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 4, "every status appears: {statuses:?}");
    assert!(
        tickets.iter().any(|t| t["assignee"].is_null()),
        "some wait in triage"
    );

    for t in tickets {
        let id = t["id"].as_str().unwrap();
        let history = s
            .get(&format!("/api/v1/tickets/{id}/history"), &carol)
            .await
            .body;
        let at: Vec<&str> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["at"].as_str().unwrap())
            .collect();
        let times: Vec<time::OffsetDateTime> = at
            .iter()
            .map(|a| {
                time::OffsetDateTime::parse(a, &time::format_description::well_known::Rfc3339)
                    .unwrap()
            })
            .collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "ticket {id}: history out of order: {at:?}"
        );
        assert_eq!(history[0]["kind"], "created");
    }

    // The sample embed token works.
    let token = seeded.sample_embed_token.unwrap();
    let r = s
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/tickets/embed/{token}"),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}
