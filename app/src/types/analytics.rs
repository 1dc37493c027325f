//! Product analytics on the wire: a batch of named events the app reports
//! (`POST /api/analytics/track`) and a person's counts per event and day
//! (`GET /api/analytics/summary`). Which names and properties exist is decided by the server's
//! closed list (`server/src/analytics/events.rs`), so these types carry names as strings: an
//! unknown one is refused there with the index of the event, not lost in a decoding error.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{CalendarSpan, Platform, Store};

/// The most events one `POST /api/analytics/track` may carry.
pub const MAX_TRACKED_EVENTS: usize = 50;
/// The longest summary, in days (a leap year, both ends included).
pub const MAX_SUMMARY_DAYS: u32 = 366;
/// The days a summary covers when the request does not say, ending today.
pub const DEFAULT_SUMMARY_DAYS: u32 = 30;

/// `POST /api/analytics/track`: 1 to [`MAX_TRACKED_EVENTS`] events, stored all or none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TrackBatch {
    pub events: Vec<TrackedEvent>,
}

/// One event as the app reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TrackedEvent {
    /// A name from the server's list, e.g. `page_viewed`.
    pub name: String,
    /// The event's own properties, e.g. `{"page": "calendar"}`: each a name from a short list, a
    /// bounded whole number or a boolean. Any may be left out; others are refused.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// When it happened: at most 24 hours ago and 5 minutes ahead. Now when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

/// The answer to a batch that was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TrackAccepted {
    pub accepted: u32,
}

/// `GET /api/analytics/summary?from=&to=`: days in the person's time zone, both included.
/// Without `to`, today; without `from`, [`DEFAULT_SUMMARY_DAYS`] days ending at `to`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SummaryQuery {
    #[serde(default)]
    pub from: Option<NaiveDate>,
    #[serde(default)]
    pub to: Option<NaiveDate>,
}

/// The person's events counted per name and day over `from..=to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AnalyticsSummary {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Events recorded at least once in the range, by name.
    pub events: Vec<EventSummary>,
}

/// One event's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EventSummary {
    pub name: String,
    /// The sum of `days`.
    pub total: u64,
    /// Days with at least one, oldest first.
    pub days: Vec<DayCount>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DayCount {
    pub day: NaiveDate,
    pub count: u64,
}

/// Who wrote a caption, as `caption_generated` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptionProvider {
    Gemini,
    /// Any server that speaks OpenAI's chat API (Ollama, llama.cpp, vLLM).
    OpenAiCompatible,
    /// The built-in writer that needs no key and no network.
    Builtin,
}

impl CaptionProvider {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gemini => "gemini",
            Self::OpenAiCompatible => "openai_compatible",
            Self::Builtin => "builtin",
        }
    }
}

/// A pass the AI Studio makes over a caption, as `caption_refined` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefinePass {
    /// The Human Authenticity Engine.
    Authenticity,
    /// An emoji put in from the suggestions or the picker.
    Emoji,
    /// A proofreader's fix taken.
    Proofread,
}

impl RefinePass {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authenticity => "authenticity",
            Self::Emoji => "emoji",
            Self::Proofread => "proofread",
        }
    }
}

/// An event the app reports about itself, typed so that what it sends always fits the server's
/// list: the server records most where the action lands, the browser the few only it sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEvent {
    /// A signed-in page drawn; `page` is one of the server's page names (`calendar`, `post`).
    PageViewed {
        page: &'static str,
    },
    /// A new post stored, as a draft or for publishing.
    PostComposed {
        platforms: usize,
        scheduled: bool,
        media: usize,
    },
    /// Captions asked of a writer (once per request, however many accounts it covers).
    CaptionGenerated {
        provider: CaptionProvider,
        images: usize,
    },
    CaptionRefined {
        pass: RefinePass,
    },
    /// A template filled in to start a post or a Studio session.
    TemplateUsed {
        with_product: bool,
    },
    /// A post moved on the calendar, by dragging it or with the keyboard.
    CalendarRescheduled {
        view: CalendarSpan,
        keyboard: bool,
    },
    /// A file became media: through the server, or straight to the bucket and confirmed.
    MediaUploaded {
        video: bool,
        direct: bool,
    },
    AccountConnected {
        platform: Platform,
    },
    StoreConnected {
        store: Store,
    },
}

impl AppEvent {
    /// The event as `POST /api/analytics/track` takes it, happening now.
    pub fn tracked(self) -> TrackedEvent {
        use serde_json::json;
        let (name, properties) = match self {
            Self::PageViewed { page } => ("page_viewed", json!({ "page": page })),
            Self::PostComposed {
                platforms,
                scheduled,
                media,
            } => (
                "post_composed",
                // A draft has no accounts yet; the list counts from one, so it is left out.
                if platforms == 0 {
                    json!({ "scheduled": scheduled, "media": media })
                } else {
                    json!({ "platforms": platforms, "scheduled": scheduled, "media": media })
                },
            ),
            Self::CaptionGenerated { provider, images } => (
                "caption_generated",
                json!({ "provider": provider.as_str(), "images": images }),
            ),
            Self::CaptionRefined { pass } => ("caption_refined", json!({ "pass": pass.as_str() })),
            Self::TemplateUsed { with_product } => {
                ("template_used", json!({ "with_product": with_product }))
            }
            Self::CalendarRescheduled { view, keyboard } => (
                "calendar_rescheduled",
                json!({
                    "view": view.as_str(),
                    "input": if keyboard { "keyboard" } else { "drag" },
                }),
            ),
            Self::MediaUploaded { video, direct } => (
                "media_uploaded",
                json!({ "kind": if video { "video" } else { "image" }, "direct": direct }),
            ),
            Self::AccountConnected { platform } => (
                "account_connected",
                json!({ "platform": platform.as_str() }),
            ),
            Self::StoreConnected { store } => {
                ("store_connected", json!({ "store": store.as_str() }))
            }
        };
        let serde_json::Value::Object(properties) = properties else {
            unreachable!("every arm builds an object")
        };
        TrackedEvent {
            name: name.to_owned(),
            properties,
            at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_without_properties_or_time_decodes() {
        let batch: TrackBatch =
            serde_json::from_str(r#"{"events":[{"name":"page_viewed"}]}"#).unwrap();
        assert_eq!(batch.events[0].name, "page_viewed");
        assert!(batch.events[0].properties.is_empty());
        assert_eq!(batch.events[0].at, None);
    }

    #[test]
    fn fields_beyond_the_contract_are_refused() {
        let stray = r#"{"events":[{"name":"page_viewed","email":"ana@example.com"}]}"#;
        assert!(serde_json::from_str::<TrackBatch>(stray).is_err());
    }

    #[test]
    fn days_travel_as_iso_dates() {
        let summary = AnalyticsSummary {
            from: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            events: vec![EventSummary {
                name: "page_viewed".into(),
                total: 3,
                days: vec![DayCount {
                    day: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
                    count: 3,
                }],
            }],
        };
        assert_eq!(
            serde_json::to_value(&summary).unwrap(),
            serde_json::json!({
                "from": "2026-11-01",
                "to": "2026-11-30",
                "events": [{
                    "name": "page_viewed",
                    "total": 3,
                    "days": [{"day": "2026-11-27", "count": 3}]
                }]
            })
        );
    }
}
