//! A hang-up (SIGHUP, sent when the terminal closes) under `desk demo`
//! cleans up as `q` does: the demo's temporary data folder is gone
//! afterwards. The real binary runs on a pseudo-terminal from `script(1)`.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(unix)]

use std::{
    path::Path,
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::{io::AsyncReadExt, process::Command};

/// Generous, for a loaded machine; the test moves on the moment it holds.
const PATIENCE: Duration = Duration::from_secs(60);

fn demo_folders(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("desk-demo-"))
        .collect()
}

async fn until(what: &str, mut holds: impl FnMut() -> bool) {
    let start = Instant::now();
    while !holds() {
        assert!(
            start.elapsed() < PATIENCE,
            "{what}: not within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hang_up_stops_the_demo_and_removes_its_folder() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("script(1) is not installed; skipping");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("config.toml"), "").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let desk = env!("CARGO_BIN_EXE_desk");
    let mut command = Command::new("script");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("DESK_") {
            command.env_remove(name);
        }
    }
    command
        // A pseudo-terminal made without one has no size: give it one.
        .args([
            "-q",
            "-f",
            "-e",
            "-c",
            &format!("stty cols 100 rows 30; exec {desk} demo --tickets 5"),
            "/dev/null",
        ])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env("XDG_DATA_HOME", home.path().join(".local/share"))
        .env("DESK_CONFIG", home.path().join("config.toml"))
        .env("DESK_DATA_DIR", home.path().join("data"))
        .env("TMPDIR", tmp.path())
        .env("TERM", "xterm-256color")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let mut script = command.spawn().unwrap();
    let screen = Arc::new(Mutex::new(String::new()));
    let mut out = script.stdout.take().unwrap();
    let seen = Arc::clone(&screen);
    tokio::spawn(async move {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf).await {
            if n == 0 {
                break;
            }
            seen.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });

    // The console is up: its header is on the terminal.
    until("the console draws", || {
        screen.lock().unwrap().contains("pending")
    })
    .await;
    assert_eq!(demo_folders(tmp.path()).len(), 1, "the demo's folder");

    // The terminal hangs up on the console (as when its window closes).
    let script_pid = script.id().unwrap();
    let children =
        std::fs::read_to_string(format!("/proc/{script_pid}/task/{script_pid}/children")).unwrap();
    let console = children
        .split_whitespace()
        .next()
        .expect("desk runs under script");
    let hup = std::process::Command::new("kill")
        .args(["-HUP", console])
        .status()
        .unwrap();
    assert!(hup.success());
    until("the demo's folder is removed", || {
        demo_folders(tmp.path()).is_empty()
    })
    .await;
    let status = tokio::time::timeout(PATIENCE, script.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "desk quits cleanly: {status}");
}
