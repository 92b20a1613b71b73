//! `desk tickets …`: the console's tickets for the shell and for scripts
//! (docs/TUI.md › Scripting). Each command opens the signed-in account's
//! replica, takes one sync step when the server answers, reads or edits
//! through the same replica methods and field rules as the console, and
//! exits with a code scripts can rely on ([`exit`]). With an API token
//! the same commands go straight to the server instead.
//!
//! - [`access`]: whom the commands act as (an API token from
//!   `DESK_TOKEN`, else the saved sign-in).
//! - [`reference`]: how a ticket is named (`42`, `#42`).
//! - `link`: the replica and one sync step.
//! - `read`: `list` and `show`; `write`: `create`, `comment`, `status`,
//!   `assign`; `render`: what people read.
//! - `api`: the same commands for an API token, which has no replica:
//!   straight over the HTTP API, online only, printed as above.

use std::{
    io::{IsTerminal, Read},
    process::ExitCode,
};

use desk_config::client::ClientSettings;
use desk_sync::wire::OnBehalfOf;

use self::{
    exit::{Exit, Failure},
    reference::TicketRef,
    write::{Change, Edit},
};
use crate::cli::{Body, TicketsArgs, TicketsCommand};

pub mod access;
mod api;
pub mod exit;
mod link;
mod read;
pub mod reference;
mod render;
mod write;

pub async fn run(settings: &ClientSettings, args: &TicketsArgs) -> anyhow::Result<ExitCode> {
    let json = args.json;
    let result = async {
        let asked = Asked::of(&args.command)?;
        if let Some(token) = access::api_token(settings)? {
            return api::run(&token, asked, json).await;
        }
        match asked {
            Asked::List(query) => read::list(settings, &query, json)
                .await
                .map(|()| Exit::Done),
            Asked::Show(ticket) => read::show(settings, ticket, json)
                .await
                .map(|()| Exit::Done),
            Asked::Edit(edit) => write::run(settings, edit, json).await,
        }
    }
    .await;
    Ok(match result {
        Ok(exit) => exit.into(),
        Err(failure) => {
            eprintln!("error: {failure:#}");
            failure.exit().into()
        }
    })
}

/// What the command line asks for, its texts read.
#[derive(Debug, Clone)]
enum Asked {
    List(Vec<String>),
    Show(TicketRef),
    Edit(Edit),
}

impl Asked {
    fn of(command: &TicketsCommand) -> Result<Asked, Failure> {
        let change =
            |ticket: TicketRef, change: Change| Asked::Edit(Edit::Change { ticket, change });
        Ok(match command {
            TicketsCommand::List(list) => Asked::List(list.query.clone()),
            TicketsCommand::Show(show) => Asked::Show(show.ticket),
            TicketsCommand::Create(args) => Asked::Edit(Edit::Create {
                subject: args.subject.clone(),
                description: args
                    .body
                    .as_ref()
                    .map(text)
                    .transpose()?
                    .unwrap_or_default(),
                priority: args.priority.unwrap_or_default(),
                tags: args.tags.clone(),
                requester: args.requester.as_ref().map(|email| OnBehalfOf {
                    email: email.clone(),
                    name: args.requester_name.clone(),
                }),
            }),
            TicketsCommand::Comment(args) => change(
                args.ticket,
                Change::Comment {
                    body: comment_body(args.body.as_ref())?,
                    internal: args.internal,
                    requester: args.requester.clone(),
                },
            ),
            TicketsCommand::Status(args) => change(args.ticket, Change::Status(args.status)),
            TicketsCommand::Assign(args) => {
                change(args.ticket, Change::Assign(args.assignee.clone()))
            }
        })
    }
}

/// A comment's text: `--body`, else standard input unless a person is
/// typing at it (who would wait without knowing why).
fn comment_body(body: Option<&Body>) -> Result<String, Failure> {
    match body {
        Some(body) => text(body),
        None if std::io::stdin().is_terminal() => Err(Failure::Other(
            "no comment: give --body TEXT, or --body - to read it from standard input".into(),
        )),
        None => text(&Body::Stdin),
    }
}

fn text(body: &Body) -> Result<String, Failure> {
    match body {
        Body::Text(text) => Ok(text.clone()),
        Body::Stdin => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Failure::Other(format!("cannot read standard input: {e}")))?;
            Ok(text)
        }
    }
}
