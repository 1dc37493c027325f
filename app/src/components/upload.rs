//! Sending an image to the media library from the browser: `POST /api/media`, multipart with
//! the field `file`, authenticated by the session cookie. A REST call rather than a server
//! function, because that route streams the body under the upload size limit.

use serde::Deserialize;

use crate::types::{ApiError, MediaItem};

/// The REST API's error body: `{"error": {"code", "message", …}}`.
#[derive(Deserialize)]
struct ErrorBody {
    error: ApiError,
}

/// What an upload answered: the stored image, or a message for the person who picked it.
pub fn read_answer(status: u16, body: &str) -> Result<MediaItem, String> {
    if (200..300).contains(&status) {
        return serde_json::from_str(body)
            .map_err(|_| "The server's answer to the upload could not be read.".to_owned());
    }
    match serde_json::from_str::<ErrorBody>(body) {
        Ok(ErrorBody { error }) => Err(error.to_string()),
        // Something in front of the server (a proxy's size limit, say) answered instead.
        Err(_) => Err(format!(
            "The upload failed (HTTP {status}). Please try again."
        )),
    }
}

/// Uploads `file` and returns the stored image, or why not.
#[cfg(feature = "hydrate")]
pub async fn upload_image(file: web_sys::File) -> Result<MediaItem, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    let unreachable =
        |_| "The upload could not reach the server. Check the connection and try again.".to_owned();
    let window = web_sys::window().ok_or_else(|| "No browser window.".to_owned())?;
    let form = web_sys::FormData::new().map_err(unreachable)?;
    form.append_with_blob_and_filename("file", &file, &file.name())
        .map_err(unreachable)?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body_opt_form_data(Some(&form));
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    let response: web_sys::Response =
        JsFuture::from(window.fetch_with_str_and_init("/api/media", &init))
            .await
            .map_err(unreachable)?
            .dyn_into()
            .map_err(unreachable)?;
    let body = JsFuture::from(response.text().map_err(unreachable)?)
        .await
        .map_err(unreachable)?
        .as_string()
        .unwrap_or_default();
    read_answer(response.status(), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_body_gives_its_message() {
        let body = serde_json::json!({"error": ApiError::validation("file", "Only JPEG, PNG, WebP or GIF images.").to_json()});
        assert_eq!(
            read_answer(422, &body.to_string()),
            Err("Only JPEG, PNG, WebP or GIF images.".to_owned())
        );
    }

    #[test]
    fn a_foreign_error_page_still_gives_a_message() {
        let message = read_answer(413, "<html>Request Entity Too Large</html>").unwrap_err();
        assert!(message.contains("413"), "{message}");
    }
}
