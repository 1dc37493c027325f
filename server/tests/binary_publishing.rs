//! The publishing split as an operator runs it: `picscripter serve --no-workers` and
//! `picscripter worker` as two processes on one database and one Redis, against the X fake.
//! A post made through the web process is published by the worker process; both stop cleanly
//! on SIGTERM; and no token the fake issued appears in either process's log, in an API answer
//! or in a page. And the process's own `TZ` changes nothing about when posts are due.

mod common;

use serde_json::{Value, json};

use common::process::{Api, LEPTOS_CONFIG, Process, free_port};
use server::sandbox::x::XFake;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_process_publishes_what_the_web_process_stored_and_no_token_leaks() {
    let fake = XFake::new("bin-client", "bin-secret");
    // The first token expires within five minutes, so the worker refreshes it (more tokens to
    // look for).
    fake.set_access_token_lifetime(60);
    let (fake_addr, _fake_server) = server::sandbox::serve(fake.router()).await.unwrap();
    let fake_url = format!("http://{fake_addr}");
    let dir = std::env::temp_dir().join(format!("picscripter-split-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let health_port = free_port();
    let env: Vec<(String, String)> = [
        ("DATA_DIR", dir.display().to_string()),
        ("PICSCRIPTER_ADDR", format!("127.0.0.1:{port}")),
        ("WORKER_HEALTH_ADDR", format!("127.0.0.1:{health_port}")),
        ("REDIS_URL", common::REDIS_URL.to_owned()),
        (
            "REDIS_PREFIX",
            format!("picscripter-test:{}", uuid::Uuid::new_v4().simple()),
        ),
        ("X_CLIENT_ID", "bin-client".to_owned()),
        ("X_CLIENT_SECRET", "bin-secret".to_owned()),
        ("X_AUTH_URL", fake_url.clone()),
        ("X_API_URL", fake_url.clone()),
        ("RUST_LOG", "debug".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let mut web = Process::start(
        &["serve", "--no-workers", "--leptos-config", LEPTOS_CONFIG],
        &env,
        &dir,
    );
    web.wait_for("listening").await;
    let mut worker = Process::start(&["worker"], &env, &dir);
    worker.wait_for("publishing worker started").await;

    let api = Api::new(&base);
    let client = &api.client;
    let token = api.sign_up("split@example.com").await;
    let (connection, overview) = api.connect_x(&token, &fake, "split_shop").await;
    let mut answers = vec![overview];
    let body = json!({ "text": "From the worker process", "targets": [{ "connection_id": connection }], "schedule": "now" });
    let post = api
        .json(
            reqwest::Method::POST,
            "/api/posts",
            Some(&token),
            Some(&body),
        )
        .await;
    let published = api.until_published(&token, &post).await;
    assert_eq!(
        published["targets"][0]["status"],
        "published",
        "{published}\nworker:\n{}",
        worker.lines().join("\n")
    );
    assert_eq!(fake.post_count(), 1);
    assert_eq!(
        fake.refresh_count(),
        1,
        "the worker refreshed the expiring token"
    );

    // The worker process answers its own probes: its workers are alive and it counted the
    // attempt; the web process runs none.
    let probe = format!("http://127.0.0.1:{health_port}");
    let ready = api
        .json(reqwest::Method::GET, &format!("{probe}/readyz"), None, None)
        .await;
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["checks"]["workers"], "ok");
    assert_eq!(ready["checks"]["redis"], "ok");
    let metrics = api
        .send(
            reqwest::Method::GET,
            &format!("{probe}/metrics"),
            None,
            None,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("picscripter_publish_attempts_total{outcome=\"published\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("picscripter_worker_silence_seconds "),
        "{metrics}"
    );
    let web_ready = api.json(reqwest::Method::GET, "/readyz", None, None).await;
    assert_eq!(web_ready["checks"]["workers"], "not run here");
    answers.push(published.to_string());
    for page in ["/connections", "/posts"] {
        answers.push(
            client
                .get(format!("{base}{page}"))
                .header("cookie", format!("picscripter_session={token}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
    }

    assert!(
        worker.terminate().await.success(),
        "{}",
        worker.lines().join("\n")
    );
    worker.wait_for("publishing worker stopped").await;
    assert!(web.terminate().await.success());

    let tokens = fake.issued_tokens();
    assert!(
        tokens.len() >= 3,
        "an access and a refresh token, and the refreshed pair"
    );
    let logs: Vec<String> = web.lines().into_iter().chain(worker.lines()).collect();
    for issued in &tokens {
        for line in &logs {
            assert!(
                !line.contains(issued.as_str()),
                "a token in a log line: {line}"
            );
        }
        for answer in &answers {
            assert!(
                !answer.contains(issued.as_str()),
                "a token in an answer or a page"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `serve` (SQLite, in-process queue) with the process's `TZ` set to `tz` (or unset),
/// schedules a post at 09:00 Europe/Paris on each day around both changes of the clocks in
/// 2027, publishes one now, and returns when each scheduled post is due, in UTC.
async fn schedules_under(tz: Option<&str>) -> Vec<String> {
    let fake = XFake::new("tz-client", "tz-secret");
    let (fake_addr, _fake_server) = server::sandbox::serve(fake.router()).await.unwrap();
    let fake_url = format!("http://{fake_addr}");
    let dir = std::env::temp_dir().join(format!("picscripter-tz-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut env: Vec<(String, String)> = [
        ("DATA_DIR", dir.display().to_string()),
        ("PICSCRIPTER_ADDR", format!("127.0.0.1:{port}")),
        ("X_CLIENT_ID", "tz-client".to_owned()),
        ("X_CLIENT_SECRET", "tz-secret".to_owned()),
        ("X_AUTH_URL", fake_url.clone()),
        ("X_API_URL", fake_url),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if let Some(tz) = tz {
        env.push(("TZ".to_owned(), tz.to_owned()));
    }
    let mut web = Process::start(&["serve", "--leptos-config", LEPTOS_CONFIG], &env, &dir);
    web.wait_for("listening").await;

    let api = Api::new(&base);
    let client = &api.client;
    let token = api.sign_up("tz@example.com").await;
    let profile = client
        .post(format!("{base}/rpc/settings/profile"))
        .header("cookie", format!("picscripter_session={token}"))
        .header("accept", "application/json")
        .form(&[("display_name", ""), ("time_zone", "Europe/Paris")])
        .send()
        .await
        .unwrap();
    assert_eq!(profile.status(), 200);
    let (connection, _) = api.connect_x(&token, &fake, "tz_shop").await;
    let create = |schedule: Value| {
        let client = client.clone();
        let url = format!("{base}/api/posts");
        let body = json!({ "text": format!("At {schedule}"), "targets": [{ "connection_id": connection }], "schedule": schedule });
        let token = token.clone();
        async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201);
            response.json::<Value>().await.unwrap()
        }
    };

    let mut due = Vec::new();
    for day in [
        "2027-03-27",
        "2027-03-28",
        "2027-03-29",
        "2027-10-30",
        "2027-10-31",
        "2027-11-01",
    ] {
        let post = create(json!({ "local": format!("{day}T09:00") })).await;
        due.push(post["scheduled_at"].as_str().unwrap().to_owned());
    }
    // And the process publishes as usual under this TZ.
    let now = create(json!("now")).await;
    let status = api.until_published(&token, &now).await["targets"][0]["status"].clone();
    assert_eq!(status, "published", "under TZ={tz:?}");
    assert!(web.terminate().await.success());
    let _ = std::fs::remove_dir_all(&dir);
    due
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_process_schedules_the_same_whatever_its_tz() {
    let expected = [
        "2027-03-27T08:00:00Z",
        "2027-03-28T07:00:00Z",
        "2027-03-29T07:00:00Z",
        "2027-10-30T07:00:00Z",
        "2027-10-31T08:00:00Z",
        "2027-11-01T08:00:00Z",
    ];
    for tz in [None, Some("UTC"), Some("Etc/UTC"), Some("America/New_York")] {
        assert_eq!(schedules_under(tz).await, expected, "under TZ={tz:?}");
    }
}
