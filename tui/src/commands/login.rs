//! `desk login`: sign in with a password and save the session for `desk`.
//!
//! The server is `--server`, else `server_url` from the config file; the
//! email is `--email`, else `email` from the config file, else asked. The
//! password is read without echo, or as one line from standard input with
//! `--password-stdin`. It is never printed, logged or saved: only the
//! session's tokens are, in `<data_dir>/session.json` (mode 0600).

use std::{
    io::{self, BufRead, Write},
    process::ExitCode,
};

use anyhow::Context;
use desk_config::client::ClientSettings;
use desk_sync::client::{HttpRemote, RemoteError};

use crate::{
    cli::LoginArgs,
    session::{SavedSession, SessionFile, error_chain},
};

pub async fn run(settings: &ClientSettings, args: &LoginArgs) -> anyhow::Result<ExitCode> {
    let server = match args.server.as_deref().or(settings.server_url.as_deref()) {
        Some(server) => server.trim().trim_end_matches('/').to_string(),
        None => {
            return Ok(fail(
                "no server: pass --server URL or set server_url in ~/.config/desk/config.toml",
            ));
        }
    };
    if let Err(problem) = check_url(&server) {
        return Ok(fail(&problem));
    }
    let email = args
        .email
        .as_deref()
        .or(settings.email.as_deref())
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty());
    if email.is_none() && args.password_stdin {
        return Ok(fail(
            "--password-stdin needs --email (or email in ~/.config/desk/config.toml)",
        ));
    }
    let password_stdin = args.password_stdin;
    // Terminal and stdin reads block: off the async workers.
    let (email, password) = tokio::task::spawn_blocking(move || -> io::Result<_> {
        let email = match email {
            Some(email) => email,
            None => ask("Email: ")?,
        };
        let password = if password_stdin {
            read_line(&mut io::stdin().lock())?
        } else {
            rpassword::prompt_password(format!("Password for {email}: "))?
        };
        Ok((email, password))
    })
    .await
    .context("reading the credentials stopped")?
    .context("cannot read the email or password")?;
    if email.is_empty() {
        return Ok(fail("no email given"));
    }
    if password.is_empty() {
        return Ok(fail("no password given"));
    }

    let signed_in = HttpRemote::login(&server, &email, &password).await;
    drop(password);
    let session = match signed_in {
        Ok((_remote, session)) => session,
        Err(e) => return Ok(fail(&login_problem(&server, &e))),
    };
    let saved = SavedSession::from_login(&server, &session);
    let file = SessionFile::in_dir(&settings.data_dir);
    file.save(&saved).with_context(|| {
        format!(
            "signed in, but the session could not be saved in {}",
            file.path().display()
        )
    })?;
    tracing::info!(server = %saved.server_url, user.id = %saved.user.id, "signed in");

    let user = &saved.user;
    println!(
        "Signed in to {} as {} <{}> ({}).",
        saved.server_url, user.name, user.email, user.role
    );
    if let Some(pending) = pending_edits(&saved, settings).await
        && pending > 0
    {
        println!(
            "{} from an earlier session will sync when you open the console (`desk`).",
            edits(pending)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Says what went wrong on one line; the exit code for it.
pub(crate) fn fail(problem: &str) -> ExitCode {
    eprintln!("error: {problem}");
    ExitCode::FAILURE
}

/// `1 edit`, `3 edits`.
pub(crate) fn edits(n: usize) -> String {
    if n == 1 {
        "1 edit".to_string()
    } else {
        format!("{n} edits")
    }
}

/// Only http(s) URLs reach a Desk server.
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
    let has_host = url
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
    if scheme_ok && has_host && !url.contains(char::is_whitespace) {
        Ok(())
    } else {
        Err(format!(
            "{url:?} is not a server URL: expected http://HOST[:PORT] or https://HOST"
        ))
    }
}

/// What a failed call to `url` means for the person at the keyboard.
pub(crate) fn remote_problem(url: &str, error: &RemoteError) -> String {
    match error {
        RemoteError::Network(cause) => format!("cannot reach {url}: {}", root_cause(&**cause)),
        RemoteError::Decode(_) => {
            format!("{url} answered something that is not Desk's API; is it a Desk server?")
        }
        RemoteError::Unauthorized => {
            "the session has ended; sign in again with `desk login`".into()
        }
        other => format!("{url}: {other}"),
    }
}

fn login_problem(url: &str, error: &RemoteError) -> String {
    match error {
        RemoteError::Unauthorized => "wrong email or password".into(),
        RemoteError::Forbidden(message) if message.is_empty() => {
            "the server refused the sign-in".into()
        }
        RemoteError::Forbidden(message) => format!("the server refused the sign-in: {message}"),
        RemoteError::Server { status: 429, .. } => {
            "too many sign-in attempts; wait a minute and try again".into()
        }
        RemoteError::Server { status: 404, .. } => {
            format!("{url} has no Desk sign-in (it answered 404); is the URL right?")
        }
        other => remote_problem(url, other),
    }
}

/// The innermost cause says it best ("Connection refused (os error 111)"),
/// rather than reqwest's "error sending request for url (…)".
pub(crate) fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    let text = current.to_string();
    if text.is_empty() {
        error_chain(error)
    } else {
        text
    }
}

