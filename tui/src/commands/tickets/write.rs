//! `desk tickets create|comment|status|assign`: an edit made as the
//! console makes it — decided by the field rules against the replica's
//! view and queued (`Replica::create_ticket`, `comment`, `set_status`,
//! `assign`) — between two sync steps: the first brings the view up to
//! date, the second sends the edit and brings back the server's answer.
//! Offline the edit stays queued for the next `desk` command or the
//! console.

use desk_config::client::ClientSettings;
use desk_sync::{
    RuleError,
    client::{ClientError, RemoteError},
    model::{Op, OpKind, Priority, Status, Ticket, validate},
    wire::{OnBehalfOf, sync::Outcome as WireOutcome},
};
use serde::Serialize;
use uuid::Uuid;

use super::{
    exit::{Exit, Failure},
    link::{Link, Reach},
    read::print_json,
    reference::TicketRef,
    render::number,
};
use crate::{cli::Assignee, commands::login::remote_problem, labels};

/// An edit asked for on the command line.
#[derive(Debug, Clone)]
pub enum Edit {
    Create {
        subject: String,
        description: String,
        priority: Priority,
        tags: Vec<String>,
        /// The customer an API token files for (`--requester`).
        requester: Option<OnBehalfOf>,
    },
    Change {
        ticket: TicketRef,
        change: Change,
    },
}

/// An edit of an existing ticket.
#[derive(Debug, Clone)]
pub enum Change {
    Comment {
        body: String,
        internal: bool,
        /// The requester an API token replies for (`--requester`), by
        /// email.
        requester: Option<String>,
    },
    Status(Status),
    Assign(Assignee),
}

/// What became of an edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The server has it.
    Applied,
    /// Waiting in this machine's queue for the server.
    Queued,
    /// The ticket already was so; nothing was queued.
    Unchanged,
    /// Someone changed the field first; the server kept their value.
    Conflict,
    /// The rules refuse it (here, or on the server).
    Rejected,
}

/// `--json` for a write.
#[derive(Debug, Serialize)]
struct Report<'a> {
    outcome: Outcome,
    /// Why, for a conflict or a rejection.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    ticket: Option<&'a Ticket>,
}

/// The op an edit queued, as the replica's methods name it.
#[derive(Debug, Clone, Copy)]
enum Mine {
    Op(Uuid),
    Comment(Uuid),
    Created(Uuid),
}

impl Mine {
    fn is(self, op: &Op) -> bool {
        match self {
            Mine::Op(id) => op.op_id == id,
            Mine::Comment(id) => {
                matches!(&op.kind, OpKind::Comment { comment_id, .. } if *comment_id == id)
            }
            Mine::Created(id) => op.ticket_id == id && matches!(op.kind, OpKind::Create { .. }),
        }
    }
}

/// What queuing an edit came to.
#[derive(Debug)]
enum Queued {
    /// The op waits in the queue.
    Op(Mine),
    /// The ticket already is so: nothing queued.
    Nothing,
    /// Refused by the rules (or an email names nobody): nothing queued.
    Refused(String),
}

impl Edit {
    /// Does it name a customer to act for (`--requester`)?
    fn names_requester(&self) -> bool {
        match self {
            Edit::Create { requester, .. } => requester.is_some(),
            Edit::Change {
                change: Change::Comment { requester, .. },
                ..
            } => requester.is_some(),
            Edit::Change { .. } => false,
        }
    }
}

