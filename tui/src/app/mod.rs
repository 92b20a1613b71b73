//! The console as plain state. Events come in ([`Event`]: keys, the
//! engine's status, results of earlier effects), [`App::update`] changes the
//! state and returns [`Effect`]s for the driver to run (write an op, read a
//! ticket, fetch history). Nothing here touches a terminal, a file or the
//! network, so every behaviour is a unit test.
//!
//! - [`index`]: the in-memory ticket index behind lists, counts and search.
//! - [`views`]: the saved views (tabs) per role.
//! - `list`, `detail`, `compose`, `new_ticket`, `picker`, `triage`,
//!   `conflicts`, `login`: each screen's state and what its actions do.

use std::collections::HashMap;

use crossterm::event::KeyEvent;
use desk_sync::{
    client::{ConflictEntry, LocalTicket, SyncPhase, SyncStatus},
    model::{Actor, Priority, Role, Status, User},
    wire::{HistoryEvent, sync::SyncUser},
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    keymap::{Action, Context, Keymap},
    theme::Theme,
};

pub mod compose;
pub mod confirm;
pub mod conflicts;
pub mod detail;
pub mod index;
pub mod list;
pub mod login;
pub mod new_ticket;
pub mod picker;
pub mod triage;
pub mod views;

#[cfg(test)]
pub mod fixtures;
#[cfg(test)]
mod tests;

pub use compose::ComposeState;
pub use confirm::{Confirm, Confirmed};
pub use conflicts::ConflictsState;
pub use detail::{DetailState, History};
pub use index::{Row, TicketIndex};
pub use list::ListState;
pub use login::LoginState;
pub use new_ticket::NewTicketState;
pub use picker::Picker;
pub use triage::TriageState;

/// Who is signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub role: Role,
}

impl Me {
    pub fn actor(&self) -> Actor {
        Actor {
            id: self.id,
            role: self.role,
            via: None,
        }
    }
}

impl From<&User> for Me {
    fn from(user: &User) -> Me {
        Me {
            id: user.id,
            name: user.name.clone(),
            email: user.email.clone(),
            role: user.role,
        }
    }
}

/// What happens to the console.
#[derive(Debug)]
pub enum Event {
    Key(KeyEvent),
    /// The terminal's size (columns, rows).
    Resize(u16, u16),
    /// The clock moved: relative times and notices age.
    Tick(OffsetDateTime),
    /// The sync engine's status changed.
    Sync(SyncStatus),
    /// The whole replica, read again (after [`Effect::Reload`]).
    Loaded(Loaded),
    /// One ticket read again (after an edit or [`Effect::LoadTicket`]);
    /// `None`: it is no longer in the replica.
    Ticket(Uuid, Option<Box<LocalTicket>>),
    /// A ticket created offline has been queued.
    Created(Box<LocalTicket>),
    History(Uuid, Result<Vec<HistoryEvent>, String>),
    Conflicts(Vec<ConflictEntry>),
    /// An edit could not be queued (the replica refused it).
    EditFailed(String),
    /// `$EDITOR` has closed; `None` if it failed or the text was empty.
    EditorClosed {
        ticket: Uuid,
        internal: bool,
        text: Result<String, String>,
    },
    SignedIn(Me),
    LoginFailed(String),
    /// Something the driver wants said (e.g. the embed link was copied).
    Notice(Notice),
    /// The terminal went away (SIGHUP) or the system asks the console to
    /// stop: quit at once, as `q` would, so the driver cleans up.
    HangUp,
}

/// The replica as read by the driver.
#[derive(Debug)]
pub struct Loaded {
    pub index: TicketIndex,
    pub users: Vec<SyncUser>,
    /// [`App::edit_generation`] when the read began: rows edited after it
    /// are newer in the app than in this read.
    pub generation: u64,
}

/// What the driver should do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Read every ticket again (in the background) → [`Event::Loaded`].
    Reload {
        generation: u64,
    },
    /// → [`Event::Ticket`].
    LoadTicket(Uuid),
    /// Ask the server (if it answers) → [`Event::History`].
    LoadHistory(Uuid),
    /// → [`Event::Conflicts`].
    LoadConflicts,
    /// Queue an op in the replica, then kick the engine → [`Event::Ticket`]
    /// or [`Event::Created`], or [`Event::EditFailed`].
    Edit(Edit),
    DismissConflict(Uuid),
    /// Sync now (a kick; it also cuts a backoff short).
    SyncNow,
    /// Suspend the screen and edit `text` in `$EDITOR` → [`Event::EditorClosed`].
    OpenEditor {
        ticket: Uuid,
        internal: bool,
        text: String,
    },
    /// Put `text` on the clipboard (OSC 52).
    Copy(String),
    /// → [`Event::SignedIn`] or [`Event::LoginFailed`].
    Login {
        server: String,
        email: String,
        password: String,
    },
}

