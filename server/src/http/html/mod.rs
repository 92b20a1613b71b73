//! Server-rendered pages for people: the page an embed's link opens
//! ([`ticket_page`]) and the API reference ([`api_docs`]).
//!
//! Every page is one document with no script, no external asset and one
//! stylesheet inline, answered under a `Content-Security-Policy` that admits
//! that stylesheet by its hash and nothing else. Templates are maud's, which
//! escapes every value it is given; the stylesheet is the only text written
//! unescaped.

use std::sync::LazyLock;

use base64::Engine;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::{Digest, Sha256};
use warp::{
    http::{
        HeaderName, HeaderValue, StatusCode,
        header::{
            CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY,
            X_CONTENT_TYPE_OPTIONS,
        },
    },
    reply::Response,
};

pub mod api_docs;
pub mod ticket_page;

/// The one stylesheet every page carries inline.
const STYLE: &str = include_str!("style.css");

/// Admits the inline stylesheet by its SHA-256 and nothing else: no script,
/// image, font, frame, form target or `<base>`, and no site may frame the
/// page.
pub static CONTENT_SECURITY_POLICY_VALUE: LazyLock<HeaderValue> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE));
    let policy = format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("default-src 'none'"))
});

/// Search engines should not keep pages reached by a secret link.
const X_ROBOTS_TAG: HeaderName = HeaderName::from_static("x-robots-tag");

/// A whole document: `title` in the tab, `main` as its content; `wide` for
/// pages of tables.
pub fn document(title: &str, wide: bool, main: Markup, footer: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                meta name="robots" content="noindex, nofollow";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                main class=[wide.then_some("wide")] { (main) }
                footer { (footer) }
            }
        }
    }
}

/// `page` as the answer, with the headers every page carries; `cache` is
/// its `Cache-Control`, if any.
pub fn respond(status: StatusCode, page: Markup, cache: Option<&'static str>) -> Response {
    let mut response = Response::new(page.into_string().into());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        CONTENT_SECURITY_POLICY,
        CONTENT_SECURITY_POLICY_VALUE.clone(),
    );
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_ROBOTS_TAG, HeaderValue::from_static("noindex, nofollow"));
    if let Some(cache) = cache {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_admits_exactly_the_stylesheet_on_the_page() {
        let page = document("t", false, html! { p { "x" } }, html! {}).into_string();
        let (_, rest) = page.split_once("<style>").unwrap();
        let (inline, _) = rest.split_once("</style>").unwrap();
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(inline));
        let policy = CONTENT_SECURITY_POLICY_VALUE.to_str().unwrap();
        assert!(
            policy.contains(&format!("style-src 'sha256-{hash}'")),
            "{policy}"
        );
        assert!(policy.starts_with("default-src 'none';"), "{policy}");
    }
}
