//! Several `picscripter serve` processes on one PostgreSQL and one Redis, as behind a load
//! balancer: the rate-limit tiers and the sign-in throttle are one budget for all of them; a
//! Redis outage leaves each process counting alone (never unlimited) until Redis is back; and
//! an OAuth round trip, an idempotency key and a token refresh that cross processes still
//! happen once.

mod common;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use common::process::{Api, LEPTOS_CONFIG, Process, free_port};
use common::{PASSWORD, REDIS_URL, TcpProxy};
use server::sandbox::x::XFake;

/// The web processes of one deployment: one database, one Redis prefix, the same secrets and
/// one public address (the proxy's, here the first process's), each with its own data
/// directory.
struct Deployment {
    fake: XFake,
    _fake_server: tokio::task::JoinHandle<()>,
    processes: Vec<Process>,
    apis: Vec<Api>,
    dirs: Vec<std::path::PathBuf>,
    database: String,
}

impl Deployment {
    /// `count` web processes with `extra` settings; `redis_url` is what they reach Redis by.
    async fn start(count: usize, redis_url: &str, args: &[&str], extra: &[(&str, &str)]) -> Self {
        let fake = XFake::new("scale-client", "scale-secret");
        let (fake_addr, fake_server) = server::sandbox::serve(fake.router()).await.unwrap();
        let fake_url = format!("http://{fake_addr}");
        let (database, database_url) = common::create_postgres_database().await;
        let ports: Vec<u16> = (0..count).map(|_| free_port()).collect();
        let mut shared: Vec<(String, String)> = [
            ("DATABASE_URL", database_url),
            ("REDIS_URL", redis_url.to_owned()),
            (
                "REDIS_PREFIX",
                format!("picscripter-test:{}", uuid::Uuid::new_v4().simple()),
            ),
            ("PUBLIC_BASE_URL", format!("http://127.0.0.1:{}", ports[0])),
            ("JWT_SECRET", format!("scale-{}", uuid::Uuid::new_v4())),
            ("ENCRYPTION_KEY", server::crypto::generate_key()),
            ("X_CLIENT_ID", "scale-client".to_owned()),
            ("X_CLIENT_SECRET", "scale-secret".to_owned()),
            ("X_AUTH_URL", fake_url.clone()),
            ("X_API_URL", fake_url),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        shared.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );

        let mut deployment = Self {
            fake,
            _fake_server: fake_server,
            processes: Vec::new(),
            apis: Vec::new(),
            dirs: Vec::new(),
            database,
        };
        let mut serve = vec!["serve", "--leptos-config", LEPTOS_CONFIG];
        serve.extend(args);
        for port in ports {
            let dir =
                std::env::temp_dir().join(format!("picscripter-scale-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&dir).unwrap();
            let mut env = shared.clone();
            env.push(("DATA_DIR".into(), dir.display().to_string()));
            env.push(("PICSCRIPTER_ADDR".into(), format!("127.0.0.1:{port}")));
            let process = Process::start(&serve, &env, &dir);
            process.wait_for("listening").await;
            deployment.processes.push(process);
            deployment
                .apis
                .push(Api::new(&format!("http://127.0.0.1:{port}")));
            deployment.dirs.push(dir);
        }
        deployment
    }

    /// The answer to starting an authorization for X through process `at`.
    async fn authorize(&self, at: usize, token: &str) -> reqwest::Response {
        self.apis[at]
            .send(
                Method::POST,
                "/api/connections/x/authorize",
                Some(token),
                None,
            )
            .await
    }

    async fn login(&self, at: usize, email: &str, password: &str) -> reqwest::Response {
        let credentials = json!({ "email": email, "password": password });
        self.apis[at]
            .send(Method::POST, "/api/auth/login", None, Some(&credentials))
            .await
    }

    fn logs(&self) -> String {
        self.processes
            .iter()
            .flat_map(Process::lines)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        // The processes go first (their own Drop kills them), then what they used.
        self.processes.clear();
        for dir in &self.dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
        common::drop_postgres_database(std::mem::take(&mut self.database));
    }
}

async fn retry_after(response: reqwest::Response) -> u64 {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let header: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(header >= 1);
    header
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_web_processes_share_one_rate_budget_and_one_sign_in_throttle() {
    let cluster = Deployment::start(
        2,
        REDIS_URL,
        &["--no-workers"],
        &[("RATE_LIMIT_OAUTH", "4/min")],
    )
    .await;
    let token = cluster.apis[0].sign_up("shared@example.com").await;

    // Four authorizations, two through each process, spend the one budget of four.
    for at in [0, 1, 0, 1] {
        assert_eq!(cluster.authorize(at, &token).await.status(), 200);
    }
    for at in [0, 1] {
        let wait = retry_after(cluster.authorize(at, &token).await).await;
        assert!(wait <= 15, "a quarter of a minute at most: {wait}");
    }

    // Five wrong passwords spread over both processes lock the account out of both, the right
    // password included.
    for at in [0, 1, 0, 1, 0] {
        let refused = cluster
            .login(at, "shared@example.com", "not the password")
            .await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    }
    for at in [1, 0] {
        let wait = retry_after(cluster.login(at, "shared@example.com", PASSWORD).await).await;
        assert!(
            wait > 60 && wait <= 300,
            "the rest of the five-minute window: {wait}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_leaves_each_process_counting_alone_until_redis_is_back() {
    let redis_addr: std::net::SocketAddr = "127.0.0.1:6379".parse().unwrap();
    let link = TcpProxy::start(redis_addr).await;
    let link_addr = link.addr;
    let cluster = Deployment::start(
        1,
        &format!("redis://{link_addr}"),
        &["--no-workers"],
        &[("RATE_LIMIT_OAUTH", "3/min")],
    )
    .await;
    let token = cluster.apis[0].sign_up("outage@example.com").await;
    // One authorization counted in Redis.
    assert_eq!(cluster.authorize(0, &token).await.status(), 200);

    link.cut();
    drop(link);
    // Each pooled connection is cut by its own task; until every one is, a request may still
    // get through on one, and Redis would look back for a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Counted here now, from a fresh bucket: three more, then refused. Never unlimited.
    for _ in 0..3 {
        assert_eq!(cluster.authorize(0, &token).await.status(), 200);
    }
    retry_after(cluster.authorize(0, &token).await).await;
    // The sign-in throttle too: five failures lock this process's door.
    for _ in 0..5 {
        let refused = cluster
            .login(0, "outage@example.com", "not the password")
            .await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    }
    retry_after(cluster.login(0, "outage@example.com", PASSWORD).await).await;
    let logs = cluster.logs();
    for what in ["rate limits", "sign-in throttles"] {
        assert!(
            logs.contains(&format!(
                "Redis is unreachable: {what} now count per process"
            )),
            "a warning for {what}:\n{logs}"
        );
    }
    assert_eq!(
        logs.matches("Redis is unreachable: rate limits").count(),
        1,
        "one warning per outage, not one per request:\n{}",
        logs.lines()
            .filter(|line| line.contains("Redis is"))
            .collect::<Vec<_>>()
            .join("\n")
    );

    // Redis comes back at the same address; the process reconnects by itself and counts in
    // Redis again, where one of the three is spent.
    let _link = TcpProxy::start_at(link_addr, redis_addr).await;
    let mut back = false;
    for _ in 0..150 {
        let _ = cluster.authorize(0, &token).await;
        if cluster.logs().contains("Redis is back: rate limits") {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back, "no recovery logged:\n{}", cluster.logs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_idempotency_and_token_refresh_hold_across_two_processes() {
    let cluster = Deployment::start(2, REDIS_URL, &[], &[]).await;
    let fake = &cluster.fake;
    // The first access token expires within five minutes, so the first publish refreshes it.
    fake.set_access_token_lifetime(60);
    let (a, b) = (&cluster.apis[0], &cluster.apis[1]);
    let token = a.sign_up("crossing@example.com").await;

    // Consent started through one process comes back through the other.
    let started: Value = cluster.authorize(0, &token).await.json().await.unwrap();
    let back = fake
        .authorize_directly(started["url"].as_str().unwrap(), "crossing_shop")
        .unwrap();
    let back_at_b = back.replacen(&a.base, &b.base, 1);
    assert_ne!(back, back_at_b, "the callback goes to the other process");
    let callback = b.send(Method::GET, &back_at_b, Some(&token), None).await;
    let landed = callback.headers()["location"].to_str().unwrap().to_owned();
    assert!(landed.starts_with("/connections?connected="), "{landed}");
    // The same link again, through the first process: the state was spent.
    let replay = a.send(Method::GET, &back, Some(&token), None).await;
    let landed = replay.headers()["location"].to_str().unwrap().to_owned();
    assert!(landed.starts_with("/connections?error="), "{landed}");
    assert_eq!(fake.code_exchange_count(), 1);
    let overview = b
        .json(Method::GET, "/api/connections", Some(&token), None)
        .await;
    let connections = overview["connections"].as_array().unwrap();
    assert_eq!(connections.len(), 1, "{overview}");
    let connection = connections[0]["id"].clone();
    fake.set_access_token_lifetime(3600);

    // One key, sent to both processes at once: one post.
    let body = json!({ "text": "Once, through either door", "targets": [{ "connection_id": connection }], "schedule": "now" });
    let send = |api: &Api| {
        api.client
            .post(format!("{}/api/posts", api.base))
            .bearer_auth(&token)
            .header("idempotency-key", "crossing-1")
            .json(&body)
            .send()
    };
    let (first, second) = tokio::join!(send(a), send(b));
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first.status(), 201);
    assert_eq!(second.status(), 201);
    let first: Value = first.json().await.unwrap();
    let second: Value = second.json().await.unwrap();
    assert_eq!(first["id"], second["id"]);

    // Eight more, through both processes, whose workers share the queue: each published once,
    // and the expiring token refreshed once (X spends a refresh token on its first use).
    let mut posts = vec![first];
    for n in 0..8 {
        let api = if n % 2 == 0 { a } else { b };
        let body = json!({ "text": format!("Post {n}"), "targets": [{ "connection_id": connection }], "schedule": "now" });
        let response = api
            .send(Method::POST, "/api/posts", Some(&token), Some(&body))
            .await;
        assert_eq!(response.status(), 201);
        posts.push(response.json().await.unwrap());
    }
    for post in &posts {
        let published = b.until_published(&token, post).await;
        assert_eq!(
            published["targets"][0]["status"],
            "published",
            "{published}\n{}",
            cluster.logs()
        );
    }
    assert_eq!(fake.post_count(), 9);
    assert_eq!(fake.refresh_count(), 1, "{}", cluster.logs());
}
