//! What makes a value acceptable. Each check returns the normalised value or
//! the reason it was refused, phrased for the person who typed it.

use std::collections::BTreeMap;

use crate::RuleError;

pub const SUBJECT_MAX: usize = 200;
pub const TEXT_MAX: usize = 20_000;
pub const TAG_MAX: usize = 32;
pub const TAGS_MAX: usize = 20;
pub const NAME_MAX: usize = 100;
pub const EMAIL_MAX: usize = 254;
pub const PASSWORD_MIN: usize = 8;
/// Long enough for any passphrase, short enough that hashing stays cheap.
pub const PASSWORD_MAX: usize = 256;

type Check<T> = Result<T, String>;

fn bounded(value: &str, what: &str, max: usize, allow_empty: bool) -> Check<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() && !allow_empty {
        return Err(format!("{what} must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(format!("{what} must be at most {max} characters"));
    }
    Ok(trimmed.to_string())
}

pub fn subject(value: &str) -> Check<String> {
    let subject = bounded(value, "subject", SUBJECT_MAX, false)?;
    if subject.contains(['\n', '\r']) {
        return Err("subject must be a single line".into());
    }
    Ok(subject)
}

pub fn description(value: &str) -> Check<String> {
    bounded(value, "description", TEXT_MAX, true)
}

pub fn comment_body(value: &str) -> Check<String> {
    bounded(value, "comment", TEXT_MAX, false)
}

pub fn name(value: &str) -> Check<String> {
    bounded(value, "name", NAME_MAX, false)
}

/// Lower-cased tags of letters, digits, `-` and `_`, duplicates dropped,
/// first spelling kept in order.
pub fn tags(values: &[String]) -> Check<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for raw in values {
        let tag = raw.trim().to_lowercase();
        if tag.is_empty() || tag.chars().count() > TAG_MAX {
            return Err(format!("each tag must be 1 to {TAG_MAX} characters"));
        }
        if !tag
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "tag {raw:?} may hold only letters, digits, '-' and '_'"
            ));
        }
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    if out.len() > TAGS_MAX {
        return Err(format!("at most {TAGS_MAX} tags"));
    }
    Ok(out)
}

/// A plausible address, lower-cased: one `@`, something before it, a dotted
/// domain after it. Deliverability is not our business.
pub fn email(value: &str) -> Check<String> {
    let email = value.trim().to_lowercase();
    let valid = email.len() <= EMAIL_MAX
        && !email.contains(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if valid {
        Ok(email)
    } else {
        Err("must be an email address such as name@example.com".into())
    }
}

pub fn password(value: &str) -> Check<()> {
    let len = value.chars().count();
    if len < PASSWORD_MIN {
        return Err(format!("must be at least {PASSWORD_MIN} characters"));
    }
    if value.len() > PASSWORD_MAX {
        return Err(format!("must be at most {PASSWORD_MAX} bytes"));
    }
    Ok(())
}

/// Collects the problems of several fields so one answer names them all.
#[derive(Debug, Default)]
pub struct Problems(BTreeMap<String, String>);

impl Problems {
    /// Records a failed check under `field`; passes a good value through.
    pub fn check<T>(&mut self, field: &str, result: Check<T>) -> Option<T> {
        result
            .map_err(|reason| self.0.insert(field.to_string(), reason))
            .ok()
    }

    pub fn finish(self) -> Result<(), RuleError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(RuleError::Validation(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_trimmed_single_lines() {
        assert_eq!(subject("  App crash ").as_deref(), Ok("App crash"));
        assert!(subject("   ").is_err());
        assert!(subject("two\nlines").is_err());
        assert!(subject(&"x".repeat(SUBJECT_MAX + 1)).is_err());
        assert!(
            subject(&"é".repeat(SUBJECT_MAX)).is_ok(),
            "counted in characters"
        );
    }

    #[test]
    fn tags_are_normalised() {
        let input = vec!["Mobile".to_string(), " mobile".into(), "ios_17".into()];
        assert_eq!(
            tags(&input),
            Ok(vec!["mobile".to_string(), "ios_17".into()])
        );
        assert!(tags(&["has space".to_string()]).is_err());
        assert!(tags(&[String::new()]).is_err());
        let many: Vec<String> = (0..=TAGS_MAX).map(|i| format!("t{i}")).collect();
        assert!(tags(&many).is_err());
    }

    #[test]
    fn emails_are_plausible_and_lowercased() {
        assert_eq!(email(" Bob@Example.com ").as_deref(), Ok("bob@example.com"));
        for bad in [
            "bob",
            "@example.com",
            "bob@",
            "bob@example",
            "a b@example.com",
            "a@b@c.com",
            "bob@.com",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_have_bounds() {
        assert!(password("1234567").is_err());
        assert!(password("12345678").is_ok());
        assert!(password(&"x".repeat(PASSWORD_MAX + 1)).is_err());
    }

    #[test]
    fn problems_name_every_bad_field() {
        let mut p = Problems::default();
        assert_eq!(p.check("subject", subject("")), None);
        assert_eq!(p.check("name", name("Bob")), Some("Bob".to_string()));
        assert_eq!(p.check("email", email("nope")), None);
        match p.finish() {
            Err(RuleError::Validation(map)) => {
                assert_eq!(map.keys().collect::<Vec<_>>(), vec!["email", "subject"]);
            }
            other => panic!("expected validation error, got {other:?}"),
        }
    }
}
