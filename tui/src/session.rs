//! The saved session and the per-account folders.
//!
//! `<data_dir>/session.json` holds the server, the user and the token pair
//! of the last `desk login` (mode 0600, replaced atomically, never logged).
//! Each server + account has its own folder,
//! `<data_dir>/accounts/<host>_<port>-<user id>/`, holding its replica: one
//! user's edits are never pushed under another's name, and signing out
//! keeps the edits that have not synced yet for the next sign-in.

use std::{
    fs, io,
    io::Write,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
};

use desk_sync::{
    client::{Tokens, TokensCallback},
    model::User,
    wire::{Session, sync::SyncUser},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The session file's name inside the data folder.
pub const SESSION_FILE: &str = "session.json";

/// A signed-in session as `desk login` leaves it. `Debug` does not show the
/// tokens.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedSession {
    /// `https://desk.example.com`, without a trailing slash.
    pub server_url: String,
    pub user: User,
    pub access_token: String,
    pub refresh_token: String,
}

impl std::fmt::Debug for SavedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SavedSession")
            .field("server_url", &self.server_url)
            .field("user", &self.user)
            .field("access_token", &"<redacted>")
            .field("refresh_token", &"<redacted>")
            .finish()
    }
}

impl SavedSession {
    /// The session a sign-in to `server_url` answered with.
    pub fn from_login(server_url: &str, session: &Session) -> SavedSession {
        SavedSession {
            server_url: server_url.trim_end_matches('/').to_string(),
            user: session.user.clone(),
            access_token: session.access_token.clone(),
            refresh_token: session.refresh_token.clone(),
        }
    }

    /// The token pair, for [`desk_sync::client::HttpRemote::new`].
    pub fn tokens(&self) -> Tokens {
        Tokens {
            access: self.access_token.clone(),
            refresh: self.refresh_token.clone(),
        }
    }

    /// The same session with a rotated token pair.
    pub fn with_tokens(&self, tokens: &Tokens) -> SavedSession {
        SavedSession {
            access_token: tokens.access.clone(),
            refresh_token: tokens.refresh.clone(),
            ..self.clone()
        }
    }

    /// Whom the replica belongs to.
    pub fn sync_user(&self) -> SyncUser {
        SyncUser::from(&self.user)
    }

    /// This account's replica folder.
    pub fn replica_dir(&self, data_dir: &Path) -> PathBuf {
        replica_dir(data_dir, &self.server_url, self.user.id)
    }

    /// Same server, same user (the tokens may differ).
    fn same_account(&self, other: &SavedSession) -> bool {
        self.user.id == other.user.id && self.server_url == other.server_url
    }
}

