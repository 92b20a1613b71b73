//! `desk tickets …`: the console's tickets for the shell and for scripts
//! (docs/TUI.md › Scripting). Each command opens the signed-in account's
//! replica, takes one sync step when the server answers, reads or edits
//! through the same replica methods and field rules as the console, and
//! exits with a code scripts can rely on ([`exit`]).
//!
//! - [`access`]: whom the commands act as (the saved sign-in).
//! - [`reference`]: how a ticket is named (`42`, `#42`).
//! - `link`: the replica and one sync step.
//! - `read`: `list` and `show`; `write`: `create`, `comment`, `status`,
//!   `assign`; `render`: what people read.

use std::{
    io::{IsTerminal, Read},
    process::ExitCode,
};

use desk_config::client::ClientSettings;

use self::{
    exit::{Exit, Failure},
    reference::TicketRef,
    write::{Change, Edit},
};
use crate::cli::{Body, TicketsArgs, TicketsCommand};

pub mod access;
pub mod exit;
mod link;
mod read;
pub mod reference;
mod render;
mod write;

pub async fn run(settings: &ClientSettings, args: &TicketsArgs) -> anyhow::Result<ExitCode> {
    let json = args.json;
    let change = |ticket: TicketRef, change: Change| Edit::Change { ticket, change };
    let result = async {
        match &args.command {
            TicketsCommand::List(list) => read::list(settings, &list.query, json)
                .await
                .map(|()| Exit::Done),
            TicketsCommand::Show(show) => read::show(settings, show.ticket, json)
                .await
                .map(|()| Exit::Done),
            TicketsCommand::Create(args) => {
                let edit = Edit::Create {
                    subject: args.subject.clone(),
                    description: args
                        .body
                        .as_ref()
                        .map(text)
                        .transpose()?
                        .unwrap_or_default(),
                    priority: args.priority.unwrap_or_default(),
                    tags: args.tags.clone(),
                };
                write::run(settings, edit, json).await
            }
            TicketsCommand::Comment(args) => {
                let comment = Change::Comment {
                    body: comment_body(args.body.as_ref())?,
                    internal: args.internal,
                };
                write::run(settings, change(args.ticket, comment), json).await
            }
            TicketsCommand::Status(args) => {
                let edit = change(args.ticket, Change::Status(args.status));
                write::run(settings, edit, json).await
            }
            TicketsCommand::Assign(args) => {
                let edit = change(args.ticket, Change::Assign(args.assignee.clone()));
                write::run(settings, edit, json).await
            }
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
