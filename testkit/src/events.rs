//! A live event stream (`GET /api/v1/sync/events`) read event by event.

use serde_json::Value;

/// The `data:` of each event in turn, from an open stream.
#[derive(Debug)]
pub struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    /// Opens the stream at `url` as `token`.
    pub async fn open(http: &reqwest::Client, url: &str, token: &str) -> Events {
        let response = http
            .get(format!("{url}/api/v1/sync/events"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        Events {
            response,
            buffer: String::new(),
        }
    }

    /// The next event's data.
    pub async fn next(&mut self) -> Value {
        loop {
            if let Some(at) = self.buffer.find("data:")
                && let Some(end) = self.buffer[at..].find('\n')
            {
                let line = self.buffer[at + 5..at + end].trim().to_string();
                self.buffer.drain(..at + end);
                return serde_json::from_str(&line).unwrap();
            }
            let chunk = self
                .response
                .chunk()
                .await
                .unwrap()
                .expect("the stream ended");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}
