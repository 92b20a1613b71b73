//! The Desk console (`desk`).
//!
//! - [`app`]: the console as plain state — screens, the ticket index, and
//!   `update(event) -> effects`, pure and testable without a terminal.
//! - [`keymap`]: keys → actions per screen, overridable from the config file.
//! - [`labels`]: the words shown for statuses and priorities.
//! - [`ui`]: rendering, a function of the state (`impl Widget for &App`).
//! - [`runtime`]: the thin driver — terminal, input, the sync engine's
//!   status, and the effects (replica writes, history fetches, `$EDITOR`).
//! - [`session`]: the saved session and the per-account folders.
//! - [`commands`]: `desk`, `desk demo`, `desk login`, `desk logout`,
//!   `desk status`, `desk tickets …`.
//! - [`cli`]: the command line.

pub mod app;
pub mod cli;
pub mod commands;
pub mod keymap;
pub mod labels;
pub mod logging;
pub mod runtime;
pub mod session;
pub mod theme;
pub mod ui;