/// One line from `input`, without its line ending.
fn read_line(input: &mut impl BufRead) -> io::Result<String> {
    let mut line = String::new();
    input.read_line(&mut line)?;
    let trimmed = line.strip_suffix('\n').unwrap_or(&line);
    let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
    Ok(trimmed.to_string())
}

/// Asks on stderr (stdout is for results), reads a line from stdin.
fn ask(prompt: &str) -> io::Result<String> {
    let mut stderr = io::stderr().lock();
    stderr.write_all(prompt.as_bytes())?;
    stderr.flush()?;
    Ok(read_line(&mut io::stdin().lock())?.trim().to_string())
}

/// Edits queued in this account's replica from before, if it has one and
/// no console holds it.
async fn pending_edits(session: &SavedSession, settings: &ClientSettings) -> Option<usize> {
    let dir = session.replica_dir(&settings.data_dir);
    if !dir.exists() {
        return None;
    }
    let status = tokio::task::spawn_blocking(move || {
        desk_sync::client::Replica::open(&dir).and_then(|r| r.status())
    })
    .await
    .ok()?;
    status.ok().map(|s| s.pending)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_password_line_loses_its_line_ending_only() {
        let read = |s: &str| read_line(&mut io::Cursor::new(s.as_bytes())).unwrap();
        assert_eq!(read("s3cret\n"), "s3cret");
        assert_eq!(read("s3cret\r\n"), "s3cret");
        assert_eq!(read(" spaced pass \n"), " spaced pass ");
        assert_eq!(read("no newline"), "no newline");
        assert_eq!(read("first\nsecond\n"), "first");
        assert_eq!(read(""), "");
    }

    #[test]
    fn server_urls_need_a_scheme_and_a_host() {
        assert!(check_url("http://127.0.0.1:7878").is_ok());
        assert!(check_url("https://desk.example.com").is_ok());
        assert!(check_url("desk.example.com").is_err());
        assert!(check_url("ftp://desk.example.com").is_err());
        assert!(check_url("http://").is_err());
        assert!(check_url("http:///path").is_err());
    }

    #[test]
    fn login_failures_are_said_plainly() {
        let url = "http://127.0.0.1:1";
        assert_eq!(
            login_problem(url, &RemoteError::Unauthorized),
            "wrong email or password"
        );
        assert_eq!(
            login_problem(url, &RemoteError::network("connection refused")),
            "cannot reach http://127.0.0.1:1: connection refused"
        );
        assert!(
            login_problem(
                url,
                &RemoteError::Server {
                    status: 429,
                    body: None
                }
            )
            .contains("too many")
        );
    }
}
