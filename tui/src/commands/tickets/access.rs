//! Whom `desk tickets` acts as, and with which credentials: an API token
//! from `DESK_TOKEN` — read here and nowhere else — or else the sign-in
//! `desk login` saved (its rotated tokens saved again as the console
//! does).

use desk_config::client::ClientSettings;
use desk_sync::client::HttpRemote;

use super::exit::Failure;
use crate::session::{SavedSession, SessionError, SessionFile, error_chain};

/// The variable an API token is given in. Not a flag: a command line is
/// visible to every user of the machine (`ps`).
pub const TOKEN_VAR: &str = "DESK_TOKEN";

/// What API tokens start with (docs/API.md › API tokens).
const TOKEN_PREFIX: &str = "desk_";

/// An API token, and the server as it. `Debug` shows the server only.
pub struct TokenAccess {
    /// Without a trailing slash.
    pub server_url: String,
    pub remote: HttpRemote,
}

impl std::fmt::Debug for TokenAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAccess")
            .field("server_url", &self.server_url)
            .finish_non_exhaustive()
    }
}

/// The API token in `DESK_TOKEN`, if it is set and not empty, with the
/// server it is for: `DESK_SERVER_URL`, else the config file's
/// `server_url`. Its value is never put in a message.
pub fn api_token(settings: &ClientSettings) -> Result<Option<TokenAccess>, Failure> {
    let Some(value) = std::env::var_os(TOKEN_VAR).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let secret = value
        .to_str()
        .map(str::trim)
        .filter(|s| s.starts_with(TOKEN_PREFIX))
        .ok_or_else(|| {
            Failure::Other(format!(
                "{TOKEN_VAR} does not hold an API token (they start with {TOKEN_PREFIX}); \
                 unset it to use the sign-in of `desk login`"
            ))
        })?;
    let Some(server_url) = settings.server_url.clone() else {
        return Err(Failure::Other(format!(
            "{TOKEN_VAR} needs a server: set DESK_SERVER_URL, or server_url in the config file"
        )));
    };
    let remote = HttpRemote::with_api_token(&server_url, secret)
        .map_err(|e| Failure::Other(error_chain(&e)))?;
    Ok(Some(TokenAccess { server_url, remote }))
}

/// A signed-in account: who, and the server as them.
#[derive(Debug)]
pub struct Access {
    pub account: SavedSession,
    pub remote: HttpRemote,
}

/// The saved sign-in, or why there is none to use.
pub fn signed_in(settings: &ClientSettings) -> Result<Access, Failure> {
    let file = SessionFile::in_dir(&settings.data_dir);
    let account = match file.load() {
        Ok(Some(account)) => account,
        Ok(None) => return Err(Failure::NotSignedIn),
        Err(SessionError::Damaged { .. }) => {
            return Err(Failure::SignedOut(format!(
                "the saved sign-in in {} is damaged",
                file.path().display()
            )));
        }
        Err(e) => return Err(Failure::Other(error_chain(&e))),
    };
    let remote = HttpRemote::new(&account.server_url, account.tokens())
        .map_err(|e| Failure::Other(error_chain(&e)))?
        .on_tokens(file.saver(account.clone()));
    Ok(Access { account, remote })
}
