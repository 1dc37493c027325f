//! The product events Picscripterai records, in one closed list ([`CATALOGUE`]), and
//! [`ProductEvents`], which checks a reported batch against it, stores it, and counts a
//! person's events per day.
//!
//! The list is closed, and so is every property: a value is a name from a short list, a
//! bounded whole number or a boolean. There is no free text, so nothing personal (a name, an
//! email, a caption) can be sent in a property and end up stored; an unknown event or property
//! is refused, not dropped, so a mistake in the app shows up at once.
//!
//! A batch is stored whole or not at all: the first wrong event refuses it, naming the event's
//! index. An event is counted under the day it happened in the person's time zone, and may be
//! reported up to [`MAX_AGE`] late (an app that was offline sends its queue) and
//! [`MAX_AHEAD`] early (a device clock a little fast); anything further off is a wrong clock or
//! a replay, and would put counts on days they do not belong to.
//!
//! Adding an event: one entry in [`CATALOGUE`]. Never add a property kind that carries text.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::DatabaseConnection;
use serde_json::{Map, Value};

use app::services::ProductEventLog;
use app::types::{
    AnalyticsSummary, ApiError, AppEvent, DEFAULT_SUMMARY_DAYS, DayCount, EventSummary,
    MAX_SUMMARY_DAYS, MAX_TRACKED_EVENTS, SummaryQuery, TrackAccepted, TrackBatch, TrackedEvent,
    User, UserId,
};

use crate::clock::SharedClock;
use crate::db::analytics_events::{self, DayTally, NewEvent};
use crate::db::users;
use crate::error::Error;

/// How long after it happened an event may still be reported.
pub const MAX_AGE: Duration = Duration::hours(24);
/// How far ahead of the server's clock an event's time may be.
pub const MAX_AHEAD: Duration = Duration::minutes(5);
/// The longest event name or property key echoed back in a refusal.
const ECHO_CHARS: usize = 64;

/// What a property's value may be. Deliberately no text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyKind {
    /// One of these names.
    OneOf(&'static [&'static str]),
    /// A whole number from `min` to `max`, both included.
    Count { min: i64, max: i64 },
    /// `true` or `false`.
    Flag,
}

impl PropertyKind {
    /// The value, if it is of this kind.
    fn check(self, value: &Value) -> Option<PropertyValue> {
        match (self, value) {
            (Self::OneOf(choices), Value::String(given)) => choices
                .iter()
                .copied()
                .find(|choice| *choice == given.as_str())
                .map(PropertyValue::Choice),
            (Self::Count { min, max }, Value::Number(number)) => number
                .as_i64()
                .filter(|count| (min..=max).contains(count))
                .map(PropertyValue::Count),
            (Self::Flag, Value::Bool(flag)) => Some(PropertyValue::Flag(*flag)),
            _ => None,
        }
    }
}

impl fmt::Display for PropertyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OneOf(choices) => write!(f, "one of {}", choices.join(", ")),
            Self::Count { min, max } => write!(f, "a whole number from {min} to {max}"),
            Self::Flag => f.write_str("true or false"),
        }
    }
}

/// A property value that passed its kind; the choice is the catalogue's own string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyValue {
    Choice(&'static str),
    Count(i64),
    Flag(bool),
}

impl PropertyValue {
    fn to_json(self) -> Value {
        match self {
            Self::Choice(choice) => Value::from(choice),
            Self::Count(count) => Value::from(count),
            Self::Flag(flag) => Value::from(flag),
        }
    }
}

/// One event the app may record and the properties it takes.
#[derive(Debug, PartialEq, Eq)]
pub struct EventSpec {
    pub name: &'static str,
    pub properties: &'static [(&'static str, PropertyKind)],
}

impl EventSpec {
    pub fn find(name: &str) -> Option<&'static EventSpec> {
        CATALOGUE.iter().find(|spec| spec.name == name)
    }

    fn property(&self, key: &str) -> Option<(&'static str, PropertyKind)> {
        self.properties
            .iter()
            .copied()
            .find(|(known, _)| *known == key)
    }
}