/// An edit for the replica's queue.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    Status {
        ticket: Uuid,
        to: Status,
    },
    Priority {
        ticket: Uuid,
        to: Priority,
    },
    Assign {
        ticket: Uuid,
        to: Option<Uuid>,
    },
    Comment {
        ticket: Uuid,
        body: String,
        internal: bool,
    },
    Create {
        subject: String,
        description: String,
        priority: Priority,
    },
}

/// A line at the bottom that goes away by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub level: Level,
    pub until: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// A full-screen view; the console keeps a stack of them (`esc` goes back).
// The form screens hold text areas and are the big ones; the stack is a
// few entries deep and rarely moves, so boxing them would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Screen {
    List,
    Detail(DetailState),
    Compose(ComposeState),
    NewTicket(NewTicketState),
    Triage(TriageState),
    Conflicts(ConflictsState),
    Login(LoginState),
}

/// Drawn over the current screen.
#[derive(Debug)]
pub enum Overlay {
    Help { context: Context, scroll: usize },
    Picker(Picker),
    Confirm(Confirm),
}

/// How long a notice stays.
const NOTICE_FOR: Duration = Duration::seconds(6);

#[derive(Debug)]
pub struct App {
    pub keymap: Keymap,
    pub theme: Theme,
    /// `None` until someone signs in on this machine.
    pub me: Option<Me>,
    /// Where the console talks to (for the login form and the header).
    pub server: String,
    pub sync: SyncStatus,
    pub now: OffsetDateTime,
    /// Columns and rows of the terminal.
    pub size: (u16, u16),
    pub index: TicketIndex,
    /// The first read of the replica has arrived.
    pub loaded: bool,
    /// Names for ids, and whom tickets can be assigned to.
    pub users: Vec<SyncUser>,
    pub conflicts: Vec<ConflictEntry>,
    pub views: Vec<views::View>,
    pub list: ListState,
    /// Never empty: the bottom is the list (or the login form).
    pub screens: Vec<Screen>,
    pub overlay: Option<Overlay>,
    pub notice: Option<Notice>,
    pub quit: bool,
    /// An external program (`$EDITOR`) used the terminal: the driver must
    /// repaint every cell, not only what changed.
    pub redraw: bool,
    /// `r` was pressed: the next round's outcome is said.
    awaiting_sync: bool,
    /// Rows that left the index (reassigned away, or no longer visible):
    /// the conflicts inbox still names their number and subject.
    pub departed: HashMap<Uuid, Row>,
    /// Bumped by every edit; see [`Loaded::generation`].
    edit_generation: u64,
    /// Tickets edited here, with the generation of their last edit.
    edited: HashMap<Uuid, u64>,
}

impl App {
    /// A console for `me` (or a login form when nobody has signed in yet).
    pub fn new(keymap: Keymap, me: Option<Me>, server: String, now: OffsetDateTime) -> App {
        let signed_in = me.is_some();
        let mut app = App {
            keymap,
            theme: Theme::default(),
            views: me
                .as_ref()
                .map(|m| views::for_role(m.role))
                .unwrap_or_default(),
            me,
            server,
            sync: SyncStatus::starting(),
            now,
            size: (80, 24),
            index: TicketIndex::default(),
            loaded: false,
            users: Vec::new(),
            conflicts: Vec::new(),
            list: ListState::default(),
            screens: vec![Screen::List],
            overlay: None,
            notice: None,
            quit: false,
            redraw: false,
            awaiting_sync: false,
            departed: HashMap::new(),
            edit_generation: 0,
            edited: HashMap::new(),
        };
        if !signed_in {
            let login = LoginState::new(&app.server, "", None);
            app.screens = vec![Screen::Login(login)];
        }
        app.list.refresh(&app.index, &app.views, app.me.as_ref());
        app
    }

    /// Puts `email` in the login form (from the config file).
    pub fn prefill_login(&mut self, email: &str) {
        if let Some(Screen::Login(form)) = self.screens.last_mut() {
            *form = LoginState::new(&self.server, email, form.reason.as_deref());
        }
    }

