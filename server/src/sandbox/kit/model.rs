//! What the fakes of text-model APIs (Gemini, OpenAI-compatible servers) share: a reply a test
//! can trace back to its prompt, a token count close enough to cut replies where a limit asks,
//! replies streamed as Server-Sent Events a few words at a time, and answers broken off halfway
//! or not JSON at all.

use std::convert::Infallible;

use axum::body::{Body, Bytes, to_bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Roughly how many characters a token is; the fakes count tokens this way.
pub const CHARS_PER_TOKEN: usize = 4;
/// How many of the prompt's words the built-in reply repeats.
const ECHO_WORDS: usize = 12;
/// How many words each streamed piece carries.
pub const WORDS_PER_PIECE: usize = 3;
/// What a proxy in front of a model server answers when the server behind it fails: a page,
/// not JSON.
const NOT_JSON_PAGE: &str = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>";

/// A plain sentence a test can trace back to its prompt: the number of images and the first
/// words of the user's texts. Asked to rewrite a text set in `<caption>` tags, it gives the
/// text back as it came, as a model with nothing to change would.
pub fn echo_caption(user_texts: &[String], images: usize) -> String {
    if let Some(draft) = user_texts.iter().find_map(|text| fenced(text)) {
        return draft.to_owned();
    }
    let words: Vec<&str> = user_texts
        .iter()
        .flat_map(|text| text.split_whitespace())
        .take(ECHO_WORDS)
        .collect();
    let images = match images {
        1 => "1 image".to_owned(),
        count => format!("{count} images"),
    };
    if words.is_empty() {
        format!("Sandbox caption for {images}.")
    } else {
        format!("Sandbox caption for {images}: {}", words.join(" "))
    }
}

/// The text inside the first `<caption>` tags of `text`.
fn fenced(text: &str) -> Option<&str> {
    let (_, rest) = text.split_once("<caption>")?;
    let (inside, _) = rest.split_once("</caption>")?;
    Some(inside.trim())
}

pub fn estimate_tokens(text: &str) -> u32 {
    u32::try_from(text.chars().count().div_ceil(CHARS_PER_TOKEN)).unwrap_or(u32::MAX)
}

/// The tokens of a prompt: its texts, and `per_image` for each image.
pub fn prompt_tokens<'a>(
    texts: impl IntoIterator<Item = &'a String>,
    images: usize,
    per_image: u32,
) -> u32 {
    let text_tokens = texts
        .into_iter()
        .fold(0u32, |sum, text| sum.saturating_add(estimate_tokens(text)));
    let images = u32::try_from(images).unwrap_or(u32::MAX);
    text_tokens.saturating_add(images.saturating_mul(per_image))
}

/// `text` cut to `max_tokens` (none or 0: no limit, as an unset proto field reads 0), and
/// whether it was cut.
pub fn within_tokens(text: String, max_tokens: Option<u32>) -> (String, bool) {
    match max_tokens.filter(|max| *max > 0) {
        Some(max) if estimate_tokens(&text) > max => {
            let kept = usize::try_from(max)
                .unwrap_or(usize::MAX)
                .saturating_mul(CHARS_PER_TOKEN);
            (text.chars().take(kept).collect(), true)
        }
        _ => (text, false),
    }
}

/// `text` in pieces of [`WORDS_PER_PIECE`] words each, every piece keeping the spaces after its
/// words, so the pieces concatenate back to `text`. Always at least one piece.
pub fn split_into_pieces(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut piece = String::new();
    let mut in_piece = 0;
    for word in text.split_inclusive(' ') {
        piece.push_str(word);
        in_piece += 1;
        if in_piece == WORDS_PER_PIECE {
            pieces.push(std::mem::take(&mut piece));
            in_piece = 0;
        }
    }
    if !piece.is_empty() || pieces.is_empty() {
        pieces.push(piece);
    }
    pieces
}

/// Server-Sent Events, one `data:` event per item, each its own body frame, so a client reading
/// the stream meets the first words before the last.
pub fn event_stream(events: impl IntoIterator<Item = String>) -> Response {
    let frames: Vec<Result<Bytes, Infallible>> = events
        .into_iter()
        .map(|data| Ok(Bytes::from(format!("data: {data}\n\n"))))
        .collect();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(futures_util::stream::iter(frames)),
    )
        .into_response()
}

/// A 200 whose body is not JSON (or, streamed, whose one event is not).
pub fn not_json(streamed: bool) -> Response {
    if streamed {
        return event_stream([NOT_JSON_PAGE.to_owned()]);
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
        NOT_JSON_PAGE,
    )
        .into_response()
}

/// Keeps the status and the first half of the body, then breaks the connection: the client
/// learns "200" and reads half a JSON object (or the first chunks of a stream) before the
/// answer is lost.
pub async fn break_off(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let whole = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let kept = whole.slice(..whole.len() / 2);
    parts.headers.remove(header::CONTENT_LENGTH);
    let frames: [Result<Bytes, std::io::Error>; 2] = [
        Ok(kept),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "sandbox: the answer was dropped on purpose",
        )),
    ];
    Response::from_parts(parts, Body::from_stream(futures_util::stream::iter(frames)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_reply_traces_back_to_the_prompt() {
        let texts = vec!["Write the caption for the attached photo.".to_owned()];
        assert_eq!(
            echo_caption(&texts, 1),
            "Sandbox caption for 1 image: Write the caption for the attached photo."
        );
    }

    #[test]
    fn a_text_to_rewrite_comes_back_as_it_was() {
        let texts = vec!["Rewrite this:\n<caption>\nNew mugs.\n</caption>".to_owned()];
        assert_eq!(echo_caption(&texts, 0), "New mugs.");
    }
}