/// The app's pages, as `page_viewed` names them.
const PAGES: &[&str] = &[
    "studio",
    "compose",
    "calendar",
    "posts",
    "post",
    "products",
    "connections",
    "settings",
    "analytics",
    "media",
    "templates",
];
/// `app::types::Platform`'s wire names (a test keeps them equal).
const PLATFORMS: &[&str] = &[
    "instagram",
    "facebook",
    "tiktok",
    "x",
    "linkedin",
    "pinterest",
    "youtube",
];
/// `app::types::Store`'s wire names (a test keeps them equal).
const STORES: &[&str] = &["shopify", "etsy", "squarespace"];
/// Who wrote a caption: a Gemini model, an OpenAI-compatible server, or the built-in writer.
const CAPTION_PROVIDERS: &[&str] = &["gemini", "openai_compatible", "builtin"];
/// The AI Studio's passes over a caption.
const REFINE_PASSES: &[&str] = &["authenticity", "emoji", "proofread"];
/// The most images or media files a post or a caption may use, with room to spare.
const MEDIA: PropertyKind = PropertyKind::Count { min: 0, max: 20 };

/// Every event the app may record.
pub const CATALOGUE: &[EventSpec] = &[
    EventSpec {
        name: "page_viewed",
        properties: &[("page", PropertyKind::OneOf(PAGES))],
    },
    EventSpec {
        name: "post_composed",
        properties: &[
            ("platforms", PropertyKind::Count { min: 1, max: 10 }),
            ("scheduled", PropertyKind::Flag),
            ("media", MEDIA),
        ],
    },
    EventSpec {
        name: "caption_generated",
        properties: &[
            ("provider", PropertyKind::OneOf(CAPTION_PROVIDERS)),
            ("images", MEDIA),
        ],
    },
    EventSpec {
        name: "caption_refined",
        properties: &[("pass", PropertyKind::OneOf(REFINE_PASSES))],
    },
    EventSpec {
        name: "template_used",
        properties: &[("with_product", PropertyKind::Flag)],
    },
    EventSpec {
        name: "calendar_rescheduled",
        properties: &[
            ("view", PropertyKind::OneOf(&["month", "week"])),
            ("input", PropertyKind::OneOf(&["drag", "keyboard"])),
        ],
    },
    EventSpec {
        name: "media_uploaded",
        properties: &[
            ("kind", PropertyKind::OneOf(&["image", "video"])),
            ("direct", PropertyKind::Flag),
        ],
    },
    EventSpec {
        name: "account_connected",
        properties: &[("platform", PropertyKind::OneOf(PLATFORMS))],
    },
    EventSpec {
        name: "store_connected",
        properties: &[("store", PropertyKind::OneOf(STORES))],
    },
];

/// An event that passed [`check`]: a catalogue event, its checked properties, and when it
/// happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedEvent {
    spec: &'static EventSpec,
    properties: BTreeMap<&'static str, PropertyValue>,
    at: DateTime<Utc>,
}

impl CheckedEvent {
    pub fn name(&self) -> &'static str {
        self.spec.name
    }

    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// The properties as the JSON object that is stored.
    pub fn properties_json(&self) -> String {
        let object: Map<String, Value> = self
            .properties
            .iter()
            .map(|(key, value)| ((*key).to_owned(), value.to_json()))
            .collect();
        Value::Object(object).to_string()
    }
}

/// Why one event was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventRefusal {
    UnknownEvent {
        name: String,
    },
    UnknownProperty {
        spec: &'static EventSpec,
        key: String,
    },
    WrongKind {
        spec: &'static EventSpec,
        key: &'static str,
        kind: PropertyKind,
    },
    TooOld,
    TooFarAhead,
}

impl EventRefusal {
    /// The part of the event that is wrong, as a path inside it.
    fn field(&self) -> String {
        match self {
            Self::UnknownEvent { .. } => "name".to_owned(),
            Self::UnknownProperty { key, .. } => format!("properties.{key}"),
            Self::WrongKind { key, .. } => format!("properties.{key}"),
            Self::TooOld | Self::TooFarAhead => "at".to_owned(),
        }
    }

    /// The refusal of a whole batch because of its `index`-th event (from 0).
    pub fn at_index(&self, index: usize) -> ApiError {
        ApiError::validation(
            &format!("events[{index}].{}", self.field()),
            format!("events[{index}]: {self}."),
        )
    }
}