    /// What to do first: read the replica and the inbox.
    pub fn start(&self) -> Vec<Effect> {
        if self.me.is_some() {
            vec![
                Effect::Reload {
                    generation: self.edit_generation,
                },
                Effect::LoadConflicts,
            ]
        } else {
            Vec::new()
        }
    }

    pub fn edit_generation(&self) -> u64 {
        self.edit_generation
    }

    pub fn screen(&self) -> &Screen {
        // `screens` is never empty (see `back`).
        self.screens.last().unwrap_or(&Screen::List)
    }

    /// Which key table applies now.
    pub fn context(&self) -> Context {
        match &self.overlay {
            Some(Overlay::Help { .. }) => return Context::Help,
            Some(Overlay::Picker(_)) => return Context::Picker,
            Some(Overlay::Confirm(_)) => return Context::Confirm,
            None => {}
        }
        match self.screen() {
            Screen::List if self.list.typing => Context::Search,
            Screen::List => Context::List,
            Screen::Detail(_) => Context::Detail,
            Screen::Compose(_) => Context::Compose,
            Screen::NewTicket(_) => Context::NewTicket,
            Screen::Triage(_) => Context::Triage,
            Screen::Conflicts(_) => Context::Conflicts,
            Screen::Login(_) => Context::Login,
        }
    }

    pub fn role(&self) -> Option<Role> {
        self.me.as_ref().map(|m| m.role)
    }

    pub fn update(&mut self, event: Event) -> Vec<Effect> {
        match event {
            Event::Key(key) => {
                let context = self.context();
                // Letters filter the assignee picker, even `j` and `k`.
                if let Some(Overlay::Picker(p)) = &self.overlay
                    && p.takes_text()
                    && matches!(key.code, crossterm::event::KeyCode::Char(_))
                    && !key.modifiers.intersects(
                        crossterm::event::KeyModifiers::CONTROL
                            | crossterm::event::KeyModifiers::ALT,
                    )
                {
                    return self.type_key(context, key);
                }
                match self.keymap.action(context, &key) {
                    Some(action) => self.act(action),
                    None => self.type_key(context, key),
                }
            }
            Event::Resize(w, h) => {
                self.size = (w, h);
                self.list.scroll_into_view(self.list_height());
                Vec::new()
            }
            Event::Tick(now) => {
                self.now = now;
                if self.notice.as_ref().is_some_and(|n| n.until <= now) {
                    self.notice = None;
                }
                Vec::new()
            }
            Event::Sync(status) => self.on_sync(status),
            Event::Loaded(loaded) => self.on_loaded(loaded),
            Event::Ticket(id, ticket) => {
                self.on_ticket(id, ticket.map(|t| *t));
                Vec::new()
            }
            Event::Created(ticket) => {
                let id = ticket.detail.ticket.id;
                // A read of the replica that began before the create would
                // not have it: keep the row through such a read.
                self.edited.insert(id, self.edit_generation);
                self.on_ticket(id, Some(*ticket));
                self.list.select_id(id, &self.index, self.list_height());
                let text = self.where_created(id);
                self.say(Level::Info, &text);
                Vec::new()
            }
            Event::History(id, history) => {
                for screen in &mut self.screens {
                    if let Screen::Detail(d) = screen
                        && d.id == id
                    {
                        d.history = match (&history, &d.history) {
                            (Ok(events), _) => History::Loaded(events.clone()),
                            // Gone offline since: what was shown still holds.
                            (Err(_), History::Loaded(events)) => History::Loaded(events.clone()),
                            (Err(why), _) => History::Unavailable(why.clone()),
                        };
                    }
                }
                Vec::new()
            }
            Event::Conflicts(entries) => {
                self.conflicts = entries;
                if let Some(Screen::Conflicts(c)) = self.screens.last_mut() {
                    c.clamp(self.conflicts.len());
                }
                Vec::new()
            }
            Event::EditFailed(why) => {
                self.say(Level::Error, &format!("Not saved: {why}"));
                // Undo the optimistic rows: the replica has the truth.
                self.edit_generation += 1;
                vec![Effect::Reload {
                    generation: self.edit_generation,
                }]
            }
            Event::EditorClosed {
                ticket,
                internal,
                text,
            } => {
                self.redraw = true;
                self.on_editor_closed(ticket, internal, text)
            }
            Event::SignedIn(me) => self.on_signed_in(me),
            Event::LoginFailed(why) => {
                if let Some(Screen::Login(l)) = self.screens.last_mut() {
                    l.failed(why);
                }
                Vec::new()
            }
            Event::Notice(notice) => {
                self.notice = Some(notice);
                Vec::new()
            }
            Event::HangUp => {
                self.quit = true;
                Vec::new()
            }
        }
    }

