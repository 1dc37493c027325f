//! What only LinkedIn does, beyond the shared cases: with `LINKEDIN_ORGANIZATIONS`, a member who
//! administers a page chooses, after consenting, which accounts to connect (the member, the
//! page, or both), posts as the page, and a page's post whose answer was lost is found among
//! the page's posts rather than posted twice. The choice is made through the REST API and
//! through the page's plain form. A video goes up in LinkedIn's parts, finalized with their
//! ETags, and is posted once LinkedIn has processed it.

use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use server::clock::ManualClock;
use server::sandbox::kit::FakeControls;
use server::sandbox::kit::script::Failure;
use server::sandbox::linkedin::{Endpoint, LinkedInFake, MediaStatus};

use crate::{CLIENT_ID, CLIENT_SECRET, World, common, log_messages};

async fn world_with_a_page() -> (World<LinkedInFake>, String) {
    let fake = LinkedInFake::new(CLIENT_ID, CLIENT_SECRET);
    let id = fake.add_organization("potter", "Kiln Works");
    let world = World::start_with(fake, None, &[("LINKEDIN_ORGANIZATIONS", "true")]).await;
    (world, format!("urn:li:organization:{id}"))
}

/// Consents as `username` and returns where the callback sent the browser.
async fn consent(world: &World<LinkedInFake>, username: &str) -> String {
    let (status, body) = world
        .post("/api/connections/linkedin/authorize", &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let url = body["url"].as_str().unwrap();
    assert!(url.contains("rw_organization_admin"), "{url}");
    let back = world.fake.authorize_directly(url, username).unwrap();
    let response = world
        .app
        .client
        .get(&back)
        .bearer_auth(&world.token)
        .send()
        .await
        .unwrap();
    response.headers()["location"].to_str().unwrap().to_owned()
}

fn choice_id(location: &str) -> String {
    location
        .strip_prefix("/connections?choose=")
        .unwrap_or_else(|| panic!("a choice, not {location}"))
        .to_owned()
}

#[tokio::test]
async fn a_member_chooses_their_page_and_posts_as_it_exactly_once() {
    let (world, page) = world_with_a_page().await;
    let choice = choice_id(&consent(&world, "potter").await);
    let (status, offered) = world
        .get(&format!("/api/connections/choices/{choice}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{offered}");
    assert_eq!(offered["platform"], "linkedin");
    let accounts = offered["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2, "{offered}");
    let listed = accounts
        .iter()
        .find(|account| account["account_id"] == page.as_str())
        .unwrap_or_else(|| panic!("the page is offered: {offered}"));
    assert_eq!(listed["display_name"], "Kiln Works");
    assert_eq!(listed["connected"], false);

    let (status, refused) = world
        .post(
            &format!("/api/connections/choices/{choice}"),
            &json!({ "account_ids": ["urn:li:organization:999"] }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let (status, chosen) = world
        .post(
            &format!("/api/connections/choices/{choice}"),
            &json!({ "account_ids": [page] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{chosen}");
    let connection = chosen["connections"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(chosen["connections"].as_array().unwrap().len(), 1);
    let (status, again) = world
        .post(
            &format!("/api/connections/choices/{choice}"),
            &json!({ "account_ids": [page] }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a choice is made once: {again}"
    );

    world
        .fake
        .fail_next(Endpoint::CreatePost, [Failure::CreatedThenDropped]);
    let post = world
        .create_post(
            &connection,
            "New glazes (blue) from the #kiln",
            &[],
            json!({}),
        )
        .await;
    let done = world.wait_for(&post, "published").await;
    let posts = world.fake.posts();
    assert_eq!(posts.len(), 1, "{done:#}");
    assert_eq!(posts[0].author, page);
    assert_eq!(
        done["targets"][0]["external_id"].as_str(),
        Some(posts[0].urn.as_str())
    );
    let logs = log_messages(&done);
    assert!(
        logs.iter()
            .any(|line| line.starts_with("reconciled: already published")),
        "found among the page's posts: {logs:#?}"
    );
}

#[tokio::test]
async fn a_lost_answer_is_found_among_many_later_posts_of_the_page() {
    let (world, page) = world_with_a_page().await;
    let choice = choice_id(&consent(&world, "potter").await);
    let (status, chosen) = world
        .post(
            &format!("/api/connections/choices/{choice}"),
            &json!({ "account_ids": [page] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{chosen}");
    let connection = chosen["connections"][0]["id"].as_str().unwrap().to_owned();
    // The answer is lost, and LinkedIn rate-limits the next attempt's look for eight seconds;
    // meanwhile the page posts 45 times more, more than two of the pages reconciliation reads.
    world
        .fake
        .fail_next(Endpoint::CreatePost, [Failure::CreatedThenDropped]);
    world.fake.fail_next(
        Endpoint::ListPosts,
        [Failure::RateLimited { reset_in_secs: 8 }],
    );
    let first = world
        .create_post(&connection, "The first of many", &[], json!({}))
        .await;
    let path = format!("/api/posts/{}", first["id"].as_str().unwrap());
    let mut refused = Value::Null;
    for _ in 0..100 {
        refused = world.get(&path).await.1;
        let target = &refused["targets"][0];
        if target["attempts"] == 2 && target["status"] != "publishing" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(refused["targets"][0]["status"], "retrying", "{refused}");
    let mut later = Vec::new();
    for n in 0..45 {
        later.push(
            world
                .create_post(&connection, &format!("Later post {n}"), &[], json!({}))
                .await,
        );
    }
    for post in &later {
        world.wait_for(post, "published").await;
    }
    let done = world.wait_for(&first, "published").await;
    let logs = log_messages(&done);
    let posts = world.fake.posts();
    assert_eq!(posts.len(), 46, "{logs:#?}");
    assert_eq!(
        done["targets"][0]["external_id"].as_str(),
        Some(posts[0].urn.as_str()),
        "the first post is the one found"
    );
    // Found by reading the page's posts, not by posting again and being told of a duplicate.
    assert_eq!(
        world.fake.request_count(Endpoint::CreatePost),
        46,
        "{logs:#?}"
    );
    assert!(
        logs.iter()
            .any(|line| line.starts_with("reconciled: already published")),
        "{logs:#?}"
    );
}

#[tokio::test]
async fn the_choice_form_connects_what_is_ticked_without_a_script() {
    let (world, page) = world_with_a_page().await;
    let choice = choice_id(&consent(&world, "potter").await);
    // The page's form: one checkbox per account, named by its place in the list; only the
    // ticked ones are sent.
    let (_, offered) = world
        .get(&format!("/api/connections/choices/{choice}"))
        .await;
    let index = offered["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .position(|account| account["account_id"] == page.as_str())
        .unwrap();
    let response = world
        .app
        .client
        .post(world.app.url("/rpc/connections/choose"))
        .bearer_auth(&world.token)
        .header("accept", "text/html")
        .form(&[
            ("id", choice.as_str()),
            (format!("account_ids[{index}]").as_str(), page.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let location = response.headers()["location"].to_str().unwrap();
    assert_eq!(
        location, "/connections?connected=%40kiln-works",
        "{location}"
    );
    let (_, overview) = world.get("/api/connections").await;
    let connected: Vec<&Value> = overview["connections"].as_array().unwrap().iter().collect();
    assert_eq!(connected.len(), 1, "{overview}");
    assert_eq!(connected[0]["display_name"], "Kiln Works");

    // Nothing ticked: the page says so, and nothing changes.
    let choice = choice_id(&consent(&world, "potter").await);
    let response = world
        .app
        .client
        .post(world.app.url("/rpc/connections/choose"))
        .bearer_auth(&world.token)
        .header("accept", "text/html")
        .form(&[("id", choice.as_str())])
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("/connections?error="), "{location}");
    assert!(location.contains("Choose"), "{location}");
}

#[tokio::test]
async fn a_video_goes_up_in_parts_and_is_posted_once_processed() {
    let clock = Arc::new(ManualClock::starting_at(
        Utc.with_ymd_and_hms(2027, 5, 4, 9, 0, 0).unwrap(),
    ));
    let world = World::start(
        LinkedInFake::new(CLIENT_ID, CLIENT_SECRET),
        Some(clock.clone()),
    )
    .await;
    let connection = world.connect("potter").await;
    // Longer than the attempt's own quick checks: the post shows "processing" meanwhile.
    let mut sequence = vec![MediaStatus::Processing; 5];
    sequence.push(MediaStatus::Available);
    world.fake.set_video_status_sequence(sequence);
    // About 7.5 MB: two of LinkedIn's 4 MB parts.
    let media = world
        .upload_file(common::media::padded_mp4(3, 20), "kiln.mp4")
        .await;
    let post = world
        .create_post(&connection, "Opening the kiln", &[media], json!({}))
        .await;
    world.wait_for(&post, "processing").await;
    clock.advance(TimeDelta::seconds(31));
    let done = world.wait_for(&post, "published").await;
    assert_eq!(done["targets"][0]["attempts"], 1, "{done:#}");
    let videos = world.fake.videos();
    assert_eq!(videos.len(), 1, "uploaded once");
    assert_eq!(videos[0].part_count, 2);
    assert!(videos[0].finalized);
    assert_eq!(world.fake.post_count(), 1);
}

#[tokio::test]
async fn a_video_linkedin_cannot_process_fails_with_the_reason() {
    let world = World::start(LinkedInFake::new(CLIENT_ID, CLIENT_SECRET), None).await;
    let connection = world.connect("potter").await;
    world
        .fake
        .set_video_status_sequence(vec![MediaStatus::Processing, MediaStatus::ProcessingFailed]);
    let media = world
        .upload_file(common::media::sample_mp4(4), "kiln.mp4")
        .await;
    let post = world
        .create_post(&connection, "Opening the kiln", &[media], json!({}))
        .await;
    let failed = world.wait_for(&post, "failed").await;
    let error = failed["targets"][0]["error"].as_str().unwrap();
    assert!(error.contains("could not process the video"), "{error}");
    assert_eq!(world.fake.post_count(), 0);
}
