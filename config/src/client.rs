//! The console's (`desk`) settings, from `~/.config/desk/config.toml`.
//!
//! ```toml
//! server_url = "https://desk.example.com"
//! email = "bob@example.com"
//! data_dir = "/home/bob/.local/share/desk"   # session, replicas and log
//!
//! [keys]              # action = a key or a list of keys
//! save = "ctrl-s"
//! move_down = ["j", "down"]
//!
//! [theme]
//! color = true        # NO_COLOR (set and not empty) turns it off
//!
//! [log]
//! level = "info"      # a tracing filter, e.g. "info,desk_sync=debug"
//! ```
//!
//! The environment uses the server's prefix, so only the console's own
//! variables are read and the server's (`DESK_SERVER__BIND`,
//! `DESK_AUTH__SECRET`, `DESK_LOG__FORMAT`, …) are left alone:
//! `DESK_SERVER_URL`, `DESK_EMAIL`, `DESK_DATA_DIR`, `DESK_THEME__…`,
//! `DESK_LOG__LEVEL` and `DESK_KEYS__<ACTION>`.

use std::{collections::BTreeMap, fmt, path::PathBuf};

use figment::{
    Figment,
    providers::{Env, Format, Toml},
};
use serde::{Deserialize, Deserializer, de};

use crate::{ConfigError, paths, server::ENV_PREFIX};

/// The config file's name inside [`paths::config_dir`].
pub const CONFIG_FILE: &str = "config.toml";

/// The console's settings, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    /// The server `desk login` signs in to when no `--server` is given.
    pub server_url: Option<String>,
    /// The email `desk login` offers when no `--email` is given.
    pub email: Option<String>,
    /// Session, replicas and log live here.
    pub data_dir: PathBuf,
    /// Action name → the keys bound to it (`"ctrl-s"`, `"j"`, `"enter"`).
    /// Names and key syntax are checked by the console's keymap.
    pub keys: BTreeMap<String, Vec<String>>,
    pub theme: ThemeSettings,
    pub log: ClientLogSettings,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThemeSettings {
    /// Draw with colours; `false` also when `NO_COLOR` is set.
    pub color: bool,
}

impl Default for ThemeSettings {
    fn default() -> Self {
        ThemeSettings { color: true }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientLogSettings {
    /// A tracing filter for the console's log file.
    pub level: String,
}

impl Default for ClientLogSettings {
    fn default() -> Self {
        ClientLogSettings {
            level: "info".into(),
        }
    }
}

/// Command-line flags: the last layer, applied only where given.
#[derive(Debug, Clone, Default)]
pub struct ClientOverrides {
    pub config_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub server_url: Option<String>,
    pub email: Option<String>,
}

/// The file and environment layers as they parse, before defaults are
/// resolved.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Layers {
    server_url: Option<String>,
    email: Option<String>,
    data_dir: Option<PathBuf>,
    keys: BTreeMap<String, KeyList>,
    theme: ThemeSettings,
    log: ClientLogSettings,
}

/// One key or a list of keys. Numbers are keys too (`view_1 = 1`), and an
/// environment value such as `1` arrives as one.
#[derive(Debug, Default)]
struct KeyList(Vec<String>);

impl<'de> Deserialize<'de> for KeyList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl<'de> de::Visitor<'de> for Visitor {
            type Value = KeyList;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a key such as "ctrl-s" or a list of keys"#)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyList, E> {
                Ok(KeyList(vec![v.to_string()]))
            }

