//! The command line: `desk`, `desk demo`, `desk login`, `desk logout`,
//! `desk status`, `desk tickets …`. Every global flag also reads a
//! `DESK_…` variable; both beat the config file. A usage error exits 1
//! (clap's own 2 would read as "not found" to a `desk tickets` script).

use std::{path::PathBuf, str::FromStr};

use clap::{Args, Parser, Subcommand, builder::PossibleValuesParser, builder::TypedValueParser};
use desk_sync::model::{Priority, Status};

use crate::commands::tickets::{exit::EXIT_CODES_HELP, reference::TicketRef};

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
    /// Tickets from the shell and from scripts: list, show, create,
    /// comment, status, assign.
    ///
    /// Signed in with `desk login`, they work through this machine's
    /// replica, as the console does, online or off. With an API token in
    /// DESK_TOKEN (and the server in DESK_SERVER_URL or the config file's
    /// server_url), they talk to the server directly, online only, as the
    /// token: it files and replies for customers (--requester).
    #[command(after_long_help = EXIT_CODES_HELP, after_help = EXIT_CODES_HELP)]
    Tickets(TicketsArgs),
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

#[derive(Debug, Clone, Args)]
pub struct TicketsArgs {
    /// Print JSON for scripts instead of text (the shapes are in
    /// docs/TUI.md).
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: TicketsCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum TicketsCommand {
    /// The tickets in your view, most urgent first.
    ///
    /// In the console's order. QUERY narrows them as the console's `/`
    /// search does: every word must appear in the number, subject,
    /// requester, assignee or tags.
    List(ListArgs),
    /// One ticket: its fields, description and comments.
    Show(ShowArgs),
    /// File a new ticket.
    ///
    /// An agent's ticket is assigned to them; customers' and admins' wait
    /// unassigned for an admin. Offline it is queued, and gets its number
    /// when it reaches the server.
    Create(CreateArgs),
    /// Comment on a ticket, or add an internal note.
    Comment(CommentArgs),
    /// Move a ticket to another status.
    ///
    /// open, in_progress, blocked or closed, where the transition is
    /// allowed; a refusal names the statuses the ticket can move to.
    Status(SetStatusArgs),
    /// Assign a ticket to an agent or admin, or to nobody (admins).
    ///
    /// By email, or `none` to unassign. The email is looked up on the
    /// server; offline only your own works. An API token never assigns.
    Assign(AssignArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Words to search for (all of them must match).
    #[arg(value_name = "QUERY")]
    pub query: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ShowArgs {
    /// The ticket's number: 42 or #42.
    #[arg(value_name = "NUMBER")]
    pub ticket: TicketRef,
}

#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// One line, up to 200 characters.
    #[arg(long)]
    pub subject: String,
    /// low, normal (the default), high or urgent.
    #[arg(long, value_parser = wire_values(Priority::ALL, Priority::as_str))]
    pub priority: Option<Priority>,
    /// A tag (letters, digits, `-`, `_`); repeat for more.
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// The description: the text, or `-` to read it from standard input.
    #[arg(long, value_name = "-|TEXT")]
    pub body: Option<Body>,
    /// The customer the ticket is for, by email: required with
    /// DESK_TOKEN (an API token files for customers), and only then.
    #[arg(long, value_name = "EMAIL")]
    pub requester: Option<String>,
    /// The customer's name, when DESK_TOKEN files for an email the server
    /// does not know yet (their account is made).
    #[arg(long, value_name = "NAME", requires = "requester")]
    pub requester_name: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct CommentArgs {
    /// The ticket's number: 42 or #42.
    #[arg(value_name = "NUMBER")]
    pub ticket: TicketRef,
    /// An internal note, which customers never see (agents and admins).
    #[arg(long)]
    pub internal: bool,
    /// The comment: the text, or `-` to read it from standard input (the
    /// default when standard input is not a terminal).
    #[arg(long, value_name = "-|TEXT")]
    pub body: Option<Body>,
    /// The ticket's requester, by email, whose public reply this is:
    /// required with DESK_TOKEN (an API token replies for the requester),
    /// and only then.
    #[arg(long, value_name = "EMAIL")]
    pub requester: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct SetStatusArgs {
    /// The ticket's number: 42 or #42.
    #[arg(value_name = "NUMBER")]
    pub ticket: TicketRef,
    /// The new status.
    #[arg(value_name = "STATUS", value_parser = wire_values(Status::ALL, Status::as_str))]
    pub status: Status,
}

#[derive(Debug, Clone, Args)]
pub struct AssignArgs {
    /// The ticket's number: 42 or #42.
    #[arg(value_name = "NUMBER")]
    pub ticket: TicketRef,
    /// The agent's or admin's email, or `none` to unassign.
    #[arg(value_name = "EMAIL|none")]
    pub assignee: Assignee,
}

/// Text given on the command line, or read from standard input (`-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Stdin,
    Text(String),
}

impl FromStr for Body {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Body, Self::Err> {
        Ok(if s == "-" {
            Body::Stdin
        } else {
            Body::Text(s.to_string())
        })
    }
}

/// Whom to assign: a person by email, or nobody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignee {
    Nobody,
    Email(String),
}

impl FromStr for Assignee {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Assignee, Self::Err> {
        let s = s.trim();
        Ok(if s.eq_ignore_ascii_case("none") {
            Assignee::Nobody
        } else {
            Assignee::Email(s.to_string())
        })
    }
}

/// A parser for one of the model's closed sets, by its wire spelling
/// (`in_progress`), listing them in `--help` and in a usage error.
fn wire_values<T>(
    all: &'static [T],
    name: fn(T) -> &'static str,
) -> impl TypedValueParser<Value = T>
where
    T: FromStr + Copy + Clone + Send + Sync + 'static,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    PossibleValuesParser::new(all.iter().map(|v| name(*v))).try_map(|s| s.parse::<T>())
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
    fn tickets_take_numbers_wire_values_and_none() {
        let parse = |args: &[&str]| {
            let cli = Cli::try_parse_from(args).ok();
            match cli.and_then(|c| c.command) {
                Some(Command::Tickets(args)) => args,
                other => panic!("{other:?}"),
            }
        };
        let args = parse(&["desk", "tickets", "status", "#42", "in_progress", "--json"]);
        assert!(args.json);
        let TicketsCommand::Status(status) = args.command else {
            panic!("status");
        };
        assert_eq!(status.ticket, TicketRef::Number(42));
        assert_eq!(status.status, Status::InProgress);
        let args = parse(&["desk", "tickets", "assign", "42", "None"]);
        let TicketsCommand::Assign(assign) = args.command else {
            panic!("assign");
        };
        assert_eq!(assign.assignee, Assignee::Nobody);
        let args = parse(&["desk", "tickets", "create", "--subject", "s", "--body", "-"]);
        let TicketsCommand::Create(create) = args.command else {
            panic!("create");
        };
        assert_eq!(create.body, Some(Body::Stdin));
        assert_eq!(create.priority, None);
        assert_eq!(create.requester, None);
        let args = parse(&[
            "desk",
            "tickets",
            "create",
            "--subject",
            "s",
            "--requester",
            "zoe@example.com",
            "--requester-name",
            "Zoe",
        ]);
        let TicketsCommand::Create(create) = args.command else {
            panic!("create");
        };
        assert_eq!(create.requester.as_deref(), Some("zoe@example.com"));
        assert_eq!(create.requester_name.as_deref(), Some("Zoe"));
        for bad in [
            &["desk", "tickets", "status", "42", "done"][..],
            &["desk", "tickets", "show", "x42"],
            &[
                "desk",
                "tickets",
                "create",
                "--subject",
                "s",
                "--priority",
                "asap",
            ],
            // A new customer's name goes with their email.
            &[
                "desk",
                "tickets",
                "create",
                "--subject",
                "s",
                "--requester-name",
                "Zoe",
            ],
        ] {
            assert!(Cli::try_parse_from(bad).is_err(), "{bad:?}");
        }
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
