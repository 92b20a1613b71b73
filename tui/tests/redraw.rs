//! After an external program (`$EDITOR`) has used the terminal, the next
//! frame paints every cell, not only what changed since the last one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use desk_tui::{
    app::{App, Event, Me},
    keymap::Keymap,
    runtime::{self, Console},
};
use ratatui::{
    Terminal,
    backend::{Backend, TestBackend},
};
use time::OffsetDateTime;
use uuid::Uuid;

fn screen(console: &Console<TestBackend>) -> String {
    console
        .terminal
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect()
}

#[tokio::test]
async fn the_frame_is_painted_in_full_after_the_editor() {
    let me = Me {
        id: Uuid::from_u128(1),
        name: "Bob Keller".into(),
        email: "bob@example.com".into(),
        role: desk_sync::model::Role::Agent,
    };
    let app = App::new(
        Keymap::default(),
        Some(me),
        "http://127.0.0.1:9".into(),
        OffsetDateTime::now_utc(),
    );
    let dir = tempfile::tempdir().unwrap();
    let terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut console = Console::new(
        app,
        terminal,
        None,
        dir.path().to_path_buf(),
        runtime::channel(),
        false,
    );
    console.draw().unwrap();
    assert!(screen(&console).contains("bob@example.com"));

    // The editor leaves the screen blank behind it.
    console.terminal.backend_mut().clear().unwrap();
    assert!(!screen(&console).contains("bob@example.com"));
    console.app.update(Event::EditorClosed {
        ticket: Uuid::from_u128(42),
        internal: false,
        text: Ok(String::new()),
    });
    console.draw().unwrap();
    assert!(
        screen(&console).contains("bob@example.com"),
        "{}",
        screen(&console)
    );
}