impl fmt::Display for EventRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownEvent { name } => {
                write!(
                    f,
                    "\u{201c}{name}\u{201d} is not an event Picscripterai records"
                )
            }
            Self::UnknownProperty { spec, key } => {
                let known: Vec<&str> = spec.properties.iter().map(|(known, _)| *known).collect();
                write!(
                    f,
                    "`{}` has no property \u{201c}{key}\u{201d} (it takes {})",
                    spec.name,
                    known.join(", ")
                )
            }
            Self::WrongKind { spec, key, kind } => {
                write!(f, "`{key}` of `{}` must be {kind}", spec.name)
            }
            Self::TooOld => write!(
                f,
                "`at` is more than {} hours ago, too late to record",
                MAX_AGE.num_hours()
            ),
            Self::TooFarAhead => write!(
                f,
                "`at` is more than {} minutes in the future; is the device's clock right?",
                MAX_AHEAD.num_minutes()
            ),
        }
    }
}

impl std::error::Error for EventRefusal {}

/// `raw` as it may be echoed in a refusal: a bounded number of characters.
fn echoed(raw: &str) -> String {
    if raw.chars().count() <= ECHO_CHARS {
        raw.to_owned()
    } else {
        let mut shortened: String = raw.chars().take(ECHO_CHARS).collect();
        shortened.push('\u{2026}');
        shortened
    }
}

/// Checks one reported event against the catalogue; `now` is the server's time, which an
/// event without `at` happened at.
pub fn check(event: &TrackedEvent, now: DateTime<Utc>) -> Result<CheckedEvent, EventRefusal> {
    let spec = EventSpec::find(&event.name).ok_or_else(|| EventRefusal::UnknownEvent {
        name: echoed(&event.name),
    })?;
    let mut properties = BTreeMap::new();
    for (given, value) in &event.properties {
        let (key, kind) = spec
            .property(given)
            .ok_or_else(|| EventRefusal::UnknownProperty {
                spec,
                key: echoed(given),
            })?;
        let value = kind
            .check(value)
            .ok_or(EventRefusal::WrongKind { spec, key, kind })?;
        properties.insert(key, value);
    }
    let at = event.at.unwrap_or(now);
    if at < now - MAX_AGE {
        return Err(EventRefusal::TooOld);
    }
    if at > now + MAX_AHEAD {
        return Err(EventRefusal::TooFarAhead);
    }
    Ok(CheckedEvent {
        spec,
        properties,
        at,
    })
}

/// Checks every event of a batch: all of them, or the refusal of the first wrong one.
pub fn check_batch(
    events: &[TrackedEvent],
    now: DateTime<Utc>,
) -> Result<Vec<CheckedEvent>, ApiError> {
    if events.is_empty() || events.len() > MAX_TRACKED_EVENTS {
        return Err(ApiError::validation(
            "events",
            format!(
                "Send 1 to {MAX_TRACKED_EVENTS} events at a time, not {}.",
                events.len()
            ),
        ));
    }
    events
        .iter()
        .enumerate()
        .map(|(index, event)| check(event, now).map_err(|refusal| refusal.at_index(index)))
        .collect()
}

/// The day `at` falls on in `zone`.
pub fn day_in(at: DateTime<Utc>, zone: Tz) -> NaiveDate {
    at.with_timezone(&zone).date_naive()
}

/// The days a summary covers, both included: `from <= to`, at most [`MAX_SUMMARY_DAYS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    from: NaiveDate,
    to: NaiveDate,
}

impl DayRange {
    /// The range asked for, with the defaults filled in from `today` (the person's today).
    pub fn resolve(asked: SummaryQuery, today: NaiveDate) -> Result<Self, ApiError> {
        let to = asked.to.unwrap_or(today);
        let from = match asked.from {
            Some(from) => from,
            // Only a `to` near the first date chrono knows has no 29 days before it.
            None => to
                .checked_sub_signed(Duration::days(i64::from(DEFAULT_SUMMARY_DAYS) - 1))
                .unwrap_or(NaiveDate::MIN),
        };
        if from > to {
            return Err(ApiError::validation(
                "from",
                format!("The range starts on {from}, after its end on {to}."),
            ));
        }
        let days = to.signed_duration_since(from).num_days() + 1;
        if days > i64::from(MAX_SUMMARY_DAYS) {
            return Err(ApiError::validation(
                "to",
                format!(
                    "A summary covers at most {MAX_SUMMARY_DAYS} days; {from} to {to} is {days}."
                ),
            ));
        }
        Ok(Self { from, to })
    }

