//! Product analytics end to end: a batch of events is stored and counted per day in the
//! person's own time zone; a batch with any wrong event (unknown name or property, a property
//! of the wrong kind, a time too far off, none or too many events) is refused whole and
//! stores nothing; nobody sees another person's counts; a summary's range is checked; and
//! reporting events has its own rate-limit tier.
//!
//! The app runs on a clock stopped at 2026-11-27 23:30 UTC: already the 28th in Berlin, still
//! the 27th in New York.

mod common;

use std::sync::Arc;

use chrono::{DateTime, TimeZone as _, Utc};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use uuid::Uuid;

use common::{Backend, PASSWORD, TestApp, error_body};
use server::clock::ManualClock;

fn stopped_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 23, 30, 0).unwrap()
}

/// An app on the stopped clock, with room for every request a test makes unless `extra`
/// says otherwise.
async fn spawn(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![
        ("RATE_LIMIT_API", "10000/min"),
        ("RATE_LIMIT_AUTH", "1000/min"),
        ("RATE_LIMIT_ANALYTICS", "1000/min"),
    ];
    vars.extend_from_slice(extra);
    let clock = Arc::new(ManualClock::starting_at(stopped_at()));
    TestApp::spawn_with_clock(backend, &vars, clock).await
}

/// A new account living in `zone`; its bearer token.
async fn person_in(app: &TestApp, zone: &str) -> String {
    let email = format!("analytics-{}@example.com", Uuid::new_v4().simple());
    let registered = app
        .post_json(
            "/api/auth/register",
            &json!({"email": email, "password": PASSWORD, "time_zone": zone}),
        )
        .await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    app.token_for(&email, PASSWORD).await
}

async fn track(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/analytics/track"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("the request is sent")
}

