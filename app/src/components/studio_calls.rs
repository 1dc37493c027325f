//! The Studio's calls to `/api/studio/*` from the browser, and what it reads of their answers.
//! The browser reads only the fields it uses, into small types of its own: each type it
//! deserializes costs every visit to the page its share of the wasm. The captions arrive as
//! Server-Sent Events on a POST, which `EventSource` cannot send, so they are read from an
//! `XMLHttpRequest` as its text grows.

use serde::{Deserialize, Serialize};

use crate::components::rest::send_json;
use crate::types::{
    ApiError, CaptionRequest, CheckRequest, CheckView, ConnectionId, NewWord, ProductId,
    RefinePass, VoiceRequest, with_changes,
};

/// The authenticity pass's changes as the editor uses them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Edits {
    pub original: String,
    pub changes: Vec<Edit>,
}

/// One change: the bytes `start..end` of the original become `after`, by `rules` (their wire
/// names).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub before: String,
    pub after: String,
    pub rules: Vec<String>,
}

impl Edits {
    /// The original with the changes `kept` says yes to.
    pub fn with_only(&self, kept: &[bool]) -> String {
        with_changes(
            &self.original,
            self.changes
                .iter()
                .zip(kept)
                .filter(|(_, kept)| **kept)
                .map(|(edit, _)| (edit.start..edit.end, edit.after.as_str())),
        )
    }
}

/// What the caption stream says, read by each event's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Streamed {
    Writer(String),
    Piece(ConnectionId, String),
    Done(ConnectionId, Edits),
    Failed(ConnectionId, String),
}

#[derive(Deserialize)]
struct WriterEvent {
    name: String,
}

#[derive(Deserialize)]
struct PieceEvent {
    connection_id: ConnectionId,
    text: String,
}

#[derive(Deserialize)]
struct DoneEvent {
    connection_id: ConnectionId,
    pass: Edits,
}

#[derive(Deserialize)]
struct FailedEvent {
    connection_id: ConnectionId,
    message: String,
}

impl Streamed {
    /// The event named `name` carrying `data`; `None` for one this page does not know.
    pub fn read(name: Option<&str>, data: &str) -> Option<Self> {
        Some(match name? {
            "writer" => Self::Writer(serde_json::from_str::<WriterEvent>(data).ok()?.name),
            "piece" => {
                let piece: PieceEvent = serde_json::from_str(data).ok()?;
                Self::Piece(piece.connection_id, piece.text)
            }
            "done" => {
                let done: DoneEvent = serde_json::from_str(data).ok()?;
                Self::Done(done.connection_id, done.pass)
            }
            "failed" => {
                let failed: FailedEvent = serde_json::from_str(data).ok()?;
                Self::Failed(failed.connection_id, failed.message)
            }
            _ => return None,
        })
    }
}

#[derive(Deserialize)]
struct PassAnswer {
    pass: Edits,
}

/// The authenticity pass over `text`, by the rules of `connection`'s platform.
pub async fn voice_pass(text: String, connection: ConnectionId) -> Result<Edits, ApiError> {
    let request = VoiceRequest {
        text,
        connection_id: Some(connection),
        max_hashtags: None,
        max_length: None,
    };
    send_json::<PassAnswer>("POST", "/api/studio/voice", Some(&request))
        .await
        .map(|answer| answer.pass)
}

/// `caption_refined` as `POST /api/analytics/track` takes it, in types that cost the page less
/// than building `AppEvent::tracked`'s JSON value (a test keeps the two equal).
#[derive(Serialize)]
struct RefinedReport {
    events: [RefinedEvent; 1],
}

#[derive(Serialize)]
struct RefinedEvent {
    name: &'static str,
    properties: RefinedPass,
}

#[derive(Serialize)]
struct RefinedPass {
    pass: &'static str,
}

impl RefinedReport {
    fn of(pass: RefinePass) -> Self {
        Self {
            events: [RefinedEvent {
                name: "caption_refined",
                properties: RefinedPass {
                    pass: pass.as_str(),
                },
            }],
        }
    }
}

/// Counts a pass the person took in the editor: a proofreader's fix or an emoji, which only
/// the browser sees. A report that does not arrive costs a count and nothing else, so its
/// answer is not read.
pub async fn report_refined(pass: RefinePass) {
    let report = RefinedReport::of(pass);
    let _ = send_json::<serde::de::IgnoredAny>("POST", "/api/analytics/track", Some(&report)).await;
}

/// Length, score, proofreading and emoji for the editor, drawn.
pub async fn check_caption(
    text: String,
    connection: ConnectionId,
    product: Option<ProductId>,
) -> Result<CheckView, ApiError> {
    let request = CheckRequest {
        text,
        connection_id: Some(connection),
        product_id: product,
    };
    send_json("POST", "/api/studio/check/view", Some(&request)).await
}

/// An emoji as the picker shows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PickerEmoji {
    pub emoji: String,
    pub name: String,
}

/// The picker's emoji for what the person typed.
pub async fn search_emoji(query: String) -> Result<Vec<PickerEmoji>, ApiError> {
    let query: leptos_router::params::ParamsMap = [("q", query)].into_iter().collect();
    let path = format!("/api/studio/emoji{}", query.to_query_string());
    send_json("GET", &path, None::<&()>).await
}

/// Adds `word` to the person's own words, which the proofreader never flags.
pub async fn add_word(word: String) -> Result<(), ApiError> {
    send_json::<serde::de::IgnoredAny>("POST", "/api/studio/dictionary", Some(&NewWord { word }))
        .await
        .map(drop)
}

