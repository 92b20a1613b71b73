#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Auth flows of docs/API.md (register, login, the OAuth2 token form, me,
//! refresh rotation with reuse detection, logout, deactivation, password
//! changes) and attacks on access tokens, which must all answer 401 with the
//! contract's error body.
use desk_testkit::*;

use std::time::{SystemTime, UNIX_EPOCH};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

// ---------------------------------------------------------------- helpers

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The server's HMAC key: the secret file's text, trimmed.
fn server_key(s: &TestServer) -> Vec<u8> {
    let text = std::fs::read_to_string(s.dir.path().join("secret")).unwrap();
    text.trim().as_bytes().to_vec()
}

fn sign(claims: &Value, key: &[u8]) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(key),
    )
    .unwrap()
}

/// The JSON payload of a JWT.
fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// `token` with its payload replaced, header and signature kept.
fn with_payload(token: &str, payload: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let body = URL_SAFE_NO_PAD.encode(payload.to_string());
    format!("{}.{body}.{}", parts[0], parts[2])
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

async fn login(s: &TestServer, email: &str, password: &str) -> Reply {
    s.call(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"email": email, "password": password})),
    )
    .await
}

async fn token_form(s: &TestServer, fields: &[(&str, &str)]) -> Reply {
    let r = s
        .http
        .post(format!("{}/api/v1/auth/token", s.url))
        .form(fields)
        .send()
        .await
        .unwrap();
    Reply::from(r).await
}

async fn refresh(s: &TestServer, refresh_token: &str) -> Reply {
    s.call(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": refresh_token})),
    )
    .await
}

async fn logout(s: &TestServer, refresh_token: &str) -> Reply {
    s.call(
        Method::POST,
        "/api/v1/auth/logout",
        None,
        Some(json!({"refresh_token": refresh_token})),
    )
    .await
}

async fn me(s: &TestServer, access_token: &str) -> Reply {
    s.get("/api/v1/auth/me", access_token).await
}

/// A request with a raw `Authorization` header (or none).
async fn with_authorization(s: &TestServer, path: &str, header: Option<&str>) -> Reply {
    let mut req = s.http.get(format!("{}{path}", s.url));
    if let Some(value) = header {
        req = req.header("authorization", value);
    }
    Reply::from(req.send().await.unwrap()).await
}

fn str_of<'a>(body: &'a Value, key: &str) -> &'a str {
    body[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key:?} in {body}"))
}

