//! Keys → actions, per screen. The defaults are docs/TUI.md's; the config file's
//! `[keys]` table rebinds an action everywhere it is bound:
//!
//! ```toml
//! [keys]
//! status = "S"                 # one key
//! move_down = ["j", "down", "ctrl-n"]
//! ```
//!
//! The help overlay and the footer are built from the same table, so what
//! they show is what the keys do.

use std::{collections::BTreeMap, fmt, str::FromStr};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Where the keys are read: each screen (and overlay) has its own table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    List,
    /// Typing a search in the list.
    Search,
    Detail,
    Compose,
    NewTicket,
    Triage,
    Conflicts,
    Login,
    Picker,
    /// A yes/no question.
    Confirm,
    Help,
}

/// What a key asks for. Text typed into an editor is not an action: keys
/// the table does not bind go to the focused input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Open,
    Back,
    Quit,
    Search,
    View(u8),
    Status,
    Priority,
    Comment,
    Editor,
    Assign,
    AssignByLoad,
    Mark,
    NewTicket,
    Triage,
    SyncNow,
    Conflicts,
    CopyEmbed,
    Help,
    Dismiss,
    /// Re-apply a refused edit over the colleague's (conflicts inbox).
    Reapply,
    Save,
    ToggleInternal,
    NextField,
    PrevField,
}

impl Action {
    /// The name used in the config file's `[keys]` table.
    pub fn name(self) -> String {
        match self {
            Action::View(n) => format!("view_{n}"),
            other => other.fixed_name().to_string(),
        }
    }

    fn fixed_name(self) -> &'static str {
        match self {
            Action::Up => "move_up",
            Action::Down => "move_down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::Open => "open",
            Action::Back => "back",
            Action::Quit => "quit",
            Action::Search => "search",
            Action::View(_) => "view_n",
            Action::Status => "status",
            Action::Priority => "priority",
            Action::Comment => "comment",
            Action::Editor => "editor",
            Action::Assign => "assign",
            Action::AssignByLoad => "assign_by_load",
            Action::Mark => "mark",
            Action::NewTicket => "new_ticket",
            Action::Triage => "triage",
            Action::SyncNow => "sync_now",
            Action::Conflicts => "conflicts",
            Action::CopyEmbed => "copy_embed",
            Action::Help => "help",
            Action::Dismiss => "dismiss",
            Action::Reapply => "reapply",
            Action::Save => "save",
            Action::ToggleInternal => "toggle_internal",
            Action::NextField => "next_field",
            Action::PrevField => "prev_field",
        }
    }

    /// What it does, for the help overlay and the footer.
    pub fn describe(self, context: Context) -> &'static str {
        match (self, context) {
            (Action::Up, _) => "move up",
            (Action::Down, _) => "move down",
            (Action::Top, _) => "first",
            (Action::Bottom, _) => "last",
            (Action::PageUp, _) => "page up",
            (Action::PageDown, _) => "page down",
            (Action::Open, Context::Conflicts) => "open the ticket",
            (Action::Open, Context::Picker) => "choose",
            (Action::Open, Context::Confirm) => "yes",
            (Action::Back, Context::Confirm) => "no",
            (Action::Open, Context::Search) => "keep the search",
            (Action::Open, Context::Login) => "sign in",
            (Action::Open, _) => "open",
            (Action::Back, Context::Compose | Context::NewTicket) => "cancel",
            (Action::Back, Context::Search) => "clear the search",
            (Action::Back, Context::Help | Context::Picker) => "close",
            (Action::Back, _) => "back",
            (Action::Quit, _) => "quit",
            (Action::Search, _) => "search",
            (Action::View(_), _) => "views",
            (Action::Status, _) => "status",
            (Action::Priority, Context::NewTicket) => "cycle priority",
            (Action::Priority, _) => "priority",
            (Action::Comment, _) => "comment",
            (Action::Editor, _) => "comment in $EDITOR",
            (Action::Assign, _) => "assign",
            (Action::AssignByLoad, _) => "assign marked by load",
            (Action::Mark, _) => "mark",
            (Action::NewTicket, _) => "new ticket",
            (Action::Triage, _) => "triage",
            (Action::SyncNow, _) => "sync now",
            (Action::Conflicts, _) => "conflicts",
            (Action::CopyEmbed, _) => "copy embed link",
            (Action::Help, _) => "help",
            (Action::Dismiss, _) => "dismiss",
            (Action::Reapply, _) => "re-apply yours",
            (Action::Save, _) => "save",
            (Action::ToggleInternal, _) => "internal note on/off",
            (Action::NextField, _) => "next field",
            (Action::PrevField, _) => "previous field",
        }
    }
}

