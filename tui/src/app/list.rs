//! The ticket list: the saved view's rows, narrowed by `/` search, with
//! the selection and the scroll position. Only positions into the index
//! are kept, so a view of 100k tickets costs 400 KB and drawing touches
//! only the rows on screen.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use uuid::Uuid;

use super::{
    App, Effect, Me,
    index::{TicketIndex, terms},
    views::View,
};
use crate::keymap::Action;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListState {
    /// Which tab.
    pub view: usize,
    /// Position in `visible`.
    pub selected: usize,
    /// First row on screen.
    pub offset: usize,
    /// The current view's rows after the search, as positions in the index.
    pub visible: Vec<u32>,
    /// Rows per tab, without the search.
    pub counts: Vec<usize>,
    pub query: String,
    /// The search box has the keys.
    pub typing: bool,
    /// The search `visible` was computed for: a longer query only narrows.
    searched: String,
    /// The view's rows before the search: a shorter query widens from
    /// here, without re-filtering the whole index or recounting the tabs.
    in_view: Vec<u32>,
}

impl ListState {
    /// Recomputes the counts and the visible rows from scratch.
    pub fn refresh(&mut self, index: &TicketIndex, views: &[View], me: Option<&Me>) {
        let me_id = me.map(|m| m.id).unwrap_or_default();
        self.counts = vec![0; views.len()];
        for row in index.rows() {
            for (count, view) in self.counts.iter_mut().zip(views) {
                *count += usize::from(view.filter.matches(row, me_id));
            }
        }
        self.view = self.view.min(views.len().saturating_sub(1));
        self.in_view = match views.get(self.view) {
            Some(view) => index
                .rows()
                .iter()
                .enumerate()
                .filter(|(_, row)| view.filter.matches(row, me_id))
                .filter_map(|(i, _)| u32::try_from(i).ok())
                .collect(),
            None => Vec::new(),
        };
        self.search_view(index);
    }

    /// `visible` = the view's rows that match the query.
    fn search_view(&mut self, index: &TicketIndex) {
        let terms = terms(&self.query);
        let rows = index.rows();
        self.visible = if terms.is_empty() {
            self.in_view.clone()
        } else {
            self.in_view
                .iter()
                .copied()
                .filter(|&i| rows.get(i as usize).is_some_and(|r| r.matches(&terms)))
                .collect()
        };
        self.searched = self.query.clone();
        self.clamp();
    }

    /// After the query changed: narrows the rows when it only grew
    /// (each keystroke of a word), recomputes otherwise.
    fn research(&mut self, index: &TicketIndex) {
        let selected = self.selected_id(index);
        if !self.searched.is_empty() && self.query.starts_with(&self.searched) {
            let terms = terms(&self.query);
            let rows = index.rows();
            self.visible
                .retain(|&i| rows.get(i as usize).is_some_and(|r| r.matches(&terms)));
            self.searched = self.query.clone();
        } else {
            self.search_view(index);
        }
        // Stay on the same ticket while it still matches.
        self.selected = selected
            .and_then(|id| index.position(id))
            .and_then(|at| self.visible.iter().position(|&i| i as usize == at))
            .unwrap_or(0);
        self.clamp();
    }

    fn clamp(&mut self) {
        self.selected = self.selected.min(self.visible.len().saturating_sub(1));
    }

    pub fn selected_id(&self, index: &TicketIndex) -> Option<Uuid> {
        self.visible
            .get(self.selected)
            .and_then(|&i| index.rows().get(i as usize))
            .map(|r| r.id)
    }

    /// Moves the selection onto `id` if the view shows it.
    pub fn select_id(&mut self, id: Uuid, index: &TicketIndex, height: usize) {
        if let Some(at) = index.position(id)
            && let Some(pos) = self.visible.iter().position(|&i| i as usize == at)
        {
            self.selected = pos;
            self.scroll_into_view(height);
        }
    }

    pub fn move_by(&mut self, delta: isize, height: usize) {
        let last = self.visible.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
        self.scroll_into_view(height);
    }

    pub fn move_to(&mut self, at: usize, height: usize) {
        self.selected = at.min(self.visible.len().saturating_sub(1));
        self.scroll_into_view(height);
    }

    /// Keeps the selection on screen, scrolling as little as possible.
    pub fn scroll_into_view(&mut self, height: usize) {
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        let max_offset = self.visible.len().saturating_sub(height);
        self.offset = self.offset.min(max_offset);
    }

    pub fn type_key(&mut self, key: KeyEvent, index: &TicketIndex) {
        match key.code {
            KeyCode::Char(c)
                if !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                self.query.push(c);
            }
            KeyCode::Backspace => {
                if self.query.pop().is_none() {
                    self.typing = false;
                }
            }
            KeyCode::Char('w') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                let keep = self.query.trim_end().rfind(' ').map_or(0, |i| i + 1);
                self.query.truncate(keep);
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.query.clear();
            }
            _ => return,
        }
        self.research(index);
    }

    pub fn clear_search(&mut self, index: &TicketIndex) {
        self.typing = false;
        if !self.query.is_empty() {
            self.query.clear();
            self.research(index);
        }
    }
}

impl App {
    pub(super) fn list_act(&mut self, action: Action) -> Vec<Effect> {
        let height = self.list_height();
        let page = isize::try_from(height.max(1)).unwrap_or(1);
        match action {
            Action::Up => self.list.move_by(-1, height),
            Action::Down => self.list.move_by(1, height),
            Action::PageUp => self.list.move_by(-page, height),
            Action::PageDown => self.list.move_by(page, height),
            Action::Top => self.list.move_to(0, height),
            Action::Bottom => self.list.move_to(usize::MAX, height),
            Action::Search => self.list.typing = true,
            Action::Open if self.list.typing => self.list.typing = false,
            Action::Back if self.list.typing || !self.list.query.is_empty() => {
                self.list.clear_search(&self.index);
                self.list.scroll_into_view(height);
            }
            Action::Back => {}
            Action::View(n) => {
                let view = usize::from(n).saturating_sub(1);
                if view < self.views.len() {
                    self.list.view = view;
                    self.list.selected = 0;
                    self.list.offset = 0;
                    self.refresh_list();
                } else {
                    let text = format!(
                        "No view {n}: your views are 1–{} (the tabs above).",
                        self.views.len()
                    );
                    self.say(super::Level::Info, &text);
                }
            }
            Action::Open => {
                if let Some(id) = self.list.selected_id(&self.index) {
                    return self.open_detail(id);
                }
            }
            other => {
                if let Some(effects) = self.global_act(other) {
                    return effects;
                }
                if let Some(id) = self.list.selected_id(&self.index) {
                    return self.ticket_act(other, id);
                }
            }
        }
        Vec::new()
    }
}
