//! `desk logout`: end the session on the server (best effort), forget it
//! here, and say how many edits are still waiting to sync. The account's
//! replica is kept: those edits go out at the next sign-in as the same
//! user.

use std::process::ExitCode;

use anyhow::Context;
use desk_config::client::ClientSettings;
use desk_sync::client::{HttpRemote, RemoteError};

use super::{
    login::{edits, remote_problem},
    status::{ReplicaState, replica_state},
};
use crate::session::SessionFile;

pub async fn run(settings: &ClientSettings) -> anyhow::Result<ExitCode> {
    let file = SessionFile::in_dir(&settings.data_dir);
    let session = match file.load() {
        Ok(Some(session)) => session,
        Ok(None) => {
            println!("Not signed in.");
            return Ok(ExitCode::SUCCESS);
        }
        // Nothing usable to end on the server; forgetting it is the cure.
        Err(e) => {
            tracing::warn!(error = %e, "deleting an unreadable session file");
            file.delete()?;
            println!("Signed out (the session file was unreadable and is gone).");
            return Ok(ExitCode::SUCCESS);
        }
    };

    let ended = match HttpRemote::new(&session.server_url, session.tokens()) {
        Ok(remote) => remote.logout().await,
        Err(e) => Err(e),
    };
    match ended {
        Ok(()) => {}
        // Already revoked or expired: the server has forgotten it too.
        Err(RemoteError::Unauthorized) => {}
        Err(e) => {
            tracing::warn!(error = %e, "could not end the session on the server");
            eprintln!(
                "warning: could not end the session on the server ({}); it expires on its own.",
                remote_problem(&session.server_url, &e)
            );
        }
    }
    file.delete()
        .with_context(|| format!("could not forget the session in {}", file.path().display()))?;
    tracing::info!(server = %session.server_url, user.id = %session.user.id, "signed out");
    println!(
        "Signed out of {} ({}).",
        session.server_url, session.user.email
    );

    match replica_state(session.replica_dir(&settings.data_dir)).await {
        ReplicaState::Ready(status) if status.pending > 0 => println!(
            "{} not yet synced {} on this machine; sign in again as {} to send {}.",
            edits(status.pending),
            if status.pending == 1 { "stays" } else { "stay" },
            session.user.email,
            if status.pending == 1 { "it" } else { "them" },
        ),
        ReplicaState::InUse => println!(
            "A running console still has this account open; quit it too. \
             Edits not yet synced stay on this machine for the next sign-in as {}.",
            session.user.email
        ),
        ReplicaState::Failed(problem) => {
            tracing::warn!(%problem, "could not count the edits not yet synced");
        }
        ReplicaState::Ready(_) | ReplicaState::Missing => {}
    }
    Ok(ExitCode::SUCCESS)
}