impl FromStr for Action {
    type Err = KeymapError;

    fn from_str(s: &str) -> Result<Action, KeymapError> {
        if let Some(n) = s.strip_prefix("view_")
            && let Ok(n) = n.parse::<u8>()
            && (1..=9).contains(&n)
        {
            return Ok(Action::View(n));
        }
        ALL_ACTIONS
            .iter()
            .copied()
            .find(|a| a.fixed_name() == s && !matches!(a, Action::View(_)))
            .ok_or_else(|| KeymapError::UnknownAction(s.to_string()))
    }
}

const ALL_ACTIONS: &[Action] = &[
    Action::Up,
    Action::Down,
    Action::Top,
    Action::Bottom,
    Action::PageUp,
    Action::PageDown,
    Action::Open,
    Action::Back,
    Action::Quit,
    Action::Search,
    Action::Status,
    Action::Priority,
    Action::Comment,
    Action::Editor,
    Action::Assign,
    Action::AssignByLoad,
    Action::Mark,
    Action::NewTicket,
    Action::Triage,
    Action::SyncNow,
    Action::Conflicts,
    Action::CopyEmbed,
    Action::Help,
    Action::Dismiss,
    Action::Reapply,
    Action::Save,
    Action::ToggleInternal,
    Action::NextField,
    Action::PrevField,
];

/// One key with its modifiers, as written in the config file: `j`, `G`,
/// `enter`, `esc`, `ctrl-s`, `alt-enter`, `f1`, `space`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub const fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        Key { code, mods }
    }

    pub const fn plain(c: char) -> Key {
        Key::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    pub const fn ctrl(c: char) -> Key {
        Key::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    const fn code(code: KeyCode) -> Key {
        Key::new(code, KeyModifiers::NONE)
    }

    /// The key of a terminal event. Shift is part of the character for
    /// printable keys (`G` arrives as shift + 'G'), so it is dropped there.
    pub fn from_event(event: &KeyEvent) -> Key {
        let mut mods = event.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        if !matches!(event.code, KeyCode::Char(_)) {
            mods |= event.modifiers & KeyModifiers::SHIFT;
        }
        let code = match event.code {
            // Terminals send shift-tab as BackTab.
            KeyCode::BackTab => {
                mods |= KeyModifiers::SHIFT;
                KeyCode::Tab
            }
            other => other,
        };
        Key { code, mods }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

impl FromStr for Key {
    type Err = KeymapError;

    fn from_str(text: &str) -> Result<Key, KeymapError> {
        let bad = || KeymapError::BadKey(text.to_string());
        let mut mods = KeyModifiers::NONE;
        let mut rest = text;
        // A lone "-" is the minus key, not a separator.
        while let Some((prefix, tail)) = rest.split_once('-')
            && !tail.is_empty()
        {
            mods |= match prefix.to_ascii_lowercase().as_str() {
                "ctrl" | "c" => KeyModifiers::CONTROL,
                "alt" | "a" | "m" => KeyModifiers::ALT,
                "shift" | "s" => KeyModifiers::SHIFT,
                _ => return Err(bad()),
            };
            rest = tail;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                "backspace" => KeyCode::Backspace,
                "space" => KeyCode::Char(' '),
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pageup" | "pgup" => KeyCode::PageUp,
                "pagedown" | "pgdn" => KeyCode::PageDown,
                f if f.starts_with('f') => f[1..]
                    .parse::<u8>()
                    .ok()
                    .filter(|n| (1..=12).contains(n))
                    .map(KeyCode::F)
                    .ok_or_else(bad)?,
                _ => return Err(bad()),
            },
        };
        // `shift-g` is written `G` by the terminal.
        let code = match code {
            KeyCode::Char(c) if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::Char(c.to_ascii_uppercase())
            }
            other => other,
        };
        Ok(Key { code, mods })
    }
}

/// A bad `[keys]` entry: named, so the person can fix the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeymapError {
    #[error("unknown action {0:?} in [keys] (see `?` in the console for the names)")]
    UnknownAction(String),
    #[error("cannot read key {0:?} in [keys]: expected e.g. \"j\", \"G\", \"enter\", \"ctrl-s\"")]
    BadKey(String),
    #[error("[keys] gives {action:?} no key")]
    NoKeys { action: String },
}

