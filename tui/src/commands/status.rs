//! `desk status`: where this machine stands — the server and whether it
//! answers, who is signed in, and the account's replica: edits not yet
//! synced, conflicts, last sync. Exit code 0 whatever the answers.
//!
//! `--json` prints one object:
//!
//! | field            | type           | meaning |
//! |------------------|----------------|---------|
//! | `data_dir`       | string         | where the session, replicas and log live |
//! | `server_url`     | string \| null | the session's server, else `server_url` from the config |
//! | `server_reachable` | bool \| null | `GET /health` answered `ok` within 2 s; `null` without a server |
//! | `server_version` | string \| null | the server's version, from `/health` |
//! | `server_error`   | string \| null | why the server is not reachable |
//! | `signed_in`      | bool           | a saved session exists |
//! | `session_error`  | string \| null | the session file could not be read |
//! | `user`           | object \| null | `{id, email, name, role}` of the signed-in user |
//! | `replica`        | string \| null | `ready`, `not created yet`, `in use by a running console`, `unreadable`; `null` when signed out |
//! | `replica_error`  | string \| null | why the replica is unreadable |
//! | `pending`        | int \| null    | edits queued here, not yet accepted by the server |
//! | `conflicts`      | int \| null    | entries in the conflict inbox |
//! | `last_synced`    | string \| null | RFC 3339 time the replica last heard from the server |
//!
//! `pending`, `conflicts` and `last_synced` are `null` when the replica could
//! not be read (a running console holds it: its status bar shows the same).

use std::{
    fs,
    path::{Path, PathBuf},
    process::ExitCode,
    time::Duration,
};

use desk_config::client::ClientSettings;
use desk_sync::{
    client::{Replica, ReplicaStatus},
    wire::Health,
};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::login::{edits, root_cause};
use crate::{
    cli::StatusArgs,
    session::{SessionFile, error_chain},
};

/// How long `desk status` waits for the server.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

const IN_USE: &str = "in use by a running console";

/// What `desk status` found; printed as text or JSON.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub data_dir: PathBuf,
    pub server_url: Option<String>,
    pub server_reachable: Option<bool>,
    pub server_version: Option<String>,
    pub server_error: Option<String>,
    pub signed_in: bool,
    pub session_error: Option<String>,
    pub user: Option<UserReport>,
    pub replica: Option<&'static str>,
    pub replica_error: Option<String>,
    pub pending: Option<usize>,
    pub conflicts: Option<usize>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_synced: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UserReport {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
}

pub async fn run(settings: &ClientSettings, args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let report = gather(settings).await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render_text(&report, OffsetDateTime::now_utc()));
    }
    Ok(ExitCode::SUCCESS)
}

/// Looks at the session, then asks the server and opens the replica at the
/// same time (either may take a moment).
pub async fn gather(settings: &ClientSettings) -> StatusReport {
    let (session, session_error) = match SessionFile::in_dir(&settings.data_dir).load() {
        Ok(session) => (session, None),
        Err(e) => (None, Some(error_chain(&e))),
    };
    let server_url = session
        .as_ref()
        .map(|s| s.server_url.clone())
        .or_else(|| settings.server_url.clone());
    let replica_dir = session.as_ref().map(|s| s.replica_dir(&settings.data_dir));
    let (health, replica) = tokio::join!(
        async {
            match &server_url {
                Some(url) => Some(health(url).await),
                None => None,
            }
        },
        async {
            match replica_dir {
                Some(dir) => Some(replica_state(dir).await),
                None => None,
            }
        }
    );

    let mut report = StatusReport {
        data_dir: settings.data_dir.clone(),
        server_url,
        server_reachable: None,
        server_version: None,
        server_error: None,
        signed_in: session.is_some(),
        session_error,
        user: session.as_ref().map(|s| UserReport {
            id: s.user.id,
            email: s.user.email.clone(),
            name: s.user.name.clone(),
            role: s.user.role.to_string(),
        }),
        replica: None,
        replica_error: None,
        pending: None,
        conflicts: None,
        last_synced: None,
    };
    match health {
        Some(Ok(health)) => {
            report.server_reachable = Some(true);
            report.server_version = Some(health.version);
        }
        Some(Err(problem)) => {
            report.server_reachable = Some(false);
            report.server_error = Some(problem);
        }
        None => {}
    }
    match replica {
        Some(ReplicaState::Ready(status)) => {
            report.replica = Some("ready");
            report.pending = Some(status.pending);
            report.conflicts = Some(status.conflicts);
            report.last_synced = status.last_synced;
        }
        Some(ReplicaState::Missing) => {
            report.replica = Some("not created yet");
            report.pending = Some(0);
            report.conflicts = Some(0);
        }
        Some(ReplicaState::InUse) => report.replica = Some(IN_USE),
        Some(ReplicaState::Failed(problem)) => {
            report.replica = Some("unreadable");
            report.replica_error = Some(problem);
        }
        None => {}
    }
    report
}

