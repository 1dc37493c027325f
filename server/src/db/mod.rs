//! The database: connecting (SQLite or PostgreSQL), migrating, and the query functions.
//! Every query about a user's data takes the owner's id first.

pub mod entities;
pub mod sessions;
pub mod users;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, SqlErr};
use secrecy::{ExposeSecret, SecretString};

use app::types::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A unique constraint refused the write (e.g. the email is taken).
    #[error("unique constraint violated")]
    Conflict,
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl DbError {
    /// Lifts unique violations out of a write's error so callers can answer 409.
    pub fn from_write(error: DbErr) -> Self {
        match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::Conflict,
            _ => Self::Db(error),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::Conflict => ApiError::Conflict {
                message: "That already exists.".into(),
            },
            DbError::Db(error) => {
                // Logged here, inside the request's span (which carries the request id); the
                // client only learns that something failed and which request it was.
                tracing::error!(error = %error, "database error");
                ApiError::Internal { request_id: None }
            }
        }
    }
}

/// Opens the pool. A `sqlite:` URL with `mode=rwc` creates the file (and its directory).
pub async fn connect(url: &SecretString) -> Result<DatabaseConnection, DbErr> {
    let url = url.expose_secret();
    if let Some(path) = sqlite_file(url) {
        if let Some(dir) = std::path::Path::new(path).parent() {
            std::fs::create_dir_all(dir).map_err(|error| {
                DbErr::Custom(format!(
                    "cannot create the database directory {}: {error}",
                    dir.display()
                ))
            })?;
        }
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(if url.starts_with("sqlite:") { 8 } else { 20 })
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
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
    use super::sqlite_file;

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
}
