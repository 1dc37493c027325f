//! Sending a photo or a video to the media library from the browser: `POST /api/media`,
//! multipart with the field `file`, authenticated by the session cookie. A REST call rather than a server
//! function, because that route streams the body under the upload size limit.

use crate::components::rest;
use crate::types::MediaItem;

/// What an upload answered: the stored image, or a message for the person who picked it.
pub fn read_answer(status: u16, body: &str) -> Result<MediaItem, String> {
    rest::read_answer(status, body).map_err(|error| error.to_string())
}

/// Uploads `file`, telling `progress` the share sent so far (0 to 1), and returns the stored
/// file, or why not. `XMLHttpRequest` rather than `fetch`, because only it reports an
/// upload's progress, which a video of a gigabyte needs.
#[cfg(feature = "hydrate")]
pub async fn upload_file(
    file: web_sys::File,
    progress: impl Fn(f64) + 'static,
) -> Result<MediaItem, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    let unreachable =
        |_| "The upload could not reach the server. Check the connection and try again.".to_owned();
    let form = web_sys::FormData::new().map_err(unreachable)?;
    form.append_with_blob_and_filename("file", &file, &file.name())
        .map_err(unreachable)?;
    let request = web_sys::XmlHttpRequest::new().map_err(unreachable)?;
    request.open("POST", "/api/media").map_err(unreachable)?;
    let on_progress =
        Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |event: web_sys::ProgressEvent| {
            if event.length_computable() && event.total() > 0.0 {
                progress(event.loaded() / event.total());
            }
        });
    request
        .upload()
        .map_err(unreachable)?
        .set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    // Settles however the request ends: answered, failed or aborted.
    let ended = js_sys::Promise::new(&mut |resolve, _| request.set_onloadend(Some(&resolve)));
    request
        .send_with_opt_form_data(Some(&form))
        .map_err(unreachable)?;
    let _ = wasm_bindgen_futures::JsFuture::from(ended).await;
    drop(on_progress);
    match request.status().unwrap_or(0) {
        // No answer at all: the network, not the server.
        0 => Err(unreachable(wasm_bindgen::JsValue::NULL)),
        status => read_answer(
            status,
            &request.response_text().ok().flatten().unwrap_or_default(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ApiError;

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
