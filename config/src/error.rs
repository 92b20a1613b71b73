use std::path::PathBuf;

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A layer could not be read or a value had the wrong type; figment's
    /// message names the key, the value, the expected type and the layer
    /// (file or environment variable) it came from.
    // Printed, not chained as a source: figment's text is the whole story.
    #[error("{0}")]
    Load(Box<figment::Error>),
    /// The value parsed but is not acceptable.
    #[error("invalid value {value:?} for `{key}`: expected {expected}")]
    Invalid {
        key: &'static str,
        value: String,
        expected: &'static str,
    },
    /// The config file named explicitly does not exist.
    #[error("config file {0} does not exist")]
    MissingFile(PathBuf),
    /// No home directory to derive default folders from.
    #[error("cannot find the user's data directory; set `server.data` or DESK_SERVER__DATA")]
    NoDataDir,
}

impl From<figment::Error> for ConfigError {
    fn from(err: figment::Error) -> Self {
        ConfigError::Load(Box::new(err))
    }
}
