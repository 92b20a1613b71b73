//! Projects (queues) and ticket keys: a project's [`ProjectKey`] (`BILL`),
//! a ticket's [`Key`] within it (`BILL-42`), and the [`Project`] itself.
//!
//! Keys are identifiers: a project's key never changes, and a key once
//! given to a ticket keeps naming that ticket, also after it moves to
//! another project (the store keeps every key it gave). Numbers within a
//! project are gap-free, given by the server when it first sees a ticket.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use time::OffsetDateTime;
use uuid::Uuid;

use super::UserRef;
use crate::RuleError;

/// A project's key: 2 to 10 uppercase letters `A`–`Z`. Held inline (the
/// letters, then zeros), so it is `Copy` and orders as its text does.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProjectKey([u8; ProjectKey::MAX]);

impl ProjectKey {
    pub const MIN: usize = 2;
    pub const MAX: usize = 10;
    /// The default project's key: where tickets go when nobody chooses,
    /// and where every ticket from before projects lives (`DESK-n` is the
    /// ticket numbered `n`).
    pub const DEFAULT: &'static str = "DESK";
    /// The pattern a key matches, for schemas.
    pub const PATTERN: &'static str = "^[A-Z]{2,10}$";

    /// The default project's key.
    pub fn default_project() -> ProjectKey {
        ProjectKey(*b"DESK\0\0\0\0\0\0")
    }

    pub fn is_default(&self) -> bool {
        self.as_str() == Self::DEFAULT
    }

    pub fn as_str(&self) -> &str {
        let len = self.0.iter().position(|&b| b == 0).unwrap_or(Self::MAX);
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0[..len]).unwrap_or_default()
    }

    /// `value` as a key, or why it is not one.
    pub fn parse(value: &str) -> Result<ProjectKey, BadProjectKey> {
        let len = value.len();
        if !(Self::MIN..=Self::MAX).contains(&len) || !value.bytes().all(|b| b.is_ascii_uppercase())
        {
            return Err(BadProjectKey);
        }
        let mut letters = [0; Self::MAX];
        letters[..len].copy_from_slice(value.as_bytes());
        Ok(ProjectKey(letters))
    }
}

impl fmt::Debug for ProjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProjectKey({})", self.as_str())
    }
}

/// Not 2 to 10 uppercase letters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a project key is 2 to 10 uppercase letters A-Z, such as BILL")]
pub struct BadProjectKey;

impl Default for ProjectKey {
    fn default() -> Self {
        ProjectKey::default_project()
    }
}

impl fmt::Display for ProjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProjectKey {
    type Err = BadProjectKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProjectKey::parse(s)
    }
}

impl Serialize for ProjectKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ProjectKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        ProjectKey::parse(&text).map_err(de::Error::custom)
    }
}

/// A ticket's key: its project's key and its number there, `BILL-42`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub project: ProjectKey,
    /// From 1, gap-free within the project.
    pub number: u64,
}

impl Key {
    /// The pattern a key matches, for schemas: no sign, no leading zero.
    pub const PATTERN: &'static str = "^[A-Z]{2,10}-[1-9][0-9]{0,18}$";

    pub fn new(project: ProjectKey, number: u64) -> Key {
        Key { project, number }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.project, self.number)
    }
}

/// Not `KEY-N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a ticket key such as BILL-42")]
pub struct BadKey(pub String);

impl FromStr for Key {
    type Err = BadKey;

    /// Only the one spelling a key has: `BILL-42`, not `bill-42`,
    /// `BILL-042` or `BILL-+42`.
    fn from_str(s: &str) -> Result<Key, BadKey> {
        let bad = || BadKey(s.to_string());
        let (project, number) = s.split_once('-').ok_or_else(bad)?;
        let project = ProjectKey::parse(project).map_err(|_| bad())?;
        let canonical = !number.is_empty()
            && number.len() <= 19
            && number.bytes().all(|b| b.is_ascii_digit())
            && !number.starts_with('0');
        if !canonical {
            return Err(bad());
        }
        let number = number.parse().map_err(|_| bad())?;
        Ok(Key { project, number })
    }
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
mod schemas {
    use utoipa::openapi::{
        RefOr,
        schema::{ObjectBuilder, Schema, Type},
    };

    use super::{Key, ProjectKey};

    fn pattern(pattern: &str, example: &str) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(pattern))
            .examples([example])
            .into()
    }

    impl utoipa::PartialSchema for ProjectKey {
        fn schema() -> RefOr<Schema> {
            pattern(ProjectKey::PATTERN, "BILL")
        }
    }

    impl utoipa::ToSchema for ProjectKey {}

    impl utoipa::PartialSchema for Key {
        fn schema() -> RefOr<Schema> {
            pattern(Key::PATTERN, "BILL-42")
        }
    }

    impl utoipa::ToSchema for Key {
        fn name() -> std::borrow::Cow<'static, str> {
            "TicketKey".into()
        }
    }
}

