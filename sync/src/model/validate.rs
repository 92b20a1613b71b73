//! What makes a value acceptable. Each check returns the normalised value or
//! the reason it was refused, phrased for the person who typed it.

use std::collections::BTreeMap;

use unicode_normalization::UnicodeNormalization;

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

/// Text that would act on a terminal or reorder what it shows rather than
/// be read: C0 and C1 controls, DEL, and the bidirectional overrides and
/// isolates. Texts are drawn in agents' terminals.
fn is_hostile(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Invisible characters that make two spellings of one address look alike.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    )
}

/// Trimmed, within `max` characters, free of hostile characters; a
/// `multiline` text keeps its line breaks (`\r\n` becomes `\n`) and tabs.
pub(crate) fn bounded(
    value: &str,
    what: &str,
    max: usize,
    allow_empty: bool,
    multiline: bool,
) -> Check<String> {
    let mut text = value.trim().to_string();
    if multiline && text.contains('\r') {
        text = text.replace("\r\n", "\n");
    }
    if text.is_empty() && !allow_empty {
        return Err(format!("{what} must not be empty"));
    }
    if text.chars().count() > max {
        return Err(format!("{what} must be at most {max} characters"));
    }
    let allowed = |c: char| multiline && (c == '\n' || c == '\t');
    if let Some(c) = text.chars().find(|&c| is_hostile(c) && !allowed(c)) {
        return Err(if c == '\n' || c == '\r' {
            format!("{what} must be a single line")
        } else {
            format!(
                "{what} must not contain control characters (found U+{:04X})",
                u32::from(c)
            )
        });
    }
    Ok(text)
}

pub fn subject(value: &str) -> Check<String> {
    bounded(value, "subject", SUBJECT_MAX, false, false)
}

pub fn description(value: &str) -> Check<String> {
    bounded(value, "description", TEXT_MAX, true, true)
}

pub fn comment_body(value: &str) -> Check<String> {
    bounded(value, "comment", TEXT_MAX, false, true)
}

pub fn name(value: &str) -> Check<String> {
    bounded(value, "name", NAME_MAX, false, false)
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

/// An address as Desk compares it: trimmed, NFKC-normalised (a fullwidth
/// `ｂｏｂ` is `bob`) and lower-cased. Sign-in looks accounts up by it.
pub fn email_key(value: &str) -> String {
    value.trim().nfkc().collect::<String>().to_lowercase()
}

/// A plausible address, as [`email_key`] spells it: one `@`, something
/// before it, a dotted domain after it, nothing invisible or hostile, and a
/// local part in one script (a Cyrillic `о` among Latin letters is a look-alike
/// of another account, not a new one). Deliverability is not our business.
pub fn email(value: &str) -> Check<String> {
    let email = email_key(value);
    let local = email.split('@').next().unwrap_or_default();
    let latin = local.chars().any(|c| c.is_ascii_alphabetic());
    let other = local.chars().any(|c| c.is_alphabetic() && !c.is_ascii());
    let valid = email.len() <= EMAIL_MAX
        && !(latin && other)
        && !email.contains(|c: char| c.is_whitespace() || is_hostile(c) || is_invisible(c))
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
    fn texts_that_would_act_on_a_terminal_are_refused() {
        for hostile in [
            "\u{1b}[2J",
            "bell\u{7}",
            "nul\u{0}",
            "c1\u{9b}31m",
            "\u{202E}txt.exe",
            "del\u{7f}",
        ] {
            assert!(subject(hostile).is_err(), "{hostile:?}");
            assert!(description(hostile).is_err(), "{hostile:?}");
            assert!(comment_body(hostile).is_err(), "{hostile:?}");
            assert!(name(hostile).is_err(), "{hostile:?}");
        }
        assert_eq!(
            comment_body("line one\r\n\tline two").as_deref(),
            Ok("line one\n\tline two")
        );
        assert!(subject("tab\there").is_err());
        assert_eq!(name("Zoë Ünal").as_deref(), Ok("Zoë Ünal"));
    }

    #[test]
    fn look_alike_emails_are_one_address_or_refused() {
        assert_eq!(
            email("ｂｏｂ@example.com").as_deref(),
            Ok("bob@example.com")
        );
        assert_eq!(email(" Bob@Example.COM ").as_deref(), Ok("bob@example.com"));
        for look_alike in [
            "b\u{43e}b@example.com",
            "bob\u{200b}@example.com",
            "bob\u{0}@example.com",
            "bob\u{202e}@example.com",
        ] {
            assert!(email(look_alike).is_err(), "{look_alike:?}");
        }
        assert_eq!(email("боб@example.com").as_deref(), Ok("боб@example.com"));
    }

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
