//! The database: connecting (SQLite or PostgreSQL), migrating, and the query functions.
//! Every query about a user's data takes the owner's id first.

pub mod account_choices;
pub mod analytics_events;
pub mod connections;
pub mod entities;
pub mod media;
pub mod oauth_states;
pub mod post_metrics;
pub mod posts;
pub mod products;
pub mod sessions;
pub mod stores;
pub mod studio_settings;
pub mod templates;
pub mod token_rows;
pub mod users;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, SqlErr};
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A unique constraint refused the write (e.g. the email is taken).
    #[error("unique constraint violated")]
    Conflict,
    /// The database cannot be reached, the pool has no connection to give, or other writes
    /// held the database past the wait (SQLite's lock, a PostgreSQL deadlock): not a bug, so
    /// the client is told to retry (503) rather than that we failed (500).
    #[error("database unavailable: {0}")]
    Unavailable(DbErr),
    #[error(transparent)]
    Db(DbErr),
}

impl DbError {
    /// How long a client is asked to wait after an outage.
    pub const RETRY_AFTER: Duration = Duration::from_secs(5);

    /// Lifts unique violations out of a write's error so callers can answer 409.
    pub fn from_write(error: DbErr) -> Self {
        match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::Conflict,
            _ => Self::from(error),
        }
    }
}

impl From<DbErr> for DbError {
    fn from(error: DbErr) -> Self {
        if is_outage(&error) || is_write_contention(&error) {
            Self::Unavailable(error)
        } else {
            Self::Db(error)
        }
    }
}

/// Whether an error means "the database is not there right now" (connection refused or lost,
/// pool exhausted or closed) rather than "this query is wrong".
fn is_outage(error: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    match error {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(sqlx))
        | DbErr::Exec(RuntimeErr::SqlxError(sqlx))
        | DbErr::Query(RuntimeErr::SqlxError(sqlx)) => matches!(
            sqlx,
            Sqlx::Io(_)
                | Sqlx::Tls(_)
                | Sqlx::PoolTimedOut
                | Sqlx::PoolClosed
                | Sqlx::WorkerCrashed
                | Sqlx::Protocol(_)
        ),
        DbErr::Conn(RuntimeErr::Internal(_)) => true,
        _ => false,
    }
}

/// Whether the statement lost to concurrent writes and would succeed if run again: SQLite
/// busy or locked past its busy timeout (a write upgraded from a read gets this at once in WAL
/// mode), or a PostgreSQL serialization failure or deadlock.
fn is_write_contention(error: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::sqlx::sqlite::SqliteError;
    const SQLITE_BUSY: i64 = 5;
    const SQLITE_LOCKED: i64 = 6;
    let (DbErr::Exec(RuntimeErr::SqlxError(Sqlx::Database(database)))
    | DbErr::Query(RuntimeErr::SqlxError(Sqlx::Database(database)))) = error
    else {
        return false;
    };
    let code = database.code().unwrap_or_default();
    if database.try_downcast_ref::<SqliteError>().is_some() {
        // SQLite reports extended codes; the primary code is the low byte.
        code.parse::<i64>()
            .is_ok_and(|code| matches!(code & 0xff, SQLITE_BUSY | SQLITE_LOCKED))
    } else {
        matches!(code.as_ref(), "40001" | "40P01")
    }
}

/// Opens the pool of at most `max_connections`. A `sqlite:` URL with `mode=rwc` creates the
/// file (and its directory).
pub async fn connect(
    url: &SecretString,
    max_connections: u32,
) -> Result<DatabaseConnection, DbErr> {
    let url = url.expose_secret();
    if let Some(path) = sqlite_file(url)
        && let Some(dir) = std::path::Path::new(path).parent()
    {
        std::fs::create_dir_all(dir).map_err(|error| {
            DbErr::Custom(format!(
                "cannot create the database directory {}: {error}",
                dir.display()
            ))
        })?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .connect_timeout(Duration::from_secs(3))
        .acquire_timeout(Duration::from_secs(3))
        .sqlx_logging(false);
    let db = Database::connect(options).await?;
    if url.starts_with("sqlite:") {
        // WAL lets readers proceed while a write commits; it is stored in the file.
        db.execute_unprepared("PRAGMA journal_mode = WAL").await?;
    }
    Ok(db)
}

/// The file of a `sqlite://path?…` URL, if it names one (not `:memory:`).
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && !path.contains(":memory:")).then_some(path)
}

