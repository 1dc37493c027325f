//! Post metrics: reading what each published post did from its platform, and summing it up for
//! the Analytics page. Both halves live here because they share one rule, which posts count and
//! how their readings are read, and neither is used anywhere else.
//!
//! [`MetricsCollector`] runs a round every ten minutes (on the task tracker, stopping on the
//! shutdown token; tests call [`MetricsCollector::collect_due`] with the time they want). A
//! round takes the published posts younger than [`MAX_AGE`] whose last reading is older than
//! their interval (hourly on the first day, every six hours to the end of the first week, daily
//! after), groups them by account, and reads each account in the batches its platform takes,
//! through the same token path publishing uses (refreshed single-flight when near expiry). Each
//! platform gets a budget of calls per round ([`MetricsReading::calls_per_round`]), so metrics
//! never spend the rate limit publishing needs; what the budget leaves is read next round, the
//! longest-waiting first. An account is claimed in the database while it is read, so two
//! worker processes never read it at once; when its platform answers a rate limit, the account
//! rests until the platform's wait has passed, and after a refusal (a token the platform no
//! longer takes, a permission it lacks) for some hours. A refused token marks nothing: whether
//! the account needs a reconnect is the publishing pipeline's call. Every reading is one row,
//! so the page has history; a number the platform does not report stays NULL.
//!
//! [`Analytics`] answers the Analytics page for one owner and a range of days in the owner's
//! time zone, from the latest reading of each post published in the range: totals per
//! platform, a daily series per platform (each day is what the posts published that day have
//! brought so far, see [`app::types::DailyPoint`]), the best posts by engagement, and the
//! weekday-by-hour grid of the average engagement of posts published in each hour. Posts not
//! read yet are left out of all of it. This half never calls a platform.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use app::types::{
    AnalyticsOverview, ApiError, BestPost, ConnectionId, DailyPoint, HeatCell, MetricSnapshot,
    MetricTotals, Platform, PlatformSeries, PlatformTotals, TargetId, TimeZoneName, User, UserId,
};

use crate::backend::Backend;
use crate::clock::SharedClock;
use crate::connections::tokens::{TokenError, TokenKeeper};
use crate::db::post_metrics::{self as rows, CollectTarget, NewReading, PublishedTarget};
use crate::error::Error;
use crate::platforms::{MetricsReading, MetricsRequest, PlatformError, Registry, SocialPlatform};

/// Posts are read until they are this old, never after.
pub const MAX_AGE: Duration = Duration::days(30);
/// How long a post waits between readings, by its age.
const FIRST_DAY_EVERY: Duration = Duration::hours(1);
const FIRST_WEEK_EVERY: Duration = Duration::hours(6);
const LATER_EVERY: Duration = Duration::hours(24);
/// A round that runs a little early (ticks are not exact) still reads a post whose interval
/// has all but passed, rather than leaving it for a whole round more.
const SLACK: Duration = Duration::minutes(1);
/// Candidates are read from the database this many at a time.
const CANDIDATE_PAGE: u64 = 1_000;
/// How long an account rests after a failure that named no wait (an outage, a dropped
/// connection), after a refused token, and after any other refusal.
const TRANSIENT_PAUSE: Duration = Duration::minutes(15);
const REAUTH_PAUSE: Duration = Duration::hours(6);
const REFUSED_PAUSE: Duration = Duration::hours(24);
/// The longest reason kept beside a paused account.
const REASON_CHARS: usize = 300;
/// The longest excerpt of a best post's text.
const EXCERPT_CHARS: usize = 140;

/// How often rounds run and how long one process holds an account.
#[derive(Debug, Clone, Copy)]
pub struct CollectSettings {
    pub every: StdDuration,
    /// Longer than reading one account's batches takes; a process that dies holding an account
    /// lets go of it after this.
    pub claim_for: Duration,
}