/// Why the session file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("cannot read the session file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Not a session this version wrote: signing in again replaces it.
    #[error("the session file {} is damaged; sign in again with `desk login`", path.display())]
    Damaged {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot write the session file {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot delete the session file {}", path.display())]
    Delete {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// `<data_dir>/session.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFile {
    path: PathBuf,
}

impl SessionFile {
    pub fn in_dir(data_dir: &Path) -> SessionFile {
        SessionFile {
            path: data_dir.join(SESSION_FILE),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved session; `None` when nobody is signed in.
    pub fn load(&self) -> Result<Option<SavedSession>, SessionError> {
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(SessionError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| SessionError::Damaged {
                path: self.path.clone(),
                source,
            })
    }

    /// Replaces the saved session atomically: a reader (or a crash) sees the
    /// old file or the new one, never a mix, and the tokens are never
    /// readable by others, not even for a moment.
    pub fn save(&self, session: &SavedSession) -> Result<(), SessionError> {
        self.write(session).map_err(|source| SessionError::Write {
            path: self.path.clone(),
            source,
        })
    }

    fn write(&self, session: &SavedSession) -> io::Result<()> {
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        create_private_dir(dir)?;
        let json = serde_json::to_vec_pretty(session).map_err(io::Error::other)?;
        // tempfile creates the file 0600 (O_EXCL) on Unix; said explicitly
        // so it never depends on a default.
        let mut builder = tempfile::Builder::new();
        builder.prefix(".session.").suffix(".tmp");
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600));
        let mut temp = builder.tempfile_in(dir)?;
        temp.write_all(&json)?;
        temp.write_all(b"\n")?;
        temp.as_file().sync_all()?;
        temp.persist(&self.path).map_err(|e| e.error)?;
        sync_dir(dir)
    }

    /// Forgets the session; `false` when there was none.
    pub fn delete(&self) -> Result<bool, SessionError> {
        match fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(source) => {
                return Err(SessionError::Delete {
                    path: self.path.clone(),
                    source,
                });
            }
        }
        if let Some(dir) = self.path.parent()
            && let Err(e) = sync_dir(dir)
        {
            tracing::warn!(error = %e, "could not flush the data folder after deleting the session");
        }
        Ok(true)
    }

    /// A callback for [`desk_sync::client::HttpRemote::on_tokens`]: saves
    /// every rotated token pair, since the old refresh token is spent. It
    /// writes synchronously, so rotations land in order; they come once per
    /// access-token lifetime. The file is left alone when it now holds
    /// another account (`desk login` as someone else meanwhile).
    pub fn saver(&self, session: SavedSession) -> TokensCallback {
        let file = self.clone();
        let current = Mutex::new(session);
        Arc::new(move |tokens: &Tokens| {
            let mut current = current.lock().unwrap_or_else(PoisonError::into_inner);
            *current = current.with_tokens(tokens);
            match file.load() {
                Ok(Some(on_disk)) if !on_disk.same_account(&current) => {
                    tracing::warn!(
                        path = %file.path.display(),
                        "the session file now holds another account; rotated tokens not saved"
                    );
                    return;
                }
                // Signed out meanwhile (`desk logout`): a rotation must not
                // sign the person back in.
                Ok(None) => {
                    tracing::info!("the session was removed; rotated tokens not saved");
                    return;
                }
                Ok(Some(_)) => {}
                // Damaged or unreadable: replacing it is the cure.
                Err(e) => tracing::warn!(error = %e, "replacing an unreadable session file"),
            }
            match file.save(&current) {
                Ok(()) => tracing::debug!("saved rotated tokens"),
                Err(e) => tracing::warn!(
                    error = %error_chain(&e),
                    "could not save rotated tokens; the next start may need `desk login`"
                ),
            }
        })
    }
}

/// `error: cause: cause`, on one line.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Some errors repeat their source's text; say it once.
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The replica folder of `user_id` on `server_url`:
/// `<data_dir>/accounts/<host>_<port>-<user id>/replica`. Two servers, or
/// two users of one server, never share a folder.
pub fn replica_dir(data_dir: &Path, server_url: &str, user_id: Uuid) -> PathBuf {
    data_dir
        .join("accounts")
        .join(format!("{}-{user_id}", server_slug(server_url)))
        .join("replica")
}

/// `host_port` of a server URL, with only `[a-z0-9.-_]` in it. Servers
/// behind one host and port under different paths get a short hash of the
/// path as well.
fn server_slug(server_url: &str) -> String {
    let url = server_url.trim();
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => (String::from("http"), url),
    };
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    // user:password@host — never part of a folder name.
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = split_host_port(host_port);
    let port = port.map(str::to_string).unwrap_or_else(|| {
        match scheme.as_str() {
            "https" => "443",
            _ => "80",
        }
        .to_string()
    });
    let mut slug = format!("{}_{}", safe(&host.to_ascii_lowercase()), safe(&port));
    let path = path.trim_end_matches('/');
    if !path.is_empty() {
        slug.push_str(&format!("_{:08x}", fnv1a(path.as_bytes())));
    }
    slug
}

