//! Videos in the media library, through `POST /api/media`: streamed to disk, probed with
//! `ffprobe`, given a poster frame, served back a piece at a time, refused with a reason when
//! they are not videos or are too large, and never left half-written. Needs Debian's ffmpeg
//! (`make test` installs it).

mod common;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use common::{Backend, TestApp};

fn sample_mp4() -> Vec<u8> {
    common::media::sample_mp4(2)
}

async fn upload(app: &TestApp, token: &str, name: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
    let response = app
        .client
        .post(app.url("/api/media"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Files left in the staging directory: none once every upload has ended.
fn staged_files(app: &TestApp) -> usize {
    std::fs::read_dir(app.data_dir.join("media").join(".incoming"))
        .map(|dir| dir.count())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_video_is_probed_given_a_poster_and_served_back_whole() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, token) = app.signed_in_user().await;
    let video = sample_mp4();
    let (status, item) = upload(&app, &token, "clip.mp4", video.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{item}");
    assert_eq!(item["mime"], "video/mp4");
    assert_eq!(
        (item["width"].as_u64(), item["height"].as_u64()),
        (Some(320), Some(240))
    );
    assert_eq!(item["bytes"].as_u64(), Some(video.len() as u64));
    let facts = &item["video"];
    let duration = facts["duration_ms"].as_u64().unwrap();
    assert!((1900..=2100).contains(&duration), "{facts}");
    assert_eq!(facts["video_codec"], "h264");
    assert_eq!(facts["audio_codec"], "aac");
    assert_eq!(facts["faststart"], true);
    assert!((facts["frames_per_second"].as_f64().unwrap() - 30.0).abs() < 0.01);

    let poster = get(&app, &token, item["poster_url"].as_str().unwrap()).await;
    assert_eq!(poster.status(), StatusCode::OK);
    assert_eq!(poster.headers()["content-type"], "image/jpeg");
    let poster = poster.bytes().await.unwrap();
    assert_eq!(&poster[..3], &[0xFF, 0xD8, 0xFF], "a JPEG");

    let file = get(&app, &token, item["url"].as_str().unwrap()).await;
    assert_eq!(file.headers()["content-type"], "video/mp4");
    assert_eq!(file.bytes().await.unwrap().as_ref(), video.as_slice());
    assert_eq!(staged_files(&app), 0);

    // Another user sees none of it.
    let (_, intruder) = app.signed_in_user().await;
    let id = item["id"].as_str().unwrap();
    for path in [
        format!("/api/media/{id}/file"),
        format!("/api/media/{id}/poster"),
    ] {
        assert_eq!(
            get(&app, &intruder, &path).await.status(),
            StatusCode::NOT_FOUND
        );
    }

    let deleted = app
        .client
        .delete(app.url(&format!("/api/media/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let stored = std::fs::read_dir(app.data_dir.join("media"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name() != ".incoming")
        .flat_map(|user| std::fs::read_dir(user.path()).unwrap())
        .count();
    assert_eq!(stored, 0, "the video and its poster are gone");
}

#[tokio::test]
async fn what_is_neither_image_nor_video_is_refused_and_leaves_nothing() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, token) = app.signed_in_user().await;
    let (status, body) = upload(&app, &token, "notes.mp4", b"just some text".repeat(100)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
        + body["error"]["fields"].to_string().as_str();
    assert!(message.contains("neither an image"), "{body}");

    let mut cut = sample_mp4();
    cut.truncate(cut.len() / 2);
    let (status, body) = upload(&app, &token, "cut.mp4", cut).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("damaged"), "{body}");
    assert_eq!(staged_files(&app), 0);
}

#[tokio::test]
async fn an_upload_past_the_configured_size_stops_with_413() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("MEDIA_MAX_VIDEO_BYTES", "1048576")]).await;
    let (_, token) = app.signed_in_user().await;
    let (status, body) = upload(&app, &token, "big.mp4", vec![0u8; 2 * 1024 * 1024]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(staged_files(&app), 0);
    // A video within the limit still goes in.
    let (status, body) = upload(&app, &token, "clip.mp4", sample_mp4()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// The URL a platform downloads a file from: anyone holding it gets the file, without a
/// session, until it expires; a URL changed in any part, or expired, answers 404.
#[tokio::test]
async fn a_signed_pull_url_serves_the_file_until_it_expires() {
    let key = server::crypto::generate_key();
    let app = TestApp::spawn_with(Backend::Sqlite, &[("ENCRYPTION_KEY", key.as_str())]).await;
    let (_, token) = app.signed_in_user().await;
    let video = sample_mp4();
    let (status, item) = upload(&app, &token, "clip.mp4", video.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{item}");
    let id = app::types::MediaId(item["id"].as_str().unwrap().parse().unwrap());

    let keyring = server::crypto::Keyring::new(&secrecy::SecretString::from(key), &[]).unwrap();
    let urls = server::media::pull::PullUrls::new(
        &app.url("/").parse().unwrap(),
        keyring.url_signing_key(),
    );
    let now = chrono::Utc::now();
    let url = urls.url(id, now);
    let fetched = app.client.get(&url).send().await.unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.headers()["content-type"], "video/mp4");
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), video.as_slice());

    let poster = app
        .client
        .get(urls.poster_url(id, now))
        .send()
        .await
        .unwrap();
    assert_eq!(poster.status(), StatusCode::OK);
    assert_eq!(poster.headers()["content-type"], "image/jpeg");
    assert_eq!(&poster.bytes().await.unwrap()[..3], &[0xFF, 0xD8, 0xFF]);

    let signature_start = url.rfind('/').unwrap() + 1;
    // The file's signature does not open the poster.
    let as_poster = url.replace(&format!("/{}/", id.0), &format!("/{}/poster/", id.0));
    let mut tampered = url.clone();
    let last = if url.ends_with('0') { "1" } else { "0" };
    tampered.replace_range(tampered.len() - 1.., last);
    let expired = urls.url(id, now - chrono::Duration::hours(3));
    let other_file = url.replace(&id.0.to_string(), &uuid::Uuid::new_v4().to_string());
    for refused in [
        as_poster,
        tampered,
        expired,
        other_file,
        url[..signature_start].to_owned() + "not-hex",
    ] {
        let answer = app.client.get(&refused).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{refused}");
    }
}