impl Default for CollectSettings {
    fn default() -> Self {
        Self {
            every: StdDuration::from_secs(10 * 60),
            claim_for: Duration::minutes(10),
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Readings stored: one per post read.
    pub readings: usize,
    /// Calls made to platforms.
    pub calls: usize,
    /// Accounts read (or tried).
    pub accounts: usize,
    /// Accounts with posts due that were left for a later round: resting after their
    /// platform's answer, held by another process, or past their platform's budget.
    pub deferred: usize,
}

/// How long a post waits between readings at `age`.
pub fn interval(age: Duration) -> Duration {
    if age < Duration::days(1) {
        FIRST_DAY_EVERY
    } else if age < Duration::days(7) {
        FIRST_WEEK_EVERY
    } else {
        LATER_EVERY
    }
}

/// Whether a post published at `published_at` and last read at `last` is read at `now`.
pub fn is_due(
    published_at: DateTime<Utc>,
    last: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    let age = now - published_at;
    if age >= MAX_AGE {
        return false;
    }
    last.is_none_or(|last| now - last >= interval(age) - SLACK)
}

/// A post due for reading, with when it was last read.
#[derive(Debug, Clone)]
struct Due {
    target: CollectTarget,
    last: Option<DateTime<Utc>>,
}

impl Due {
    /// How long it has waited: since its last reading, or since it was published.
    fn waiting_since(&self) -> DateTime<Utc> {
        self.last.unwrap_or(self.target.published_at)
    }
}

/// One account being read.
struct Account<'a> {
    connection: Uuid,
    platform: Platform,
    account_id: &'a str,
    api: &'a dyn SocialPlatform,
    reading: MetricsReading,
}

/// How reading one account went.
#[derive(Debug, Default)]
struct AccountRead {
    readings: usize,
    calls: usize,
    /// The platform's answer that stopped it, if one did.
    stopped: Option<PlatformError>,
}

/// Reads the published posts' numbers from their platforms, a round at a time.
pub struct MetricsCollector {
    db: DatabaseConnection,
    registry: Registry,
    tokens: Arc<TokenKeeper>,
    settings: CollectSettings,
    /// Cancelled at shutdown: a round stops between accounts and batches.
    stopping: CancellationToken,
}

impl MetricsCollector {
    pub fn new(
        db: DatabaseConnection,
        registry: Registry,
        tokens: Arc<TokenKeeper>,
        settings: CollectSettings,
    ) -> Self {
        Self {
            db,
            registry,
            tokens,
            settings,
            stopping: CancellationToken::new(),
        }
    }

    /// A collector on `backend`'s database, platforms and tokens.
    pub fn of(backend: &Backend, settings: CollectSettings) -> Self {
        Self::new(
            backend.db.clone(),
            backend.registry.clone(),
            backend.tokens.clone(),
            settings,
        )
    }

    /// The collector, stopping its rounds early when `token` is cancelled.
    pub fn stopping_on(self, token: CancellationToken) -> Self {
        Self {
            stopping: token,
            ..self
        }
    }

    /// One round at `now`: every due post whose account may be read and whose platform's
    /// budget allows, read and stored. A platform's failure pauses its account and the round
    /// goes on; only our own failures (the database) end it.
    pub async fn collect_due(&self, now: DateTime<Utc>) -> Result<Round, Error> {
        let due = self.due(now).await?;
        let waiting = rows::waiting_accounts(&self.db, now).await?;
        let mut by_account: BTreeMap<Uuid, Vec<Due>> = BTreeMap::new();
        for post in due {
            by_account
                .entry(post.target.connection_id)
                .or_default()
                .push(post);
        }
        // The longest-waiting accounts first, so a spent budget leaves the freshest behind.
        let mut accounts: Vec<(Uuid, Vec<Due>)> = by_account.into_iter().collect();
        for (_, posts) in &mut accounts {
            posts.sort_by_key(Due::waiting_since);
        }
        accounts.sort_by_key(|(_, posts)| posts.first().map(Due::waiting_since));
        let mut budgets: HashMap<Platform, u32> = HashMap::new();
        let mut round = Round::default();
        for (connection, posts) in &accounts {
            if self.stopping.is_cancelled() {
                break;
            }
            let Some(first) = posts.first() else {
                continue;
            };
            let Some(platform) = Platform::parse(&first.target.platform) else {
                continue;
            };
            // A platform the operator no longer configures, or one that reports nothing for
            // this account: nothing to read, and nothing to wait for.
            let Some(api) = self.registry.get(platform) else {
                continue;
            };
            let Some(reading) = api.metrics(&first.target.account_id) else {
                continue;
            };
            let budget = budgets.entry(platform).or_insert(reading.calls_per_round);
            if *budget == 0 || waiting.contains(connection) {
                round.deferred += 1;
                continue;
            }
            let until = now + self.settings.claim_for;
            if !rows::claim_account(&self.db, *connection, now, until).await? {
                round.deferred += 1;
                continue;
            }
            let account = Account {
                connection: *connection,
                platform,
                account_id: &first.target.account_id,
                api: api.as_ref(),
                reading,
            };
            let read = self.read_account(&account, posts, budget, now).await;
            let pause = match &read {
                Ok(AccountRead {
                    stopped: Some(error),
                    ..
                }) => Some(pause_after(error, now)),
                _ => None,
            };
            rows::release_account(
                &self.db,
                *connection,
                pause.as_ref().map(|(resume_at, _)| *resume_at),
                pause.as_ref().map(|(_, reason)| reason.as_str()),
                now,
            )
            .await?;
            let read = read?;
            if let Some((resume_at, reason)) = &pause {
                tracing::info!(
                    platform = platform.as_str(),
                    connection = %connection,
                    resume_at = %resume_at,
                    reason = %reason,
                    "post metrics: the account rests"
                );
            }
            round.accounts += 1;
            round.calls += read.calls;
            round.readings += read.readings;
        }
        Ok(round)
    }