/// Every screen's bindings, in the order the help overlay lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    tables: BTreeMap<Context, Vec<(Key, Action)>>,
}

impl Default for Keymap {
    fn default() -> Keymap {
        use Action::*;
        use Context as C;
        use KeyCode as K;
        let moves = [
            (Key::plain('k'), Up),
            (Key::code(K::Up), Up),
            (Key::plain('j'), Down),
            (Key::code(K::Down), Down),
            (Key::plain('g'), Top),
            (Key::code(K::Home), Top),
            (Key::plain('G'), Bottom),
            (Key::code(K::End), Bottom),
            (Key::code(K::PageUp), PageUp),
            (Key::ctrl('u'), PageUp),
            (Key::code(K::PageDown), PageDown),
            (Key::ctrl('d'), PageDown),
        ];
        let arrows = [
            (Key::code(K::Up), Up),
            (Key::code(K::Down), Down),
            (Key::code(K::PageUp), PageUp),
            (Key::code(K::PageDown), PageDown),
        ];
        let ticket_actions = [
            (Key::plain('s'), Status),
            (Key::plain('p'), Priority),
            (Key::plain('c'), Comment),
            (Key::plain('a'), Assign),
            (Key::plain('y'), CopyEmbed),
        ];
        let global = [
            (Key::plain('n'), NewTicket),
            (Key::plain('t'), Triage),
            (Key::plain('i'), Conflicts),
            (Key::plain('r'), SyncNow),
            (Key::plain('?'), Help),
        ];
        let views = (1..=9u8).map(|n| (Key::plain(char::from(b'0' + n)), View(n)));

        let mut tables = BTreeMap::new();
        let mut list: Vec<(Key, Action)> = moves.to_vec();
        list.push((Key::code(K::Enter), Open));
        list.push((Key::plain('/'), Search));
        list.extend(views);
        list.extend(ticket_actions);
        list.extend(global);
        list.push((Key::code(K::Esc), Back));
        list.push((Key::plain('q'), Quit));
        tables.insert(C::List, list);

        tables.insert(
            C::Search,
            vec![
                (Key::code(K::Enter), Open),
                (Key::code(K::Esc), Back),
                (Key::code(K::Up), Up),
                (Key::code(K::Down), Down),
            ],
        );

        let mut detail: Vec<(Key, Action)> = moves.to_vec();
        detail.extend(ticket_actions);
        detail.push((Key::plain('e'), Editor));
        detail.extend(global);
        detail.push((Key::code(K::Esc), Back));
        detail.push((Key::plain('q'), Back));
        tables.insert(C::Detail, detail);

        tables.insert(
            C::Compose,
            vec![
                (Key::ctrl('s'), Save),
                (Key::ctrl('t'), ToggleInternal),
                (Key::ctrl('e'), Editor),
                (Key::code(K::Esc), Back),
            ],
        );

        tables.insert(
            C::NewTicket,
            vec![
                (Key::ctrl('s'), Save),
                (Key::code(K::Tab), NextField),
                (Key::new(K::Tab, KeyModifiers::SHIFT), PrevField),
                (Key::ctrl('p'), Priority),
                (Key::code(K::Esc), Back),
            ],
        );

        let mut triage: Vec<(Key, Action)> = moves.to_vec();
        triage.push((Key::code(K::Enter), Open));
        triage.push((Key::plain(' '), Mark));
        triage.push((Key::plain('a'), Assign));
        triage.push((Key::plain('A'), AssignByLoad));
        triage.push((Key::plain('s'), Status));
        triage.push((Key::plain('p'), Priority));
        triage.extend([
            (Key::plain('n'), NewTicket),
            (Key::plain('i'), Conflicts),
            (Key::plain('r'), SyncNow),
            (Key::plain('?'), Help),
        ]);
        triage.push((Key::code(K::Esc), Back));
        triage.push((Key::plain('q'), Back));
        tables.insert(C::Triage, triage);

        let mut conflicts: Vec<(Key, Action)> = moves.to_vec();
        conflicts.push((Key::code(K::Enter), Open));
        conflicts.push((Key::plain('R'), Reapply));
        conflicts.push((Key::plain('d'), Dismiss));
        conflicts.push((Key::plain('?'), Help));
        conflicts.push((Key::code(K::Esc), Back));
        conflicts.push((Key::plain('q'), Back));
        tables.insert(C::Conflicts, conflicts);

        tables.insert(
            C::Login,
            vec![
                (Key::code(K::Enter), Open),
                (Key::code(K::Tab), NextField),
                (Key::new(K::Tab, KeyModifiers::SHIFT), PrevField),
                (Key::code(K::Down), NextField),
                (Key::code(K::Up), PrevField),
                (Key::code(K::Esc), Back),
            ],
        );

        let mut picker: Vec<(Key, Action)> = vec![(Key::plain('k'), Up), (Key::plain('j'), Down)];
        picker.extend(arrows);
        picker.push((Key::ctrl('p'), Up));
        picker.push((Key::ctrl('n'), Down));
        picker.push((Key::code(K::Enter), Open));
        picker.push((Key::code(K::Esc), Back));
        tables.insert(C::Picker, picker);

        tables.insert(
            C::Confirm,
            vec![
                (Key::plain('y'), Open),
                (Key::code(K::Enter), Open),
                (Key::plain('n'), Back),
                (Key::code(K::Esc), Back),
            ],
        );

        tables.insert(
            C::Help,
            vec![
                (Key::code(K::Esc), Back),
                (Key::plain('?'), Back),
                (Key::plain('q'), Back),
                (Key::plain('k'), Up),
                (Key::code(K::Up), Up),
                (Key::plain('j'), Down),
                (Key::code(K::Down), Down),
            ],
        );

        Keymap { tables }
    }
}