            fn visit_char<E: de::Error>(self, v: char) -> Result<KeyList, E> {
                Ok(KeyList(vec![v.to_string()]))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyList, E> {
                Ok(KeyList(vec![v.to_string()]))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyList, E> {
                Ok(KeyList(vec![v.to_string()]))
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<KeyList, A::Error> {
                let mut keys = Vec::new();
                while let Some(KeyList(more)) = seq.next_element::<KeyList>()? {
                    keys.extend(more);
                }
                Ok(KeyList(keys))
            }
        }

        deserializer.deserialize_any(Visitor)
    }
}

/// The environment variables that are the console's: the same prefix also
/// carries the server's settings and `DESK_CONFIG`, which are not errors
/// here. Keys arrive lowercased with `__` turned into `.`.
fn is_client_key(key: &str) -> bool {
    matches!(key, "server_url" | "email" | "data_dir" | "log.level")
        || key.starts_with("theme.")
        || key.starts_with("keys.")
}

/// `NO_COLOR` (<https://no-color.org>): set and not empty.
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

impl ClientSettings {
    /// Loads defaults → `config_file` (or `<config dir>/config.toml` when it
    /// exists) → the console's `DESK_…` variables → flags, then validates.
    /// Never writes a file.
    pub fn load(overrides: &ClientOverrides) -> Result<ClientSettings, ConfigError> {
        // An explicitly named file must exist; the default one is optional.
        let file = match &overrides.config_file {
            Some(file) if !file.exists() => return Err(ConfigError::MissingFile(file.clone())),
            Some(file) => Some(file.clone()),
            None => paths::config_dir()
                .map(|dir| dir.join(CONFIG_FILE))
                .filter(|file| file.exists()),
        };
        let mut figment = Figment::new();
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment = figment.merge(
            Env::prefixed(ENV_PREFIX)
                .split("__")
                .filter(|key| is_client_key(&key.as_str().to_ascii_lowercase())),
        );
        if let Some(data_dir) = &overrides.data_dir {
            figment = figment.merge(("data_dir", data_dir));
        }
        if let Some(server_url) = &overrides.server_url {
            figment = figment.merge(("server_url", server_url));
        }
        if let Some(email) = &overrides.email {
            figment = figment.merge(("email", email));
        }
        let layers: Layers = figment.extract()?;

        let data_dir = match layers.data_dir {
            Some(dir) => dir,
            None => paths::data_dir().ok_or_else(|| ConfigError::Invalid {
                key: "data_dir",
                value: String::new(),
                expected: "a folder: there is no home directory to derive one from \
                           (set data_dir in the config file, DESK_DATA_DIR or --data-dir)",
            })?,
        };
        let mut theme = layers.theme;
        if no_color() {
            theme.color = false;
        }
        let settings = ClientSettings {
            server_url: layers
                .server_url
                .map(|url| url.trim().trim_end_matches('/').to_string()),
            email: layers
                .email
                .map(|email| email.trim().to_string())
                .filter(|email| !email.is_empty()),
            data_dir,
            keys: layers
                .keys
                .into_iter()
                .map(|(action, KeyList(keys))| (action, keys))
                .collect(),
            theme,
            log: layers.log,
        };
        settings.validate()?;
        Ok(settings)
    }