/// Asks for captions and hands each event to `on_event` as it arrives. Settles when the stream
/// ends; an error is a refusal of the whole request (a 422 for no accounts, say) or a lost
/// connection.
#[cfg(feature = "hydrate")]
pub async fn stream_captions(
    request: &CaptionRequest,
    on_event: impl Fn(Streamed) + 'static,
) -> Result<(), ApiError> {
    use std::cell::RefCell;
    use std::rc::Rc;

    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    use crate::components::rest::error_of;
    use crate::types::{EventStreamBuffer, StreamEvent};

    let lost = |_| error_of(0, "");
    let read = |event: StreamEvent| Streamed::read(event.name.as_deref(), &event.data);
    let body =
        serde_json::to_string(request).map_err(|error| ApiError::bad_request(error.to_string()))?;
    let xhr = web_sys::XmlHttpRequest::new().map_err(lost)?;
    xhr.open("POST", "/api/studio/captions").map_err(lost)?;
    xhr.set_request_header("Content-Type", "application/json")
        .map_err(lost)?;
    xhr.set_request_header("Accept", "text/event-stream")
        .map_err(lost)?;

    // The response text only grows: each progress event reads what was added since the last.
    let seen = Rc::new(RefCell::new((0usize, EventStreamBuffer::default())));
    let take_new = {
        let xhr = xhr.clone();
        let seen = seen.clone();
        move || -> Vec<Streamed> {
            if !(200..300).contains(&xhr.status().unwrap_or(0)) {
                return Vec::new();
            }
            let text = xhr.response_text().ok().flatten().unwrap_or_default();
            let mut seen = seen.borrow_mut();
            let (offset, buffer) = &mut *seen;
            let events = buffer.push(text.get(*offset..).unwrap_or_default().as_bytes());
            *offset = text.len();
            events.into_iter().filter_map(read).collect()
        }
    };
    let on_event = Rc::new(on_event);
    let on_progress = {
        let take_new = take_new.clone();
        let on_event = on_event.clone();
        Closure::<dyn Fn()>::new(move || take_new().into_iter().for_each(|event| on_event(event)))
    };
    xhr.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    let ended = js_sys::Promise::new(&mut |resolve, _| xhr.set_onloadend(Some(&resolve)));
    xhr.send_with_opt_str(Some(&body)).map_err(lost)?;
    let _ = wasm_bindgen_futures::JsFuture::from(ended).await;
    drop(on_progress);
    match xhr.status().unwrap_or(0) {
        status if (200..300).contains(&status) => {
            let last = seen.borrow_mut().1.finish();
            take_new()
                .into_iter()
                .chain(last.and_then(read))
                .for_each(|event| on_event(event));
            Ok(())
        }
        status => Err(error_of(
            status,
            &xhr.response_text().ok().flatten().unwrap_or_default(),
        )),
    }
}

/// Only the browser writes captions; the server renders the page without them.
#[cfg(not(feature = "hydrate"))]
pub async fn stream_captions(
    _request: &CaptionRequest,
    _on_event: impl Fn(Streamed) + 'static,
) -> Result<(), ApiError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{CaptionEvent, HumanScore, VoiceChange, VoicePass, VoiceRule};

    #[test]
    fn the_editors_report_is_the_event_the_app_defines() {
        for pass in [RefinePass::Emoji, RefinePass::Proofread] {
            let batch = crate::types::TrackBatch {
                events: vec![crate::types::AppEvent::CaptionRefined { pass }.tracked()],
            };
            assert_eq!(
                serde_json::to_value(RefinedReport::of(pass)).unwrap(),
                serde_json::to_value(batch).unwrap()
            );
        }
    }

    fn sent(event: &CaptionEvent) -> String {
        serde_json::to_string(event).unwrap()
    }

    #[test]
    fn each_event_the_server_sends_is_read_by_its_name() {
        let id = ConnectionId(uuid::Uuid::nil());
        let pass = VoicePass {
            original: "We elevate mugs!!".into(),
            text: "We make mugs!".into(),
            changes: vec![VoiceChange {
                start: 3,
                end: 10,
                before: "elevate".into(),
                after: "make".into(),
                rules: vec![VoiceRule::Buzzword],
            }],
        };
        let done = CaptionEvent::Done {
            connection_id: id,
            caption: pass.text.clone(),
            pass,
            score: HumanScore {
                score: 90,
                reasons: Vec::new(),
            },
        };
        let Some(Streamed::Done(read_id, edits)) = Streamed::read(Some("done"), &sent(&done))
        else {
            panic!("done not read");
        };
        assert_eq!(read_id, id);
        assert_eq!(edits.changes[0].rules, ["buzzword"]);
        assert_eq!(edits.with_only(&[true]), "We make mugs!!");
        assert_eq!(edits.with_only(&[false]), "We elevate mugs!!");

        let piece = CaptionEvent::Piece {
            connection_id: id,
            text: "We ".into(),
        };
        assert_eq!(
            Streamed::read(Some("piece"), &sent(&piece)),
            Some(Streamed::Piece(id, "We ".into()))
        );
        let failed = CaptionEvent::Failed {
            connection_id: id,
            message: "Blocked.".into(),
        };
        assert_eq!(
            Streamed::read(Some("failed"), &sent(&failed)),
            Some(Streamed::Failed(id, "Blocked.".into()))
        );
        let writer = CaptionEvent::Writer {
            name: "Gemini".into(),
        };
        assert_eq!(
            Streamed::read(Some("writer"), &sent(&writer)),
            Some(Streamed::Writer("Gemini".into()))
        );
        assert_eq!(Streamed::read(Some("ping"), "{}"), None);
        assert_eq!(Streamed::read(None, &sent(&writer)), None);
    }
}