    pub fn first(&self) -> NaiveDate {
        self.from
    }

    pub fn last(&self) -> NaiveDate {
        self.to
    }
}

/// The tallies as the summary shows them: events by name (byte order, the same on every
/// database), each with its total and its days oldest first.
fn summarize(range: DayRange, tallies: Vec<DayTally>) -> AnalyticsSummary {
    let mut by_name: BTreeMap<String, EventSummary> = BTreeMap::new();
    for DayTally { name, day, count } in tallies {
        let event = by_name.entry(name).or_insert_with_key(|name| EventSummary {
            name: name.clone(),
            total: 0,
            days: Vec::new(),
        });
        event.total += count;
        event.days.push(DayCount { day, count });
    }
    let events = by_name
        .into_values()
        .map(|mut event| {
            event.days.sort_by_key(|day| day.day);
            event
        })
        .collect();
    AnalyticsSummary {
        from: range.from,
        to: range.to,
        events,
    }
}

/// Records a person's product events and counts them.
pub struct ProductEvents {
    db: DatabaseConnection,
    clock: SharedClock,
}

impl ProductEvents {
    pub fn new(db: DatabaseConnection, clock: SharedClock) -> Self {
        Self { db, clock }
    }

    /// Checks every event of `batch` and stores them all, each under the day it happened in
    /// `owner`'s time zone. One wrong event (or a batch of none, or of more than
    /// [`MAX_TRACKED_EVENTS`]) refuses the batch with a validation error naming it, and
    /// nothing is stored.
    #[tracing::instrument(skip_all, fields(user_id = %owner.id.0, events = batch.events.len()))]
    pub async fn track(&self, owner: &User, batch: &TrackBatch) -> Result<TrackAccepted, Error> {
        let checked = check_batch(&batch.events, self.clock.now())?;
        let zone = owner.time_zone.tz();
        let rows = checked
            .iter()
            .map(|event| NewEvent {
                name: event.name(),
                day: day_in(event.at(), zone),
                occurred_at: event.at(),
                properties: event.properties_json(),
            })
            .collect();
        analytics_events::insert(&self.db, owner.id, rows).await?;
        Ok(TrackAccepted {
            accepted: u32::try_from(checked.len()).unwrap_or(u32::MAX),
        })
    }

    /// `owner`'s events counted per name and day over the days asked for (by default the last
    /// [`DEFAULT_SUMMARY_DAYS`] days up to today, in their time zone).
    #[tracing::instrument(skip_all, fields(user_id = %owner.id.0))]
    pub async fn summary(
        &self,
        owner: &User,
        asked: SummaryQuery,
    ) -> Result<AnalyticsSummary, Error> {
        let today = day_in(self.clock.now(), owner.time_zone.tz());
        let range = DayRange::resolve(asked, today)?;
        let tallies =
            analytics_events::tally_by_day(&self.db, owner.id, range.from, range.to).await?;
        Ok(summarize(range, tallies))
    }

    /// [`ProductEventLog::record`] for a person known by id (an OAuth callback, an upload):
    /// their time zone decides the day.
    pub async fn record_for(&self, owner: UserId, event: AppEvent) {
        match users::find(&self.db, owner).await {
            Ok(Some(user)) => self.record(&user, event).await,
            // Deleted between the action and its count: nothing to count it for.
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%error, user_id = %owner.0, "could not record a product event");
            }
        }
    }
}

#[async_trait]
impl ProductEventLog for ProductEvents {
    async fn record(&self, owner: &User, event: AppEvent) {
        let batch = TrackBatch {
            events: vec![event.tracked()],
        };
        if let Err(error) = self.track(owner, &batch).await {
            // A refusal here is a mismatch between `AppEvent` and the catalogue, which the
            // tests below rule out; a database failure costs one count, not the action.
            tracing::warn!(%error, event = %batch.events[0].name, user_id = %owner.id.0,
                "could not record a product event");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::types::{Platform, Store};
    use chrono::TimeZone as _;
    use proptest::prelude::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, 23, 30, 0).unwrap()
    }

