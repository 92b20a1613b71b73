//! What `desk tickets` prints for people: an aligned table for a list, a
//! readable page for one ticket. Scripts read `--json` instead
//! (docs/TUI.md › Scripting).

use std::fmt::Write as _;

use desk_sync::client::LocalTicket;
use ratatui::text::Span;
use time::OffsetDateTime;

use crate::{
    app::index::Row,
    commands::{login::edits, status::utc},
    labels,
    ui::{ago, ellipsize},
};

/// How much of a subject a table row shows.
const SUBJECT_WIDTH: usize = 60;
/// How much of an assignee's name a table row shows.
const ASSIGNEE_WIDTH: usize = 24;
/// What a table shows for a ticket created here that has no number yet.
const NO_NUMBER: &str = "new";

/// `#42`, or `new` before the server has numbered it.
pub fn number(number: Option<u64>) -> String {
    number.map_or_else(|| NO_NUMBER.to_string(), |n| format!("#{n}"))
}

/// One line per ticket under a header, columns aligned; subjects and
/// names cut with `…` to keep rows on one line.
pub fn table(rows: &[&Row]) -> String {
    let header = ["#", "STATUS", "PRIORITY", "ASSIGNEE", "SUBJECT"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|row| {
            [
                number(row.number),
                labels::status(row.status).to_string(),
                labels::priority(row.priority).to_string(),
                row.assignee
                    .as_ref()
                    .map_or_else(|| "—".to_string(), |a| ellipsize(&a.name, ASSIGNEE_WIDTH)),
                ellipsize(&row.subject, SUBJECT_WIDTH),
            ]
        })
        .collect();
    let mut widths = header.map(width);
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let mut out = String::new();
    line(&mut out, &header.map(str::to_string), &widths);
    for row in &cells {
        line(&mut out, row, &widths);
    }
    out
}

/// Cells padded to their column's width, two spaces apart; the last one
/// is not padded.
fn line(out: &mut String, cells: &[String; 5], widths: &[usize; 5]) {
    let last = cells.len() - 1;
    for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
        out.push_str(cell);
        if i < last {
            out.push_str(&" ".repeat(w - width(cell) + 2));
        }
    }
    out.push('\n');
}

/// Columns a text takes on a terminal.
fn width(text: &str) -> usize {
    Span::raw(text).width()
}

/// One ticket: number and subject, its fields, the description, then the
/// comments oldest first (internal notes marked).
pub fn detail(local: &LocalTicket, now: OffsetDateTime) -> String {
    let t = &local.detail.ticket;
    let mut out = String::new();
    let _ = writeln!(out, "{} {}", number(t.number), t.subject);
    let mut fields: Vec<(&str, String)> = vec![
        ("Status", labels::status(t.status).to_string()),
        ("Priority", labels::priority(t.priority).to_string()),
        ("Requester", t.requester.name.clone()),
        (
            "Assignee",
            t.assignee
                .as_ref()
                .map_or_else(|| "nobody".to_string(), |a| a.name.clone()),
        ),
    ];
    if !t.tags.is_empty() {
        fields.push(("Tags", t.tags.join(", ")));
    }
    fields.push(("Created", when(t.created_at, now)));
    fields.push(("Updated", when(t.updated_at, now)));
    if let Some(link) = &t.embed_url {
        fields.push(("Embed", link.clone()));
    }
    if t.number.is_none() {
        fields.push(("Number", "none yet: created here, not synced".to_string()));
    }
    if local.pending > 0 {
        let n = usize::try_from(local.pending).unwrap_or(usize::MAX);
        fields.push(("Pending", format!("{} not yet synced", edits(n))));
    }
    let label_width = fields.iter().map(|(l, _)| l.len()).max().unwrap_or(0) + 1;
    for (label, value) in &fields {
        let _ = writeln!(out, "{:<label_width$} {value}", format!("{label}:"));
    }
    if !t.description.trim().is_empty() {
        out.push('\n');
        for text in t.description.trim_end().lines() {
            let _ = writeln!(out, "{text}");
        }
    }
    let comments = &local.detail.comments;
    if !comments.is_empty() {
        let _ = write!(out, "\n{} comment", comments.len());
        if comments.len() > 1 {
            out.push('s');
        }
        out.push_str(":\n");
    }
    for c in comments {
        let note = if c.internal { " · internal note" } else { "" };
        let _ = writeln!(
            out,
            "\n{} · {}{note}",
            c.author.name,
            when(c.created_at, now)
        );
        let margin = if c.internal { "┃ " } else { "│ " };
        for text in c.body.trim_end().lines() {
            let _ = writeln!(out, "{margin}{text}");
        }
    }
    out
}

