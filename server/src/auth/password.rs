//! Password hashing with argon2id at OWASP's recommended parameters. Hashing is deliberately
//! slow and memory-hungry (19 MiB each), so it runs on the blocking pool, never on a runtime
//! thread, and under a semaphore: a burst of sign-ins waits a moment for a permit and is then
//! told to come back (503 with Retry-After), instead of taking gigabytes of memory.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use argon2::password_hash::{
    PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use app::types::{EnteredPassword, Password};

/// OWASP Password Storage Cheat Sheet, argon2id option 2: 19 MiB of memory, 2 passes, 1 lane.
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("the OWASP parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Verified against when the email has no account, so that a wrong email costs as much time
/// as a wrong password and the response time reveals nothing.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(b"no account has this password", &salt)
        .expect("hashing a constant works")
        .to_string()
});

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Every permit stayed taken for the whole wait: too many hashes at once.
    #[error("password hashing is busy")]
    Busy { retry_after: Duration },
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// Hashes and verifies passwords, at most `permits` at a time.
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    wait: Duration,
    verifications: AtomicU64,
}

impl PasswordHasher {
    /// How long a request waits for a permit before it is told to come back.
    pub const DEFAULT_WAIT: Duration = Duration::from_secs(2);

    /// Two hashes per core: enough to keep every core busy while one waits on the pool.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self::new(2 * cores, Self::DEFAULT_WAIT)
    }

    pub fn new(permits: usize, wait: Duration) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(permits.max(1))),
            wait,
            verifications: AtomicU64::new(0),
        }
    }

    /// How many verifications ran (an unknown account's dummy check included). Tests use it to
    /// prove the unknown-email path costs a verification like any other.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// Runs `work` on the blocking pool once a permit is free.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| PasswordError::Busy {
                retry_after: Duration::from_secs(1),
            })?
            .map_err(|_| PasswordError::Failed("the hashing semaphore was closed".into()))?;
        tokio::task::spawn_blocking(move || {
            let result = work();
            drop(permit);
            result
        })
        .await
        .map_err(|error| PasswordError::Failed(error.to_string()))
    }

    /// Hashes a new password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: &Password) -> Result<String, PasswordError> {
        let password = password.expose().to_owned();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2()
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
        })
        .await?
        .map_err(|error| PasswordError::Failed(error.to_string()))
    }

    /// Whether `candidate` matches `stored`. With no stored hash the dummy is checked (and
    /// fails), costing the same time. Parameters are read from the stored hash, so raising
    /// them later keeps old hashes working.
    pub async fn verify(
        &self,
        stored: Option<String>,
        candidate: &EnteredPassword,
    ) -> Result<bool, PasswordError> {
        let candidate = candidate.expose().to_owned();
        self.verifications.fetch_add(1, Ordering::Relaxed);
        self.run(move || {
            let (stored, exists) = match stored {
                Some(stored) => (stored, true),
                None => (DUMMY_HASH.clone(), false),
            };
            let Ok(parsed) = PasswordHash::new(&stored) else {
                return false;
            };
            let matches = argon2()
                .verify_password(candidate.as_bytes(), &parsed)
                .is_ok();
            matches && exists
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entered(raw: &str) -> EnteredPassword {
        EnteredPassword::new(raw.into())
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let hasher = PasswordHasher::for_this_machine();
        let password = Password::parse("password", "correct horse".into()).unwrap();
        let stored = hasher.hash(&password).await.unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(
            hasher
                .verify(Some(stored.clone()), &entered("correct horse"))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(Some(stored), &entered("correct horsf"))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies_but_still_costs_a_verification() {
        let hasher = PasswordHasher::for_this_machine();
        assert!(
            !hasher
                .verify(None, &entered("no account has this password"))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(Some("not a phc string".into()), &entered("x"))
                .await
                .unwrap()
        );
        assert_eq!(hasher.verifications(), 2);
    }

    #[tokio::test]
    async fn with_every_permit_taken_a_request_is_told_to_come_back() {
        let hasher = PasswordHasher::new(1, Duration::from_millis(50));
        let held = hasher.permits.clone().acquire_owned().await.unwrap();
        let error = hasher.verify(None, &entered("x")).await.unwrap_err();
        assert!(matches!(error, PasswordError::Busy { .. }), "{error:?}");
        drop(held);
        assert!(!hasher.verify(None, &entered("x")).await.unwrap());
    }

    #[tokio::test]
    async fn at_most_the_permitted_number_of_hashes_run_at_once() {
        let hasher = Arc::new(PasswordHasher::new(2, Duration::from_secs(30)));
        let running = Arc::new(AtomicU64::new(0));
        let most = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let (hasher, running, most) = (hasher.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    hasher
                        .run(move || {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(20));
                            running.fetch_sub(1, Ordering::SeqCst);
                        })
                        .await
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }
}
