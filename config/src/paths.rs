//! Standard folders, from the XDG base directories on Linux (and the platform
//! equivalents elsewhere).

use std::path::PathBuf;

use directories::ProjectDirs;

fn project() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "desk")
}

/// Where Desk keeps its data when no folder is configured
/// (`~/.local/share/desk` on Linux).
pub fn data_dir() -> Option<PathBuf> {
    project().map(|p| p.data_dir().to_path_buf())
}

/// Where Desk looks for its config files (`~/.config/desk` on Linux).
pub fn config_dir() -> Option<PathBuf> {
    project().map(|p| p.config_dir().to_path_buf())
}
