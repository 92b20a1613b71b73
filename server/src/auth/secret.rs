//! The JWT signing secret: from the settings, else from its file, else made
//! once with 512 random bits and saved with mode 0600.

use std::{
    fs,
    io::{self, Write},
    path::Path,
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use desk_config::{ServerSettings, server::MIN_SECRET_BYTES};
use secrecy::ExposeSecret;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read or create the signing secret at {path}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("the signing secret at {0} is shorter than 32 bytes")]
    TooShort(String),
}

/// Returns the secret's bytes and whether it was created just now.
pub fn load_or_create(settings: &ServerSettings) -> Result<(Vec<u8>, bool), SecretError> {
    if let Some(secret) = &settings.auth.secret {
        return Ok((secret.expose_secret().as_bytes().to_vec(), false));
    }
    let path = settings.secret_file();
    let io_err = |source| SecretError::Io {
        path: path.display().to_string(),
        source,
    };
    match fs::read_to_string(&path) {
        Ok(text) => {
            let secret = text.trim().as_bytes().to_vec();
            if secret.len() < MIN_SECRET_BYTES {
                return Err(SecretError::TooShort(path.display().to_string()));
            }
            Ok((secret, false))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 64];
            getrandom::fill(&mut bytes).map_err(|e| io_err(io::Error::other(e.to_string())))?;
            let secret = URL_SAFE_NO_PAD.encode(bytes);
            write_private(&path, secret.as_bytes()).map_err(io_err)?;
            Ok((secret.into_bytes(), true))
        }
        Err(e) => Err(io_err(e)),
    }
}

fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_private_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let settings = ServerSettings::for_data_dir(dir.path());
        let (first, created) = load_or_create(&settings).unwrap();
        assert!(created);
        assert!(first.len() >= MIN_SECRET_BYTES);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(settings.secret_file())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (second, created) = load_or_create(&settings).unwrap();
        assert!(!created);
        assert_eq!(first, second);
    }

    #[test]
    fn a_short_secret_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let settings = ServerSettings::for_data_dir(dir.path());
        fs::write(settings.secret_file(), "short").unwrap();
        assert!(matches!(
            load_or_create(&settings),
            Err(SecretError::TooShort(_))
        ));
    }
}
