//! Snapshots of every screen drawn on a `TestBackend` (80×24 unless the
//! name says otherwise), and the checks that hold whatever the screen:
//! small terminals do not panic, `NO_COLOR` means no colour. The app comes
//! from [`crate::app::fixtures`]: fixed clock, fixed ids.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use desk_sync::{client::SyncPhase, model::Status};
use ratatui::{Terminal, backend::TestBackend, style::Color, text::Span};
use time::Duration;

use crate::{
    app::{
        App, Event, Me,
        fixtures::{self, NOW, SERVER, alice, bob, carol, id, press, type_text},
    },
    keymap::Keymap,
    theme::Theme,
};

/// Draws `app` on a `width`×`height` terminal.
fn draw(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
    t.draw(|f| f.render_widget(app, f.area())).unwrap();
    t
}

/// The frame's text, one line per row, trailing spaces cut; the cells a
/// wide symbol covers are skipped.
fn text(t: &Terminal<TestBackend>) -> Vec<String> {
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            let mut row = String::new();
            let mut x = 0;
            while x < buf.area.width {
                let symbol = buf[(x, y)].symbol();
                row.push_str(symbol);
                let width = u16::try_from(Span::raw(symbol).width()).unwrap_or(1);
                x += width.max(1);
            }
            row.trim_end().to_string()
        })
        .collect()
}

macro_rules! snapshot {
    ($name:expr, $app:expr) => {
        snapshot!($name, $app, 80, 24)
    };
    ($name:expr, $app:expr, $w:expr, $h:expr) => {{
        let t = draw(&$app, $w, $h);
        insta::with_settings!({
            filters => vec![(
                r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                "[uuid]",
            )],
        }, {
            insta::assert_snapshot!($name, t.backend());
        });
        t
    }};
}

/// A signed-in console, live and in sync.
fn live(me: Me) -> App {
    let mut app = fixtures::app(me);
    app.update(Event::Sync(fixtures::sync(SyncPhase::Live, 0, 0, 0)));
    app
}

/// Bob looking at #42, read from the replica.
fn detail_42() -> App {
    let mut app = live(bob());
    press(&mut app, "enter");
    app.update(Event::Ticket(
        id(42),
        Some(Box::new(fixtures::local(Some(42)))),
    ));
    app
}

// ── screens ────────────────────────────────────────────────────────────

fn list_agent() -> App {
    live(bob())
}

fn list_search() -> App {
    let mut app = live(bob());
    press(&mut app, "/");
    type_text(&mut app, "re");
    app
}

fn list_admin() -> App {
    live(carol())
}

fn list_customer() -> App {
    live(alice())
}

fn detail_history() -> App {
    let mut app = detail_42();
    app.update(Event::History(id(42), Ok(fixtures::history_42())));
    app
}

fn detail_offline() -> App {
    let mut app = fixtures::app(bob());
    let mut status = fixtures::sync(
        SyncPhase::Offline {
            since: NOW - Duration::minutes(10),
        },
        1,
        0,
        0,
    );
    status.last_synced = Some(NOW - Duration::minutes(12));
    app.update(Event::Sync(status));
    press(&mut app, "enter");
    app.update(Event::Ticket(
        id(42),
        Some(Box::new(fixtures::local(Some(42)))),
    ));
    app.update(Event::History(
        id(42),
        Err("the server cannot be reached".into()),
    ));
    app
}

fn compose_internal() -> App {
    let mut app = detail_42();
    press(&mut app, "c");
    type_text(&mut app, "Token refresh fixed in 3.2.2.");
    press(&mut app, "enter");
    type_text(&mut app, "Waiting for the release.");
    press(&mut app, "ctrl-t");
    app
}

fn new_ticket_error() -> App {
    let mut app = live(bob());
    press(&mut app, "n");
    press(&mut app, "ctrl-p");
    press(&mut app, "tab");
    press(&mut app, "tab");
    type_text(&mut app, "The printer on the 3rd floor.");
    press(&mut app, "ctrl-s");
    app
}

fn picker_status() -> App {
    let mut app = live(bob());
    press(&mut app, "s");
    press(&mut app, "down");
    app
}

fn picker_priority() -> App {
    let mut app = live(bob());
    press(&mut app, "p");
    app
}

fn triage_picker() -> App {
    let mut app = live(carol());
    press(&mut app, "t");
    press(&mut app, "space");
    press(&mut app, "a");
    type_text(&mut app, "dv");
    app
}

fn triage_queue() -> App {
    let mut app = live(carol());
    press(&mut app, "t");
    press(&mut app, "space");
    app
}