impl Keymap {
    /// The defaults with the config file's `[keys]` applied: each named
    /// action gets exactly the given keys, in every screen that binds it.
    pub fn with_overrides(
        overrides: &BTreeMap<String, Vec<String>>,
    ) -> Result<Keymap, KeymapError> {
        let mut keymap = Keymap::default();
        for (name, keys) in overrides {
            let action: Action = name.parse()?;
            if keys.is_empty() {
                return Err(KeymapError::NoKeys {
                    action: name.clone(),
                });
            }
            let keys = keys
                .iter()
                .map(|k| k.parse::<Key>())
                .collect::<Result<Vec<_>, _>>()?;
            for table in keymap.tables.values_mut() {
                let Some(at) = table.iter().position(|&(_, a)| a == action) else {
                    continue;
                };
                table.retain(|&(_, a)| a != action);
                // The new keys win over whatever else they were bound to.
                table.retain(|(k, _)| !keys.contains(k));
                let at = at.min(table.len());
                for (i, key) in keys.iter().enumerate() {
                    table.insert(at + i, (*key, action));
                }
            }
        }
        Ok(keymap)
    }

    /// The action `event` means in `context`, if any. Key releases (sent by
    /// some terminals) mean nothing.
    pub fn action(&self, context: Context, event: &KeyEvent) -> Option<Action> {
        if event.kind == KeyEventKind::Release {
            return None;
        }
        if event.code == KeyCode::Char('c') && event.modifiers.contains(KeyModifiers::CONTROL) {
            return Some(Action::Quit);
        }
        let key = Key::from_event(event);
        self.bindings(context)
            .iter()
            .find(|(k, _)| *k == key)
            .map(|&(_, a)| a)
    }

    pub fn bindings(&self, context: Context) -> &[(Key, Action)] {
        self.tables.get(&context).map_or(&[], Vec::as_slice)
    }