    /// "Ticket created", and where to find it when the list does not show
    /// it (a kept search, or a view it does not belong to).
    fn where_created(&self, id: Uuid) -> String {
        const CREATED: &str = "Ticket created; its number appears once it has synced.";
        if self.list.selected_id(&self.index) == Some(id) {
            return CREATED.to_string();
        }
        let me = self.me.as_ref().map(|m| m.id).unwrap_or_default();
        let Some(row) = self.index.get(id) else {
            return CREATED.to_string();
        };
        let in_view = self
            .views
            .get(self.list.view)
            .is_some_and(|v| v.filter.matches(row, me));
        if in_view && !self.list.query.is_empty() {
            let esc = self
                .keymap
                .key_for(Context::List, Action::Back)
                .map_or("esc".to_string(), |k| k.to_string());
            return format!(
                "Ticket created, but the search “{}” hides it ({esc} clears the search).",
                self.list.query
            );
        }
        match self.views.iter().position(|v| v.filter.matches(row, me)) {
            Some(at) => format!(
                "Ticket created; it is under [{}] {}, not this view.",
                at + 1,
                self.views[at].name
            ),
            None => CREATED.to_string(),
        }
    }

    /// One action from the keymap.
    fn act(&mut self, action: Action) -> Vec<Effect> {
        if action == Action::Quit {
            // A second ctrl-c at the question quits.
            if self.draft_open() && !matches!(self.overlay, Some(Overlay::Confirm(_))) {
                self.ask(
                    "Quit and lose this draft? y quits · n keeps writing".into(),
                    Confirmed::Quit,
                );
            } else {
                self.quit = true;
            }
            return Vec::new();
        }
        let help_max = match &self.overlay {
            Some(Overlay::Help { context, .. }) => {
                crate::ui::overlays::help_max_scroll(self, *context)
            }
            _ => 0,
        };
        match &mut self.overlay {
            Some(Overlay::Help { scroll, .. }) => {
                match action {
                    Action::Back => self.overlay = None,
                    Action::Up => *scroll = scroll.saturating_sub(1),
                    Action::Down => *scroll = (*scroll + 1).min(help_max),
                    _ => {}
                }
                return Vec::new();
            }
            Some(Overlay::Picker(_)) => return self.picker_act(action),
            Some(Overlay::Confirm(_)) => return self.confirm_act(action),
            None => {}
        }
        if action == Action::Help {
            self.overlay = Some(Overlay::Help {
                context: self.context(),
                scroll: 0,
            });
            return Vec::new();
        }
        match self.context() {
            Context::List | Context::Search => self.list_act(action),
            Context::Detail => self.detail_act(action),
            Context::Compose => self.compose_act(action),
            Context::NewTicket => self.new_ticket_act(action),
            Context::Triage => self.triage_act(action),
            Context::Conflicts => self.conflicts_act(action),
            Context::Login => self.login_act(action),
            Context::Picker | Context::Help | Context::Confirm => Vec::new(),
        }
    }

    /// A key no table binds: text for whatever input has the focus.
    fn type_key(&mut self, context: Context, key: KeyEvent) -> Vec<Effect> {
        match context {
            Context::Search => {
                self.list.type_key(key, &self.index);
                self.list.scroll_into_view(self.list_height());
            }
            Context::Picker => {
                if let Some(Overlay::Picker(p)) = &mut self.overlay {
                    p.type_key(key);
                }
            }
            Context::Compose => {
                if let Some(Screen::Compose(c)) = self.screens.last_mut() {
                    c.editor.input(key);
                }
            }
            Context::NewTicket => {
                if let Some(Screen::NewTicket(n)) = self.screens.last_mut() {
                    n.type_key(key);
                }
            }
            Context::Login => {
                if let Some(Screen::Login(l)) = self.screens.last_mut() {
                    l.type_key(key);
                }
            }
            _ => {}
        }
        Vec::new()
    }

    /// Leaves the current screen (or quits from the first one).
    pub(super) fn back(&mut self) {
        if self.screens.len() > 1 {
            self.screens.pop();
        } else {
            self.quit = true;
        }
    }