    /// The posts due at `now`, a page of candidates at a time.
    async fn due(&self, now: DateTime<Utc>) -> Result<Vec<Due>, Error> {
        let since = now - MAX_AGE;
        let mut due = Vec::new();
        let mut after = None;
        loop {
            let page = rows::published_since(&self.db, since, after, CANDIDATE_PAGE).await?;
            let Some(last) = page.last() else {
                break;
            };
            after = Some(last.target_id);
            let full = u64::try_from(page.len()).unwrap_or(u64::MAX) >= CANDIDATE_PAGE;
            let ids: Vec<Uuid> = page.iter().map(|target| target.target_id).collect();
            let read_at = rows::last_read(&self.db, &ids).await?;
            due.extend(page.into_iter().filter_map(|target| {
                let last = read_at.get(&target.target_id).copied();
                is_due(target.published_at, last, now).then_some(Due { target, last })
            }));
            if !full {
                break;
            }
        }
        Ok(due)
    }

    /// Reads `posts` of one account in its platform's batches, while `budget` lasts, storing
    /// each batch's readings as they come. Stops at the platform's first failure.
    async fn read_account(
        &self,
        account: &Account<'_>,
        posts: &[Due],
        budget: &mut u32,
        now: DateTime<Utc>,
    ) -> Result<AccountRead, Error> {
        let mut read = AccountRead::default();
        let mut steps = Vec::new();
        let access = match self
            .tokens
            .access_token(
                ConnectionId(account.connection),
                account.platform,
                &mut steps,
            )
            .await
        {
            Ok(access) => access,
            Err(TokenError::Platform(error)) => {
                read.stopped = Some(error);
                return Ok(read);
            }
            Err(TokenError::Backend(error)) => return Err(error),
        };
        for batch in posts.chunks(account.reading.batch.max(1)) {
            if *budget == 0 || self.stopping.is_cancelled() {
                break;
            }
            *budget -= 1;
            read.calls += 1;
            let ids: Vec<String> = batch
                .iter()
                .map(|post| post.target.external_id.clone())
                .collect();
            let since = batch
                .iter()
                .map(|post| post.target.published_at)
                .min()
                .unwrap_or(now);
            let answer = account
                .api
                .post_metrics(MetricsRequest {
                    access_token: &access.token,
                    account_id: account.account_id,
                    external_ids: &ids,
                    since,
                    until: now,
                })
                .await;
            let numbers = match answer {
                Ok(numbers) => numbers,
                Err(error) => {
                    read.stopped = Some(error);
                    break;
                }
            };
            let readings: Vec<NewReading> = batch
                .iter()
                .filter_map(|post| {
                    let metrics = numbers
                        .get(&post.target.external_id)?
                        .only(account.reading.gives);
                    Some(NewReading {
                        owner: UserId(post.target.user_id),
                        snapshot: MetricSnapshot {
                            target_id: TargetId(post.target.target_id),
                            platform: account.platform,
                            fetched_at: now,
                            impressions: metrics.impressions,
                            likes: metrics.likes,
                            replies: metrics.replies,
                            reposts: metrics.reposts,
                            link_clicks: metrics.link_clicks,
                        },
                    })
                })
                .collect();
            rows::insert_readings(&self.db, &readings).await?;
            read.readings += readings.len();
        }
        Ok(read)
    }
}

/// Until when an account rests after its platform's `error`, and why.
fn pause_after(error: &PlatformError, now: DateTime<Utc>) -> (DateTime<Utc>, String) {
    let (pause, why) = match error {
        PlatformError::Retryable {
            wait: Some(wait),
            detail,
            ..
        } => (Duration::from_std(*wait).unwrap_or(TRANSIENT_PAUSE), detail),
        PlatformError::Retryable { detail, .. } => (TRANSIENT_PAUSE, detail),
        PlatformError::Reauth { detail } => (REAUTH_PAUSE, detail),
        PlatformError::Permanent { reason } => (REFUSED_PAUSE, reason),
    };
    (now + pause, why.chars().take(REASON_CHARS).collect())
}

/// Starts the rounds on `tasks`, every `settings.every`, reading the time from `backend`'s
/// clock; they stop on `shutdown`, a round in progress between two accounts.
pub fn spawn(
    backend: &Backend,
    settings: CollectSettings,
    tasks: &TaskTracker,
    shutdown: &CancellationToken,
) {
    let collector = Arc::new(MetricsCollector::of(backend, settings).stopping_on(shutdown.clone()));
    let clock = backend.clock.clone();
    tasks.spawn(crate::startup::every(
        settings.every,
        shutdown.clone(),
        move || {
            let (collector, clock) = (collector.clone(), clock.clone());
            async move {
                match collector.collect_due(clock.now()).await {
                    Ok(round) if round.calls > 0 => tracing::info!(
                        readings = round.readings,
                        calls = round.calls,
                        accounts = round.accounts,
                        deferred = round.deferred,
                        "post metrics read"
                    ),
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%error, "reading post metrics failed; the next round tries again")
                    }
                }
            }
        },
    ));
}

