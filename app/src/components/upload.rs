//! Sending a photo or a video to the media library from the browser, straight to the media
//! store: `POST /api/media/uploads` announces the file (its type and size) and answers with
//! where to send it, a presigned URL of the bucket (or of this server, on local disk), good
//! for a few minutes; the file goes there with its progress shown; then
//! `POST /api/media/uploads/{id}/confirm` has the server check what arrived (size, type by
//! content, dimensions) before it becomes media. Authenticated by the session cookie.

use crate::components::rest;
use crate::types::NewDirectUpload;
#[cfg(feature = "hydrate")]
use crate::types::{DirectUpload, MediaItem};

/// What an answer says, for the person who picked the file.
pub fn read_answer<T: serde::de::DeserializeOwned>(status: u16, body: &str) -> Result<T, String> {
    rest::read_answer(status, body).map_err(|error| error.to_string())
}

/// The type the server is told, from the browser's reading of the file or, when it has none
/// (some systems give none for `.mov`), from its name.
pub fn content_type_of(browser_type: &str, name: &str) -> String {
    if !browser_type.is_empty() {
        return browser_type.to_owned();
    }
    let extension = name.rsplit_once('.').map_or("", |(_, extension)| extension);
    let by_extension = [
        ("jpg", "image/jpeg"),
        ("jpeg", "image/jpeg"),
        ("png", "image/png"),
        ("webp", "image/webp"),
        ("gif", "image/gif"),
        ("mp4", "video/mp4"),
        ("mov", "video/quicktime"),
        ("webm", "video/webm"),
    ];
    by_extension
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(extension))
        .map_or("application/octet-stream", |(_, kind)| kind)
        .to_owned()
}

/// The announcement of `file`.
pub fn announcement(name: &str, browser_type: &str, size: f64) -> NewDirectUpload {
    NewDirectUpload {
        file_name: Some(name.to_owned()).filter(|name| !name.is_empty()),
        content_type: content_type_of(browser_type, name),
        // Browsers give sizes as whole numbers in a double.
        size: size as u64,
    }
}

/// Uploads `file`, telling `progress` the share sent so far (0 to 1), and returns the stored
/// file, or why not. `XMLHttpRequest` rather than `fetch`, because only it reports an
/// upload's progress, which a video of a gigabyte needs.
#[cfg(feature = "hydrate")]
pub async fn upload_file(
    file: web_sys::File,
    progress: impl Fn(f64) + 'static,
) -> Result<MediaItem, String> {
    let announced = announcement(&file.name(), &file.type_(), file.size());
    let upload: DirectUpload = rest::send_json("POST", "/api/media/uploads", Some(&announced))
        .await
        .map_err(|error| error.to_string())?;
    send_to_store(&upload, &file, progress).await?;
    rest::send_json::<MediaItem>(
        "POST",
        &format!("/api/media/uploads/{}/confirm", upload.id.0),
        None::<&()>,
    )
    .await
    .map_err(|error| error.to_string())
}

/// Sends the file's bytes where the announcement said.
#[cfg(feature = "hydrate")]
async fn send_to_store(
    upload: &DirectUpload,
    file: &web_sys::File,
    progress: impl Fn(f64) + 'static,
) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    let unreachable = |_| {
        "The upload could not reach the media store. Check the connection and try again.".to_owned()
    };
    let request = web_sys::XmlHttpRequest::new().map_err(unreachable)?;
    request
        .open(&upload.method, &upload.url)
        .map_err(unreachable)?;
    for (name, value) in &upload.headers {
        request
            .set_request_header(name, value)
            .map_err(unreachable)?;
    }
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
        .send_with_opt_blob(Some(file))
        .map_err(unreachable)?;
    let _ = wasm_bindgen_futures::JsFuture::from(ended).await;
    drop(on_progress);
    match request.status().unwrap_or(0) {
        0 => Err(unreachable(wasm_bindgen::JsValue::NULL)),
        200..=299 => Ok(()),
        // This server's own upload URL answers like the REST API; a bucket answers in XML.
        status => {
            let body = request.response_text().ok().flatten().unwrap_or_default();
            Err(read_answer::<()>(status, &body).err().unwrap_or_default())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ApiError, MediaItem};

    #[test]
    fn an_error_body_gives_its_message() {
        let body = serde_json::json!({"error": ApiError::validation("file", "Only JPEG, PNG, WebP or GIF images.").to_json()});
        assert_eq!(
            read_answer::<MediaItem>(422, &body.to_string()),
            Err("Only JPEG, PNG, WebP or GIF images.".to_owned())
        );
    }

    #[test]
    fn a_foreign_error_page_still_gives_a_message() {
        let message =
            read_answer::<MediaItem>(413, "<html>Request Entity Too Large</html>").unwrap_err();
        assert!(message.contains("413"), "{message}");
    }

    #[test]
    fn a_file_without_a_type_is_announced_by_its_name() {
        assert_eq!(content_type_of("image/png", "a.jpg"), "image/png");
        assert_eq!(content_type_of("", "Clip.MOV"), "video/quicktime");
        assert_eq!(content_type_of("", "notes"), "application/octet-stream");
        let announced = announcement("photo.jpg", "", 1234.0);
        assert_eq!(announced.content_type, "image/jpeg");
        assert_eq!(announced.size, 1234);
        assert_eq!(announced.file_name.as_deref(), Some("photo.jpg"));
    }
}