fn conflicts_inbox() -> App {
    let mut app = live(bob());
    app.update(Event::Sync(fixtures::sync(SyncPhase::Live, 0, 1, 0)));
    app.update(Event::Conflicts(vec![fixtures::status_conflict(
        1,
        41,
        Status::Open,
        Status::InProgress,
    )]));
    press(&mut app, "i");
    app.notice = None;
    app
}

fn login_error() -> App {
    let mut app = App::new(Keymap::default(), None, SERVER.into(), NOW);
    app.update(Event::Resize(80, 24));
    type_text(&mut app, "bob@example.com");
    press(&mut app, "tab");
    type_text(&mut app, "hunter22");
    press(&mut app, "enter");
    app.update(Event::LoginFailed("Wrong email or password.".into()));
    app
}

fn login_again() -> App {
    let mut app = live(bob());
    app.update(Event::Sync(fixtures::sync(SyncPhase::SignedOut, 2, 0, 0)));
    app
}

fn help_list() -> App {
    let mut app = live(bob());
    press(&mut app, "?");
    app
}

fn before_load() -> App {
    let mut app = App::new(Keymap::default(), Some(bob()), SERVER.into(), NOW);
    app.update(Event::Resize(80, 24));
    app
}

/// Every screen, for the checks that hold on all of them.
fn every_screen() -> Vec<(&'static str, App)> {
    vec![
        ("list_agent", list_agent()),
        ("list_search", list_search()),
        ("list_admin", list_admin()),
        ("list_customer", list_customer()),
        ("detail_history", detail_history()),
        ("detail_offline", detail_offline()),
        ("compose_internal", compose_internal()),
        ("new_ticket_error", new_ticket_error()),
        ("picker_status", picker_status()),
        ("picker_priority", picker_priority()),
        ("triage_queue", triage_queue()),
        ("triage_picker", triage_picker()),
        ("conflicts_inbox", conflicts_inbox()),
        ("login_error", login_error()),
        ("login_again", login_again()),
        ("help_list", help_list()),
        ("before_load", before_load()),
    ]
}

#[test]
fn list_as_an_agent() {
    let t = snapshot!("list_agent", list_agent());
    let lines = text(&t);
    assert!(lines[0].contains("bob@example.com (agent)"), "{}", lines[0]);
    assert!(lines[0].contains("● live · 0 pending"), "{}", lines[0]);
    assert!(lines[1].contains("[1] Mine 4"), "{}", lines[1]);
    assert!(lines[3].contains("#42") && lines[3].contains("App crash on login"));
    assert!(
        lines[4].contains("new") && lines[4].contains('⟳'),
        "{}",
        lines[4]
    );
    // At 80 columns the footer keeps search and new ticket; a cut subject
    // says it was cut; the last column is the time since the update.
    assert!(
        lines[22].contains("/ search") && lines[22].contains("n new"),
        "{}",
        lines[22]
    );
    assert!(
        lines[6].contains("Password reset email never a…"),
        "{}",
        lines[6]
    );
    assert!(lines[2].ends_with("updated│"), "{}", lines[2]);
}

#[test]
fn list_with_a_search() {
    let t = snapshot!("list_search", list_search());
    let lines = text(&t);
    assert!(lines[1].contains("/ re▏"), "{}", lines[1]);
    assert!(lines[1].contains("2 found"), "{}", lines[1]);
}