/// Opens the pool and applies every pending migration: what every command that uses the
/// database does first.
pub async fn open(url: &SecretString, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    use anyhow::Context as _;
    let db = connect_at_start(url, max_connections)
        .await
        .context("cannot connect to the database")?;
    migrate(&db)
        .await
        .context("cannot apply the database migrations")?;
    Ok(db)
}

/// How long [`connect_at_start`] waits before trying PostgreSQL again: doubling from the
/// first wait up to the longest.
const START_RETRY_FIRST: Duration = Duration::from_millis(500);
const START_RETRY_LONGEST: Duration = Duration::from_secs(30);

/// [`connect`], waiting for a PostgreSQL that cannot be reached yet (its host still booting, a
/// failover), and saying so in the log at every attempt. Any other failure (a wrong password,
/// a bad URL) stops the start, as does any failure of the embedded SQLite file, which is no
/// server to wait for.
async fn connect_at_start(
    url: &SecretString,
    max_connections: u32,
) -> Result<DatabaseConnection, DbErr> {
    let postgres = url.expose_secret().starts_with("postgres");
    let mut wait = START_RETRY_FIRST;
    let mut attempt = 1_u32;
    loop {
        match connect(url, max_connections).await {
            Err(error) if postgres && is_outage(&error) => {
                tracing::warn!(
                    %error,
                    attempt,
                    retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                    "waiting for PostgreSQL to answer"
                );
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(START_RETRY_LONGEST);
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// For `/readyz`: the database answers a trivial query.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.ping().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_file_is_found_in_both_url_forms() {
        assert_eq!(
            sqlite_file("sqlite://./data/app.db?mode=rwc"),
            Some("./data/app.db")
        );
        assert_eq!(sqlite_file("sqlite:/tmp/x.db"), Some("/tmp/x.db"));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://x"), None);
    }

    #[test]
    fn connection_failures_are_outages_and_query_mistakes_are_not() {
        use sea_orm::{ConnAcquireErr, RuntimeErr, sqlx};
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        for outage in [
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            DbErr::Conn(RuntimeErr::SqlxError(sqlx::Error::Io(refused))),
            DbErr::Query(RuntimeErr::SqlxError(sqlx::Error::PoolTimedOut)),
        ] {
            assert!(matches!(DbError::from(outage), DbError::Unavailable(_)));
        }
        let mistake = DbErr::Query(RuntimeErr::SqlxError(sqlx::Error::RowNotFound));
        assert!(matches!(DbError::from(mistake), DbError::Db(_)));
        assert!(matches!(
            DbError::from(DbErr::Custom("x".into())),
            DbError::Db(_)
        ));
    }

    #[tokio::test]
    async fn a_write_that_loses_to_sqlites_lock_is_unavailable_not_a_failure() {
        let file =
            std::env::temp_dir().join(format!("picscripter-busy-{}.db", uuid::Uuid::new_v4()));
        let url = SecretString::from(format!("sqlite://{}?mode=rwc", file.display()));
        let holder = connect(&url, 1).await.unwrap();
        holder
            .execute_unprepared("CREATE TABLE t (x INTEGER)")
            .await
            .unwrap();
        holder.execute_unprepared("BEGIN IMMEDIATE").await.unwrap();
        let writer = connect(&url, 1).await.unwrap();
        writer
            .execute_unprepared("PRAGMA busy_timeout = 0")
            .await
            .unwrap();
        let error = writer
            .execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap_err();
        let classified = DbError::from(error);
        holder.execute_unprepared("ROLLBACK").await.unwrap();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
        assert!(
            matches!(classified, DbError::Unavailable(_)),
            "a busy database asks the client to retry: {classified:?}"
        );
    }
}
