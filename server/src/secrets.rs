//! Secrets the embedded default makes for itself, so a first run needs nothing set. Each is
//! random, written once under the data directory (owner-only permissions) and read back on
//! every later start, so sessions survive restarts.

use std::io::{self, Write};
use std::path::Path;

use base64::Engine as _;
use rand::RngCore as _;
use secrecy::SecretString;

/// Reads `DATA_DIR/<name>`, creating it with `bytes` random bytes (base64) if it does not exist.
///
/// Two processes starting on a fresh data directory must end up with the same secret, or each
/// would reject the other's sessions. So the new secret is written whole to a file of its own
/// and then hard-linked into place: the link either creates the file with its full content or
/// fails because another process got there first, and then that process's secret is read.
pub fn load_or_create(data_dir: &Path, name: &str, bytes: usize) -> io::Result<SecretString> {
    let path = data_dir.join(name);
    if let Some(existing) = read_existing(&path)? {
        return Ok(existing);
    }
    std::fs::create_dir_all(data_dir)?;
    let mut random = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut random);
    let secret = base64::engine::general_purpose::STANDARD.encode(random);

    let draft = data_dir.join(format!(".{name}.{}", uuid::Uuid::new_v4().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&draft).and_then(|mut file| {
        file.write_all(secret.as_bytes())
            .and_then(|()| file.sync_all())
    });
    let linked = written.and_then(|()| std::fs::hard_link(&draft, &path));
    let _ = std::fs::remove_file(&draft);
    match linked {
        Ok(()) => {
            tracing::info!(path = %path.display(), "generated a local secret");
            Ok(SecretString::from(secret))
        }
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => read_existing(&path)?
            .ok_or_else(|| io::Error::other(format!("{} exists but is empty", path.display()))),
        Err(error) => Err(error),
    }
}

fn read_existing(path: &Path) -> io::Result<Option<SecretString>> {
    match std::fs::read_to_string(path) {
        Ok(existing) if !existing.trim().is_empty() => {
            Ok(Some(SecretString::from(existing.trim().to_owned())))
        }
        Ok(_) => Ok(None),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn a_generated_secret_is_kept_for_the_next_start() {
        let dir = std::env::temp_dir().join(format!("picscripter-secret-{}", uuid::Uuid::new_v4()));
        let first = load_or_create(&dir, "jwt_secret", 48).unwrap();
        let second = load_or_create(&dir, "jwt_secret", 48).unwrap();
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

    #[test]
    fn processes_starting_together_agree_on_one_secret() {
        let dir = std::env::temp_dir().join(format!("picscripter-race-{}", uuid::Uuid::new_v4()));
        let start = std::sync::Arc::new(std::sync::Barrier::new(8));
        let secrets: Vec<String> = (0..8)
            .map(|_| {
                let (dir, start) = (dir.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    load_or_create(&dir, "jwt_secret", 48)
                        .unwrap()
                        .expose_secret()
                        .to_owned()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|thread| thread.join().unwrap())
            .collect();
        assert!(
            secrets.iter().all(|secret| secret == &secrets[0]),
            "{secrets:?}"
        );
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1, "only the secret itself is left");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