    /// Each action of `context` with all its keys (`j/↓`), in table order:
    /// the help overlay's rows. The nine view keys are one row, `1–9`.
    pub fn help(&self, context: Context) -> Vec<(String, Action)> {
        let mut rows: Vec<(String, Action)> = Vec::new();
        for &(key, action) in self.bindings(context) {
            let group = |a: Action| match a {
                Action::View(_) => Action::View(0),
                other => other,
            };
            match rows.iter_mut().find(|(_, a)| group(*a) == group(action)) {
                Some((keys, Action::View(_))) => {
                    if let Some(first) = keys.split('–').next().map(str::to_string) {
                        *keys = format!("{first}–{key}");
                    }
                }
                Some((keys, _)) => {
                    keys.push('/');
                    keys.push_str(&key.to_string());
                }
                None => rows.push((key.to_string(), group(action))),
            }
        }
        rows
    }

    /// The first key bound to `action` in `context`, for hints.
    pub fn key_for(&self, context: Context, action: Action) -> Option<Key> {
        self.bindings(context)
            .iter()
            .find(|&&(_, a)| a == action)
            .map(|&(k, _)| k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn the_defaults_are_tui_md() {
        let keymap = Keymap::default();
        let list =
            |c: char| keymap.action(Context::List, &press(KeyCode::Char(c), KeyModifiers::NONE));
        assert_eq!(list('j'), Some(Action::Down));
        assert_eq!(list('k'), Some(Action::Up));
        assert_eq!(list('g'), Some(Action::Top));
        assert_eq!(
            keymap.action(
                Context::List,
                &press(KeyCode::Char('G'), KeyModifiers::SHIFT)
            ),
            Some(Action::Bottom),
            "terminals send G with shift"
        );
        assert_eq!(list('/'), Some(Action::Search));
        assert_eq!(list('3'), Some(Action::View(3)));
        assert_eq!(list('s'), Some(Action::Status));
        assert_eq!(list('p'), Some(Action::Priority));
        assert_eq!(list('c'), Some(Action::Comment));
        assert_eq!(list('a'), Some(Action::Assign));
        assert_eq!(list('n'), Some(Action::NewTicket));
        assert_eq!(list('t'), Some(Action::Triage));
        assert_eq!(list('r'), Some(Action::SyncNow));
        assert_eq!(list('i'), Some(Action::Conflicts));
        assert_eq!(list('y'), Some(Action::CopyEmbed));
        assert_eq!(list('?'), Some(Action::Help));
        assert_eq!(list('q'), Some(Action::Quit));
        assert_eq!(
            keymap.action(Context::List, &press(KeyCode::Enter, KeyModifiers::NONE)),
            Some(Action::Open)
        );
        let compose = |code, mods| keymap.action(Context::Compose, &press(code, mods));
        assert_eq!(
            compose(KeyCode::Char('s'), KeyModifiers::CONTROL),
            Some(Action::Save)
        );
        assert_eq!(
            compose(KeyCode::Char('t'), KeyModifiers::CONTROL),
            Some(Action::ToggleInternal)
        );
        assert_eq!(
            compose(KeyCode::Esc, KeyModifiers::NONE),
            Some(Action::Back)
        );
        assert_eq!(
            compose(KeyCode::Char('s'), KeyModifiers::NONE),
            None,
            "plain letters are text in the editor"
        );
        assert_eq!(
            keymap.action(
                Context::Triage,
                &press(KeyCode::Char('A'), KeyModifiers::SHIFT)
            ),
            Some(Action::AssignByLoad)
        );
        assert_eq!(
            keymap.action(
                Context::Conflicts,
                &press(KeyCode::Char('d'), KeyModifiers::NONE)
            ),
            Some(Action::Dismiss)
        );
    }

    #[test]
    fn ctrl_c_always_quits_and_releases_mean_nothing() {
        let keymap = Keymap::default();
        for context in [
            Context::List,
            Context::Compose,
            Context::Login,
            Context::Picker,
        ] {
            assert_eq!(
                keymap.action(context, &press(KeyCode::Char('c'), KeyModifiers::CONTROL)),
                Some(Action::Quit)
            );
        }
        let mut release = press(KeyCode::Char('j'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(keymap.action(Context::List, &release), None);
    }

    #[test]
    fn key_names_parse() {
        let parse = |s: &str| s.parse::<Key>();
        assert_eq!(parse("j"), Ok(Key::plain('j')));
        assert_eq!(parse("G"), Ok(Key::plain('G')));
        assert_eq!(parse("shift-g"), Ok(Key::plain('G')));
        assert_eq!(parse("ctrl-s"), Ok(Key::ctrl('s')));
        assert_eq!(parse("-"), Ok(Key::plain('-')));
        assert_eq!(parse("space"), Ok(Key::plain(' ')));
        assert_eq!(parse("enter"), Ok(Key::code(KeyCode::Enter)));
        assert_eq!(parse("f2"), Ok(Key::code(KeyCode::F(2))));
        assert_eq!(
            parse("alt-enter"),
            Ok(Key::new(KeyCode::Enter, KeyModifiers::ALT))
        );
        assert_eq!(parse("hyper-x"), Err(KeymapError::BadKey("hyper-x".into())));
        assert_eq!(parse("f13"), Err(KeymapError::BadKey("f13".into())));
        assert_eq!(parse("enterr"), Err(KeymapError::BadKey("enterr".into())));
        for key in [Key::plain('j'), Key::ctrl('s'), Key::plain(' ')] {
            assert_eq!(parse(&key.to_string()), Ok(key), "{key} round-trips");
        }
    }

    #[test]
    fn config_overrides_rebind_an_action_everywhere() {
        let overrides = BTreeMap::from([
            ("status".to_string(), vec!["S".to_string()]),
            (
                "move_down".to_string(),
                vec!["ctrl-n".to_string(), "j".to_string()],
            ),
            ("view_2".to_string(), vec!["w".to_string()]),
        ]);
        let keymap = Keymap::with_overrides(&overrides).ok();
        let Some(keymap) = keymap else {
            panic!("overrides load");
        };
        let key = |context, code, mods| keymap.action(context, &press(code, mods));
        for context in [Context::List, Context::Detail, Context::Triage] {
            assert_eq!(
                key(context, KeyCode::Char('S'), KeyModifiers::SHIFT),
                Some(Action::Status)
            );
            assert_eq!(key(context, KeyCode::Char('s'), KeyModifiers::NONE), None);
            assert_eq!(
                key(context, KeyCode::Char('n'), KeyModifiers::CONTROL),
                Some(Action::Down)
            );
        }
        assert_eq!(key(Context::List, KeyCode::Down, KeyModifiers::NONE), None);
        assert_eq!(
            key(Context::List, KeyCode::Char('w'), KeyModifiers::NONE),
            Some(Action::View(2))
        );
        assert_eq!(
            key(Context::List, KeyCode::Char('2'), KeyModifiers::NONE),
            None
        );
        let help = keymap.help(Context::List);
        assert!(
            help.contains(&("S".to_string(), Action::Status)),
            "{help:?}"
        );
    }

    #[test]
    fn bad_overrides_are_named() {
        let load = |name: &str, keys: &[&str]| {
            Keymap::with_overrides(&BTreeMap::from([(
                name.to_string(),
                keys.iter().map(|k| k.to_string()).collect(),
            )]))
            .err()
            .map(|e| e.to_string())
        };
        assert_eq!(
            load("stauts", &["s"]).as_deref(),
            Some("unknown action \"stauts\" in [keys] (see `?` in the console for the names)")
        );
        assert!(load("status", &["ctrl+s"]).is_some_and(|e| e.contains("\"ctrl+s\"")));
        assert_eq!(
            load("status", &[]).as_deref(),
            Some("[keys] gives \"status\" no key")
        );
        assert_eq!(
            load("view_10", &["x"])
                .as_deref()
                .map(|e| e.contains("view_10")),
            Some(true)
        );
    }

    #[test]
    fn help_rows_group_keys_by_action() {
        let help = Keymap::default().help(Context::List);
        assert!(help.contains(&("k/↑".to_string(), Action::Up)), "{help:?}");
        assert!(
            help.contains(&("1–9".to_string(), Action::View(0))),
            "{help:?}"
        );
        for name in [
            "status",
            "move_down",
            "view_3",
            "assign_by_load",
            "toggle_internal",
        ] {
            let action: Action = name.parse().unwrap_or(Action::Quit);
            assert_eq!(action.name(), name);
        }
    }
}