/// `GET <url>/health`, within [`HEALTH_TIMEOUT`].
async fn health(url: &str) -> Result<Health, String> {
    let client = reqwest::Client::builder()
        .timeout(HEALTH_TIMEOUT)
        .user_agent(concat!("desk-console/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| error_chain(&e))?;
    let response = client
        .get(format!("{url}/health"))
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                format!("no answer within {} s", HEALTH_TIMEOUT.as_secs())
            } else {
                root_cause(&e)
            }
        })?;
    let status = response.status();
    let body: Option<Health> = response.json().await.ok();
    match body {
        Some(health) if status.is_success() && health.status == "ok" => Ok(health),
        Some(health) => Err(format!("the server answered {status} ({})", health.status)),
        None => Err(format!("answered {status}, but not as a Desk server does")),
    }
}

/// An account's replica, as far as `status` and `logout` can tell.
#[derive(Debug)]
pub(crate) enum ReplicaState {
    /// Never opened: nothing queued.
    Missing,
    /// A running console holds sled's lock on it.
    InUse,
    Ready(ReplicaStatus),
    Failed(String),
}

/// Opens the replica in `dir` just long enough to read its status. A
/// running console holds its lock: that is checked first, since
/// `Replica::open` waits a while for a lock before giving up.
pub(crate) async fn replica_state(dir: PathBuf) -> ReplicaState {
    if !dir.exists() {
        return ReplicaState::Missing;
    }
    let opened = tokio::task::spawn_blocking(move || {
        if held_by_another(&dir) {
            return ReplicaState::InUse;
        }
        match Replica::open(&dir).and_then(|replica| replica.status()) {
            Ok(status) => ReplicaState::Ready(status),
            // Lost a race with a console starting: the lock again.
            Err(_) if held_by_another(&dir) => ReplicaState::InUse,
            Err(e) => ReplicaState::Failed(error_chain(&e)),
        }
    })
    .await;
    opened.unwrap_or_else(|_| ReplicaState::Failed("reading the replica stopped".into()))
}

/// sled takes an exclusive advisory lock on `<dir>/db` for as long as a
/// process has the database open.
fn held_by_another(dir: &Path) -> bool {
    let Ok(file) = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join("db"))
    else {
        return false;
    };
    matches!(file.try_lock(), Err(fs::TryLockError::WouldBlock))
}

/// A few aligned lines.
pub fn render_text(report: &StatusReport, now: OffsetDateTime) -> String {
    let mut lines: Vec<(&str, String)> = Vec::new();
    let server = match (&report.server_url, report.server_reachable) {
        (None, _) => "none configured (desk login --server URL)".to_string(),
        (Some(url), Some(true)) => match &report.server_version {
            Some(version) => format!("{url} (answering, version {version})"),
            None => format!("{url} (answering)"),
        },
        (Some(url), _) => format!(
            "{url} (not answering: {})",
            report.server_error.as_deref().unwrap_or("no answer")
        ),
    };
    lines.push(("Server", server));
    let signed_in = match (&report.user, &report.session_error) {
        (Some(user), _) => format!("{} <{}> ({})", user.name, user.email, user.role),
        (None, Some(problem)) => format!("no ({problem})"),
        (None, None) => "no (sign in with `desk login`)".to_string(),
    };
    lines.push(("Signed in", signed_in));
    if let Some(replica) = report.replica {
        if replica == IN_USE {
            lines.push((
                "Replica",
                format!("{IN_USE} (its status bar shows the rest)"),
            ));
        } else if let Some(problem) = &report.replica_error {
            lines.push(("Replica", format!("{replica}: {problem}")));
        }
    }
    if let Some(pending) = report.pending {
        let text = match pending {
            0 => "none".to_string(),
            n => format!("{} not yet synced", edits(n)),
        };
        lines.push(("Pending", text));
    }
    if let Some(conflicts) = report.conflicts {
        let text = match conflicts {
            0 => "none".to_string(),
            n => format!("{n} (open the inbox with `i` in the console)"),
        };
        lines.push(("Conflicts", text));
    }
    if report
        .replica
        .is_some_and(|r| r == "ready" || r == "not created yet")
    {
        let text = match report.last_synced {
            Some(at) => format!("{} ({})", ago(now, at), utc(at)),
            None => "never".to_string(),
        };
        lines.push(("Last sync", text));
    }
    let width = lines
        .iter()
        .map(|(label, _)| label.len())
        .max()
        .unwrap_or(0)
        + 1;
    lines
        .into_iter()
        .map(|(label, value)| format!("{:<width$} {value}\n", format!("{label}:")))
        .collect()
}

/// `just now`, `42s ago`, `3m ago`, `5h ago`, `2d ago`.
fn ago(now: OffsetDateTime, then: OffsetDateTime) -> String {
    let seconds = (now - then).whole_seconds();
    match seconds {
        i64::MIN..5 => "just now".to_string(),
        5..60 => format!("{seconds}s ago"),
        60..3600 => format!("{}m ago", seconds / 60),
        3600..172_800 => format!("{}h ago", seconds / 3600),
        _ => format!("{}d ago", seconds / 86_400),
    }
}