/// `2025-01-02 03:04 UTC (3d ago)`.
fn when(at: OffsetDateTime, now: OffsetDateTime) -> String {
    format!("{} ({})", utc(at), ago(now, at))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use desk_sync::{
        model::{Comment, Priority, Status, Ticket, UserRef},
        wire::TicketDetail,
    };
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    fn person(name: &str) -> UserRef {
        UserRef {
            id: Uuid::new_v4(),
            name: name.into(),
        }
    }

    fn ticket(number: Option<u64>, subject: &str, assignee: Option<&str>) -> Ticket {
        Ticket {
            id: Uuid::new_v4(),
            number,
            project: Default::default(),
            key: number.and_then(|n| format!("DESK-{n}").parse().ok()),
            subject: subject.into(),
            description: "It crashes.\nEvery time.".into(),
            status: Status::InProgress,
            priority: Priority::High,
            requester: person("Alice Martin"),
            assignee: assignee.map(person),
            tags: vec!["mobile".into()],
            created_at: datetime!(2025-01-01 10:00 UTC),
            updated_at: datetime!(2025-01-02 09:00 UTC),
            version: 3,
            embed_url: None,
        }
    }

    fn local(ticket: Ticket) -> LocalTicket {
        LocalTicket {
            detail: TicketDetail {
                ticket,
                comments: Vec::new(),
            },
            pending: 0,
        }
    }

    #[test]
    fn a_table_aligns_its_columns_and_cuts_long_subjects() {
        let long = "A subject much longer than any table row should ever show in full, really";
        let a = Row::of(&local(ticket(Some(7), "App crash", Some("Bob Keller"))));
        let b = Row::of(&local(ticket(Some(1042), long, None)));
        let c = Row::of(&local(ticket(None, "Printer jam", Some("Ünïcödé Ñame"))));
        let text = table(&[&a, &b, &c]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "#      STATUS       PRIORITY  ASSIGNEE      SUBJECT"
        );
        assert_eq!(
            lines[1],
            "#7     In progress  High      Bob Keller    App crash"
        );
        assert!(lines[2].starts_with("#1042  In progress  High      —             A subject"));
        assert!(lines[2].ends_with('…'), "{}", lines[2]);
        assert_eq!(
            width(lines[2].split("  —             ").nth(1).unwrap()),
            SUBJECT_WIDTH
        );
        assert_eq!(
            lines[3],
            "new    In progress  High      Ünïcödé Ñame  Printer jam"
        );
    }

    #[test]
    fn a_ticket_reads_top_to_bottom() {
        let mut t = local(ticket(Some(42), "App crash", Some("Bob Keller")));
        t.detail.comments = vec![
            Comment {
                id: Uuid::new_v4(),
                author: person("Alice Martin"),
                body: "Still happening.".into(),
                internal: false,
                created_at: datetime!(2025-01-02 08:00 UTC),
            },
            Comment {
                id: Uuid::new_v4(),
                author: person("Bob Keller"),
                body: "Looking.".into(),
                internal: true,
                created_at: datetime!(2025-01-02 09:00 UTC),
            },
        ];
        t.pending = 1;
        let text = detail(&t, datetime!(2025-01-02 10:00 UTC));
        assert_eq!(
            text,
            "#42 App crash\n\
             Status:    In progress\n\
             Priority:  High\n\
             Requester: Alice Martin\n\
             Assignee:  Bob Keller\n\
             Tags:      mobile\n\
             Created:   2025-01-01 10:00 UTC (1d ago)\n\
             Updated:   2025-01-02 09:00 UTC (1h ago)\n\
             Pending:   1 edit not yet synced\n\
             \n\
             It crashes.\n\
             Every time.\n\
             \n\
             2 comments:\n\
             \n\
             Alice Martin · 2025-01-02 08:00 UTC (2h ago)\n\
             │ Still happening.\n\
             \n\
             Bob Keller · 2025-01-02 09:00 UTC (1h ago) · internal note\n\
             ┃ Looking.\n"
        );
    }
}