/// Makes `edit`, says what became of it, and returns the exit code.
pub async fn run(settings: &ClientSettings, edit: Edit, json: bool) -> Result<Exit, Failure> {
    if edit.names_requester() {
        return Err(Failure::Other(
            "--requester is for an API token (DESK_TOKEN), which acts for customers; \
             signed in with `desk login`, you write as yourself"
                .into(),
        ));
    }
    let link = Link::open(settings).await?;
    let reach = link.sync().await?;
    if let Reach::Offline(why) = &reach {
        link.say_offline(why, "working on")?;
    }
    link.warn_new_conflicts()?;

    let (id, queued) = queue(&link, &reach, &edit).await?;
    let local = |id: Option<Uuid>| -> Result<Option<Ticket>, Failure> {
        Ok(match id {
            Some(id) => link.replica.ticket(id)?.map(|t| t.detail.ticket),
            None => None,
        })
    };
    let mine = match queued {
        Queued::Op(mine) => mine,
        Queued::Nothing => return finish(&edit, Outcome::Unchanged, None, local(id)?, json),
        Queued::Refused(reason) => {
            return finish(&edit, Outcome::Rejected, Some(&reason), local(id)?, json);
        }
    };

    let sent = match reach {
        Reach::Online => link.sync().await,
        Reach::Offline(_) => Ok(reach),
    };
    // The server's answer lands in the inbox when it refused the edit.
    let answer = link
        .replica
        .conflicts()?
        .into_iter()
        .find(|c| mine.is(&c.op));
    if let Some(entry) = answer {
        let outcome = match entry.outcome {
            WireOutcome::Conflict => Outcome::Conflict,
            _ => Outcome::Rejected,
        };
        let reason = link.tell(&entry)?;
        let ticket = entry.server_ticket.clone().or(local(id)?);
        return finish(&edit, outcome, Some(&reason), ticket, json);
    }
    let still_queued = link
        .replica
        .pending_ops(usize::MAX)?
        .iter()
        .any(|op| mine.is(op));
    let outcome = if still_queued {
        Outcome::Queued
    } else {
        Outcome::Applied
    };
    let exit = finish(&edit, outcome, None, local(id)?, json)?;
    // Queued all the same when the second step failed; the failure says
    // what to do about it.
    sent.map(|_| exit)
}

/// Queues the edit through the replica, as the console does; the ticket's
/// id with what came of it.
async fn queue(link: &Link, reach: &Reach, edit: &Edit) -> Result<(Option<Uuid>, Queued), Failure> {
    let replica = &link.replica;
    let (ticket, change) = match edit {
        Edit::Create {
            subject,
            description,
            priority,
            tags,
            ..
        } => {
            return match replica.create_ticket(subject, description, *priority, tags) {
                Ok(id) => Ok((Some(id), Queued::Op(Mine::Created(id)))),
                Err(e) => Ok((None, refused(e, None)?)),
            };
        }
        Edit::Change { ticket, change } => (*ticket, change),
    };
    let id = ticket.find(replica)?.ok_or(Failure::NotFound(ticket))?;
    let made = match change {
        Change::Comment { body, internal, .. } => replica
            .comment(id, body, *internal)
            .map(|c| Some(Mine::Comment(c))),
        Change::Status(to) => replica.set_status(id, *to).map(|op| op.map(Mine::Op)),
        Change::Assign(to) => match assignee(link, reach, to).await? {
            Ok(to) => replica.assign(id, to).map(|op| op.map(Mine::Op)),
            Err(reason) => return Ok((Some(id), Queued::Refused(reason))),
        },
    };
    let queued = match made {
        Ok(Some(mine)) => Queued::Op(mine),
        Ok(None) => Queued::Nothing,
        Err(e) => refused(e, Some(ticket))?,
    };
    Ok((Some(id), queued))
}

/// A refusal by the rules, in words; any other error stays one.
fn refused(error: ClientError, ticket: Option<TicketRef>) -> Result<Queued, Failure> {
    match error {
        ClientError::Rule(RuleError::NotFound(what)) => Err(match ticket {
            Some(ticket) => Failure::NotFound(ticket),
            None => Failure::Other(format!("{what} not found")),
        }),
        ClientError::Rule(rule) => Ok(Queued::Refused(format!("Not applied: {}.", refusal(&rule)))),
        other => Err(other.into()),
    }
}

