//! The account's replica and one sync step with its server: what every
//! `desk tickets` command stands on. The step is the engine's own
//! [`Engine::sync_once`] (push what is queued, pull to the end), not its
//! long-running loop: a command syncs, does its work, and exits.

use std::{collections::HashSet, sync::Arc};

use desk_config::client::ClientSettings;
use desk_sync::client::{
    ClientError, ConflictEntry, Engine, HttpRemote, Replica,
    plan::{self, Recovery},
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{access, exit::Failure};
use crate::{
    app::conflicts::{Telling, tell},
    commands::{login::remote_problem, status::utc},
    runtime::open_replica,
    session::{SavedSession, error_chain},
};

/// Could the server be reached?
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    Online,
    /// Why not, in words.
    Offline(String),
}

/// An open replica, its server, and what its conflict inbox held before
/// this command ran.
pub struct Link {
    pub account: SavedSession,
    pub replica: Arc<Replica>,
    pub remote: Arc<HttpRemote>,
    engine: Engine<Arc<HttpRemote>>,
    known_conflicts: HashSet<Uuid>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl Link {
    /// Opens the signed-in account's replica, as the console does.
    pub async fn open(settings: &ClientSettings) -> Result<Link, Failure> {
        let access = access::signed_in(settings)?;
        let replica = Arc::new(open_replica(&settings.data_dir, &access.account).await?);
        let remote = Arc::new(access.remote);
        let known_conflicts = replica
            .conflicts()?
            .into_iter()
            .map(|c| c.op.op_id)
            .collect();
        Ok(Link {
            account: access.account,
            engine: Engine::new(Arc::clone(&replica), Arc::clone(&remote)),
            replica,
            remote,
            known_conflicts,
        })
    }

    /// One sync step. A server that cannot be reached is not a failure
    /// (the replica answers); one that no longer accepts the sign-in is.
    pub async fn sync(&self) -> Result<Reach, Failure> {
        match self.engine.sync_once().await {
            Ok(report) => {
                tracing::debug!(?report, "synced");
                Ok(Reach::Online)
            }
            Err(e) => match plan::recovery(&e) {
                Recovery::SignedOut => Err(Failure::SignedOut(
                    "the server no longer accepts this sign-in".into(),
                )),
                Recovery::Retry => Ok(Reach::Offline(self.problem(&e))),
                Recovery::ForgetServer | Recovery::Stall => Err(Failure::Other(format!(
                    "syncing with {} failed: {}",
                    self.account.server_url,
                    self.problem(&e)
                ))),
            },
        }
    }

    /// Says on stderr that the command is `doing` ("showing", "working
    /// on") this machine's copy, and how old it is.
    pub fn say_offline(&self, why: &str, doing: &str) -> Result<(), Failure> {
        let age = match self.replica.status()?.last_synced {
            Some(at) => format!(
                "last synced {} ({})",
                crate::ui::ago(OffsetDateTime::now_utc(), at),
                utc(at)
            ),
            None => "never synced".to_string(),
        };
        eprintln!("Offline ({why}): {doing} this machine's copy, {age}.");
        Ok(())
    }

    /// The entry in plain words, as the console's inbox says it.
    pub fn tell(&self, entry: &ConflictEntry) -> Result<String, Failure> {
        let users = self.replica.users()?;
        let name_of = |id: Uuid| users.iter().find(|u| u.id == id).map(|u| u.name.clone());
        let in_view = self.replica.ticket(entry.op.ticket_id)?.is_some();
        Ok(tell(
            entry,
            &Telling {
                now: OffsetDateTime::now_utc(),
                name_of: &name_of,
                in_view,
            },
        ))
    }

    /// Earlier edits (queued by the console or an offline command) that
    /// the server refused since this command began: said on stderr, and
    /// kept in the console's conflicts inbox.
    pub fn warn_new_conflicts(&self) -> Result<(), Failure> {
        for entry in self.replica.conflicts()? {
            if !self.known_conflicts.contains(&entry.op.op_id) {
                eprintln!(
                    "An edit queued earlier was not applied (it waits in the console's conflicts inbox): {}",
                    self.tell(&entry)?
                );
            }
        }
        Ok(())
    }

    fn problem(&self, error: &ClientError) -> String {
        match error.remote() {
            Some(remote) => remote_problem(&self.account.server_url, remote),
            None => error_chain(error),
        }
    }
}
