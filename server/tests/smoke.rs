#![allow(clippy::unwrap_used, clippy::expect_used)]

use desk_testkit::*;
use reqwest::StatusCode;

#[tokio::test]
async fn a_customer_files_a_ticket_and_an_admin_sees_it() {
    let s = TestServer::start().await;
    let alice = s.token(ALICE).await;
    let carol = s.token(CAROL).await;
    let t = s.ticket(&alice, "Printer on fire").await;
    assert_eq!(t["status"], "open");
    assert_eq!(t["number"], 1);
    let r = s
        .get(&format!("/api/v1/tickets/{}", t["number"]), &carol)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["subject"], "Printer on fire");
    assert!(r.body["comments"].as_array().unwrap().is_empty());
}