    pub fn say(&mut self, level: Level, text: &str) {
        self.notice = Some(Notice {
            text: text.to_string(),
            level,
            until: self.now + NOTICE_FOR,
        });
    }

    /// Rows of tickets the list shows at the current size: the frame
    /// minus header, tabs, column titles, footer and borders.
    pub fn list_height(&self) -> usize {
        usize::from(self.size.1.saturating_sub(crate::ui::LIST_CHROME))
    }

    /// The ticket the current screen is about, if one.
    pub fn current_ticket(&self) -> Option<Uuid> {
        match self.screen() {
            Screen::List => self.list.selected_id(&self.index),
            Screen::Detail(d) => Some(d.id),
            Screen::Compose(c) => Some(c.ticket),
            Screen::Triage(t) => t.selected_id(&self.index),
            _ => None,
        }
    }

    pub fn user_name(&self, id: Uuid) -> Option<&str> {
        self.users
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.name.as_str())
    }

    /// Queues an edit: the row changes at once and is marked pending; the
    /// replica's answer replaces it.
    fn edit(&mut self, edit: Edit) -> Vec<Effect> {
        let selected = self.list.selected_id(&self.index);
        let effects = self.edit_quietly(edit);
        self.refresh_list_keeping(selected);
        effects
    }

    /// [`Self::edit`] without refreshing the list: for a batch (assigning
    /// many tickets), which refreshes once at the end.
    fn edit_quietly(&mut self, edit: Edit) -> Vec<Effect> {
        self.edit_generation += 1;
        let generation = self.edit_generation;
        let users = &self.users;
        if let Some(ticket) = edit.ticket() {
            self.edited.insert(ticket, generation);
            self.index.edit(ticket, |row| {
                row.pending += 1;
                match &edit {
                    Edit::Status { to, .. } => row.status = *to,
                    Edit::Priority { to, .. } => row.priority = *to,
                    Edit::Assign { to, .. } => {
                        row.assignee = to.and_then(|id| {
                            users
                                .iter()
                                .find(|u| u.id == id)
                                .map(|u| desk_sync::model::UserRef {
                                    id,
                                    name: u.name.clone(),
                                })
                        });
                    }
                    Edit::Comment { .. } | Edit::Create { .. } => {}
                }
            });
        }
        vec![Effect::Edit(edit)]
    }

    pub(crate) fn refresh_list(&mut self) {
        self.list
            .refresh(&self.index, &self.views, self.me.as_ref());
        self.list.scroll_into_view(self.list_height());
    }

    /// [`Self::refresh_list`] after the index changed under the list: the
    /// selection stays on `selected` (read before the change) if it is
    /// still shown, since rows move when their priority or time changes.
    pub(super) fn refresh_list_keeping(&mut self, selected: Option<Uuid>) {
        self.refresh_list();
        if let Some(id) = selected {
            self.list.select_id(id, &self.index, self.list_height());
        }
    }

    fn on_sync(&mut self, status: SyncStatus) -> Vec<Effect> {
        let mut effects = Vec::new();
        // A pull that only confirmed our own ops (the server found them
        // already true) changes nothing but the pending marks.
        if status.changes != self.sync.changes || status.pending < self.sync.pending {
            effects.push(Effect::Reload {
                generation: self.edit_generation,
            });
        }
        if status.conflicts != self.sync.conflicts {
            effects.push(Effect::LoadConflicts);
        }
        if status.conflicts > self.sync.conflicts {
            let n = status.conflicts - self.sync.conflicts;
            let key = self
                .keymap
                .key_for(Context::List, Action::Conflicts)
                .map(|k| k.to_string())
                .unwrap_or_else(|| "i".into());
            let what = if n == 1 {
                "An edit was not applied".to_string()
            } else {
                format!("{n} edits were not applied")
            };
            self.say(Level::Warn, &format!("⚠ {what}: press {key} to see why."));
        }
        if self.awaiting_sync {
            self.say_sync_outcome(&status);
        }
        let signed_out = status.phase == SyncPhase::SignedOut;
        let was_signed_out = self.sync.phase == SyncPhase::SignedOut;
        self.sync = status;
        if signed_out && !was_signed_out && !matches!(self.screen(), Screen::Login(_)) {
            let email = self
                .me
                .as_ref()
                .map(|m| m.email.clone())
                .unwrap_or_default();
            self.screens.push(Screen::Login(LoginState::new(
                &self.server,
                &email,
                Some("Your session has ended: sign in again to sync (your edits are kept)."),
            )));
        }
        effects
    }

    fn on_loaded(&mut self, loaded: Loaded) -> Vec<Effect> {
        let Loaded {
            mut index,
            users,
            generation,
        } = loaded;
        // Rows edited after the read began are newer here.
        for (&id, &at) in &self.edited {
            if at > generation {
                match self.index.get(id) {
                    Some(row) => index.upsert(row.clone()),
                    None => index.remove(id),
                }
            }
        }
        self.edited.retain(|_, &mut at| at > generation);
        let selected = self.list.selected_id(&self.index);
        for row in self.index.rows() {
            if index.get(row.id).is_none() {
                self.departed.insert(row.id, row.clone());
            }
        }
        self.index = index;
        self.users = users;
        self.loaded = true;
        self.refresh_list_keeping(selected);
        for screen in &mut self.screens {
            if let Screen::Triage(t) = screen {
                t.clamp(&self.index);
            }
        }
        // An open ticket may have new comments and history.
        self.screens
            .iter()
            .filter_map(|s| match s {
                Screen::Detail(d) => Some([Effect::LoadTicket(d.id), Effect::LoadHistory(d.id)]),
                _ => None,
            })
            .flatten()
            .collect()
    }

    fn on_ticket(&mut self, id: Uuid, ticket: Option<LocalTicket>) {
        let selected = self.list.selected_id(&self.index);
        match &ticket {
            Some(t) => self.index.upsert(Row::of(t)),
            None => {
                if let Some(row) = self.index.get(id) {
                    self.departed.insert(id, row.clone());
                }
                self.index.remove(id);
            }
        }
        self.refresh_list_keeping(selected);
        for screen in &mut self.screens {
            if let Screen::Detail(d) = screen
                && d.id == id
            {
                d.ticket = ticket.clone();
            }
        }
    }

    fn on_signed_in(&mut self, me: Me) -> Vec<Effect> {
        let same_person = self.me.as_ref().is_some_and(|m| m.id == me.id);
        self.views = views::for_role(me.role);
        self.me = Some(me);
        if same_person {
            // Signed in again after the session ended: back to work.
            if matches!(self.screen(), Screen::Login(_)) {
                self.back();
            }
            self.say(Level::Info, "Signed in again; syncing.");
            return vec![Effect::SyncNow];
        }
        self.screens = vec![Screen::List];
        self.index = TicketIndex::default();
        self.departed.clear();
        self.loaded = false;
        self.list = ListState::default();
        self.refresh_list();
        vec![
            Effect::Reload {
                generation: self.edit_generation,
            },
            Effect::LoadConflicts,
        ]
    }

    /// After `r`: "Synced" once a round has succeeded, or when the next
    /// attempt comes if the server cannot be reached.
    fn say_sync_outcome(&mut self, status: &SyncStatus) {
        match &status.phase {
            SyncPhase::Live | SyncPhase::Polling if status.last_synced != self.sync.last_synced => {
                self.awaiting_sync = false;
                self.say(Level::Info, "Synced.");
            }
            SyncPhase::Offline { .. }
                if status.retry_at != self.sync.retry_at
                    || !matches!(self.sync.phase, SyncPhase::Offline { .. }) =>
            {
                self.awaiting_sync = false;
                let text = match status.retry_at {
                    Some(at) => {
                        let secs = (at - self.now).whole_seconds().max(1);
                        format!("Can't reach the server — retrying in {secs} s.")
                    }
                    None => "Can't reach the server — retrying.".to_string(),
                };
                self.say(Level::Warn, &text);
            }
            SyncPhase::SignedOut => self.awaiting_sync = false,
            _ => {}
        }
    }

    /// Asks the engine for a round now; its outcome will be said.
    pub(super) fn sync_now(&mut self) -> Vec<Effect> {
        self.awaiting_sync = true;
        self.say(Level::Info, "Syncing…");
        vec![Effect::SyncNow]
    }

    /// Is the console showing data that may be old? (For the header.)
    pub fn offline_since(&self) -> Option<OffsetDateTime> {
        match self.sync.phase {
            SyncPhase::Offline { since } => Some(since),
            _ => None,
        }
    }
}

impl Edit {
    pub fn ticket(&self) -> Option<Uuid> {
        match self {
            Edit::Status { ticket, .. }
            | Edit::Priority { ticket, .. }
            | Edit::Assign { ticket, .. }
            | Edit::Comment { ticket, .. } => Some(*ticket),
            Edit::Create { .. } => None,
        }
    }
}