/// Asserts a `User` body: exactly the contract's keys, never a hash.
#[track_caller]
fn assert_user(user: &Value, email: &str, role: &str) {
    let mut keys: Vec<&str> = user
        .as_object()
        .unwrap_or_else(|| panic!("not a User: {user}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["active", "created_at", "email", "id", "name", "role"],
        "{user}"
    );
    assert_eq!(user["email"], email, "{user}");
    assert_eq!(user["role"], role, "{user}");
    assert_eq!(user["active"], true, "{user}");
    assert!(Uuid::parse_str(str_of(user, "id")).is_ok(), "{user}");
}

/// Asserts a `Session` body for `email`.
#[track_caller]
fn assert_session(session: &Value, email: &str, role: &str) {
    assert!(!str_of(session, "access_token").is_empty(), "{session}");
    assert!(!str_of(session, "refresh_token").is_empty(), "{session}");
    assert_eq!(session["token_type"], "bearer", "{session}");
    assert!(session["expires_in"].as_u64().unwrap() > 0, "{session}");
    assert_user(&session["user"], email, role);
}

// ----------------------------------------------------------------- register

#[tokio::test]
async fn registering_creates_a_customer_who_can_sign_in() {
    let s = TestServer::start().await;
    let r = s
        .call(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": "zoe@example.com", "password": "zoe-password", "name": "Zoe"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_user(&r.body, "zoe@example.com", "customer");
    assert_eq!(r.body["name"], "Zoe");

    let session = login(&s, "zoe@example.com", "zoe-password").await;
    assert_eq!(session.status, StatusCode::OK, "{}", session.text);
    assert_session(&session.body, "zoe@example.com", "customer");
    assert_eq!(session.body["user"]["id"], r.body["id"]);
    let who = me(&s, str_of(&session.body, "access_token")).await;
    assert_eq!(who.status, StatusCode::OK, "{}", who.text);
    assert_eq!(who.body["id"], r.body["id"]);
}

#[tokio::test]
async fn registering_cannot_choose_a_role() {
    let s = TestServer::start().await;
    let r = s
        .call(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": "mallory@example.com", "password": "mallory-pw", "name": "M", "role": "admin"})),
        )
        .await;
    match r.status {
        StatusCode::CREATED => assert_eq!(r.body["role"], "customer", "{}", r.text),
        _ => r.assert_error(StatusCode::BAD_REQUEST, "E_BAD_REQUEST"),
    }
    let session = login(&s, "mallory@example.com", "mallory-pw").await;
    if session.status == StatusCode::OK {
        assert_eq!(session.body["user"]["role"], "customer", "{}", session.text);
    }
}

#[tokio::test]
async fn registering_a_taken_email_is_409() {
    let s = TestServer::start().await;
    for email in [
        "alice@example.com",
        "ALICE@Example.com",
        " alice@example.com ",
    ] {
        let r = s
            .call(
                Method::POST,
                "/api/v1/auth/register",
                None,
                Some(json!({"email": email, "password": "password123", "name": "Not Alice"})),
            )
            .await;
        r.assert_error(StatusCode::CONFLICT, "E_CONFLICT");
    }
    // Alice's account is untouched: her password still works.
    let session = login(&s, ALICE.0, ALICE.1).await;
    assert_eq!(session.status, StatusCode::OK, "{}", session.text);
    assert_eq!(session.body["user"]["name"], "Alice Martin");
}

#[tokio::test]
async fn registering_checks_its_fields() {
    let s = TestServer::start().await;
    let r = s
        .call(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": "short@example.com", "password": "seven77", "name": "Short"})),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    assert!(r.body["details"]["password"].is_string(), "{}", r.text);

    let r = s
        .call(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": "not-an-email", "password": "password123", "name": "X"})),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    assert!(r.body["details"]["email"].is_string(), "{}", r.text);
    let r = login(&s, "short@example.com", "seven77").await;
    r.assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
}

#[tokio::test]
async fn registration_can_be_disabled() {
    let s = TestServer::start_with(|settings| settings.server.allow_registration = false).await;
    let r = s
        .call(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": "zoe@example.com", "password": "zoe-password", "name": "Zoe"})),
        )
        .await;
    r.assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
    login(&s, "zoe@example.com", "zoe-password")
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");

    // Only self-service is off: an admin still makes accounts.
    let carol = s.token(CAROL).await;
    let r = s
        .post(
            "/api/v1/users",
            &carol,
            json!({"email": "zoe@example.com", "password": "zoe-password", "name": "Zoe", "role": "customer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

// -------------------------------------------------------------- login & me

#[tokio::test]
async fn login_returns_a_bearer_session_with_a_jwt() {
    let s = TestServer::start().await;
    let r = login(&s, ALICE.0, ALICE.1).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_session(&r.body, ALICE.0, "customer");
    assert_eq!(r.body["expires_in"], 900, "default lifetime is 15 minutes");
    assert!(
        !r.text.contains("argon2") && !r.text.contains("password"),
        "{}",
        r.text
    );

    let claims = payload(str_of(&r.body, "access_token"));
    assert_eq!(claims["sub"], r.body["user"]["id"]);
    assert_eq!(claims["role"], "customer");
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, 900, "{claims}");
    assert!((iat - now()).abs() < 60, "{claims}");
    assert!(Uuid::parse_str(str_of(&claims, "jti")).is_ok(), "{claims}");
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(str_of(&r.body, "access_token").split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "HS256", "{header}");
    // Refresh tokens are opaque: not a JWT.
    assert!(!str_of(&r.body, "refresh_token").contains('.'));

    // Two logins: two distinct sessions.
    let again = login(&s, ALICE.0, ALICE.1).await;
    assert_ne!(again.body["access_token"], r.body["access_token"]);
    assert_ne!(again.body["refresh_token"], r.body["refresh_token"]);
}

#[tokio::test]
async fn the_access_token_lifetime_follows_the_settings() {
    let s = TestServer::start_with(|settings| settings.auth.access_ttl_minutes = 5).await;
    let session = s.session(BOB.0, BOB.1).await;
    assert_eq!(session["expires_in"], 300);
    let claims = payload(str_of(&session, "access_token"));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );
}

#[tokio::test]
async fn the_oauth2_token_form_signs_in() {
    let s = TestServer::start().await;
    let r = token_form(&s, &[("username", BOB.0), ("password", BOB.1)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_session(&r.body, BOB.0, "agent");
    let who = me(&s, str_of(&r.body, "access_token")).await;
    assert_eq!(who.status, StatusCode::OK, "{}", who.text);
    assert_user(&who.body, BOB.0, "agent");

    let r = token_form(
        &s,
        &[
            ("grant_type", "password"),
            ("username", CAROL.0),
            ("password", CAROL.1),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_session(&r.body, CAROL.0, "admin");
    // Its refresh token is a real one.
    let next = refresh(&s, str_of(&r.body, "refresh_token")).await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.text);

    let wrong = token_form(&s, &[("username", BOB.0), ("password", "not-bobs")]).await;
    wrong.assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    let unknown = token_form(
        &s,
        &[("username", "nobody@example.com"), ("password", BOB.1)],
    )
    .await;
    unknown.assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    assert_eq!(wrong.text, unknown.text);
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_identical_401() {
    let s = TestServer::start().await;
    let unknown = login(&s, "nobody@example.com", ALICE.1).await;
    let wrong = login(&s, ALICE.0, "not-alices-password").await;
    unknown.assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    wrong.assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    assert_eq!(unknown.text, wrong.text);
    // Nor does the JSON route differ from the form route.
    let form = token_form(&s, &[("username", ALICE.0), ("password", "nope-nope")]).await;
    assert_eq!(form.text, wrong.text);
    // An empty password is just a wrong one.
    let empty = login(&s, ALICE.0, "").await;
    assert_eq!(empty.status, StatusCode::UNAUTHORIZED, "{}", empty.text);
}

#[tokio::test]
async fn me_is_the_signed_in_user() {
    let s = TestServer::start().await;
    for ((email, password), role) in [
        (ALICE, "customer"),
        (BOB, "agent"),
        (DAVE, "agent"),
        (CAROL, "admin"),
    ] {
        let token = s.token((email, password)).await;
        let r = me(&s, &token).await;
        assert_eq!(r.status, StatusCode::OK, "{email}: {}", r.text);
        assert_user(&r.body, email, role);
    }
    let anonymous = s.call(Method::GET, "/api/v1/auth/me", None, None).await;
    anonymous.assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
}

// ---------------------------------------------------------- refresh tokens

#[tokio::test]
async fn refresh_issues_a_new_refresh_token_each_time() {
    let s = TestServer::start().await;
    let first = s.session(ALICE.0, ALICE.1).await;
    let mut seen = vec![str_of(&first, "refresh_token").to_string()];
    let mut current = seen[0].clone();
    for _ in 0..3 {
        let r = refresh(&s, &current).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_session(&r.body, ALICE.0, "customer");
        let next = str_of(&r.body, "refresh_token").to_string();
        assert!(
            !seen.contains(&next),
            "refresh token {next} handed out twice"
        );
        let who = me(&s, str_of(&r.body, "access_token")).await;
        assert_eq!(who.status, StatusCode::OK, "{}", who.text);
        seen.push(next.clone());
        current = next;
    }
}

#[tokio::test]
async fn a_spent_refresh_token_is_refused_and_revokes_its_whole_family() {
    let s = TestServer::start().await;
    let session = s.session(ALICE.0, ALICE.1).await;
    let other_session = s.session(ALICE.0, ALICE.1).await;
    let r0 = str_of(&session, "refresh_token").to_string();
    let r1 = refresh(&s, &r0).await;
    assert_eq!(r1.status, StatusCode::OK, "{}", r1.text);
    let r1 = str_of(&r1.body, "refresh_token").to_string();
    let r2 = refresh(&s, &r1).await;
    assert_eq!(r2.status, StatusCode::OK, "{}", r2.text);
    let r2 = str_of(&r2.body, "refresh_token").to_string();

    // r0 was spent: presenting it again is theft…
    refresh(&s, &r0)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    // …so the newest token of that family is dead too, and so is r1.
    refresh(&s, &r2)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    refresh(&s, &r1)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");

    // Another login is another family: untouched.
    let other = refresh(&s, str_of(&other_session, "refresh_token")).await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.text);
}

#[tokio::test]
async fn reusing_the_token_just_spent_revokes_its_successor() {
    let s = TestServer::start().await;
    let session = s.session(BOB.0, BOB.1).await;
    let r0 = str_of(&session, "refresh_token").to_string();
    let r1 = refresh(&s, &r0).await;
    let r1 = str_of(&r1.body, "refresh_token").to_string();
    refresh(&s, &r0)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    refresh(&s, &r1)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
}

#[tokio::test]
async fn unknown_refresh_tokens_are_refused() {
    let s = TestServer::start().await;
    let access = s.token(ALICE).await;
    for bogus in ["", "not-a-refresh-token", access.as_str()] {
        refresh(&s, bogus)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    }
}

#[tokio::test]
async fn an_expired_refresh_token_is_refused() {
    let s = TestServer::start_with(|settings| settings.auth.refresh_ttl_days = 0).await;
    let session = s.session(ALICE.0, ALICE.1).await;
    refresh(&s, str_of(&session, "refresh_token"))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
}

#[tokio::test]
async fn logout_revokes_the_refresh_family() {
    let s = TestServer::start().await;
    let session = s.session(ALICE.0, ALICE.1).await;
    let other_session = s.session(ALICE.0, ALICE.1).await;
    let r1 = refresh(&s, str_of(&session, "refresh_token")).await;
    assert_eq!(r1.status, StatusCode::OK, "{}", r1.text);
    let r1 = str_of(&r1.body, "refresh_token").to_string();

    let out = logout(&s, &r1).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text);
    assert!(out.text.is_empty(), "{}", out.text);
    refresh(&s, &r1)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");

    // Only that session ends.
    let other = refresh(&s, str_of(&other_session, "refresh_token")).await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.text);
}

#[tokio::test]
async fn logout_with_the_first_token_of_a_family_ends_the_family() {
    let s = TestServer::start().await;
    let session = s.session(CAROL.0, CAROL.1).await;
    let r0 = str_of(&session, "refresh_token").to_string();
    let out = logout(&s, &r0).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text);
    refresh(&s, &r0)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
}

/// `POST /api/v1/auth/logout` with the access token it ends.
async fn logout_with(s: &TestServer, session: &Value) -> Reply {
    s.call(
        Method::POST,
        "/api/v1/auth/logout",
        Some(str_of(session, "access_token")),
        Some(json!({"refresh_token": str_of(session, "refresh_token")})),
    )
    .await
}

#[tokio::test]
async fn after_logout_its_access_token_is_refused_at_once() {
    let s = TestServer::start().await;
    let session = s.session(ALICE.0, ALICE.1).await;
    let other = s.session(ALICE.0, ALICE.1).await;
    let token = str_of(&session, "access_token");
    assert_eq!(me(&s, token).await.status, StatusCode::OK);

    let out = logout_with(&s, &session).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text);
    for path in ["/api/v1/auth/me", "/api/v1/tickets"] {
        s.get(path, token)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    }
    // Signing out again with it still works (nothing left to end), and the
    // other session stands.
    let again = logout_with(&s, &session).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT, "{}", again.text);
    assert_eq!(
        me(&s, str_of(&other, "access_token")).await.status,
        StatusCode::OK
    );

    // A restarted server still refuses it: the denial is in the store.
    let s = s.restart().await;
    me(&s, token)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    assert_eq!(
        me(&s, str_of(&other, "access_token")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn logout_everywhere_ends_every_session_of_the_caller_only() {
    let s = TestServer::start().await;
    let first = s.session(ALICE.0, ALICE.1).await;
    let second = s.session(ALICE.0, ALICE.1).await;
    let carol = s.session(CAROL.0, CAROL.1).await;
    let r = s
        .call(
            Method::POST,
            "/api/v1/auth/logout-everywhere",
            Some(str_of(&second, "access_token")),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    for session in [&first, &second] {
        me(&s, str_of(session, "access_token"))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
        refresh(&s, str_of(session, "refresh_token"))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    }
    assert_eq!(
        me(&s, str_of(&carol, "access_token")).await.status,
        StatusCode::OK
    );
    // Signing in again works at once.
    let fresh = s.session(ALICE.0, ALICE.1).await;
    assert_eq!(
        me(&s, str_of(&fresh, "access_token")).await.status,
        StatusCode::OK
    );
}

// ------------------------------------------------------------ token attacks

/// Every way of presenting a bad access token answers 401 with the contract
/// body, on any authenticated route; the well-formed controls prove the
/// forging itself works.
#[tokio::test]
async fn bad_access_tokens_are_401() {
    let s = TestServer::start().await;
    let key = server_key(&s);
    let alice = s.session(ALICE.0, ALICE.1).await;
    let carol = s.session(CAROL.0, CAROL.1).await;
    let alice_token = str_of(&alice, "access_token").to_string();
    let alice_refresh = str_of(&alice, "refresh_token").to_string();
    let carol_token = str_of(&carol, "access_token").to_string();
    let alice_id = str_of(&alice["user"], "id").to_string();
    let carol_id = str_of(&carol["user"], "id").to_string();
    let t = now();
    let claims = |sub: &str, role: &str, iat: i64, exp: i64| json!({"sub": sub, "role": role, "iat": iat, "exp": exp, "jti": Uuid::new_v4()});

    // Controls: the real token, and one we sign with the server's key.
    let forged_ok = sign(&claims(&alice_id, "customer", t - 10, t + 600), &key);
    for control in [&alice_token, &forged_ok] {
        let r = me(&s, control).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "control token refused: {}",
            r.text
        );
        assert_eq!(r.body["email"], ALICE.0);
    }

    let bearer = |token: &str| Some(format!("Bearer {token}"));
    let unsigned_admin = claims(&alice_id, "admin", t - 10, t + 600);
    let mut as_admin = payload(&alice_token);
    as_admin["role"] = json!("admin");
    let mut as_carol = payload(&alice_token);
    as_carol["sub"] = json!(carol_id);
    let alice_parts: Vec<&str> = alice_token.split('.').collect();
    let carol_parts: Vec<&str> = carol_token.split('.').collect();
    let attacks: Vec<(&str, Option<String>)> = vec![
        ("no Authorization header", None),
        ("an empty header", Some(String::new())),
        ("the scheme alone", Some("Bearer".into())),
        ("the scheme and a blank", Some("Bearer    ".into())),
        ("the token without a scheme", Some(alice_token.clone())),
        (
            "another scheme",
            Some(format!(
                "Basic {}",
                URL_SAFE_NO_PAD.encode("alice@example.com:alice123")
            )),
        ),
        ("not a JWT", bearer("not-a-jwt")),
        ("three garbage parts", bearer("aaaa.bbbb.cccc")),
        (
            "two parts",
            bearer(&format!("{}.{}", alice_parts[0], alice_parts[1])),
        ),
        (
            "a truncated signature",
            bearer(&alice_token[..alice_token.len() - 4]),
        ),
        (
            "the signature removed",
            bearer(&format!("{}.{}.", alice_parts[0], alice_parts[1])),
        ),
        (
            "alg none, no signature",
            bearer(&format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                b64(&unsigned_admin)
            )),
        ),
        (
            "alg none, a signature kept",
            bearer(&format!(
                "{}.{}.{}",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                alice_parts[1],
                alice_parts[2]
            )),
        ),
        (
            "signed with another key",
            bearer(&sign(
                &claims(&alice_id, "customer", t - 10, t + 600),
                &[42u8; 64],
            )),
        ),
        (
            "signed with an empty key",
            bearer(&sign(&claims(&alice_id, "customer", t - 10, t + 600), b"")),
        ),
        (
            "expired a minute ago",
            bearer(&sign(&claims(&alice_id, "customer", t - 960, t - 60), &key)),
        ),
        (
            "expired a second ago",
            bearer(&sign(&claims(&alice_id, "customer", t - 900, t - 1), &key)),
        ),
        (
            "without exp",
            bearer(&sign(
                &json!({"sub": alice_id, "role": "customer", "iat": t, "jti": Uuid::new_v4()}),
                &key,
            )),
        ),
        (
            "sub not a UUID",
            bearer(&sign(
                &json!({"sub": "alice", "role": "customer", "iat": t, "exp": t + 600, "jti": Uuid::new_v4()}),
                &key,
            )),
        ),
        (
            "a user that does not exist",
            bearer(&sign(
                &claims(&Uuid::now_v7().to_string(), "admin", t - 10, t + 600),
                &key,
            )),
        ),
        (
            "role changed to admin, signature kept",
            bearer(&with_payload(&alice_token, &as_admin)),
        ),
        (
            "sub changed to carol, signature kept",
            bearer(&with_payload(&alice_token, &as_carol)),
        ),
        (
            "alice's claims with carol's signature",
            bearer(&format!(
                "{}.{}.{}",
                alice_parts[0], alice_parts[1], carol_parts[2]
            )),
        ),
        ("a refresh token", bearer(&alice_refresh)),
    ];

    let mut failures = Vec::new();
    for (name, header) in &attacks {
        for path in ["/api/v1/auth/me", "/api/v1/tickets", "/api/v1/users"] {
            let r = with_authorization(&s, path, header.as_deref()).await;
            let b = &r.body;
            let contract = r.status == StatusCode::UNAUTHORIZED
                && b["error"] == "E_UNAUTHORIZED"
                && b["message"].is_string()
                && b["details"].is_object();
            if !contract {
                failures.push(format!("{name} on {path}: {} {}", r.status, r.text));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} bad tokens were not answered 401 E_UNAUTHORIZED:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

/// The role in a token is only informative: a demoted admin's token carries
/// `role: admin` but buys no admin rights.
#[tokio::test]
async fn a_tokens_role_claim_grants_nothing() {
    let s = TestServer::start().await;
    let carol = s.token(CAROL).await;
    let users = s.get("/api/v1/users", &carol).await.body;
    let dave = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == DAVE.0)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let promoted = s
        .patch(
            &format!("/api/v1/users/{dave}"),
            &carol,
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(promoted.status, StatusCode::OK, "{}", promoted.text);
    let dave_token = s.token(DAVE).await;
    assert_eq!(payload(&dave_token)["role"], "admin");
    let listed = s.get("/api/v1/users?role=customer", &dave_token).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);

    let demoted = s
        .patch(
            &format!("/api/v1/users/{dave}"),
            &carol,
            json!({"role": "agent"}),
        )
        .await;
    assert_eq!(demoted.status, StatusCode::OK, "{}", demoted.text);
    // Same token, still unexpired, still saying "admin": a role change ends
    // the session at once (consoles sign in again and re-download).
    s.get("/api/v1/users?role=customer", &dave_token)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    s.post(
        "/api/v1/users",
        &dave_token,
        json!({"email": "x@example.com", "password": "password123", "name": "X", "role": "admin"}),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    // Signed in again, as an agent: no admin rights.
    let dave_token = s.token(DAVE).await;
    s.get("/api/v1/users?role=customer", &dave_token)
        .await
        .assert_error(StatusCode::FORBIDDEN, "E_FORBIDDEN");
}

// ------------------------------------------------- deactivation & passwords

#[tokio::test]
async fn a_deactivated_users_tokens_stop_working_at_once() {
    let s = TestServer::start().await;
    let carol = s.token(CAROL).await;
    let bob = s.session(BOB.0, BOB.1).await;
    let bob_token = str_of(&bob, "access_token").to_string();
    let bob_id = str_of(&bob["user"], "id").to_string();
    assert_eq!(me(&s, &bob_token).await.status, StatusCode::OK);

    let r = s
        .call(
            Method::DELETE,
            &format!("/api/v1/users/{bob_id}"),
            Some(&carol),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);

    // The access token is unexpired, yet refused everywhere.
    me(&s, &bob_token)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    s.get("/api/v1/tickets", &bob_token)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    s.post(
        "/api/v1/tickets",
        &bob_token,
        json!({"subject": "still here?"}),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    // So is the refresh token, and a new login.
    refresh(&s, str_of(&bob, "refresh_token"))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    login(&s, BOB.0, BOB.1)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    token_form(&s, &[("username", BOB.0), ("password", BOB.1)])
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");

    // The history keeps the user, shown inactive.
    let kept = s.get(&format!("/api/v1/users/{bob_id}"), &carol).await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.text);
    assert_eq!(kept.body["active"], false);
    // The admin's own session is unaffected.
    assert_eq!(me(&s, &carol).await.status, StatusCode::OK);
}

#[tokio::test]
async fn tokens_from_before_a_deactivation_stay_dead_after_reactivation() {
    let s = TestServer::start().await;
    let carol = s.token(CAROL).await;
    let bob = s.session(BOB.0, BOB.1).await;
    let bob_token = str_of(&bob, "access_token");
    let bob_path = format!("/api/v1/users/{}", str_of(&bob["user"], "id"));
    assert_eq!(me(&s, bob_token).await.status, StatusCode::OK);
    let r = s.call(Method::DELETE, &bob_path, Some(&carol), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = s.patch(&bob_path, &carol, json!({"active": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    me(&s, bob_token)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    refresh(&s, str_of(&bob, "refresh_token"))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    // A new sign-in works at once.
    let fresh = s.token(BOB).await;
    assert_eq!(me(&s, &fresh).await.status, StatusCode::OK);

    // So after a role change and back.
    let r = s
        .patch(&bob_path, &carol, json!({"role": "customer"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = s.patch(&bob_path, &carol, json!({"role": "agent"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    me(&s, &fresh)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
}

#[tokio::test]
async fn a_new_password_ends_the_access_tokens_issued_before_it() {
    let s = TestServer::start().await;
    let first = s.session(ALICE.0, ALICE.1).await;
    let second = s.session(ALICE.0, ALICE.1).await;
    let r = s
        .patch(
            &format!("/api/v1/users/{}", str_of(&first["user"], "id")),
            str_of(&first, "access_token"),
            json!({"password": "a-brand-new-password"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for session in [&first, &second] {
        me(&s, str_of(session, "access_token"))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    }
    let fresh = s.token((ALICE.0, "a-brand-new-password")).await;
    assert_eq!(me(&s, &fresh).await.status, StatusCode::OK);
}

#[tokio::test]
async fn deactivating_via_patch_also_stops_tokens_at_once() {
    let s = TestServer::start().await;
    let carol = s.token(CAROL).await;
    let alice = s.session(ALICE.0, ALICE.1).await;
    let alice_id = str_of(&alice["user"], "id");
    // Signed-in requests have been made: the server knows alice as active.
    assert_eq!(
        me(&s, str_of(&alice, "access_token")).await.status,
        StatusCode::OK
    );
    let r = s
        .patch(
            &format!("/api/v1/users/{alice_id}"),
            &carol,
            json!({"active": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["active"], false);
    me(&s, str_of(&alice, "access_token"))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    refresh(&s, str_of(&alice, "refresh_token"))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
}

#[tokio::test]
async fn changing_ones_own_password_revokes_every_refresh_token() {
    let s = TestServer::start().await;
    let first = s.session(ALICE.0, ALICE.1).await;
    let second = s.session(ALICE.0, ALICE.1).await;
    let alice_id = str_of(&first["user"], "id");
    let r = s
        .patch(
            &format!("/api/v1/users/{alice_id}"),
            str_of(&first, "access_token"),
            json!({"password": "a-brand-new-password"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_user(&r.body, ALICE.0, "customer");

    for session in [&first, &second] {
        refresh(&s, str_of(session, "refresh_token"))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    }
    login(&s, ALICE.0, ALICE.1)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    let fresh = login(&s, ALICE.0, "a-brand-new-password").await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.text);
    // The new session's refresh token works.
    let next = refresh(&s, str_of(&fresh.body, "refresh_token")).await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.text);
}

#[tokio::test]
async fn an_admin_resetting_a_password_revokes_that_users_refresh_tokens() {
    let s = TestServer::start().await;
    let carol = s.session(CAROL.0, CAROL.1).await;
    let bob = s.session(BOB.0, BOB.1).await;
    let bob_id = str_of(&bob["user"], "id");
    let r = s
        .patch(
            &format!("/api/v1/users/{bob_id}"),
            str_of(&carol, "access_token"),
            json!({"password": "reset-by-carol"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    refresh(&s, str_of(&bob, "refresh_token"))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "E_UNAUTHORIZED");
    // Only bob's sessions end.
    let carols = refresh(&s, str_of(&carol, "refresh_token")).await;
    assert_eq!(carols.status, StatusCode::OK, "{}", carols.text);
    let new = login(&s, BOB.0, "reset-by-carol").await;
    assert_eq!(new.status, StatusCode::OK, "{}", new.text);
}

/// The control for the two tests above: an edit that is not a password
/// change leaves sessions alone.
#[tokio::test]
async fn renaming_keeps_refresh_tokens() {
    let s = TestServer::start().await;
    let alice = s.session(ALICE.0, ALICE.1).await;
    let alice_id = str_of(&alice["user"], "id");
    let r = s
        .patch(
            &format!("/api/v1/users/{alice_id}"),
            str_of(&alice, "access_token"),
            json!({"name": "Alice M."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["name"], "Alice M.");
    assert_eq!(
        me(&s, str_of(&alice, "access_token")).await.status,
        StatusCode::OK
    );
    let next = refresh(&s, str_of(&alice, "refresh_token")).await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.text);
}

#[tokio::test]
async fn a_too_short_new_password_is_refused_and_changes_nothing() {
    let s = TestServer::start().await;
    let alice = s.session(ALICE.0, ALICE.1).await;
    let alice_id = str_of(&alice["user"], "id");
    let r = s
        .patch(
            &format!("/api/v1/users/{alice_id}"),
            str_of(&alice, "access_token"),
            json!({"password": "short"}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "E_VALIDATION");
    assert!(r.body["details"]["password"].is_string(), "{}", r.text);
    let next = refresh(&s, str_of(&alice, "refresh_token")).await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.text);
    assert_eq!(login(&s, ALICE.0, ALICE.1).await.status, StatusCode::OK);
}
