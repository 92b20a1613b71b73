//! Whom `desk tickets` acts as, and with which credentials: today the
//! sign-in `desk login` saved (its rotated tokens saved again as the
//! console does). An API token from the environment will be read here,
//! and nowhere else.

use desk_config::client::ClientSettings;
use desk_sync::client::HttpRemote;

use super::exit::Failure;
use crate::session::{SavedSession, SessionError, SessionFile, error_chain};

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
