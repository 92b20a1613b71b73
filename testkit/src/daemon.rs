//! The real `deskd` binary as a child process: for tests that kill it or
//! read its log, and for the benches, which measure it as shipped.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
    sync::mpsc,
};

/// How to run `deskd`: `Deskd::new(env!("CARGO_BIN_EXE_deskd"))` in the
/// server's own tests and benches.
#[derive(Debug, Clone)]
pub struct Deskd {
    bin: PathBuf,
    env: Vec<(&'static str, String)>,
}

/// A running `deskd serve` on a free port, and every log line it writes.
#[derive(Debug)]
pub struct Daemon {
    pub child: Child,
    pub url: String,
    pub log: mpsc::UnboundedReceiver<String>,
}

impl Deskd {
    pub fn new(bin: impl Into<PathBuf>) -> Deskd {
        Deskd {
            bin: bin.into(),
            env: Vec::new(),
        }
    }

    /// With every rate limit off (a loopback load generator is one address),
    /// access tokens that outlast a long run and tickets that take every
    /// comment a run adds: for the benches, which measure capacity.
    pub fn unlimited(self) -> Deskd {
        self.env("DESK_AUTH__ACCESS_TTL_MINUTES", "240")
            .env("DESK_LIMITS__API_PER_MINUTE", "0")
            .env("DESK_LIMITS__LOGIN_PER_MINUTE", "0")
            .env("DESK_LIMITS__EMBED_PER_MINUTE", "0")
            .env("DESK_SERVER__MAX_COMMENTS_PER_TICKET", "100000")
    }

    /// With the environment variable `key` set to `value` (a setting).
    pub fn env(mut self, key: &'static str, value: impl Into<String>) -> Deskd {
        self.env.push((key, value.into()));
        self
    }

    /// Keeping its tickets in the PostgreSQL database at `url`.
    pub fn postgres(self, url: &str) -> Deskd {
        self.env("DESK_STORE__URL", url)
    }

    /// `deskd`, logging at `log_level` (a `RUST_LOG` filter).
    pub fn command(&self, log_level: &str) -> Command {
        self.wrapped(&[], log_level)
    }

    /// `deskd` run through `wrap` (a `taskset` prefix, or nothing).
    fn wrapped(&self, wrap: &[String], log_level: &str) -> Command {
        let mut cmd = match wrap.split_first() {
            Some((program, args)) => {
                let mut cmd = Command::new(program);
                cmd.args(args).arg(&self.bin);
                cmd
            }
            None => Command::new(&self.bin),
        };
        cmd.env("RUST_LOG", log_level)
            .envs(self.env.iter().map(|(key, value)| (*key, value.as_str())));
        cmd
    }

    /// `deskd seed-demo --tickets N` into `data`.
    pub async fn seed(&self, data: &Path, tickets: usize) {
        let out = self
            .command("warn")
            .args(["seed-demo", "--tickets", &tickets.to_string(), "--data"])
            .arg(data)
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts `deskd serve` on `data`; returns once it logs that it listens.
    pub async fn start(&self, data: &Path, log_level: &str) -> Daemon {
        self.start_wrapped(data, log_level, &[]).await
    }

    /// [`Deskd::start`], run through `wrap` (e.g. `taskset -c 0`).
    pub async fn start_wrapped(&self, data: &Path, log_level: &str, wrap: &[String]) -> Daemon {
        let mut child = self
            .wrapped(wrap, log_level)
            .args(["serve", "--bind", "127.0.0.1:0", "--data"])
            .arg(data)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let (tx, log) = mpsc::unbounded_channel();
        let url = loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .expect("deskd exited before listening");
            let url = line
                .split("listening on ")
                .nth(1)
                .map(|rest| rest.trim().to_string());
            let _ = tx.send(line);
            if let Some(url) = url {
                break url;
            }
        };
        // Keep draining the log so the child never blocks on a full pipe.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = tx.send(line);
            }
        });
        Daemon { child, url, log }
    }
}
