//! The real `desk` binary in a home of its own: its config file (empty),
//! data folder and `HOME` inside a temporary folder, and none of the
//! caller's `DESK_…` variables, so a developer's own settings and sign-in
//! are never read or touched.

use std::{
    path::{Path, PathBuf},
    process::{Output, Stdio},
};

use tempfile::TempDir;
use tokio::{io::AsyncWriteExt, process::Command};

/// How to run `desk`: `Desk::new(env!("CARGO_BIN_EXE_desk"))` in the
/// console's tests.
#[derive(Debug)]
pub struct Desk {
    bin: PathBuf,
    pub home: TempDir,
}

/// What a run printed, and how it ended.
#[derive(Debug)]
pub struct Run {
    pub output: Output,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.output.status.success()
    }

    /// The exit code (`None` when a signal ended it).
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    /// Standard output as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {self}"))
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}\n--- stdout\n{}--- stderr\n{}",
            self.output.status, self.stdout, self.stderr
        )
    }
}

impl Desk {
    /// A fresh home with an empty config file.
    pub fn new(bin: impl Into<PathBuf>) -> Desk {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("config.toml"), "").unwrap();
        Desk {
            bin: bin.into(),
            home,
        }
    }

    /// `--data-dir`: where the sign-in and the replicas live.
    pub fn data_dir(&self) -> PathBuf {
        self.home.path().join("data")
    }

    /// Runs `desk args…` with `stdin` as its standard input.
    pub async fn run(&self, args: &[&str], stdin: &str) -> Run {
        self.run_with_env(args, stdin, &[]).await
    }

    /// Runs `desk args…` with `stdin`, and `env` set (`DESK_TOKEN`, …).
    pub async fn run_with_env(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
        run_in(&self.bin, self.home.path(), args, stdin, env).await
    }

    /// `desk login --server URL --email E --password-stdin`.
    pub async fn login(&self, url: &str, (email, password): (&str, &str)) -> Run {
        self.run(
            &[
                "login",
                "--server",
                url,
                "--email",
                email,
                "--password-stdin",
            ],
            &format!("{password}\n"),
        )
        .await
    }
}

/// `bin args…` with its config, data and home all inside `home`, and
/// `env` on top.
async fn run_in(bin: &Path, home: &Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(bin);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("DESK_") {
            command.env_remove(name);
        }
    }
    command
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("DESK_CONFIG", home.join("config.toml"))
        .env("DESK_DATA_DIR", home.join("data"))
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().expect("the desk binary starts");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let output = child.wait_with_output().await.unwrap();
    Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        output,
    }
}