/// The Analytics page's data: summed from stored readings, never from a platform.
pub struct Analytics {
    db: DatabaseConnection,
    clock: SharedClock,
}

/// The days an overview covers, in the owner's zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub zone: Tz,
    pub time_zone: TimeZoneName,
    pub range_days: u32,
    pub first_day: NaiveDate,
    /// Today.
    pub last_day: NaiveDate,
}

impl Period {
    /// The last `range_days` days up to `now`'s day in `time_zone`, today included.
    pub fn ending(now: DateTime<Utc>, time_zone: &TimeZoneName, range_days: u32) -> Self {
        let zone = time_zone.tz();
        let last_day = now.with_timezone(&zone).date_naive();
        let first_day = last_day
            .checked_sub_days(chrono::Days::new(u64::from(range_days.max(1) - 1)))
            .unwrap_or(last_day);
        Self {
            zone,
            time_zone: time_zone.clone(),
            range_days,
            first_day,
            last_day,
        }
    }

    /// When the first day began.
    pub fn start(&self) -> DateTime<Utc> {
        start_of_day(self.zone, self.first_day)
    }
}

/// The first instant of `day` in `zone`: its midnight, or where a clock change skips midnight,
/// the first moment of the day that exists.
fn start_of_day(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(NaiveTime::MIN);
    (0..=3)
        .find_map(|hours| {
            zone.from_local_datetime(&(midnight + Duration::hours(hours)))
                .earliest()
        })
        .map_or_else(|| midnight.and_utc(), |start| start.with_timezone(&Utc))
}

impl Analytics {
    pub fn new(db: DatabaseConnection, clock: SharedClock) -> Self {
        Self { db, clock }
    }

    /// `owner`'s overview of the last `range_days` days (1 to
    /// [`AnalyticsOverview::MAX_RANGE_DAYS`]), today included, in the owner's time zone.
    pub async fn overview_of(
        &self,
        owner: &User,
        range_days: u32,
    ) -> Result<AnalyticsOverview, Error> {
        if !(1..=AnalyticsOverview::MAX_RANGE_DAYS).contains(&range_days) {
            return Err(ApiError::validation(
                "range_days",
                format!(
                    "Choose a range from 1 to {} days.",
                    AnalyticsOverview::MAX_RANGE_DAYS
                ),
            )
            .into());
        }
        let now = self.clock.now();
        let period = Period::ending(now, &owner.time_zone, range_days);
        let from = period.start();
        let published = rows::published_between(&self.db, owner.id, from, now).await?;
        let latest = rows::latest_readings(&self.db, owner.id, from).await?;
        Ok(summarize(&period, &published, &latest))
    }
}

