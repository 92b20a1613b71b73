//! Tickets, comments, history and the change log, by what each part does:
//! [`rows`] maps a ticket row to the model, [`writes`] makes live changes,
//! [`events`] appends the history and change-log rows every write makes,
//! [`reads`] answers one ticket and its past, [`list`] answers the list
//! pages, and [`import`] loads tickets in bulk.

mod events;
mod import;
mod list;
mod reads;
mod rows;
mod writes;

pub use import::import;
pub use list::{KeptTickets, list};
pub use reads::{changes_since, comments_of, detail, embed_view, history, public_detail};
pub use rows::{TICKET_SELECT, load, ticket_from_row};
pub use writes::{
    append_comment, apply_changes, assign, comment, create, rotate_embed, staff, update,
};
