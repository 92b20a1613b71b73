//! Typed, layered settings for Desk.
//!
//! - [`client`]: the console's (`desk`) settings — the same layers, from
//!   `~/.config/desk/config.toml`, into [`ClientSettings`].
//! - [`server`]: `deskd`'s settings — defaults → TOML file → `DESK_…`
//!   environment → command-line flags, validated into [`ServerSettings`].
//! - [`paths`]: the standard (XDG) folders Desk uses when nothing is configured.
//! - [`error`]: what goes wrong while loading, naming the key, the value and what
//!   was expected.
//!
//! Loading never writes files: creating the signing secret is the server's job.

pub mod client;
pub mod error;
pub mod paths;
pub mod server;

pub use client::{ClientLogSettings, ClientOverrides, ClientSettings, ThemeSettings};
pub use error::ConfigError;
pub use server::{
    AuthSettings, LimitSettings, LogFormat, LogSettings, ServerOverrides, ServerSection,
    ServerSettings, WebhookSettings,
};
