//! Secrets the embedded default makes for itself, so a first run needs nothing set. Each is
//! random, written once under the data directory (owner-only permissions) and read back on
//! every later start, so sessions survive restarts.

use std::io::{self, Write};
use std::path::Path;

use base64::Engine as _;
use rand::RngCore as _;
use secrecy::SecretString;

/// Reads `DATA_DIR/<name>`, creating it with 48 random bytes (base64) if it does not exist.
pub fn load_or_create(data_dir: &Path, name: &str) -> io::Result<SecretString> {
    let path = data_dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(existing) if !existing.trim().is_empty() => {
            return Ok(SecretString::from(existing.trim().to_owned()));
        }
        Ok(_) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    std::fs::create_dir_all(data_dir)?;
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    let secret = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(&path)?.write_all(secret.as_bytes())?;
    tracing::info!(path = %path.display(), "generated a local secret");
    Ok(SecretString::from(secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn a_generated_secret_is_kept_for_the_next_start() {
        let dir = std::env::temp_dir().join(format!("picscripter-secret-{}", uuid::Uuid::new_v4()));
        let first = load_or_create(&dir, "jwt_secret").unwrap();
        let second = load_or_create(&dir, "jwt_secret").unwrap();
        assert_eq!(first.expose_secret(), second.expose_secret());
        assert!(first.expose_secret().len() >= 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("jwt_secret"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