#[async_trait]
impl app::services::PostAnalytics for Analytics {
    async fn overview(&self, owner: &User, range_days: u32) -> Result<AnalyticsOverview, ApiError> {
        Ok(self.overview_of(owner, range_days).await?)
    }
}

/// The overview of `period` from the posts `published` in it and the latest readings (any
/// reading of a post not among them is ignored, as is a post without a reading).
pub fn summarize(
    period: &Period,
    published: &[PublishedTarget],
    latest: &[MetricSnapshot],
) -> AnalyticsOverview {
    let readings: HashMap<TargetId, &MetricSnapshot> = latest
        .iter()
        .map(|reading| (reading.target_id, reading))
        .collect();
    let mut totals: BTreeMap<Platform, MetricTotals> = BTreeMap::new();
    let mut days: BTreeMap<Platform, BTreeMap<NaiveDate, MetricTotals>> = BTreeMap::new();
    // Weekday-major: Monday 0:00 is cell 0, Sunday 23:00 cell 167.
    let mut cells = vec![(0u32, 0i64); 7 * 24];
    let mut ranked: Vec<(&PublishedTarget, &MetricSnapshot)> = Vec::new();
    let mut seen: HashSet<TargetId> = HashSet::new();
    for post in published {
        let Some(reading) = readings.get(&post.target_id).copied() else {
            continue;
        };
        if !seen.insert(post.target_id) {
            continue;
        }
        let local = post.published_at.with_timezone(&period.zone);
        totals.entry(post.platform).or_default().add(reading);
        days.entry(post.platform)
            .or_default()
            .entry(local.date_naive())
            .or_default()
            .add(reading);
        let weekday = local.weekday().num_days_from_monday() as usize;
        let cell = &mut cells[weekday * 24 + local.hour() as usize];
        cell.0 += 1;
        cell.1 += reading.engagement();
        ranked.push((post, reading));
    }
    let range: Vec<NaiveDate> = period
        .first_day
        .iter_days()
        .take_while(|day| *day <= period.last_day)
        .collect();
    let series = days
        .into_iter()
        .map(|(platform, by_day)| PlatformSeries {
            platform,
            days: range
                .iter()
                .map(|day| DailyPoint {
                    day: *day,
                    totals: by_day.get(day).cloned().unwrap_or_default(),
                })
                .collect(),
        })
        .collect();
    ranked.sort_by(|(a_post, a), (b_post, b)| {
        b.engagement()
            .cmp(&a.engagement())
            .then(b.impressions.unwrap_or(0).cmp(&a.impressions.unwrap_or(0)))
            .then(b_post.published_at.cmp(&a_post.published_at))
    });
    let best_posts = ranked
        .into_iter()
        .take(AnalyticsOverview::BEST_POSTS)
        .map(|(post, reading)| BestPost {
            post_id: post.post_id,
            target_id: post.target_id,
            platform: post.platform,
            account_handle: post.account_handle.clone(),
            excerpt: excerpt(&post.text),
            url: post.url.clone(),
            published_at: post.published_at,
            engagement: reading.engagement(),
            latest: reading.clone(),
        })
        .collect();
    let heat_map = cells
        .into_iter()
        .enumerate()
        .map(|(index, (posts, engagement))| HeatCell {
            weekday: u8::try_from(index / 24).unwrap_or(0),
            hour: u8::try_from(index % 24).unwrap_or(0),
            posts,
            average_engagement: (posts > 0).then(|| engagement as f64 / f64::from(posts)),
        })
        .collect();
    AnalyticsOverview {
        range_days: period.range_days,
        time_zone: period.time_zone.clone(),
        first_day: period.first_day,
        last_day: period.last_day,
        totals: totals
            .into_iter()
            .map(|(platform, totals)| PlatformTotals { platform, totals })
            .collect(),
        series,
        best_posts,
        heat_map,
    }
}

