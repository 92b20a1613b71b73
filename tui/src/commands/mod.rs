//! The commands, one file each. They return the process's exit code; what
//! went wrong is said in words on stderr (through `anyhow`).

use std::path::PathBuf;

use desk_config::client::{ClientOverrides, ClientSettings};

use crate::cli::GlobalArgs;

pub mod console;
pub mod demo;
pub mod login;
pub mod logout;
pub mod status;
pub mod tickets;

/// Settings: defaults → config file → `DESK_…` → flags.
pub fn settings(global: &GlobalArgs) -> anyhow::Result<ClientSettings> {
    Ok(ClientSettings::load(&ClientOverrides {
        config_file: global.config.clone(),
        data_dir: global.data_dir.clone(),
        ..ClientOverrides::default()
    })?)
}

/// The console's log file: the terminal is for drawing.
pub fn log_file(settings: &ClientSettings) -> PathBuf {
    settings.data_dir.join("desk.log")
}