#[test]
fn list_as_an_admin() {
    let t = snapshot!("list_admin", list_admin());
    let lines = text(&t);
    assert!(
        lines[1].contains("[1] Unassigned 3 [2] Mine 0"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains("[6] All 11"),
        "every count fits: {}",
        lines[1]
    );
}

#[test]
fn list_as_a_customer() {
    let t = snapshot!("list_customer", list_customer());
    let lines = text(&t);
    assert!(lines[0].contains("alice@example.com (customer)"));
    assert!(lines[1].contains("[1] My requests 5"));
    assert!(
        lines[22].contains("c comment") && !lines[22].contains("s status"),
        "customers are not offered what they may not do: {}",
        lines[22]
    );
}

#[test]
fn detail_with_comments_and_history() {
    let t = snapshot!("detail_history", detail_history());
    let all = text(&t).join("\n");
    assert!(all.contains("🔒 internal note"), "{all}");
    assert!(
        all.contains("Bob Keller changed status: Open → In progress"),
        "{all}"
    );
}

#[test]
fn a_scrolled_detail_keeps_its_header_and_wrapped_comments_their_margin() {
    let mut app = detail_42();
    let mut local = fixtures::local(Some(42));
    local.detail.comments[0].body = "word ".repeat(40).trim_end().to_string();
    app.update(Event::Ticket(id(42), Some(Box::new(local))));
    app.update(Event::History(id(42), Ok(fixtures::history_42())));
    app.update(Event::Resize(60, 16));
    press(&mut app, "j");
    press(&mut app, "j");
    let t = snapshot!("detail_scrolled", app, 60, 16);
    let lines = text(&t);
    assert!(lines[1].contains("#42  App crash on login"), "{lines:#?}");
    let margins = lines
        .iter()
        .filter(|l| l.starts_with("││ word") || l.starts_with("│┃ word"))
        .count();
    assert!(margins >= 3, "every wrapped line has its bar: {lines:#?}");

    // At the end, the history's last line is on the last row, and j goes
    // no further.
    press(&mut app, "G");
    let end = text(&draw(&app, 60, 16));
    assert!(
        end[13].contains("commented") || end[13].contains("→"),
        "{end:#?}"
    );
    press(&mut app, "j");
    assert_eq!(text(&draw(&app, 60, 16)), end);
    assert!(end[1].contains("#42  App crash on login"), "{end:#?}");
}

#[test]
fn detail_offline_without_history() {
    let t = snapshot!("detail_offline", detail_offline());
    let all = text(&t).join("\n");
    assert!(
        all.contains("○ offline (last sync 12m ago) · 1 pending"),
        "{all}"
    );
    assert!(
        all.contains("Not available: the server cannot be reached"),
        "{all}"
    );
}

#[test]
fn compose_an_internal_note() {
    let t = snapshot!("compose_internal", compose_internal());
    let all = text(&t).join("\n");
    assert!(
        all.contains("Internal note: only staff will see this"),
        "{all}"
    );
    assert!(all.contains("ctrl-t makes it public"), "{all}");
}

#[test]
fn new_ticket_with_an_error() {
    let t = snapshot!("new_ticket_error", new_ticket_error());
    assert!(text(&t).join("\n").contains("subject must not be empty"));
}

#[test]
fn status_picker() {
    let t = snapshot!("picker_status", picker_status());
    let all = text(&t).join("\n");
    assert!(all.contains("Status of #42 “App crash on login”"), "{all}");
    assert!(all.contains("In progress             ● now"), "{all}");
}

#[test]
fn priority_picker() {
    let t = snapshot!("picker_priority", picker_priority());
    let all = text(&t).join("\n");
    assert!(
        all.contains("Priority of #42 “App crash on login”"),
        "{all}"
    );
    assert!(all.contains("High                    ● now"), "{all}");
}

#[test]
fn triage_queue_with_a_mark() {
    let t = snapshot!("triage_queue", triage_queue());
    let all = text(&t).join("\n");
    assert!(all.contains("3 unassigned · 1 marked"), "{all}");
    assert!(!all.contains("Ivan"), "inactive agents are not listed");
}

#[test]
fn triage_with_the_assignee_picker_filtered() {
    let t = snapshot!("triage_picker", triage_picker());
    let all = text(&t).join("\n");
    assert!(all.contains("› dv"), "{all}");
    assert!(all.contains("Dave Osei"), "{all}");
}

#[test]
fn conflicts_inbox_with_one_entry() {
    let t = snapshot!("conflicts_inbox", conflicts_inbox());
    let all = text(&t).join("\n");
    assert!(all.contains("⚠ 1 conflict"), "{all}");
    assert!(all.contains("#41    Refund not received"), "{all}");
    assert!(all.contains("Dave changed it first · 1m ago"), "{all}");
    assert!(
        all.contains("Dave Osei set status to Blocked 4m ago; you wanted In progress."),
        "{all}"
    );
    assert!(
        all.contains("enter opens the ticket · R re-applies yours"),
        "{all}"
    );
}

#[test]
fn a_ticket_gone_before_a_restart_is_still_named_in_the_inbox() {
    // Nothing in the list and nothing remembered in memory (a new start):
    // the entry's own glimpse of the ticket names it.
    let mut app = live(bob());
    let mut gone = fixtures::status_conflict(1, 999, Status::Open, Status::InProgress);
    gone.outcome = desk_sync::wire::sync::Outcome::Rejected;
    gone.conflict = None;
    gone.seen = Some(desk_sync::client::Glimpse {
        number: Some(999),
        subject: "Printer on fire".into(),
    });
    app.update(Event::Conflicts(vec![gone]));
    press(&mut app, "i");
    let all = text(&draw(&app, 80, 24)).join("\n");
    assert!(
        all.contains("#999") && all.contains("Printer on fire"),
        "{all}"
    );
    assert!(!all.contains("#?"), "{all}");
}

#[test]
fn an_emptied_inbox_does_not_claim_everything_was_applied() {
    let mut app = conflicts_inbox();
    press(&mut app, "d");
    let all = text(&draw(&app, 80, 24)).join("\n");
    assert!(all.contains("Nothing to review."), "{all}");
    assert!(!all.contains("applied"), "{all}");
}

#[test]
fn login_with_an_error() {
    let t = snapshot!("login_error", login_error());
    let all = text(&t).join("\n");
    assert!(all.contains("Wrong email or password."), "{all}");
    assert!(!all.contains("••••"), "the refused password is gone: {all}");
    assert!(!all.contains("hunter22"), "{all}");

    // A password being typed is masked.
    let mut app = App::new(Keymap::default(), None, SERVER.into(), NOW);
    type_text(&mut app, "bob@example.com");
    press(&mut app, "tab");
    type_text(&mut app, "hunter22");
    let all = text(&draw(&app, 80, 24)).join("\n");
    assert!(all.contains("••••••••"), "the password is masked: {all}");
    assert!(!all.contains("hunter22"), "{all}");
}

#[test]
fn login_when_the_session_ended() {
    let t = snapshot!("login_again", login_again());
    let all = text(&t).join("\n");
    assert!(all.contains("○ signed out · 2 pending"), "{all}");
    assert!(all.contains("bob@example.com"), "{all}");
}

#[test]
fn help_overlay() {
    let t = snapshot!("help_list", help_list());
    let all = text(&t).join("\n");
    assert!(all.contains("Keys: ticket list"), "{all}");
    assert!(all.contains("1–9"), "{all}");
}

#[test]
fn empty_list_before_the_first_read() {
    let t = snapshot!("before_load", before_load());
    let all = text(&t).join("\n");
    assert!(all.contains("Reading the replica…"), "{all}");
    assert!(all.contains("◌ starting"), "{all}");
}

#[test]
fn a_big_terminal() {
    let mut app = live(carol());
    app.update(Event::Resize(120, 40));
    press(&mut app, "6");
    let t = snapshot!("list_120x40", app, 120, 40);
    let lines = text(&t);
    for (y, l) in lines.iter().enumerate().take(39).skip(1) {
        assert!(l.starts_with('│') && l.ends_with('│'), "row {y}: {l}");
    }
    assert!(lines[1].contains("[6] All 11  / search"), "{}", lines[1]);
    assert!(lines.iter().any(|l| l.contains("#31")), "all 11 fit");
}

#[test]
fn a_small_terminal() {
    let mut app = live(bob());
    app.update(Event::Resize(60, 15));
    let t = snapshot!("list_60x15", app, 60, 15);
    assert!(text(&t)[3].contains("#42"));
}

#[test]
fn header_states() {
    let header = |phase: SyncPhase, pending: usize, conflicts: usize| {
        let mut app = fixtures::app(bob());
        app.update(Event::Sync(fixtures::sync(phase, pending, conflicts, 0)));
        app.notice = None;
        text(&draw(&app, 80, 24))[0].clone()
    };
    let offline = SyncPhase::Offline {
        since: NOW - Duration::minutes(1),
    };
    let states = [
        ("live", header(SyncPhase::Live, 0, 0)),
        ("syncing", header(SyncPhase::Syncing, 0, 0)),
        ("polling", header(SyncPhase::Polling, 0, 0)),
        ("offline", header(offline.clone(), 0, 0)),
        ("pending", header(SyncPhase::Live, 3, 0)),
        ("conflicts", header(SyncPhase::Live, 0, 2)),
        ("everything", header(offline, 3, 1)),
    ];
    assert!(states[0].1.contains("● live · 0 pending"));
    assert!(states[1].1.contains("◌ syncing · 0 pending"));
    assert!(
        states[3]
            .1
            .contains("○ offline (last sync 3m ago) · 0 pending")
    );
    assert!(states[4].1.contains("● live · 3 pending"));
    assert!(states[5].1.contains("● live · 0 pending · ⚠ 2 conflicts"));
    for (name, line) in &states[..6] {
        assert!(line.contains("bob@example.com (agent)"), "{name}: {line}");
    }
    assert!(
        states[6].1.contains("─ bob@example.com ─") && states[6].1.contains("3 pending · ⚠ 1 ┐"),
        "too long for both: the role and the badge's noun go: {}",
        states[6].1
    );
    let all = states
        .iter()
        .map(|(name, line)| format!("{name:>10}: {line}"))
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("header_states", all);
}

#[test]
fn a_notice_sits_on_the_bottom_border_and_the_keys_stay() {
    let mut app = live(bob());
    press(&mut app, "t");
    let t = draw(&app, 80, 24);
    assert!(
        text(&t)[23].contains("Triage is for admins."),
        "{}",
        text(&t)[23]
    );
    assert!(text(&t)[22].contains("enter open"), "{}", text(&t)[22]);
    app.update(Event::Tick(NOW + Duration::seconds(7)));
    let t = draw(&app, 80, 24);
    assert!(!text(&t)[23].contains("Triage"), "{}", text(&t)[23]);
    assert!(text(&t)[22].contains("enter open"), "{}", text(&t)[22]);
}

#[test]
fn the_footer_and_help_follow_a_rebound_key() {
    let overrides =
        std::collections::BTreeMap::from([("status".to_string(), vec!["S".to_string()])]);
    let mut app = live(bob());
    app.keymap = Keymap::with_overrides(&overrides).unwrap();
    let t = draw(&app, 80, 24);
    assert!(text(&t)[22].contains("S status"), "{}", text(&t)[22]);
    press(&mut app, "?");
    let all = text(&draw(&app, 80, 24)).join("\n");
    assert!(all.contains("S  status"), "{all}");
}

#[test]
fn every_screen_survives_tiny_terminals() {
    for (name, mut app) in every_screen() {
        for (w, h) in [(60, 15), (40, 10), (20, 5), (10, 3), (1, 1)] {
            app.update(Event::Resize(w, h));
            let t = draw(&app, w, h);
            assert_eq!(t.backend().buffer().area.width, w, "{name} at {w}×{h}");
        }
    }
}

#[test]
fn no_color_means_no_colour_anywhere() {
    for (name, mut app) in every_screen() {
        app.theme = Theme::new(false);
        let t = draw(&app, 80, 24);
        for (i, cell) in t.backend().buffer().content.iter().enumerate() {
            assert_eq!(
                (cell.fg, cell.bg),
                (Color::Reset, Color::Reset),
                "{name}: cell {i} ({:?}) is coloured",
                cell.symbol()
            );
        }
    }
}

#[test]
fn with_colour_the_list_uses_it() {
    let app = live(bob());
    assert_eq!(app.theme, Theme::new(true));
    let t = draw(&app, 80, 24);
    let coloured: Vec<Color> = t
        .backend()
        .buffer()
        .content
        .iter()
        .map(|c| c.fg)
        .filter(|&c| c != Color::Reset)
        .collect();
    assert!(
        coloured.contains(&Color::Green),
        "live and in progress are green"
    );
    assert!(coloured.contains(&Color::Yellow), "high priority is yellow");
    assert!(
        coloured.contains(&Color::Cyan),
        "keys and the open status are cyan"
    );
}

#[test]
fn the_list_column_names_the_other_person() {
    let agent = text(&draw(&live(bob()), 80, 24))[2].clone();
    assert!(agent.contains("requester"), "{agent}");
    let admin = text(&draw(&live(carol()), 80, 24))[2].clone();
    assert!(admin.contains("assignee"), "{admin}");
}

/// Every cell of the frame: nothing a terminal would act on rather than
/// show, and no bidirectional override that would reorder what follows.
fn assert_harmless(t: &Terminal<TestBackend>) {
    let buf = t.backend().buffer();
    for cell in buf.content() {
        let symbol = cell.symbol();
        assert!(
            !symbol.chars().any(|c| c.is_control()
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')),
            "a hostile character reached the terminal: {symbol:?}"
        );
    }
}

#[test]
fn whatever_the_server_sends_nothing_hostile_reaches_the_terminal() {
    // A replica written by a broken or hostile server: escape sequences,
    // a bell, C1 controls and a bidi override in every text it holds.
    let hostile = "Hi\u{1b}[2J\u{1b}]0;pwned\u{7}\u{9b}31m\u{202e}gnp.exe\u{0}";
    let mut app = detail_42();
    let mut local = fixtures::local(Some(42));
    local.detail.ticket.subject = hostile.into();
    local.detail.ticket.description = format!("{hostile}\n{hostile}");
    local.detail.ticket.requester.name = hostile.into();
    local.detail.comments[0].body = hostile.into();
    local.detail.comments[0].author.name = hostile.into();
    app.update(Event::Ticket(id(42), Some(Box::new(local))));
    let t = draw(&app, 80, 24);
    assert_harmless(&t);
    assert!(
        text(&t).concat().contains("Hi"),
        "the text around it still shows"
    );
}