/// The start of `text` on one line, cut at a word with "…" when it is longer than
/// [`EXCERPT_CHARS`].
fn excerpt(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= EXCERPT_CHARS {
        return flat;
    }
    let cut: String = flat.chars().take(EXCERPT_CHARS).collect();
    // At the last space, unless that would drop more than half the excerpt (a long word).
    let kept = match cut.rfind(' ') {
        Some(space) if cut[..space].chars().count() > EXCERPT_CHARS / 2 => &cut[..space],
        _ => cut.as_str(),
    };
    format!("{}…", kept.trim_end())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use uuid::Uuid;

    use app::types::PostId;

    use super::*;

    fn at(raw: &str) -> DateTime<Utc> {
        raw.parse().unwrap()
    }

    fn paris() -> TimeZoneName {
        TimeZoneName::parse("Europe/Paris").unwrap()
    }

    fn post(platform: Platform, published_at: DateTime<Utc>, text: &str) -> PublishedTarget {
        PublishedTarget {
            target_id: TargetId(Uuid::new_v4()),
            post_id: PostId(Uuid::new_v4()),
            platform,
            account_handle: "shop".into(),
            text: text.into(),
            url: Some("https://example.test/p/1".into()),
            published_at,
        }
    }

    fn reading(post: &PublishedTarget, likes: i64, impressions: Option<i64>) -> MetricSnapshot {
        MetricSnapshot {
            target_id: post.target_id,
            platform: post.platform,
            fetched_at: post.published_at + Duration::hours(2),
            impressions,
            likes: Some(likes),
            replies: Some(1),
            reposts: None,
            link_clicks: None,
        }
    }

    #[test]
    fn young_posts_are_read_more_often_and_old_ones_never() {
        let published = at("2027-05-04T10:00:00Z");
        let now = |hours: i64| published + Duration::hours(hours);
        assert!(is_due(published, None, now(0)), "never read");
        assert!(!is_due(
            published,
            Some(now(2)),
            now(2) + Duration::minutes(30)
        ));
        assert!(is_due(published, Some(now(2)), now(3)));
        assert!(
            is_due(published, Some(now(2)), now(3) - Duration::seconds(20)),
            "a round a little early"
        );
        assert!(
            !is_due(published, Some(now(30)), now(33)),
            "six hours after a day"
        );
        assert!(is_due(published, Some(now(30)), now(36)));
        assert!(
            !is_due(published, Some(now(200)), now(220)),
            "daily after a week"
        );
        assert!(is_due(published, Some(now(200)), now(224)));
        assert!(!is_due(published, None, now(30 * 24)), "thirty days old");
        assert!(!is_due(published, Some(now(0)), now(40 * 24)));
    }

    #[test]
    fn a_wait_the_platform_named_is_kept_and_refusals_rest_longer() {
        let now = at("2027-05-04T10:00:00Z");
        let limited = PlatformError::Retryable {
            wait: Some(StdDuration::from_secs(900)),
            maybe_done: false,
            detail: "X's rate limit was reached".into(),
        };
        assert_eq!(
            pause_after(&limited, now),
            (
                now + Duration::minutes(15),
                String::from("X's rate limit was reached")
            )
        );
        let revoked = PlatformError::Reauth {
            detail: "no longer accepted".into(),
        };
        assert_eq!(pause_after(&revoked, now).0, now + REAUTH_PAUSE);
        assert_eq!(
            pause_after(&PlatformError::permanent("x".repeat(500)), now)
                .1
                .len(),
            REASON_CHARS
        );
    }

    #[test]
    fn the_range_is_days_in_the_owners_zone() {
        // 23:30 UTC is already the next day in Paris.
        let period = Period::ending(at("2027-05-04T23:30:00Z"), &paris(), 7);
        assert_eq!(period.last_day, "2027-05-05".parse::<NaiveDate>().unwrap());
        assert_eq!(period.first_day, "2027-04-29".parse::<NaiveDate>().unwrap());
        assert_eq!(period.start(), at("2027-04-28T22:00:00Z"));
        let utc = Period::ending(at("2027-05-04T23:30:00Z"), &TimeZoneName::utc(), 1);
        assert_eq!(utc.first_day, utc.last_day);
    }

    #[test]
    fn the_overview_sums_latest_readings_by_platform_day_and_hour() {
        let period = Period::ending(at("2027-05-06T12:00:00Z"), &paris(), 7);
        // Tuesday 4 May, 09:15 and 09:45 in Paris; Wednesday 5 May, 18:00 in Paris.
        let early = post(
            Platform::X,
            at("2027-05-04T07:15:00Z"),
            "Blue mugs are back",
        );
        let second = post(Platform::X, at("2027-05-04T07:45:00Z"), "Green mugs too");
        let pin = post(
            Platform::Pinterest,
            at("2027-05-05T16:00:00Z"),
            "Mugs board",
        );
        let unread = post(Platform::X, at("2027-05-05T16:30:00Z"), "Not read yet");
        let latest = [
            reading(&early, 10, Some(500)),
            reading(&second, 4, Some(300)),
            MetricSnapshot {
                impressions: None,
                likes: None,
                replies: None,
                reposts: Some(7),
                ..reading(&pin, 0, None)
            },
        ];
        let overview = summarize(
            &period,
            &[early.clone(), second.clone(), pin.clone(), unread],
            &latest,
        );
        assert_eq!(overview.totals.len(), 2);
        let x = &overview.totals[0];
        assert_eq!(x.platform, Platform::X);
        assert_eq!(x.totals.posts, 2);
        assert_eq!(x.totals.impressions, Some(800));
        assert_eq!(x.totals.likes, Some(14));
        assert_eq!(x.totals.engagement, 16);
        assert_eq!(x.totals.reposts, None);
        let pinterest = &overview.totals[1].totals;
        assert_eq!(pinterest.likes, None);
        assert_eq!(pinterest.engagement, 7);
        let tuesday = overview.cell(1, 9).unwrap();
        assert_eq!(tuesday.posts, 2);
        assert_eq!(tuesday.average_engagement, Some(8.0));
        assert_eq!(overview.cell(2, 18).unwrap().posts, 1);
        assert_eq!(overview.cell(0, 9).unwrap().average_engagement, None);
        assert_eq!(overview.heat_map.len(), 168);
        let x_days = &overview.series[0].days;
        assert_eq!(x_days.len(), 7);
        let may_4 = x_days
            .iter()
            .find(|point| point.day.to_string() == "2027-05-04")
            .unwrap();
        assert_eq!(may_4.totals.engagement, 16);
        assert_eq!(overview.best_posts[0].target_id, early.target_id);
        assert_eq!(overview.best_posts[0].engagement, 11);
        assert_eq!(
            overview.best_posts.len(),
            3,
            "the unread post is not ranked"
        );
        assert_eq!(overview.grand_total().engagement, 23);
    }

    #[test]
    fn an_excerpt_is_one_line_cut_at_a_word() {
        assert_eq!(excerpt("Blue\nmugs   today"), "Blue mugs today");
        let long = "mug ".repeat(60);
        let cut = excerpt(&long);
        assert!(cut.ends_with("mug…"), "{cut}");
        assert!(cut.chars().count() <= EXCERPT_CHARS + 1);
        let unbroken = "m".repeat(200);
        assert_eq!(excerpt(&unbroken).chars().count(), EXCERPT_CHARS + 1);
    }

    proptest! {
        #[test]
        fn every_read_post_is_in_one_cell_and_the_cells_add_up(
            posts in proptest::collection::vec((0i64..(14 * 24 * 60), 0i64..500), 0..40),
        ) {
            let period = Period::ending(at("2027-05-20T12:00:00Z"), &paris(), 14);
            let start = period.start();
            let published: Vec<PublishedTarget> = posts
                .iter()
                .map(|(minutes, _)| post(Platform::X, start + Duration::minutes(*minutes), "p"))
                .collect();
            let latest: Vec<MetricSnapshot> = published
                .iter()
                .zip(&posts)
                .map(|(post, (_, likes))| reading(post, *likes, None))
                .collect();
            let overview = summarize(&period, &published, &latest);
            let counted: u32 = overview.heat_map.iter().map(|cell| cell.posts).sum();
            prop_assert_eq!(counted as usize, posts.len());
            let engagement: f64 = overview
                .heat_map
                .iter()
                .filter_map(|cell| Some(cell.average_engagement? * f64::from(cell.posts)))
                .sum();
            let total = overview.grand_total().engagement;
            prop_assert!((engagement - total as f64).abs() < 1e-6);
            let by_day: i64 = overview
                .series
                .iter()
                .flat_map(|series| &series.days)
                .map(|point| point.totals.engagement)
                .sum();
            prop_assert_eq!(by_day, total);
        }
    }
}