    fn event(name: &str, properties: Value, at: Option<DateTime<Utc>>) -> TrackedEvent {
        let Value::Object(properties) = properties else {
            panic!("properties are a JSON object");
        };
        TrackedEvent {
            name: name.to_owned(),
            properties,
            at,
        }
    }

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    #[test]
    fn event_names_and_keys_are_unique_short_snake_case() {
        let snake = |name: &str| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        let mut names = std::collections::BTreeSet::new();
        for spec in CATALOGUE {
            assert!(snake(spec.name), "{}", spec.name);
            // The column is 64 characters wide.
            assert!(spec.name.len() <= 64, "{}", spec.name);
            assert!(names.insert(spec.name), "{} twice", spec.name);
            let mut keys = std::collections::BTreeSet::new();
            for (key, _) in spec.properties {
                assert!(snake(key), "{}.{key}", spec.name);
                assert!(keys.insert(*key), "{}.{key} twice", spec.name);
            }
        }
    }

    /// Every event the app reports about itself, with each choice its properties can take.
    fn every_app_event() -> Vec<AppEvent> {
        use app::types::{CalendarSpan, CaptionProvider, RefinePass};
        let mut events: Vec<AppEvent> = PAGES
            .iter()
            .map(|page| AppEvent::PageViewed { page })
            .collect();
        for platforms in [0, 1, 7] {
            for scheduled in [false, true] {
                events.push(AppEvent::PostComposed {
                    platforms,
                    scheduled,
                    media: 20,
                });
            }
        }
        for provider in [
            CaptionProvider::Gemini,
            CaptionProvider::OpenAiCompatible,
            CaptionProvider::Builtin,
        ] {
            events.push(AppEvent::CaptionGenerated {
                provider,
                images: 10,
            });
        }
        for pass in [
            RefinePass::Authenticity,
            RefinePass::Emoji,
            RefinePass::Proofread,
        ] {
            events.push(AppEvent::CaptionRefined { pass });
        }
        for flag in [false, true] {
            events.push(AppEvent::TemplateUsed { with_product: flag });
            events.push(AppEvent::MediaUploaded {
                video: flag,
                direct: !flag,
            });
            for view in [CalendarSpan::Month, CalendarSpan::Week] {
                events.push(AppEvent::CalendarRescheduled {
                    view,
                    keyboard: flag,
                });
            }
        }
        events.extend(Platform::ALL.map(|platform| AppEvent::AccountConnected { platform }));
        events.extend(Store::ALL.map(|store| AppEvent::StoreConnected { store }));
        events
    }

    #[test]
    fn every_event_the_app_reports_fits_the_catalogue() {
        let events = every_app_event();
        for event in &events {
            let tracked = event.tracked();
            let checked = check(&tracked, now()).unwrap_or_else(|refusal| {
                panic!("{event:?}: {refusal}");
            });
            // Nothing the app sends is dropped on the way in.
            assert_eq!(
                checked.properties.len(),
                tracked.properties.len(),
                "{event:?}"
            );
        }
        // And every catalogue event is one the app reports.
        for spec in CATALOGUE {
            assert!(
                events.iter().any(|event| event.tracked().name == spec.name),
                "{} is never reported",
                spec.name
            );
        }
    }

    #[test]
    fn platform_and_store_choices_are_the_apps_own_names() {
        assert_eq!(PLATFORMS, Platform::ALL.map(Platform::as_str).as_slice());
        assert_eq!(STORES, Store::ALL.map(Store::as_str).as_slice());
    }

    #[test]
    fn a_known_event_with_good_properties_passes_and_keeps_only_them() {
        let checked = check(
            &event(
                "post_composed",
                json!({"platforms": 3, "scheduled": true, "media": 0}),
                Some(now() - Duration::hours(2)),
            ),
            now(),
        )
        .unwrap();
        assert_eq!(checked.name(), "post_composed");
        assert_eq!(checked.at(), now() - Duration::hours(2));
        let stored: Value = serde_json::from_str(&checked.properties_json()).unwrap();
        assert_eq!(
            stored,
            json!({"platforms": 3, "scheduled": true, "media": 0})
        );
    }

