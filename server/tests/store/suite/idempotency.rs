//! `Idempotency-Key`s: a key starts one request at a time per caller,
//! answers what its first request was answered, refuses another request,
//! is freed by a server failure, and is honoured for 24 hours only — then
//! swept.

use desk_server::store::{
    Begun, IdempotencyKey, KeptAnswer, Store,
    idempotency::{ABANDONED_AFTER, KEPT_FOR},
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::Fixture;

fn key(principal: Uuid, key: &str) -> IdempotencyKey {
    IdempotencyKey {
        principal,
        key: key.to_string(),
    }
}

fn created(body: &str) -> KeptAnswer {
    KeptAnswer {
        status: 201,
        content_type: Some("application/json".into()),
        body: Some(body.as_bytes().to_vec()),
    }
}

const ONE: [u8; 32] = [1; 32];
const TWO: [u8; 32] = [2; 32];

pub async fn a_key_runs_its_request_once_and_answers_it_again<S: Store>(f: Fixture<S>) {
    let now = OffsetDateTime::now_utc();
    let alices = key(f.alice.id, "order-42");
    let begin = |k: &IdempotencyKey, digest, attempt| {
        f.store.begin_idempotent(k.clone(), digest, attempt, now)
    };
    let first = Uuid::new_v4();
    assert_eq!(begin(&alices, ONE, first).await.unwrap(), Begun::Started);
    // While it runs, the key is busy, whatever the request.
    assert_eq!(
        begin(&alices, ONE, Uuid::new_v4()).await.unwrap(),
        Begun::InFlight
    );
    assert_eq!(
        begin(&alices, TWO, Uuid::new_v4()).await.unwrap(),
        Begun::InFlight
    );
    // Keys are their caller's: bob's is another key.
    let bobs = key(f.bob.id, "order-42");
    assert_eq!(
        begin(&bobs, TWO, Uuid::new_v4()).await.unwrap(),
        Begun::Started
    );

    // Only the attempt that holds the key records its answer.
    f.store
        .finish_idempotent(alices.clone(), Uuid::new_v4(), created("not mine"))
        .await
        .unwrap();
    assert_eq!(
        begin(&alices, ONE, Uuid::new_v4()).await.unwrap(),
        Begun::InFlight
    );
    let answer = created(r#"{"id":"t1"}"#);
    f.store
        .finish_idempotent(alices.clone(), first, answer.clone())
        .await
        .unwrap();
    assert_eq!(
        begin(&alices, ONE, Uuid::new_v4()).await.unwrap(),
        Begun::Answered(answer.clone())
    );
    assert_eq!(
        begin(&alices, TWO, Uuid::new_v4()).await.unwrap(),
        Begun::Mismatch
    );
    // Answered is final: a late finish or release changes nothing.
    f.store
        .finish_idempotent(alices.clone(), first, created("later"))
        .await
        .unwrap();
    f.store
        .release_idempotent(alices.clone(), first)
        .await
        .unwrap();
    assert_eq!(
        begin(&alices, ONE, Uuid::new_v4()).await.unwrap(),
        Begun::Answered(answer)
    );

    // An answer that is not kept (a secret shown once) says only its
    // status; a failure's answer is kept like any other.
    let token = key(f.admin.id, "token");
    let attempt = Uuid::new_v4();
    assert_eq!(begin(&token, ONE, attempt).await.unwrap(), Begun::Started);
    let unkept = KeptAnswer {
        status: 201,
        content_type: Some("application/json".into()),
        body: None,
    };
    f.store
        .finish_idempotent(token.clone(), attempt, unkept.clone())
        .await
        .unwrap();
    assert_eq!(
        begin(&token, ONE, Uuid::new_v4()).await.unwrap(),
        Begun::Answered(unkept)
    );
    let refused = key(f.alice.id, "bad");
    let attempt = Uuid::new_v4();
    assert_eq!(begin(&refused, ONE, attempt).await.unwrap(), Begun::Started);
    let invalid = KeptAnswer {
        status: 422,
        content_type: None,
        body: Some(b"\x00\xff binary survives".to_vec()),
    };
    f.store
        .finish_idempotent(refused.clone(), attempt, invalid.clone())
        .await
        .unwrap();
    assert_eq!(
        begin(&refused, ONE, Uuid::new_v4()).await.unwrap(),
        Begun::Answered(invalid)
    );
}

pub async fn a_released_or_lost_request_frees_its_key_for_the_same_request<S: Store>(
    f: Fixture<S>,
) {
    let now = OffsetDateTime::now_utc();
    let k = key(f.alice.id, "retry-me");
    let first = Uuid::new_v4();
    let begin = |digest, attempt, at| f.store.begin_idempotent(k.clone(), digest, attempt, at);
    assert_eq!(begin(ONE, first, now).await.unwrap(), Begun::Started);
    // Another attempt cannot free it; the one that holds it can.
    f.store
        .release_idempotent(k.clone(), Uuid::new_v4())
        .await
        .unwrap();
    assert_eq!(
        begin(ONE, Uuid::new_v4(), now).await.unwrap(),
        Begun::InFlight
    );
    f.store.release_idempotent(k.clone(), first).await.unwrap();
    let second = Uuid::new_v4();
    assert_eq!(
        begin(TWO, second, now).await.unwrap(),
        Begun::Started,
        "a freed key is anyone's"
    );

    // A request whose server stopped mid-way is taken to be lost after a
    // while: the same request may then run again, another may not.
    let lost = now + ABANDONED_AFTER + Duration::seconds(1);
    assert_eq!(
        begin(ONE, Uuid::new_v4(), lost).await.unwrap(),
        Begun::Mismatch
    );
    let third = Uuid::new_v4();
    assert_eq!(begin(TWO, third, lost).await.unwrap(), Begun::Started);
    // The lost attempt's late answer is not the key's any more.
    f.store
        .finish_idempotent(k.clone(), second, created("late"))
        .await
        .unwrap();
    assert_eq!(
        begin(TWO, Uuid::new_v4(), lost).await.unwrap(),
        Begun::InFlight
    );
    f.store
        .finish_idempotent(k.clone(), third, created("taken over"))
        .await
        .unwrap();
    assert_eq!(
        begin(TWO, Uuid::new_v4(), lost).await.unwrap(),
        Begun::Answered(created("taken over"))
    );
}

pub async fn a_key_is_honoured_for_a_day_and_then_swept<S: Store>(f: Fixture<S>) {
    let day_ago = OffsetDateTime::now_utc() - KEPT_FOR;
    let now = day_ago + KEPT_FOR;
    let answered = async |k: &IdempotencyKey, at: OffsetDateTime| {
        let attempt = Uuid::new_v4();
        assert_eq!(
            f.store
                .begin_idempotent(k.clone(), ONE, attempt, at)
                .await
                .unwrap(),
            Begun::Started
        );
        f.store
            .finish_idempotent(k.clone(), attempt, created("first"))
            .await
            .unwrap();
    };
    let old = key(f.alice.id, "old");
    let young = key(f.alice.id, "young");
    let stuck = key(f.bob.id, "stuck");
    answered(&old, day_ago).await;
    answered(&young, day_ago + Duration::seconds(1)).await;
    f.store
        .begin_idempotent(stuck.clone(), ONE, Uuid::new_v4(), day_ago)
        .await
        .unwrap();

    // A second before its day is up, the old key still answers...
    let almost = now - Duration::seconds(1);
    assert_eq!(
        f.store
            .begin_idempotent(old.clone(), TWO, Uuid::new_v4(), almost)
            .await
            .unwrap(),
        Begun::Mismatch
    );
    // ...and from then on not, even before a sweep: nothing was swept yet.
    let swept = f
        .store
        .sweep(day_ago, day_ago - Duration::days(90))
        .await
        .unwrap();
    assert_eq!(swept.idempotency_keys, 0, "{swept:?}");
    let fresh = Uuid::new_v4();
    assert_eq!(
        f.store
            .begin_idempotent(old.clone(), TWO, fresh, now)
            .await
            .unwrap(),
        Begun::Started,
        "a day-old key is free again"
    );
    f.store
        .release_idempotent(old.clone(), fresh)
        .await
        .unwrap();

    // The sweep takes what is a day old, answered or not, and keeps the
    // rest.
    let swept = f.store.sweep(now, now - Duration::days(90)).await.unwrap();
    assert_eq!(swept.idempotency_keys, 1, "the stuck one: {swept:?}");
    assert_eq!(
        f.store
            .begin_idempotent(young.clone(), ONE, Uuid::new_v4(), now)
            .await
            .unwrap(),
        Begun::Answered(created("first"))
    );
    let swept = f
        .store
        .sweep(now + Duration::seconds(1), now - Duration::days(90))
        .await
        .unwrap();
    assert_eq!(swept.idempotency_keys, 1, "the young one: {swept:?}");
    assert_eq!(
        f.store
            .begin_idempotent(young, TWO, Uuid::new_v4(), now)
            .await
            .unwrap(),
        Begun::Started,
        "swept: the key is free"
    );
}

pub async fn of_concurrent_requests_with_one_key_one_starts<S: Store>(f: Fixture<S>) {
    let now = OffsetDateTime::now_utc();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (store, k) = (f.store.clone(), key(f.alice.id, "double-click"));
        tasks.spawn(async move {
            store
                .begin_idempotent(k, ONE, Uuid::new_v4(), now)
                .await
                .unwrap()
        });
    }
    let begun = tasks.join_all().await;
    let started = begun.iter().filter(|b| **b == Begun::Started).count();
    assert_eq!(started, 1, "{begun:?}");
    assert!(
        begun
            .iter()
            .all(|b| matches!(b, Begun::Started | Begun::InFlight)),
        "{begun:?}"
    );
}