    /// Settings with everything at its default and the data in `data_dir`:
    /// for `desk demo` and tests.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> ClientSettings {
        ClientSettings {
            server_url: None,
            email: None,
            data_dir: data_dir.into(),
            keys: BTreeMap::new(),
            theme: ThemeSettings::default(),
            log: ClientLogSettings::default(),
        }
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.server_url {
            let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
            if !scheme_ok || url.contains(char::is_whitespace) {
                return Err(ConfigError::Invalid {
                    key: "server_url",
                    value: url.clone(),
                    expected: "an absolute http:// or https:// URL",
                });
            }
        }
        if self.log.level.trim().is_empty() {
            return Err(ConfigError::Invalid {
                key: "log.level",
                value: self.log.level.clone(),
                expected: "a level such as info or a filter such as info,desk_sync=debug",
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const CLIENT_FILE: &str = "desk.toml";

    // figment::Jail's closures return figment::Error by design.
    #[allow(clippy::result_large_err)]
    fn load_with(
        toml: &str,
        env: &[(&str, &str)],
        overrides: ClientOverrides,
    ) -> Result<ClientSettings, ConfigError> {
        let mut result = None;
        figment::Jail::expect_with(|jail| {
            jail.create_file(CLIENT_FILE, toml)?;
            // Empty means unset (no-color.org), whatever the developer's
            // terminal says; a test may set it again below.
            jail.set_env("NO_COLOR", "");
            for (k, v) in env {
                jail.set_env(k, v);
            }
            let overrides = ClientOverrides {
                config_file: Some(CLIENT_FILE.into()),
                ..overrides.clone()
            };
            result = Some(ClientSettings::load(&overrides));
            Ok(())
        });
        result.unwrap_or_else(|| Err(ConfigError::MissingFile(CLIENT_FILE.into())))
    }

    fn message(result: Result<ClientSettings, ConfigError>) -> String {
        result.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn defaults() -> Result<(), ConfigError> {
        let s = load_with("", &[], ClientOverrides::default())?;
        assert_eq!(s.server_url, None);
        assert_eq!(s.email, None);
        assert!(s.keys.is_empty());
        assert!(s.theme.color);
        assert_eq!(s.log.level, "info");
        // Unless the developer's own DESK_DATA_DIR is in the way.
        if std::env::var_os("DESK_DATA_DIR").is_none() {
            assert_eq!(Some(s.data_dir), paths::data_dir());
        }
        Ok(())
    }

    #[test]
    fn layers_apply_in_order_file_env_flags() -> Result<(), ConfigError> {
        let toml = r#"
            server_url = "http://file.example.com/"
            email = "file@example.com"
            data_dir = "/tmp/from-file"
            [theme]
            color = false
            [log]
            level = "debug"
        "#;
        let env = [
            ("DESK_SERVER_URL", "http://env.example.com"),
            ("DESK_EMAIL", "env@example.com"),
            ("DESK_DATA_DIR", "/tmp/from-env"),
            ("DESK_THEME__COLOR", "true"),
        ];
        let flags = ClientOverrides {
            server_url: Some("https://flag.example.com".into()),
            data_dir: Some("/tmp/from-flag".into()),
            ..ClientOverrides::default()
        };
        let s = load_with(toml, &env, flags)?;
        assert_eq!(
            s.server_url.as_deref(),
            Some("https://flag.example.com"),
            "flag beats env beats file"
        );
        assert_eq!(s.data_dir, Path::new("/tmp/from-flag"));
        assert_eq!(
            s.email.as_deref(),
            Some("env@example.com"),
            "env beats file"
        );
        assert!(s.theme.color, "env beats file");
        assert_eq!(s.log.level, "debug", "file beats default");

        let s = load_with(toml, &[], ClientOverrides::default())?;
        assert_eq!(
            s.server_url.as_deref(),
            Some("http://file.example.com"),
            "trailing slash trimmed"
        );
        assert_eq!(s.data_dir, Path::new("/tmp/from-file"));
        Ok(())
    }

    #[test]
    fn a_key_is_a_string_or_a_list() -> Result<(), ConfigError> {
        let toml = r#"
            [keys]
            save = "ctrl-s"
            down = ["j", "down"]
            view_1 = 1
            quit = "q"
        "#;
        let env = [("DESK_KEYS__QUIT", "ctrl-q"), ("DESK_KEYS__HELP", "?")];
        let s = load_with(toml, &env, ClientOverrides::default())?;
        let keys = |action: &str| s.keys.get(action).cloned().unwrap_or_default();
        assert_eq!(keys("save"), ["ctrl-s"]);
        assert_eq!(keys("down"), ["j", "down"]);
        assert_eq!(keys("view_1"), ["1"]);
        assert_eq!(keys("quit"), ["ctrl-q"], "env beats file");
        assert_eq!(keys("help"), ["?"]);

        let err = message(load_with(
            "[keys]\nsave = { key = \"s\" }\n",
            &[],
            ClientOverrides::default(),
        ));
        assert!(err.contains("keys.save"), "{err}");
        assert!(err.contains("a list of keys"), "{err}");
        Ok(())
    }

    #[test]
    fn the_servers_variables_are_ignored() -> Result<(), ConfigError> {
        let env = [
            ("DESK_SERVER__BIND", "0.0.0.0:1"),
            ("DESK_AUTH__SECRET", "s3cr3t"),
            ("DESK_LIMITS__API_PER_MINUTE", "5"),
            ("DESK_LOG__FORMAT", "json"),
            ("DESK_CONFIG", "/nonexistent/config.toml"),
            ("DESK_LOG__LEVEL", "warn"),
        ];
        let s = load_with("", &env, ClientOverrides::default())?;
        assert_eq!(s.log.level, "warn", "shared with the server, and read");
        Ok(())
    }

    #[test]
    fn unknown_keys_in_the_file_are_named() {
        let err = message(load_with(
            "sever_url = \"http://x\"\n",
            &[],
            ClientOverrides::default(),
        ));
        assert!(err.contains("sever_url"), "{err}");
        let err = message(load_with(
            "[theme]\ncolour = false\n",
            &[],
            ClientOverrides::default(),
        ));
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn a_bad_value_names_key_value_and_expectation() {
        let err = message(load_with(
            "",
            &[("DESK_THEME__COLOR", "sometimes")],
            ClientOverrides::default(),
        ))
        .to_lowercase();
        assert!(err.contains("theme.color"), "{err}");
        assert!(err.contains("sometimes"), "{err}");
        assert!(err.contains("expected a boolean"), "{err}");
        assert!(err.contains("desk_"), "names the environment layer: {err}");

        match load_with(
            "server_url = \"desk.example.com\"\n",
            &[],
            ClientOverrides::default(),
        ) {
            Err(ConfigError::Invalid { key, value, .. }) => {
                assert_eq!(key, "server_url");
                assert_eq!(value, "desk.example.com");
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn no_color_turns_colour_off() -> Result<(), ConfigError> {
        let s = load_with("", &[("NO_COLOR", "1")], ClientOverrides::default())?;
        assert!(!s.theme.color);
        let s = load_with(
            "[theme]\ncolor = true\n",
            &[("NO_COLOR", "1")],
            ClientOverrides::default(),
        )?;
        assert!(!s.theme.color, "NO_COLOR beats the file");
        let s = load_with("", &[("NO_COLOR", "")], ClientOverrides::default())?;
        assert!(s.theme.color, "an empty NO_COLOR counts as unset");
        Ok(())
    }

    #[test]
    fn a_missing_explicit_config_file_is_an_error() {
        let overrides = ClientOverrides {
            config_file: Some("/nonexistent/desk/config.toml".into()),
            ..ClientOverrides::default()
        };
        assert!(matches!(
            ClientSettings::load(&overrides),
            Err(ConfigError::MissingFile(_))
        ));
    }
}
