//! Key events as a person types them: an uppercase letter comes with SHIFT,
//! as a terminal reports it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The event of pressing `code` (with `mods`).
pub fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
    let shift = match code {
        KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
        _ => KeyModifiers::NONE,
    };
    KeyEvent::new(code, mods | shift)
}

/// The events of typing `text`, one key per character.
pub fn text(text: &str) -> impl Iterator<Item = KeyEvent> + '_ {
    text.chars()
        .map(|c| key(KeyCode::Char(c), KeyModifiers::NONE))
}
