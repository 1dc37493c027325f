//! The Studio's calls to `/api/studio/*` from the browser. The captions arrive as Server-Sent
//! Events on a POST, which `EventSource` cannot send, so they are read from an
//! `XMLHttpRequest` as its text grows.

use crate::components::rest::send_json;
use crate::types::{
    ApiError, CaptionCheck, CaptionEvent, CaptionRequest, CheckRequest, ConnectionId, EmojiPick,
    NewWord, VoiceAnswer, VoiceRequest,
};

/// The authenticity pass over `text`, by the rules of `connection`'s platform.
pub async fn voice_pass(text: String, connection: ConnectionId) -> Result<VoiceAnswer, ApiError> {
    let request = VoiceRequest {
        text,
        connection_id: Some(connection),
        max_hashtags: None,
        max_length: None,
    };
    send_json("POST", "/api/studio/voice", Some(&request)).await
}

/// Length, score, proofreading and emoji for the editor.
pub async fn check_caption(
    text: String,
    connection: ConnectionId,
) -> Result<CaptionCheck, ApiError> {
    let request = CheckRequest {
        text,
        connection_id: Some(connection),
    };
    send_json("POST", "/api/studio/check", Some(&request)).await
}

/// The picker's emoji for what the person typed.
pub async fn search_emoji(query: String) -> Result<Vec<EmojiPick>, ApiError> {
    let query: leptos_router::params::ParamsMap = [("q", query)].into_iter().collect();
    let path = format!("/api/studio/emoji{}", query.to_query_string());
    send_json::<Vec<EmojiPick>>("GET", &path, None::<&()>).await
}

/// Adds `word` to the person's own words, which the proofreader never flags.
pub async fn add_word(word: String) -> Result<(), ApiError> {
    send_json::<serde_json::Value>("POST", "/api/studio/dictionary", Some(&NewWord { word }))
        .await
        .map(drop)
}

/// Asks for captions and hands each event to `on_event` as it arrives. Settles when the stream
/// ends; an error is a refusal of the whole request (a 422 for no accounts, say) or a lost
/// connection.
#[cfg(feature = "hydrate")]
pub async fn stream_captions(
    request: &CaptionRequest,
    on_event: impl Fn(CaptionEvent) + 'static,
) -> Result<(), ApiError> {
    use std::cell::RefCell;
    use std::rc::Rc;

    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    use crate::components::rest::error_of;
    use crate::types::EventStreamBuffer;

    let lost = |_| ApiError::Upstream {
        message: "The Studio could not reach the server. Check the connection and try again."
            .into(),
    };
    let body =
        serde_json::to_string(request).map_err(|error| ApiError::bad_request(error.to_string()))?;
    let xhr = web_sys::XmlHttpRequest::new().map_err(lost)?;
    xhr.open("POST", "/api/studio/captions").map_err(lost)?;
    xhr.set_request_header("Content-Type", "application/json")
        .map_err(lost)?;
    xhr.set_request_header("Accept", "text/event-stream")
        .map_err(lost)?;

    // The response text only grows: each progress event reads what was added since the last.
    let read = Rc::new(RefCell::new((0usize, EventStreamBuffer::default())));
    let take_new = {
        let xhr = xhr.clone();
        let read = read.clone();
        move || -> Vec<CaptionEvent> {
            if !(200..300).contains(&xhr.status().unwrap_or(0)) {
                return Vec::new();
            }
            let text = xhr.response_text().ok().flatten().unwrap_or_default();
            let mut read = read.borrow_mut();
            let (seen, buffer) = &mut *read;
            let fresh = text.get(*seen..).unwrap_or_default();
            let events = buffer.push(fresh.as_bytes());
            *seen = text.len();
            events
                .into_iter()
                .filter_map(|event| serde_json::from_str(&event.data).ok())
                .collect()
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
        0 => Err(lost(wasm_bindgen::JsValue::NULL)),
        status if (200..300).contains(&status) => {
            take_new().into_iter().for_each(|event| on_event(event));
            let last = read.borrow_mut().1.finish();
            last.and_then(|event| serde_json::from_str(&event.data).ok())
                .into_iter()
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
    _on_event: impl Fn(CaptionEvent) + 'static,
) -> Result<(), ApiError> {
    Ok(())
}