pub(crate) fn utc(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    at.to_offset(time::UtcOffset::UTC)
        .format(format)
        .unwrap_or_else(|_| at.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn signed_in() -> StatusReport {
        StatusReport {
            data_dir: "/home/bob/.local/share/desk".into(),
            server_url: Some("http://127.0.0.1:7878".into()),
            server_reachable: Some(true),
            server_version: Some("0.1.0".into()),
            server_error: None,
            signed_in: true,
            session_error: None,
            user: Some(UserReport {
                id: Uuid::nil(),
                email: "bob@example.com".into(),
                name: "Bob Keller".into(),
                role: "agent".into(),
            }),
            replica: Some("ready"),
            replica_error: None,
            pending: Some(2),
            conflicts: Some(0),
            last_synced: Some(datetime!(2025-01-02 03:04:05 UTC)),
        }
    }

    #[test]
    fn text_is_a_few_aligned_lines() {
        let text = render_text(&signed_in(), datetime!(2025-01-02 03:07:05 UTC));
        assert_eq!(
            text,
            "Server:    http://127.0.0.1:7878 (answering, version 0.1.0)\n\
             Signed in: Bob Keller <bob@example.com> (agent)\n\
             Pending:   2 edits not yet synced\n\
             Conflicts: none\n\
             Last sync: 3m ago (2025-01-02 03:04 UTC)\n"
        );
    }

    #[test]
    fn a_console_holding_the_replica_is_not_an_error() {
        let report = StatusReport {
            replica: Some(IN_USE),
            pending: None,
            conflicts: None,
            last_synced: None,
            ..signed_in()
        };
        let text = render_text(&report, OffsetDateTime::UNIX_EPOCH);
        assert!(
            text.contains("Replica:   in use by a running console"),
            "{text}"
        );
        assert!(!text.contains("Pending"), "{text}");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["replica"], "in use by a running console");
        assert!(json["pending"].is_null());
    }

    #[test]
    fn json_names_every_documented_field() {
        let json = serde_json::to_value(signed_in()).unwrap();
        for field in [
            "data_dir",
            "server_url",
            "server_reachable",
            "server_version",
            "server_error",
            "signed_in",
            "session_error",
            "user",
            "replica",
            "replica_error",
            "pending",
            "conflicts",
            "last_synced",
        ] {
            assert!(json.get(field).is_some(), "{field} in {json}");
        }
        assert_eq!(json["last_synced"], "2025-01-02T03:04:05Z");
        assert_eq!(json["user"]["email"], "bob@example.com");
        assert_eq!(json["user"]["role"], "agent");
    }

    #[test]
    fn signed_out_says_how_to_sign_in() {
        let report = StatusReport {
            server_url: None,
            server_reachable: None,
            server_version: None,
            signed_in: false,
            user: None,
            replica: None,
            pending: None,
            conflicts: None,
            last_synced: None,
            ..signed_in()
        };
        let text = render_text(&report, OffsetDateTime::UNIX_EPOCH);
        assert_eq!(
            text,
            "Server:    none configured (desk login --server URL)\n\
             Signed in: no (sign in with `desk login`)\n"
        );
    }

    #[test]
    fn times_read_as_ago() {
        let now = datetime!(2025-01-10 12:00:00 UTC);
        assert_eq!(ago(now, now), "just now");
        assert_eq!(ago(now, datetime!(2025-01-10 11:59:18 UTC)), "42s ago");
        assert_eq!(ago(now, datetime!(2025-01-10 11:57:00 UTC)), "3m ago");
        assert_eq!(ago(now, datetime!(2025-01-10 07:00:00 UTC)), "5h ago");
        assert_eq!(ago(now, datetime!(2025-01-08 12:00:00 UTC)), "2d ago");
        assert_eq!(ago(now, datetime!(2025-01-11 12:00:00 UTC)), "just now");
    }

    #[tokio::test]
    async fn a_missing_replica_has_nothing_pending() {
        let dir = tempfile::tempdir().unwrap();
        let state = replica_state(dir.path().join("accounts/x/replica")).await;
        assert!(matches!(state, ReplicaState::Missing), "{state:?}");
        assert!(
            !dir.path().join("accounts").exists(),
            "status creates nothing"
        );
    }

    #[tokio::test]
    async fn an_open_replica_is_reported_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("replica");
        let held = Replica::open(&path).unwrap();
        let state = replica_state(path.clone()).await;
        assert!(matches!(state, ReplicaState::InUse), "{state:?}");
        drop(held);
        let state = replica_state(path).await;
        assert!(
            matches!(&state, ReplicaState::Ready(s) if s.pending == 0),
            "{state:?}"
        );
    }
}