/// `GET /api/analytics/summary{query}`: the status and the JSON body.
async fn summary(app: &TestApp, token: &str, query: &str) -> (StatusCode, Value) {
    let response = app
        .client
        .get(app.url(&format!("/api/analytics/summary{query}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("the request is sent");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The summary over the default range, which must answer.
async fn counts(app: &TestApp, token: &str) -> Value {
    let (status, body) = summary(app, token, "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn a_batch_is_counted_per_day_in_the_persons_time_zone(backend: Backend) {
    let app = spawn(backend, &[]).await;
    let berlin = person_in(&app, "Europe/Berlin").await;
    let batch = json!({"events": [
        // 11:00 in Berlin on the 27th.
        {"name": "page_viewed", "properties": {"page": "calendar"}, "at": "2026-11-27T10:00:00Z"},
        // 23:59 in Berlin on the 27th.
        {"name": "page_viewed", "at": "2026-11-27T22:59:00Z"},
        // No time: now, 00:30 on the 28th in Berlin.
        {"name": "page_viewed", "properties": {"page": "studio"}},
        // 00:10 on the 28th in Berlin.
        {"name": "post_composed", "properties": {"platforms": 2, "scheduled": true, "media": 1},
         "at": "2026-11-27T23:10:00Z"},
    ]});
    let response = track(&app, &berlin, &batch).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"accepted": 4})
    );

    assert_eq!(
        counts(&app, &berlin).await,
        json!({
            "from": "2026-10-30",
            "to": "2026-11-28",
            "events": [
                {"name": "page_viewed", "total": 3, "days": [
                    {"day": "2026-11-27", "count": 2},
                    {"day": "2026-11-28", "count": 1},
                ]},
                {"name": "post_composed", "total": 1, "days": [
                    {"day": "2026-11-28", "count": 1},
                ]},
            ]
        })
    );
    let (status, one_day) = summary(&app, &berlin, "?from=2026-11-28&to=2026-11-28").await;
    assert_eq!(status, StatusCode::OK, "{one_day}");
    assert_eq!(
        one_day["events"],
        json!([
            {"name": "page_viewed", "total": 1, "days": [{"day": "2026-11-28", "count": 1}]},
            {"name": "post_composed", "total": 1, "days": [{"day": "2026-11-28", "count": 1}]},
        ])
    );

    // The same instant is still the 27th in New York, and so is today.
    let new_york = person_in(&app, "America/New_York").await;
    let late = json!({"events": [
        {"name": "store_connected", "properties": {"store": "etsy"}, "at": "2026-11-27T23:10:00Z"},
    ]});
    assert_eq!(
        track(&app, &new_york, &late).await.status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        counts(&app, &new_york).await,
        json!({
            "from": "2026-10-29",
            "to": "2026-11-27",
            "events": [{"name": "store_connected", "total": 1, "days": [
                {"day": "2026-11-27", "count": 1},
            ]}]
        })
    );
}

async fn a_batch_with_any_wrong_event_is_refused_whole(backend: Backend) {
    let app = spawn(backend, &[]).await;
    let token = person_in(&app, "UTC").await;
    let first = json!({"events": [
        {"name": "template_used", "properties": {"with_product": true}},
    ]});
    assert_eq!(
        track(&app, &token, &first).await.status(),
        StatusCode::ACCEPTED
    );
    let before = counts(&app, &token).await;
    assert_eq!(before["events"][0]["total"], 1, "{before}");

    let good = json!({"name": "page_viewed", "properties": {"page": "posts"}});
    let wrong = [
        (json!({"name": "signed_up_with_email"}), "events[1].name"),
        (
            json!({"name": "page_viewed", "properties": {"email": "ana@example.com"}}),
            "events[1].properties.email",
        ),
        (
            json!({"name": "page_viewed", "properties": {"page": "inbox"}}),
            "events[1].properties.page",
        ),
        (
            json!({"name": "post_composed", "properties": {"platforms": "two"}}),
            "events[1].properties.platforms",
        ),
        (
            json!({"name": "post_composed", "properties": {"platforms": 11}}),
            "events[1].properties.platforms",
        ),
        (
            json!({"name": "media_uploaded", "properties": {"direct": "yes"}}),
            "events[1].properties.direct",
        ),
        (
            json!({"name": "page_viewed", "at": "2026-11-26T23:00:00Z"}),
            "events[1].at",
        ),
        (
            json!({"name": "page_viewed", "at": "2026-11-27T23:40:00Z"}),
            "events[1].at",
        ),
    ];
    for (event, field) in wrong {
        let response = track(&app, &token, &json!({"events": [good, event]})).await;
        let error = error_body(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error["code"], "validation", "{event}: {error}");
        assert_eq!(error["field"], field, "{event}: {error}");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|message| message.starts_with("events[1]:")),
            "the message names the event: {error}"
        );
    }

    let none = track(&app, &token, &json!({"events": []})).await;
    let error = error_body(none, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error["field"], "events");
    let too_many: Vec<Value> = (0..51).map(|_| good.clone()).collect();
    let error = error_body(
        track(&app, &token, &json!({"events": too_many})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error["field"], "events");
    assert!(error["message"].as_str().unwrap().contains("51"), "{error}");

    assert_eq!(
        counts(&app, &token).await,
        before,
        "no refused event was stored"
    );

    // Fifty is allowed.
    let most: Vec<Value> = (0..50).map(|_| good.clone()).collect();
    let response = track(&app, &token, &json!({"events": most})).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(response.json::<Value>().await.unwrap()["accepted"], 50);
}

async fn a_body_that_is_not_a_batch_is_a_bad_request(backend: Backend) {
    let app = spawn(backend, &[]).await;
    let token = person_in(&app, "UTC").await;
    let send = |body: &'static str| {
        app.client
            .post(app.url("/api/analytics/track"))
            .bearer_auth(&token)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
    };
    for body in [
        "{\"events\": [",
        "{\"events\": \"page_viewed\"}",
        "{\"events\": [{\"properties\": {}}]}",
        "{\"events\": [{\"name\": \"page_viewed\", \"at\": \"yesterday\"}]}",
        "{\"events\": [{\"name\": \"page_viewed\", \"user\": \"ana@example.com\"}]}",
    ] {
        let response = send(body).await.expect("the request is sent");
        let error = error_body(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(error["code"], "bad_request", "{body}: {error}");
    }
    assert_eq!(counts(&app, &token).await["events"], json!([]));
}

async fn nobody_sees_anyone_elses_events(backend: Backend) {
    let app = spawn(backend, &[]).await;
    let (ana, bea) = (person_in(&app, "UTC").await, person_in(&app, "UTC").await);
    let ana_batch = json!({"events": [
        {"name": "caption_generated", "properties": {"provider": "builtin", "images": 2}},
        {"name": "caption_refined", "properties": {"pass": "emoji"}},
        {"name": "caption_refined", "properties": {"pass": "proofread"}},
    ]});
    let bea_batch = json!({"events": [
        {"name": "account_connected", "properties": {"platform": "linkedin"}},
    ]});
    assert_eq!(
        track(&app, &ana, &ana_batch).await.status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        track(&app, &bea, &bea_batch).await.status(),
        StatusCode::ACCEPTED
    );

    let names = |body: &Value| -> Vec<(String, u64)> {
        body["events"]
            .as_array()
            .expect("a list of events")
            .iter()
            .map(|event| {
                (
                    event["name"].as_str().unwrap().to_owned(),
                    event["total"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        names(&counts(&app, &ana).await),
        [
            ("caption_generated".to_owned(), 1),
            ("caption_refined".to_owned(), 2)
        ]
    );
    assert_eq!(
        names(&counts(&app, &bea).await),
        [("account_connected".to_owned(), 1)]
    );
}

async fn signing_in_is_required(backend: Backend) {
    let app = spawn(backend, &[]).await;
    let tracked = app
        .client
        .post(app.url("/api/analytics/track"))
        .json(&json!({"events": [{"name": "page_viewed"}]}))
        .send()
        .await
        .unwrap();
    error_body(tracked, StatusCode::UNAUTHORIZED).await;
    let read = app
        .client
        .get(app.url("/api/analytics/summary"))
        .send()
        .await
        .unwrap();
    error_body(read, StatusCode::UNAUTHORIZED).await;
}

/// Asks for the summary over `query` and checks it is refused for `field`.
async fn refused_range(app: &TestApp, token: &str, query: &str, field: &str) {
    let (status, body) = summary(app, token, query).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
    assert_eq!(body["error"]["field"], field, "{query}: {body}");
}

async fn a_summary_range_must_run_forwards_over_at_most_366_days(backend: Backend) {
    let app = spawn(backend, &[]).await;
    let token = person_in(&app, "UTC").await;
    refused_range(&app, &token, "?from=2026-11-20&to=2026-11-10", "from").await;
    refused_range(&app, &token, "?from=2025-11-26&to=2026-11-27", "to").await;
    // Only `from`, after today: the range would end before it starts.
    refused_range(&app, &token, "?from=2026-12-01", "from").await;

    let (status, body) = summary(&app, &token, "?from=2025-11-27&to=2026-11-27").await;
    assert_eq!(status, StatusCode::OK, "366 days: {body}");
    assert_eq!(body["from"], "2025-11-27");
    assert_eq!(body["to"], "2026-11-27");

    let (status, body) = summary(&app, &token, "?from=last-week").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

on_both_databases!(
    a_batch_is_counted_per_day_in_the_persons_time_zone,
    a_batch_with_any_wrong_event_is_refused_whole,
    a_body_that_is_not_a_batch_is_a_bad_request,
    nobody_sees_anyone_elses_events,
    signing_in_is_required,
    a_summary_range_must_run_forwards_over_at_most_366_days,
);

/// The limiter counts in the process here, whatever the database, so SQLite is enough.
#[tokio::test]
async fn reporting_events_has_its_own_rate_limit() {
    let app = spawn(Backend::Sqlite, &[("RATE_LIMIT_ANALYTICS", "3/min")]).await;
    let token = person_in(&app, "UTC").await;
    let batch = json!({"events": [{"name": "page_viewed", "properties": {"page": "settings"}}]});
    for _ in 0..3 {
        assert_eq!(
            track(&app, &token, &batch).await.status(),
            StatusCode::ACCEPTED
        );
    }
    let limited = track(&app, &token, &batch).await;
    assert!(
        limited.headers().contains_key(header::RETRY_AFTER),
        "a 429 says when to come back"
    );
    let error = error_body(limited, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(error["code"], "rate_limited");

    // The rest of the API is another tier: the summary still answers, with the three batches.
    let body = counts(&app, &token).await;
    assert_eq!(body["events"][0]["total"], 3, "{body}");
}

#[tokio::test]
async fn both_routes_are_in_the_api_document() {
    let app = spawn(Backend::Sqlite, &[]).await;
    let document: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in ["/api/analytics/track", "/api/analytics/summary"] {
        assert!(
            document["paths"].get(path).is_some(),
            "{path} is documented"
        );
    }
    for schema in ["TrackBatch", "TrackedEvent", "AnalyticsSummary", "DayCount"] {
        assert!(
            document["components"]["schemas"].get(schema).is_some(),
            "{schema}"
        );
    }
}
