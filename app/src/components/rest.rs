//! Calling the REST API from an island: JSON in and out, same origin, authenticated by the
//! session cookie the browser sends by itself. For the routes that have no server function
//! (the AI Studio's), read the way `upload.rs` reads the media library's answer: a 2xx body is
//! the value, any other status carries `{"error": ApiError}`, and whatever else answered
//! (a proxy's page, no network) still becomes a message a person can act on.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::types::ApiError;

/// The REST API's error body: `{"error": {"code", "message", …}}`.
#[derive(serde::Deserialize)]
struct ErrorBody {
    error: ApiError,
}

/// Why a request got no answer at all: the network, not the server.
fn unreachable() -> ApiError {
    ApiError::Upstream {
        message: "Could not reach the server. Check the connection and try again.".into(),
    }
}

/// The error a non-2xx answer of `status` with `body` stands for.
pub fn error_of(status: u16, body: &str) -> ApiError {
    if status == 0 {
        return unreachable();
    }
    match serde_json::from_str::<ErrorBody>(body) {
        Ok(ErrorBody { error }) => error,
        // Something in front of the server (a proxy, a gateway timeout) answered instead.
        Err(_) => ApiError::Upstream {
            message: format!(
                "The server answered with an error (HTTP {status}) that could not be read. Please try again."
            ),
        },
    }
}

/// What an answer of `status` with `body` says: the value, or the error.
pub fn read_answer<T: DeserializeOwned>(status: u16, body: &str) -> Result<T, ApiError> {
    if !(200..300).contains(&status) {
        return Err(error_of(status, body));
    }
    serde_json::from_str(body).map_err(|_| ApiError::Upstream {
        message: "The server's answer could not be read. Reload the page and try again.".into(),
    })
}

/// Sends `body` (if any) as JSON with `method` to `path` on this site and reads the answer.
/// On the server it never runs (islands call it from the browser) and says so.
pub async fn send_json<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<&impl Serialize>,
) -> Result<T, ApiError> {
    #[cfg(feature = "hydrate")]
    {
        let body = body
            .map(serde_json::to_string)
            .transpose()
            .map_err(|error| ApiError::bad_request(error.to_string()))?;
        let (status, text) = exchange(method, path, body.as_deref())
            .await
            .map_err(|_| unreachable())?;
        read_answer(status, &text)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (method, path, body);
        Err(ApiError::Internal { request_id: None })
    }
}

/// One request by `XMLHttpRequest`: its status (0 when nothing answered) and its text.
#[cfg(feature = "hydrate")]
async fn exchange(
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String), wasm_bindgen::JsValue> {
    let request = web_sys::XmlHttpRequest::new()?;
    request.open(method, path)?;
    request.set_request_header("Accept", "application/json")?;
    if body.is_some() {
        request.set_request_header("Content-Type", "application/json")?;
    }
    // Settles however the request ends: answered, failed or aborted.
    let ended = js_sys::Promise::new(&mut |resolve, _| request.set_onloadend(Some(&resolve)));
    request.send_with_opt_str(body)?;
    let _ = wasm_bindgen_futures::JsFuture::from(ended).await;
    let status = request.status().unwrap_or(0);
    let text = request.response_text().ok().flatten().unwrap_or_default();
    Ok((status, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_body_is_the_error_it_carries() {
        let error = ApiError::validation("openai_url", "Enter the whole address.");
        let body = serde_json::json!({ "error": error.to_json() }).to_string();
        assert_eq!(read_answer::<()>(422, &body), Err(error));
    }

    #[test]
    fn a_foreign_page_and_no_answer_still_say_what_happened() {
        let message = error_of(502, "<html>Bad Gateway</html>").to_string();
        assert!(message.contains("HTTP 502"), "{message}");
        let message = error_of(0, "").to_string();
        assert!(message.contains("Could not reach the server"), "{message}");
        let message = read_answer::<Vec<String>>(200, "<html>")
            .unwrap_err()
            .to_string();
        assert!(message.contains("could not be read"), "{message}");
    }

    #[test]
    fn a_success_is_read_as_the_value() {
        assert_eq!(
            read_answer::<Vec<String>>(200, r#"["llava"]"#),
            Ok(vec!["llava".to_owned()])
        );
    }
}
