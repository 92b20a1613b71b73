//! The public links a store hands out.

/// Builds embed URLs and ticket links from the server's public URL.
#[derive(Debug, Clone)]
pub struct Links {
    base: String,
}

impl Links {
    pub fn new(public_url: &str) -> Self {
        Links {
            base: public_url.trim_end_matches('/').to_string(),
        }
    }

    pub fn embed_url(&self, token: &str) -> String {
        format!("{}/api/v1/tickets/embed/{token}", self.base)
    }

    pub fn ticket_link(&self, number: u64) -> String {
        format!("{}/tickets/{number}", self.base)
    }
}