    #[test]
    fn properties_may_be_left_out_and_time_defaults_to_now() {
        let checked = check(&event("page_viewed", json!({}), None), now()).unwrap();
        assert_eq!(checked.at(), now());
        assert_eq!(checked.properties_json(), "{}");
    }

    #[test]
    fn an_event_not_in_the_catalogue_is_refused() {
        assert_eq!(
            check(&event("signed_up", json!({}), None), now()),
            Err(EventRefusal::UnknownEvent {
                name: "signed_up".into()
            })
        );
    }

    #[test]
    fn an_unknown_property_is_refused_so_nothing_personal_slips_in() {
        let refusal = check(
            &event(
                "page_viewed",
                json!({"page": "posts", "email": "ana@example.com"}),
                None,
            ),
            now(),
        )
        .unwrap_err();
        let EventRefusal::UnknownProperty { spec, key } = &refusal else {
            panic!("refused as an unknown property: {refusal:?}");
        };
        assert_eq!((spec.name, key.as_str()), ("page_viewed", "email"));
        assert!(refusal.to_string().contains("it takes page"), "{refusal}");
    }

    #[test]
    fn a_property_of_the_wrong_kind_is_refused() {
        let cases = [
            ("page_viewed", json!({"page": "inbox"}), "page"),
            ("page_viewed", json!({"page": 3}), "page"),
            ("page_viewed", json!({"page": null}), "page"),
            ("post_composed", json!({"platforms": "two"}), "platforms"),
            ("post_composed", json!({"platforms": 2.5}), "platforms"),
            ("post_composed", json!({"platforms": 0}), "platforms"),
            ("post_composed", json!({"platforms": 11}), "platforms"),
            ("post_composed", json!({"scheduled": "yes"}), "scheduled"),
            ("post_composed", json!({"scheduled": 1}), "scheduled"),
            (
                "template_used",
                json!({"with_product": [true]}),
                "with_product",
            ),
            (
                "account_connected",
                json!({"platform": "Instagram"}),
                "platform",
            ),
            ("caption_generated", json!({"images": -1}), "images"),
        ];
        for (name, properties, wrong) in cases {
            let refusal = check(&event(name, properties.clone(), None), now()).unwrap_err();
            assert!(
                matches!(refusal, EventRefusal::WrongKind { key, .. } if key == wrong),
                "{name} {properties}: {refusal:?}"
            );
        }
    }

    #[test]
    fn times_a_day_late_or_minutes_ahead_are_the_limits() {
        let at = |offset: Duration| event("page_viewed", json!({}), Some(now() + offset));
        assert!(check(&at(-MAX_AGE), now()).is_ok());
        assert_eq!(
            check(&at(-MAX_AGE - Duration::seconds(1)), now()),
            Err(EventRefusal::TooOld)
        );
        assert!(check(&at(MAX_AHEAD), now()).is_ok());
        assert_eq!(
            check(&at(MAX_AHEAD + Duration::seconds(1)), now()),
            Err(EventRefusal::TooFarAhead)
        );
    }

    #[test]
    fn a_refused_batch_names_the_index_and_the_field() {
        let batch = [
            event("page_viewed", json!({"page": "studio"}), None),
            event("caption_refined", json!({"pass": "rewrite"}), None),
        ];
        let error = check_batch(&batch, now()).unwrap_err();
        assert_eq!(error.field(), Some("events[1].properties.pass"));
        let message = error.to_string();
        assert!(message.starts_with("events[1]:"), "{message}");
        assert!(
            message.contains("authenticity, emoji, proofread"),
            "{message}"
        );
    }

    #[test]
    fn a_batch_holds_one_to_fifty_events() {
        let one = || event("page_viewed", json!({}), None);
        assert_eq!(check_batch(&[], now()).unwrap_err().field(), Some("events"));
        let most: Vec<_> = (0..MAX_TRACKED_EVENTS).map(|_| one()).collect();
        assert_eq!(check_batch(&most, now()).unwrap().len(), MAX_TRACKED_EVENTS);
        let too_many: Vec<_> = (0..=MAX_TRACKED_EVENTS).map(|_| one()).collect();
        assert_eq!(
            check_batch(&too_many, now()).unwrap_err().field(),
            Some("events")
        );
    }