/// A project (a queue): what `/api/v1/projects` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Project {
    pub key: ProjectKey,
    pub name: String,
    /// The agents (and admins) who work the project, by name. Empty for
    /// customers, to whom who works a queue is staff business.
    pub members: Vec<UserRef>,
    /// The SLA policy new tickets get. Reserved: always `null` until SLA
    /// policies exist.
    pub default_sla: Option<Uuid>,
    /// May customers file tickets into it (and see it listed)?
    pub customers_may_choose: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Project {
    /// How `actor` sees it: customers without the members.
    pub fn as_seen_by(mut self, actor: &super::Actor) -> Project {
        if !actor.role.is_staff() {
            self.members.clear();
        }
        self
    }
}

/// A ticket names a project that does not exist.
pub fn unknown(key: &ProjectKey) -> RuleError {
    RuleError::invalid("project", format!("there is no project {key}"))
}

/// A project's members, as a rule: they work tickets.
pub const MEMBERS_RULE: &str = "members must be active agents or admins";

/// `default_sla` names an SLA policy; there are none yet, so only `null`
/// (or nothing) is taken.
pub fn check_sla(value: Option<Uuid>) -> Result<(), String> {
    match value {
        None => Ok(()),
        Some(_) => Err("there are no SLA policies yet; leave it null".into()),
    }
}

/// A project's key never changes: tickets' keys are made of it, and the
/// old ones must go on naming their tickets.
pub fn check_key_unchanged(current: &ProjectKey, asked: Option<&ProjectKey>) -> Result<(), String> {
    match asked {
        Some(asked) if asked != current => Err(format!(
            "a project's key never changes ({current} stays {current}); make a project {asked} and move tickets to it"
        )),
        _ => Ok(()),
    }
}

/// May a project that has given `keys_given` keys be deleted? Not the
/// default, where tickets go unasked, and not one that ever held a ticket:
/// its keys name their tickets for good, moved or not.
pub fn check_delete(key: &ProjectKey, keys_given: u64) -> Result<(), RuleError> {
    if key.is_default() {
        return Err(RuleError::Conflict(format!(
            "{key} is the default project and cannot be deleted"
        )));
    }
    if keys_given > 0 {
        return Err(RuleError::Conflict(format!(
            "{key} has held tickets, and their keys ({key}-1…) name them for good, so it cannot be deleted; rename it instead"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_keys_are_two_to_ten_uppercase_letters() {
        for good in ["DESK", "BI", "ABCDEFGHIJ"] {
            assert_eq!(
                ProjectKey::parse(good).map(|k| k.to_string()),
                Ok(good.into())
            );
        }
        for bad in [
            "",
            "B",
            "ABCDEFGHIJK",
            "bill",
            "Bill",
            "BILL1",
            "BI-LL",
            "ÄBC",
            " BILL",
        ] {
            assert!(ProjectKey::parse(bad).is_err(), "{bad:?}");
        }
        assert!(ProjectKey::default().is_default());
        assert_eq!(ProjectKey::default().as_str(), "DESK");
        let ordered: Vec<ProjectKey> = ["BI", "BIA", "AZZZZZZZZZ", "DESK"]
            .iter()
            .map(|k| k.parse().unwrap())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(
            ordered.iter().map(ProjectKey::as_str).collect::<Vec<_>>(),
            ["AZZZZZZZZZ", "BI", "BIA", "DESK"],
            "as the text sorts"
        );
        assert!(serde_json::from_str::<ProjectKey>("\"bill\"").is_err());
    }

    #[test]
    fn what_a_project_refuses() {
        let bill = ProjectKey::parse("BILL").unwrap();
        assert!(check_sla(None).is_ok());
        assert!(check_sla(Some(Uuid::nil())).is_err());
        assert!(check_key_unchanged(&bill, None).is_ok());
        assert!(check_key_unchanged(&bill, Some(&bill)).is_ok());
        let other = ProjectKey::parse("BILLS").unwrap();
        assert!(check_key_unchanged(&bill, Some(&other)).is_err());
        assert!(check_delete(&bill, 0).is_ok());
        assert!(matches!(
            check_delete(&bill, 1),
            Err(RuleError::Conflict(_))
        ));
        assert!(matches!(
            check_delete(&ProjectKey::default(), 0),
            Err(RuleError::Conflict(_))
        ));
    }

    #[test]
    fn ticket_keys_have_one_spelling() {
        let key: Key = "BILL-42".parse().unwrap();
        assert_eq!(key, Key::new(ProjectKey::parse("BILL").unwrap(), 42));
        assert_eq!(key.to_string(), "BILL-42");
        assert_eq!(
            serde_json::to_string(&key).unwrap(),
            "\"BILL-42\"",
            "a string on the wire"
        );
        for bad in [
            "BILL",
            "BILL-",
            "-42",
            "bill-42",
            "BILL-042",
            "BILL-0",
            "BILL-+4",
            "BILL-4x",
            "BILL-42-1",
            "B-42",
            "BILL--42",
            "42",
        ] {
            assert!(bad.parse::<Key>().is_err(), "{bad:?}");
        }
        assert_eq!(
            "DESK-9999999999999999999".parse::<Key>().map(|k| k.number),
            Ok(9_999_999_999_999_999_999)
        );
        assert!("DESK-99999999999999999999".parse::<Key>().is_err());
    }
}
