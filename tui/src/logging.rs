//! Logs go to a file: the terminal belongs to the console's drawing.

use std::{fs::OpenOptions, path::Path, sync::Mutex};

use tracing_subscriber::EnvFilter;

/// Appends to `path` at `level` (a tracing filter such as `info` or
/// `info,desk_sync=debug`; `RUST_LOG` wins when set).
pub fn to_file(path: &Path, level: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        crate::runtime::private_dir(dir)?;
    }
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    let filter = EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new(level))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot start logging: {e}"))?;
    Ok(())
}
