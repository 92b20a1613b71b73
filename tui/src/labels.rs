//! The words the console shows for statuses and priorities, all in one
//! capitalisation: `In progress`, `High` (never the wire's `in_progress`).

use desk_sync::model::{Priority, Status};

pub fn status(status: Status) -> &'static str {
    match status {
        Status::Open => "Open",
        Status::InProgress => "In progress",
        Status::Blocked => "Blocked",
        Status::Closed => "Closed",
    }
}

pub fn priority(priority: Priority) -> &'static str {
    match priority {
        Priority::Urgent => "Urgent",
        Priority::High => "High",
        Priority::Normal => "Normal",
        Priority::Low => "Low",
    }
}
