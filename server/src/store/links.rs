//! The public links a store hands out.

/// Builds embed URLs and the links to their pages from the server's public
/// URL.
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

    /// The customer's page of the ticket whose embed token is `token`
    /// (`GET /t/{token}`): the same secret, so whoever may read the embed
    /// may open the page, and rotating the token retires both.
    pub fn page(&self, token: &str) -> String {
        format!("{}/t/{token}", self.base)
    }
}
