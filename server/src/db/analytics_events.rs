//! Queries on `analytics_events`: a person's product events, written a batch at a time and read
//! back only as counts per event name and day. Days are stored as `YYYY-MM-DD` text, which sorts
//! and compares like the dates it names, so a range of days is a plain `BETWEEN` on both
//! databases.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Asterisk, Expr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use uuid::Uuid;

use app::types::UserId;

use super::DbError;
use super::entities::analytics_event::{self, Column};

const DAY_FORMAT: &str = "%Y-%m-%d";

/// One checked event, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent<'a> {
    pub name: &'a str,
    /// The day in the person's time zone.
    pub day: NaiveDate,
    pub occurred_at: DateTime<Utc>,
    /// A JSON object.
    pub properties: String,
}

/// How many times the person recorded `name` on `day`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayTally {
    pub name: String,
    pub day: NaiveDate,
    pub count: u64,
}

fn day_text(day: NaiveDate) -> String {
    day.format(DAY_FORMAT).to_string()
}

/// Stores the owner's events in one statement, so a batch is stored whole or not at all.
pub async fn insert(
    db: &impl ConnectionTrait,
    owner: UserId,
    events: Vec<NewEvent<'_>>,
) -> Result<(), DbError> {
    // SeaORM cannot build an INSERT without rows.
    if events.is_empty() {
        return Ok(());
    }
    let rows = events
        .into_iter()
        .map(|event| analytics_event::ActiveModel {
            id: Set(Uuid::new_v4()),
            user_id: Set(owner.0),
            name: Set(event.name.to_owned()),
            day: Set(day_text(event.day)),
            occurred_at: Set(event.occurred_at),
            properties: Set(event.properties),
        });
    analytics_event::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The owner's events counted per name and day, for the days from `from` to `to` (both
/// included); days without events are absent. In no particular order: PostgreSQL's collation
/// and SQLite's byte order disagree about names with underscores, so callers sort.
pub async fn tally_by_day(
    db: &impl ConnectionTrait,
    owner: UserId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<DayTally>, DbError> {
    let rows: Vec<(String, String, i64)> = analytics_event::Entity::find()
        .select_only()
        .column(Column::Name)
        .column(Column::Day)
        // COUNT(*) rather than a column: the index on (user_id, day, name) answers it alone.
        .column_as(Expr::col(Asterisk).count(), "count")
        .filter(Column::UserId.eq(owner.0))
        .filter(Column::Day.between(day_text(from), day_text(to)))
        .group_by(Column::Name)
        .group_by(Column::Day)
        .into_tuple()
        .all(db)
        .await?;
    rows.into_iter()
        .map(|(name, day, count)| -> Result<DayTally, DbError> {
            let day = NaiveDate::parse_from_str(&day, DAY_FORMAT).map_err(|_| {
                DbError::Db(sea_orm::DbErr::Custom(format!(
                    "analytics_events.day {day:?} of {} does not parse",
                    owner.0
                )))
            })?;
            Ok(DayTally {
                name,
                day,
                count: u64::try_from(count).unwrap_or(0),
            })
        })
        .collect()
}