/// The user an email names. The replica knows people by name only, so
/// another's email is looked up on the server; offline only your own
/// works.
async fn assignee(
    link: &Link,
    reach: &Reach,
    to: &Assignee,
) -> Result<Result<Option<Uuid>, String>, Failure> {
    let email = match to {
        Assignee::Nobody => return Ok(Ok(None)),
        Assignee::Email(email) => validate::email_key(email),
    };
    if validate::email_key(&link.account.user.email) == email {
        return Ok(Ok(Some(link.account.user.id)));
    }
    if let Reach::Offline(why) = reach {
        return Err(Failure::Other(format!(
            "{email} cannot be looked up offline ({why}); only your own email works until the server is back"
        )));
    }
    match link.remote.users().await {
        Ok(users) => Ok(users
            .iter()
            .find(|u| validate::email_key(&u.email) == email)
            .map(|u| Some(u.id))
            .ok_or_else(|| {
                format!("Not applied: nobody you can assign to has the email {email}.")
            })),
        Err(RemoteError::Forbidden(why)) => Ok(Err(format!("Not applied: {why}."))),
        Err(RemoteError::Unauthorized) => Err(Failure::SignedOut(
            "the server no longer accepts this sign-in".into(),
        )),
        Err(e) => Err(Failure::Other(remote_problem(&link.account.server_url, &e))),
    }
}

/// Why the rules refuse an edit, in the console's words.
pub(super) fn refusal(rule: &RuleError) -> String {
    match rule {
        RuleError::InvalidTransition { from, to, allowed } => {
            let allowed: Vec<&str> = allowed.iter().map(|s| labels::status(*s)).collect();
            format!(
                "a ticket cannot go from {} to {} (from {} it can go to {})",
                labels::status(*from),
                labels::status(*to),
                labels::status(*from),
                allowed.join(" or ")
            )
        }
        // Each reason names its field ("subject must not be empty").
        RuleError::Validation(problems) => problems
            .values()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// Prints what became of the edit: `--json`, or a sentence on stdout and
/// the outcome on stderr.
pub(super) fn finish(
    edit: &Edit,
    outcome: Outcome,
    reason: Option<&str>,
    ticket: Option<Ticket>,
    json: bool,
) -> Result<Exit, Failure> {
    if json {
        print_json(&Report {
            outcome,
            reason,
            ticket: ticket.as_ref(),
        })?;
    }
    match outcome {
        Outcome::Conflict | Outcome::Rejected => {
            eprintln!("{}", reason.unwrap_or("Not applied."));
            return Ok(Exit::Refused);
        }
        Outcome::Applied => eprintln!("Applied on the server."),
        Outcome::Queued => {
            eprintln!("Queued on this machine: the next `desk` command or the console sends it.");
        }
        Outcome::Unchanged => eprintln!("Unchanged: nothing to send."),
    }
    if !json && let Some(ticket) = &ticket {
        println!("{}", sentence(edit, outcome, ticket));
    }
    Ok(Exit::Done)
}

/// The edit's effect in a sentence: "Created #43 “Printer jam”.",
/// "#42 is now In progress.".
fn sentence(edit: &Edit, outcome: Outcome, t: &Ticket) -> String {
    let n = number(t.number);
    let now = if outcome == Outcome::Unchanged {
        "already is"
    } else {
        "is now"
    };
    match edit {
        Edit::Create { .. } if t.number.is_none() => format!(
            "Created “{}”; it gets its number when it reaches the server.",
            t.subject
        ),
        Edit::Create { .. } => format!("Created {n} “{}”.", t.subject),
        Edit::Change { change, .. } => match change {
            Change::Comment { internal: true, .. } => format!("Added an internal note to {n}."),
            Change::Comment { .. } => format!("Commented on {n}."),
            Change::Status(_) => format!("{n} {now} {}.", labels::status(t.status)),
            Change::Assign(_) => match &t.assignee {
                Some(a) => format!("{n} {now} assigned to {}.", a.name),
                None => format!("{n} {now} unassigned."),
            },
        },
    }
}