    #[test]
    fn a_long_unknown_name_is_echoed_shortened() {
        let long = "x".repeat(500);
        let Err(EventRefusal::UnknownEvent { name }) = check(&event(&long, json!({}), None), now())
        else {
            panic!("refused as unknown");
        };
        assert_eq!(name.chars().count(), ECHO_CHARS + 1);
    }

    #[test]
    fn the_day_is_the_persons_own() {
        // 23:30 UTC: past midnight in Berlin, early evening in New York.
        assert_eq!(day_in(now(), chrono_tz::Europe::Berlin), date(2026, 11, 28));
        assert_eq!(
            day_in(now(), chrono_tz::America::New_York),
            date(2026, 11, 27)
        );
        assert_eq!(day_in(now(), Tz::UTC), date(2026, 11, 27));
        assert_eq!(
            day_in(now(), chrono_tz::Pacific::Kiritimati),
            date(2026, 11, 28)
        );
    }

    #[test]
    fn a_summary_defaults_to_thirty_days_ending_today() {
        let range = DayRange::resolve(SummaryQuery::default(), date(2026, 11, 28)).unwrap();
        assert_eq!(
            (range.first(), range.last()),
            (date(2026, 10, 30), date(2026, 11, 28))
        );
        let ending = SummaryQuery {
            from: None,
            to: Some(date(2026, 3, 1)),
        };
        let range = DayRange::resolve(ending, date(2026, 11, 28)).unwrap();
        assert_eq!(
            (range.first(), range.last()),
            (date(2026, 1, 31), date(2026, 3, 1))
        );
    }

    #[test]
    fn a_summary_range_runs_forwards_over_at_most_366_days() {
        let today = date(2026, 11, 28);
        let asked = |from, to| SummaryQuery {
            from: Some(from),
            to: Some(to),
        };
        let one_day = DayRange::resolve(asked(today, today), today).unwrap();
        assert_eq!((one_day.first(), one_day.last()), (today, today));
        assert_eq!(
            DayRange::resolve(asked(date(2026, 11, 2), date(2026, 11, 1)), today)
                .unwrap_err()
                .field(),
            Some("from")
        );
        assert!(DayRange::resolve(asked(date(2025, 11, 28), date(2026, 11, 28)), today).is_ok());
        assert_eq!(
            DayRange::resolve(asked(date(2025, 11, 27), date(2026, 11, 28)), today)
                .unwrap_err()
                .field(),
            Some("to")
        );
    }

    #[test]
    fn tallies_are_summed_by_name_with_days_in_order() {
        let range = DayRange {
            from: date(2026, 11, 1),
            to: date(2026, 11, 30),
        };
        let tally = |name: &str, day, count| DayTally {
            name: name.to_owned(),
            day,
            count,
        };
        let summary = summarize(
            range,
            vec![
                tally("post_composed", date(2026, 11, 3), 1),
                tally("page_viewed", date(2026, 11, 27), 2),
                tally("page_viewed", date(2026, 11, 2), 5),
                tally("caption_refined", date(2026, 11, 27), 1),
            ],
        );
        assert_eq!((summary.from, summary.to), (range.from, range.to));
        let names: Vec<&str> = summary.events.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["caption_refined", "page_viewed", "post_composed"]);
        let viewed = &summary.events[1];
        assert_eq!(viewed.total, 7);
        assert_eq!(
            viewed.days,
            [
                DayCount {
                    day: date(2026, 11, 2),
                    count: 5
                },
                DayCount {
                    day: date(2026, 11, 27),
                    count: 2
                },
            ]
        );
    }

    proptest! {
        #[test]
        fn a_count_passes_exactly_within_its_bounds(platforms in -50i64..50) {
            let composed = event("post_composed", json!({"platforms": platforms}), None);
            let checked = check(&composed, now());
            prop_assert_eq!(checked.is_ok(), (1..=10).contains(&platforms));
        }

        #[test]
        fn free_text_never_passes_as_a_choice(text in "\\PC{0,40}") {
            let is_page = PAGES.contains(&text.as_str());
            let checked = check(&event("page_viewed", json!({"page": text}), None), now());
            prop_assert_eq!(checked.is_ok(), is_page);
        }
    }
}
