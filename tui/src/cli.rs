//! The command line: `desk`, `desk demo`, `desk login`, `desk logout`,
//! `desk status`. Every flag also reads a `DESK_…` variable; both beat the
//! config file.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "desk",
    version,
    about = "Desk, the helpdesk console: work your tickets from the keyboard, online or off.",
    long_about = "Desk, the helpdesk console: work your tickets from the keyboard, online or off.\n\n\
        Without a command, opens the console for the configured server and saved session \
        (sign in with `desk login` first, or try everything with `desk demo`).\n\n\
        Settings come from ~/.config/desk/config.toml (server_url, email, [keys], [theme], [log]), \
        then DESK_… variables, then flags."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// The config file (default: ~/.config/desk/config.toml).
    #[arg(long, global = true, env = "DESK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the session, replicas and log live (default: ~/.local/share/desk).
    #[arg(long, global = true, env = "DESK_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a demo server with sample data on 127.0.0.1 and open the console
    /// signed in as an agent. Leaving the console stops the server.
    Demo(DemoArgs),
    /// Sign in to a server and save the session for `desk`.
    Login(LoginArgs),
    /// Sign out: end the session on the server and forget it here. Edits not
    /// yet synced stay on this machine for the next sign-in.
    Logout,
    /// Where this machine stands: server, user, pending edits, conflicts,
    /// last sync.
    Status(StatusArgs),
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Whom to sign in as: bob@example.com (agent, the default),
    /// dave@example.com (agent), carol@example.com (admin, with triage) or
    /// alice@example.com (customer).
    #[arg(long = "as", value_name = "EMAIL", default_value = "bob@example.com")]
    pub as_email: String,
    /// How many sample tickets to create.
    #[arg(long, default_value_t = 40, value_name = "N")]
    pub tickets: usize,
}

#[derive(Debug, Clone, Args)]
pub struct LoginArgs {
    /// The server, e.g. https://desk.example.com (default: `server_url` from
    /// the config file).
    #[arg(long, env = "DESK_SERVER_URL", value_name = "URL")]
    pub server: Option<String>,
    /// Your email (default: `email` from the config file, else asked).
    #[arg(long, env = "DESK_EMAIL", value_name = "EMAIL")]
    pub email: Option<String>,
    /// Read the password from standard input instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// Print JSON for scripts instead of text.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn demo_signs_in_bob_unless_told_otherwise() {
        let cli = Cli::try_parse_from(["desk", "demo"]).ok();
        let Some(Command::Demo(args)) = cli.and_then(|c| c.command) else {
            panic!("`desk demo` parses");
        };
        assert_eq!(args.as_email, "bob@example.com");
        let cli = Cli::try_parse_from(["desk", "demo", "--as", "carol@example.com"]).ok();
        let Some(Command::Demo(args)) = cli.and_then(|c| c.command) else {
            panic!("`desk demo --as` parses");
        };
        assert_eq!(args.as_email, "carol@example.com");
    }
}
