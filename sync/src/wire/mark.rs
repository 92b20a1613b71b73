//! Where a client stands in the change log: a change's number and its mark
//! (docs/SYNC.md › Cursors).
//!
//! A restored database hands change numbers out again for different
//! changes, so a number alone cannot tell the change a client pulled up to
//! from the one now stored under it. Each change-log entry gets a random
//! mark when it is written; a cursor names both, and the server answers 410
//! `E_RESYNC` when the change at that number is not the one the client saw.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// A change-log entry's fingerprint: 64 random bits, sent as 16 hex digits.
/// [`Mark::NONE`] stands for "no change yet" (number 0) and for entries
/// written before marks existed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Mark(pub u64);

impl Mark {
    pub const NONE: Mark = Mark(0);

    /// A new entry's mark: random, never [`Mark::NONE`].
    pub fn fresh() -> Mark {
        loop {
            let (bits, _) = uuid::Uuid::new_v4().as_u64_pair();
            if bits != 0 {
                return Mark(bits);
            }
        }
    }

    /// As the stores keep it: the same 64 bits in a signed column.
    pub fn to_db(self) -> i64 {
        self.0 as i64
    }

    pub fn from_db(value: i64) -> Mark {
        Mark(value as u64)
    }
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Not 16 hex digits, or not `<seq>` / `<seq>.<mark>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a change-log position")]
pub struct BadPosition;

impl FromStr for Mark {
    type Err = BadPosition;

    fn from_str(s: &str) -> Result<Mark, BadPosition> {
        if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(BadPosition);
        }
        u64::from_str_radix(s, 16)
            .map(Mark)
            .map_err(|_| BadPosition)
    }
}

impl Serialize for Mark {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Mark {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Mark, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse()
            .map_err(|_| de::Error::custom("a mark is 16 hexadecimal digits"))
    }
}

/// A position in the change log: the number of the last change a client has
/// and, when it knows it, that change's mark. Written `<seq>.<mark>` where
/// it travels as one string (an SSE event id); a bare `<seq>` is a cursor
/// from a client that predates marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cursor {
    pub seq: u64,
    pub mark: Option<Mark>,
}

impl Cursor {
    pub fn new(seq: u64, mark: Mark) -> Cursor {
        Cursor {
            seq,
            mark: Some(mark),
        }
    }

    /// Does the log entry stored at `self.seq` — `stored`, or `None` when
    /// the log has not reached it — agree with this cursor? A cursor
    /// without a mark is taken on its number alone.
    pub fn agrees_with(&self, stored: Option<Mark>) -> bool {
        match (stored, self.mark) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(stored), Some(mine)) => stored == mine,
        }
    }
}

/// A bare number: a cursor from a client that predates marks.
impl From<u64> for Cursor {
    fn from(seq: u64) -> Cursor {
        Cursor { seq, mark: None }
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mark {
            Some(mark) => write!(f, "{}.{mark}", self.seq),
            None => write!(f, "{}", self.seq),
        }
    }
}

impl FromStr for Cursor {
    type Err = BadPosition;

    fn from_str(s: &str) -> Result<Cursor, BadPosition> {
        let (seq, mark) = match s.split_once('.') {
            Some((seq, mark)) => (seq, Some(mark.parse()?)),
            None => (s, None),
        };
        let seq = seq.parse().map_err(|_| BadPosition)?;
        Ok(Cursor { seq, mark })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_travels_as_sixteen_hex_digits() {
        let mark = Mark(0xfe);
        assert_eq!(
            serde_json::to_string(&mark).unwrap(),
            "\"00000000000000fe\""
        );
        assert_eq!(
            serde_json::from_str::<Mark>("\"00000000000000fe\"").unwrap(),
            mark
        );
        for bad in [
            "\"fe\"",
            "\"00000000000000fg\"",
            "254",
            "\"+000000000000000\"",
        ] {
            assert!(serde_json::from_str::<Mark>(bad).is_err(), "{bad}");
        }
        assert_eq!(Mark::from_db(Mark(u64::MAX).to_db()), Mark(u64::MAX));
        assert_ne!(Mark::fresh(), Mark::NONE);
    }

    #[test]
    fn a_cursor_reads_back_what_it_writes_and_takes_a_bare_number() {
        let cursor = Cursor::new(42, Mark(7));
        assert_eq!(cursor.to_string(), "42.0000000000000007");
        assert_eq!("42.0000000000000007".parse(), Ok(cursor));
        assert_eq!(
            "42".parse(),
            Ok(Cursor {
                seq: 42,
                mark: None
            })
        );
        for bad in ["", "x", "42.", "42.7", "-1", "42.0000000000000007.1"] {
            assert_eq!(bad.parse::<Cursor>(), Err(BadPosition), "{bad}");
        }
    }

    #[test]
    fn a_cursor_agrees_only_with_the_change_it_names() {
        let cursor = Cursor::new(5, Mark(9));
        assert!(cursor.agrees_with(Some(Mark(9))));
        assert!(!cursor.agrees_with(Some(Mark(8))), "another change");
        assert!(!cursor.agrees_with(None), "past the log's head");
        let legacy = Cursor { seq: 5, mark: None };
        assert!(legacy.agrees_with(Some(Mark(8))));
        assert!(!legacy.agrees_with(None));
    }
}
