//! The Media page's API: every file with its size, dimensions and the posts that use it; how
//! much each person's files take; and deleting, which waits while a post that has not gone out
//! uses the file and leaves the records of finished posts readable. The app has X configured
//! against the fake but runs no workers, so posts stay where the API puts them.

mod common;

use std::io::Cursor;

use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use common::{Backend, TestApp, error_body};
use server::sandbox::x::XFake;

struct Library {
    app: TestApp,
    fake: XFake,
    _fake_server: tokio::task::JoinHandle<()>,
}

async fn library(backend: Backend) -> Library {
    let (app, fake, fake_server) = TestApp::spawn_with_x_and_no_workers(backend).await;
    Library {
        app,
        fake,
        _fake_server: fake_server,
    }
}

impl Library {
    async fn call(
        &self,
        method: Method,
        token: &str,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut request = self
            .app
            .client
            .request(method, self.app.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.unwrap()
    }

    async fn json(
        &self,
        method: Method,
        token: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let response = self.call(method, token, path, body).await;
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn connect(&self, token: &str, username: &str) -> String {
        let (_, body) = self
            .json(Method::POST, token, "/api/connections/x/authorize", None)
            .await;
        let back = self
            .fake
            .authorize_directly(body["url"].as_str().unwrap(), username)
            .unwrap();
        let response = self
            .app
            .client
            .get(back)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_redirection());
        let (_, overview) = self
            .json(Method::GET, token, "/api/connections", None)
            .await;
        overview["connections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["handle"] == username)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn upload(&self, token: &str, name: &str, bytes: Vec<u8>) -> Value {
        let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
        let response = self
            .app
            .client
            .post(self.app.url("/api/media"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    /// A post of `text` with `media` to `connection`, due at `at` (RFC 3339) or a draft.
    async fn post(
        &self,
        token: &str,
        connection: &str,
        text: &str,
        media: &Value,
        at: Option<&str>,
    ) -> Value {
        let schedule = match at {
            Some(at) => json!({ "at": at }),
            None => json!("draft"),
        };
        let (status, post) = self
            .json(
                Method::POST,
                token,
                "/api/posts",
                Some(&json!({
                    "text": text,
                    "media_ids": [media["id"]],
                    "targets": [{ "connection_id": connection }],
                    "schedule": schedule,
                })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{post}");
        post
    }

    async fn delete_media(&self, token: &str, media: &Value) -> reqwest::Response {
        let path = format!("/api/media/{}", media["id"].as_str().unwrap());
        self.call(Method::DELETE, token, &path, None).await
    }

    async fn usage(&self, token: &str) -> Value {
        let (status, usage) = self
            .json(Method::GET, token, "/api/media/usage", None)
            .await;
        assert_eq!(status, StatusCode::OK, "{usage}");
        usage
    }

    async fn entries(&self, token: &str) -> Vec<Value> {
        let (status, list) = self.json(Method::GET, token, "/api/media", None).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        list.as_array().unwrap().clone()
    }
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(width, height, image::Rgb([30, 140, 90]));
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    bytes
}

fn entry<'a>(entries: &'a [Value], media: &Value) -> &'a Value {
    entries
        .iter()
        .find(|entry| entry["id"] == media["id"])
        .unwrap_or_else(|| panic!("{} is listed: {entries:?}", media["id"]))
}

async fn the_library_lists_sizes_dimensions_and_the_posts_using_each_file(backend: Backend) {
    let library = library(backend).await;
    let (_, token) = library.app.signed_in_user().await;
    let connection = library.connect(&token, "librarian").await;
    let wide = library.upload(&token, "wide.png", png(64, 32)).await;
    let tall = library.upload(&token, "tall.png", png(20, 50)).await;
    let post = library
        .post(
            &token,
            &connection,
            "Launch day",
            &wide,
            Some("2031-03-04T10:30:00Z"),
        )
        .await;

    let entries = library.entries(&token).await;
    assert_eq!(entries.len(), 2);
    let listed = entry(&entries, &wide);
    assert_eq!(listed["bytes"], json!(png(64, 32).len()));
    assert_eq!(
        (&listed["width"], &listed["height"]),
        (&json!(64), &json!(32))
    );
    assert_eq!(
        listed["used_by"],
        json!([{ "post_id": post["id"], "status": "scheduled", "scheduled_at": post["scheduled_at"] }])
    );
    // Only fields were added: what a client read before is all still there, as it was.
    for (field, value) in wide.as_object().unwrap() {
        assert_eq!(&listed[field], value, "{field}");
    }
    let listed = entry(&entries, &tall);
    assert_eq!(
        (&listed["width"], &listed["height"]),
        (&json!(20), &json!(50))
    );
    assert_eq!(listed["used_by"], json!([]));

    // Nobody else sees the file or its posts.
    let (_, intruder) = library.app.signed_in_user().await;
    assert!(library.entries(&intruder).await.is_empty());
}

async fn a_file_waits_for_the_posts_still_to_go_out(backend: Backend) {
    let library = library(backend).await;
    let (_, token) = library.app.signed_in_user().await;
    let connection = library.connect(&token, "waiter").await;
    let image = library.upload(&token, "sale.png", png(30, 30)).await;
    let post = library
        .post(
            &token,
            &connection,
            "Spring launch: everything new in the shop this week, come and see",
            &image,
            Some("2031-03-04T10:30:00Z"),
        )
        .await;

    let body = error_body(
        library.delete_media(&token, &image).await,
        StatusCode::CONFLICT,
    )
    .await;
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("A post uses this image"), "{message}");
    assert!(
        message.contains("\u{201c}Spring launch: everything new in the\u{2026}\u{201d}"),
        "the post is named: {message}"
    );
    assert!(
        message.contains("is due Tue 4 Mar 2031, 10:30 (UTC)"),
        "with when it is due, in the user's time zone: {message}"
    );
    // Refused means untouched: still listed, still served.
    assert_eq!(library.entries(&token).await.len(), 1);
    let file = library
        .call(Method::GET, &token, image["url"].as_str().unwrap(), None)
        .await;
    assert_eq!(file.status(), StatusCode::OK);

    // A draft holds its files too: it will go out one day.
    let draft_image = library.upload(&token, "draft.png", png(8, 8)).await;
    library
        .post(&token, &connection, "Later", &draft_image, None)
        .await;
    let body = error_body(
        library.delete_media(&token, &draft_image).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(
        body["message"].as_str().unwrap().contains("is a draft"),
        "{body}"
    );

    let post_path = format!("/api/posts/{}", post["id"].as_str().unwrap());
    assert_eq!(
        library
            .call(Method::DELETE, &token, &post_path, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        library.delete_media(&token, &image).await.status(),
        StatusCode::NO_CONTENT
    );
    let entries = library.entries(&token).await;
    assert_eq!(
        entries.len(),
        1,
        "only the draft's file is left: {entries:?}"
    );
    let file = library
        .call(Method::GET, &token, image["url"].as_str().unwrap(), None)
        .await;
    assert_eq!(file.status(), StatusCode::NOT_FOUND);
}

async fn a_file_only_finished_posts_use_can_go_and_their_records_stay(backend: Backend) {
    let library = library(backend).await;
    let (_, token) = library.app.signed_in_user().await;
    let connection = library.connect(&token, "finisher").await;
    let image = library.upload(&token, "old.png", png(12, 12)).await;
    let post = library
        .post(
            &token,
            &connection,
            "Called off",
            &image,
            Some("2031-03-04T10:30:00Z"),
        )
        .await;
    let post_path = format!("/api/posts/{}", post["id"].as_str().unwrap());
    let (status, cancelled) = library
        .json(Method::POST, &token, &format!("{post_path}/cancel"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");

    let entries = library.entries(&token).await;
    assert_eq!(entry(&entries, &image)["used_by"][0]["status"], "cancelled");
    assert_eq!(
        library.delete_media(&token, &image).await.status(),
        StatusCode::NO_CONTENT
    );
    assert!(library.entries(&token).await.is_empty());

    let (status, read) = library.json(Method::GET, &token, &post_path, None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the post's record is still readable: {read}"
    );
    assert_eq!(read["text"], "Called off");
    assert_eq!(read["media"], json!([]));
    assert_eq!(read["targets"][0]["status"], "cancelled");
}

async fn usage_counts_each_persons_own_files(backend: Backend) {
    let library = library(backend).await;
    let ((_, first), (_, second)) = library.app.two_users().await;
    let (_, empty) = library.app.signed_in_user().await;
    let one = library.upload(&first, "one.png", png(40, 30)).await;
    library.upload(&first, "two.png", png(10, 10)).await;
    library.upload(&second, "three.png", png(100, 100)).await;
    let first_bytes = png(40, 30).len() + png(10, 10).len();
    assert_eq!(
        library.usage(&first).await,
        json!({ "bytes_used": first_bytes, "files": 2 })
    );
    assert_eq!(
        library.usage(&second).await,
        json!({ "bytes_used": png(100, 100).len(), "files": 1 })
    );
    assert_eq!(
        library.usage(&empty).await,
        json!({ "bytes_used": 0, "files": 0 })
    );

    // Another person's file is not theirs to delete, and stays counted where it belongs.
    assert_eq!(
        library.delete_media(&second, &one).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        library.delete_media(&first, &one).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        library.usage(&first).await,
        json!({ "bytes_used": png(10, 10).len(), "files": 1 })
    );
}

on_both_databases!(
    the_library_lists_sizes_dimensions_and_the_posts_using_each_file,
    a_file_waits_for_the_posts_still_to_go_out,
    a_file_only_finished_posts_use_can_go_and_their_records_stay,
    usage_counts_each_persons_own_files,
);
