//! What only Facebook does, beyond the shared cases: a consent with two Pages answered with a
//! choice the person makes through the API; photos Meta really downloads from the app's signed
//! URLs; a video followed while Facebook processes it (and one it cannot process); and the same
//! text posted again, which Facebook refuses as a duplicate and the app does not mistake for a
//! lost answer.

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use reqwest::StatusCode;
use serde_json::json;

use server::clock::ManualClock;
use server::sandbox::meta::{FacebookKind, MetaFake, VideoStatus};

use crate::conformance::fakes::{FacebookSide, MediaKind};
use crate::conformance::instagram::assert_pulled;
use crate::{CLIENT_ID, CLIENT_SECRET, World, common};

#[tokio::test]
async fn a_consent_with_two_pages_lets_the_person_choose() {
    let fake = MetaFake::new(CLIENT_ID, CLIENT_SECRET);
    // The user's first Page comes with them; a second one is added.
    let second = fake.add_page("twoshops", "Second Shop", false);
    let world = World::start(FacebookSide(fake), None).await;
    let location = world.consent("twoshops").await;
    let choice = location
        .strip_prefix("/connections?choose=")
        .unwrap_or_else(|| panic!("a choice: {location}"));
    let path = format!("/api/connections/choices/{choice}");
    let (status, offered) = world.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{offered}");
    assert_eq!(offered["platform"], "facebook");
    let accounts = offered["accounts"].as_array().unwrap();
    let handles: Vec<&str> = accounts
        .iter()
        .map(|account| account["handle"].as_str().unwrap())
        .collect();
    assert_eq!(handles, ["twoshops Sandbox Page", "Second Shop"]);
    assert!(accounts.iter().all(|account| account["connected"] == false));
    assert!(!offered.to_string().contains("token"), "{offered}");

    let (status, refused) = world
        .post(&path, &json!({ "account_ids": ["not-a-page"] }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let (status, chosen) = world
        .post(&path, &json!({ "account_ids": [second.page_id] }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{chosen}");
    let connections = chosen["connections"].as_array().unwrap();
    assert_eq!(connections.len(), 1, "{chosen}");
    assert_eq!(connections[0]["handle"], "Second Shop");
    let (status, _) = world
        .post(&path, &json!({ "account_ids": [second.page_id] }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a choice is made once");

    let connection = connections[0]["id"].as_str().unwrap().to_owned();
    let post = world
        .create_post(&connection, "Open late on Fridays.", &[], json!({}))
        .await;
    world.wait_for(&post, "published").await;
    let posts = world.fake.0.facebook_posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].page_id, second.page_id);

    // Consenting again offers the same Pages, the chosen one marked as connected.
    let location = world.consent("twoshops").await;
    let again = location.strip_prefix("/connections?choose=").unwrap();
    let (_, offered) = world
        .get(&format!("/api/connections/choices/{again}"))
        .await;
    let connected: Vec<bool> = offered["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|account| account["connected"].as_bool().unwrap())
        .collect();
    assert_eq!(connected, [false, true]);
}

#[tokio::test]
async fn meta_downloads_the_photos_from_the_apps_signed_urls() {
    let world = World::<FacebookSide>::new().await;
    world.fake.0.set_fetch_pulled_media(true);
    let connection = world.connect("cornershop").await;
    let post = world
        .publish(&connection, "Two new glazes.", MediaKind::Images(2))
        .await;
    let done = world.wait_for(&post, "published").await;
    assert_pulled(&world.fake.0, 2, &done);
    let posts = world.fake.0.facebook_posts();
    assert_eq!(posts.len(), 1, "the photos went out as one post");
    assert_eq!(posts[0].kind, FacebookKind::Photo);
    assert_eq!(posts[0].media_urls.len(), 2);
}

#[tokio::test]
async fn a_video_is_followed_until_facebook_has_processed_it() {
    let clock = Arc::new(ManualClock::starting_at(Utc::now()));
    let fake = MetaFake::new(CLIENT_ID, CLIENT_SECRET);
    let mut statuses = vec![VideoStatus::Processing; 6];
    statuses.push(VideoStatus::Ready);
    fake.set_video_sequence(statuses);
    let world = World::start(FacebookSide(fake), Some(clock.clone())).await;
    let connection = world.connect("cornershop").await;
    let media = world
        .upload_file(common::media::sample_mp4(1), "clip.mp4")
        .await;
    let post = world
        .create_post(
            &connection,
            "Throwing a bowl.",
            std::slice::from_ref(&media),
            json!({}),
        )
        .await;
    world.wait_for(&post, "processing").await;
    assert_eq!(world.fake.0.facebook_post_count(), 0);
    let done = world.advance_until(&clock, &post, "published").await;
    assert_eq!(done["targets"][0]["attempts"], 1, "{done:#}");
    let posts = world.fake.0.facebook_posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].kind, FacebookKind::Video);
    assert_eq!(
        done["targets"][0]["external_id"].as_str(),
        Some(posts[0].id.as_str())
    );

    // A video Facebook cannot process fails with a reason, and is not uploaded again.
    world
        .fake
        .0
        .set_video_sequence(vec![VideoStatus::Processing, VideoStatus::Error]);
    let post = world
        .create_post(&connection, "A broken bowl.", &[media], json!({}))
        .await;
    let failed = world.wait_for(&post, "failed").await;
    let error = failed["targets"][0]["error"].as_str().unwrap();
    assert!(error.contains("could not process the video"), "{error}");
    assert_eq!(world.fake.0.facebook_post_count(), 1);
}

#[tokio::test]
async fn the_same_text_again_is_refused_as_a_duplicate_not_taken_for_a_lost_answer() {
    // Facebook's clock runs ten minutes behind ours: its first post is plainly older than the
    // second attempt, yet inside Facebook's duplicate window.
    let behind = Arc::new(ManualClock::starting_at(
        Utc::now() - TimeDelta::minutes(10),
    ));
    let fake = MetaFake::with_clock(CLIENT_ID, CLIENT_SECRET, behind);
    let world = World::start(FacebookSide(fake), None).await;
    let connection = world.connect("cornershop").await;
    let first = world
        .create_post(&connection, "Sale this weekend.", &[], json!({}))
        .await;
    world.wait_for(&first, "published").await;
    let again = world
        .create_post(&connection, "Sale this weekend.", &[], json!({}))
        .await;
    let failed = world.wait_for(&again, "failed").await;
    let target = &failed["targets"][0];
    assert_eq!(target["attempts"], 1, "{failed:#}");
    assert!(
        target["error"].as_str().unwrap().contains("duplicate"),
        "{failed:#}"
    );
    assert_eq!(world.fake.0.facebook_post_count(), 1);
}