/// `host:port`, `[v6]:port`, `host`, `[v6]`.
fn split_host_port(host_port: &str) -> (&str, Option<&str>) {
    if let Some(v6) = host_port.strip_prefix('[') {
        let (host, after) = v6.split_once(']').unwrap_or((v6, ""));
        let port = after.strip_prefix(':').filter(|p| !p.is_empty());
        return (host, port);
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() => (host, Some(port)),
        Some((host, _)) => (host, None),
        None => (host_port, None),
    }
}

fn safe(part: &str) -> String {
    let slug: String = part
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' => c,
            _ => '_',
        })
        .collect();
    if slug.is_empty() {
        "_".to_string()
    } else {
        slug
    }
}

/// FNV-1a, 32 bits: stable across builds and platforms, unlike `Hash`.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |hash, &b| {
        (hash ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Creates `dir` (and its parents) readable by the owner only; an existing
/// folder keeps its mode.
fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Makes a rename or delete in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use desk_sync::model::Role;
    use time::OffsetDateTime;

    use super::*;

    fn user(email: &str) -> User {
        User {
            id: Uuid::new_v4(),
            email: email.into(),
            name: "Bob Keller".into(),
            role: Role::Agent,
            active: true,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn session(access: &str, refresh: &str) -> SavedSession {
        SavedSession::from_login(
            "http://127.0.0.1:7878/",
            &Session {
                access_token: access.into(),
                refresh_token: refresh.into(),
                token_type: "bearer".into(),
                expires_in: 900,
                user: user("bob@example.com"),
            },
        )
    }

    #[test]
    fn from_login_keeps_the_user_and_trims_the_url() {
        let s = session("acc", "ref");
        assert_eq!(s.server_url, "http://127.0.0.1:7878");
        assert_eq!(s.user.email, "bob@example.com");
        assert_eq!(
            s.tokens(),
            Tokens {
                access: "acc".into(),
                refresh: "ref".into()
            }
        );
        assert_eq!(s.sync_user().id, s.user.id);
        assert_eq!(s.sync_user().role, Role::Agent);
    }

    #[test]
    fn save_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let file = SessionFile::in_dir(&dir.path().join("nested/data"));
        assert_eq!(file.load().unwrap(), None, "nobody signed in yet");
        let s = session("acc-1", "ref-1");
        file.save(&s).unwrap();
        assert_eq!(file.path(), dir.path().join("nested/data/session.json"));
        assert_eq!(file.load().unwrap(), Some(s));
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let file = SessionFile::in_dir(&data);
        file.save(&session("acc", "ref")).unwrap();
        let mode = fs::metadata(file.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        let mode = fs::metadata(&data).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "a folder it created: {mode:o}");
        // A second save goes through a new temp file: still 0600.
        file.save(&session("acc-2", "ref-2")).unwrap();
        let mode = fs::metadata(file.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }

    #[test]
    fn a_second_save_replaces_the_first_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = SessionFile::in_dir(dir.path());
        file.save(&session("acc-1", "ref-1")).unwrap();
        let second = session("acc-2", "ref-2");
        file.save(&second).unwrap();
        assert_eq!(file.load().unwrap(), Some(second));
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["session.json"]);
    }

    #[test]
    fn a_failed_save_leaves_the_old_session() {
        let dir = tempfile::tempdir().unwrap();
        let file = SessionFile::in_dir(dir.path());
        let first = session("acc-1", "ref-1");
        file.save(&first).unwrap();
        // The target became a folder: the rename fails, the temp file goes.
        let blocked = SessionFile {
            path: dir.path().join("blocked"),
        };
        fs::create_dir_all(blocked.path().join("inside")).unwrap();
        assert!(matches!(
            blocked.save(&first),
            Err(SessionError::Write { .. })
        ));
        assert_eq!(file.load().unwrap(), Some(first));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn delete_forgets_the_session() {
        let dir = tempfile::tempdir().unwrap();
        let file = SessionFile::in_dir(dir.path());
        assert!(!file.delete().unwrap());
        file.save(&session("acc", "ref")).unwrap();
        assert!(file.delete().unwrap());
        assert_eq!(file.load().unwrap(), None);
    }

    #[test]
    fn a_damaged_file_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let file = SessionFile::in_dir(dir.path());
        fs::write(file.path(), "{not json").unwrap();
        let err = file.load().unwrap_err();
        assert!(matches!(err, SessionError::Damaged { .. }));
        assert!(err.to_string().contains("desk login"), "{err}");
    }

    #[test]
    fn debug_does_not_show_tokens() {
        let s = session("access-SECRET", "refresh-SECRET");
        let printed = format!("{s:?}");
        assert!(!printed.contains("SECRET"), "{printed}");
        assert!(printed.contains("<redacted>"));
        assert!(printed.contains("bob@example.com"));
    }

    #[test]
    fn the_saver_persists_rotated_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let file = SessionFile::in_dir(dir.path());
        let s = session("acc-1", "ref-1");
        file.save(&s).unwrap();
        let save = file.saver(s.clone());
        let rotated = Tokens {
            access: "acc-2".into(),
            refresh: "ref-2".into(),
        };
        save(&rotated);
        let loaded = file.load().unwrap().unwrap();
        assert_eq!(loaded.tokens(), rotated);
        assert_eq!(loaded.user, s.user);

        // Someone else signed in meanwhile: their session stays.
        let other = SavedSession {
            user: user("carol@example.com"),
            ..session("acc-c", "ref-c")
        };
        file.save(&other).unwrap();
        save(&Tokens {
            access: "acc-3".into(),
            refresh: "ref-3".into(),
        });
        assert_eq!(file.load().unwrap(), Some(other));
    }

    #[test]
    fn each_server_and_user_has_its_own_replica() {
        let data = Path::new("/data");
        let bob = Uuid::new_v4();
        let carol = Uuid::new_v4();
        let dir = replica_dir(data, "http://127.0.0.1:7878", bob);
        assert_eq!(
            dir,
            data.join(format!("accounts/127.0.0.1_7878-{bob}/replica"))
        );
        assert_ne!(dir, replica_dir(data, "http://127.0.0.1:7878", carol));
        assert_ne!(dir, replica_dir(data, "http://127.0.0.1:7879", bob));
        assert_ne!(dir, replica_dir(data, "http://localhost:7878", bob));
        assert_ne!(
            replica_dir(data, "https://desk.example.com/a", bob),
            replica_dir(data, "https://desk.example.com/b", bob)
        );
        // One server, spelled differently.
        assert_eq!(
            replica_dir(data, "https://Desk.Example.com/", bob),
            replica_dir(data, "https://desk.example.com:443", bob)
        );
        assert_eq!(
            replica_dir(data, "http://desk.example.com", bob),
            replica_dir(data, "http://desk.example.com:80/", bob)
        );
    }

    #[test]
    fn replica_dirs_are_safe_paths() {
        let data = Path::new("/data");
        let id = Uuid::new_v4();
        for url in [
            "http://[::1]:8080",
            "https://user:secretpw@evil.example.com/../../etc",
            "http://../..:80",
            "not a url at all/../x",
            "",
        ] {
            let dir = replica_dir(data, url, id);
            let rest = dir.strip_prefix(data.join("accounts")).unwrap();
            let parts: Vec<_> = rest.components().collect();
            assert_eq!(parts.len(), 2, "{url:?} → {}", dir.display());
            let name = parts[0].as_os_str().to_str().unwrap();
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
                "{url:?} → {name}"
            );
            assert!(!name.contains("secretpw"), "no credentials: {name}");
            assert!(name.ends_with(&id.to_string()));
        }
        assert!(
            replica_dir(data, "http://[::1]:8080", id)
                .to_string_lossy()
                .contains("__1_8080-")
        );
    }
}
