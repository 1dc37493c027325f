//! Product syncs at catalogue scale, end to end: the release binary (`serve`: SQLite by
//! default, workers inside, in-process queue) syncs 10,000 products from each store fake served
//! in this process on 127.0.0.1, page by page as the stores' APIs give them (Shopify 30 a page
//! under its cost bucket, Etsy 100 by offset, Squarespace 50 by cursor).
//!
//! For each store in turn, from a fresh connection:
//! 1. `{store}.sync_secs`: from the OAuth callback until the store says its first (full) sync
//!    finished, read every 100 ms from `GET /api/stores`; `{store}.products_per_s`. Shopify's
//!    fake keeps its cost bucket (10,000 points, 1,000 a second, like Shopify Plus), so its
//!    figure includes the waits a real shop of that plan imposes.
//! 2. `{store}.resync_secs`: a second full sync of the unchanged catalogue (the upserts that
//!    change nothing).
//!
//! Then, with 30,000 products in the database: `products_page_ms.p50` / `.p99` for the
//! Products page's first page (`GET /products`, the server-rendered HTML a browser receives) and
//! `products_api_ms.p50` / `.p99` for `GET /api/products?q=mug` (a search), over 50 requests
//! each; and `peak_rss_mib`, the server process's highest resident memory over all of it.
//!
//! Output: one `figure: value` line per figure, then a line of JSON with all of them. Run it
//! with `make bench-stores`, or by hand:
//!
//! ```text
//! cargo build --release -p server && cargo bench -p server --bench store_sync
//! ```
//!
//! `BENCH_DATABASE_URL` runs it on PostgreSQL instead (a database the bench may fill).
//! `BENCH_PRODUCTS` changes the catalogue size (default 10,000). Without `--bench` among its
//! arguments it does nothing.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, ensure};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Map, Value, json};

use server::sandbox::etsy::EtsyFake;
use server::sandbox::shopify::ShopifyFake;
use server::sandbox::squarespace::SquarespaceFake;

mod support;
use support::{
    Child, TempDir, free_port, json_of, peak_rss_mib, server_bin, sign_in, wait_ready,
    workspace_root,
};

const CLIENT_ID: &str = "bench-client";
const CLIENT_SECRET: &str = "bench-secret";
const SHOP: &str = "bench-shop.myshopify.com";
const DEFAULT_PRODUCTS: usize = 10_000;
const SYNC_TIMEOUT: Duration = Duration::from_secs(1800);
const PAGE_SAMPLES: usize = 50;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> ExitCode {
    if !std::env::args().any(|arg| arg == "--bench") {
        println!("store_sync: skipped (run it with `cargo bench -p server --bench store_sync`)");
        return ExitCode::SUCCESS;
    }
    let outcome = tokio::select! {
        outcome = run() => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("store_sync bench failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The three fakes, listening.
struct Fakes {
    shopify: ShopifyFake,
    etsy: EtsyFake,
    squarespace: SquarespaceFake,
    shopify_url: String,
    etsy_url: String,
    squarespace_url: String,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

async fn fakes(products: usize) -> Result<Fakes> {
    let shopify = ShopifyFake::new(CLIENT_ID, CLIENT_SECRET);
    let etsy = EtsyFake::new(CLIENT_ID, CLIENT_SECRET);
    let squarespace = SquarespaceFake::new(CLIENT_ID, CLIENT_SECRET);
    shopify.set_catalogue_size(products);
    etsy.set_catalogue_size(products);
    squarespace.set_catalogue_size(products);
    // Etsy's default is 10 calls a second per app, which 200 pages would wait on: the bench
    // measures our side, so each store's own limit is raised past what a sync asks.
    etsy.set_rate_limits(1_000, 1_000_000);
    squarespace.set_requests_per_minute(100_000);
    let (shopify_addr, shopify_task) = server::sandbox::serve(shopify.router()).await?;
    let (etsy_addr, etsy_task) = server::sandbox::serve(etsy.router()).await?;
    let (squarespace_addr, squarespace_task) = server::sandbox::serve(squarespace.router()).await?;
    Ok(Fakes {
        shopify,
        etsy,
        squarespace,
        shopify_url: format!("http://{shopify_addr}"),
        etsy_url: format!("http://{etsy_addr}"),
        squarespace_url: format!("http://{squarespace_addr}"),
        tasks: vec![shopify_task, etsy_task, squarespace_task],
    })
}

async fn run() -> Result<()> {
    let products: usize = match std::env::var("BENCH_PRODUCTS") {
        Ok(raw) => raw
            .parse()
            .with_context(|| format!("BENCH_PRODUCTS: `{raw}` is not a number"))?,
        Err(_) => DEFAULT_PRODUCTS,
    };
    let root = workspace_root();
    let bin = server_bin(&root);
    ensure!(
        bin.exists(),
        "no release binary at {} (cargo build --release -p server)",
        bin.display()
    );
    let fakes = fakes(products).await?;
    // Declared before the server, dropped after it.
    let dir = TempDir::create()?;
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let env = server_env(&dir.path().join("data"), port, &fakes);
    let log = dir.path().join("server.log");
    let mut server = Child::spawn("server", &bin, &["serve"], &env, &root, log)?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("the HTTP client builds")?;
    wait_ready(&client, &base, &mut server).await?;
    let token = sign_in(&client, &base).await?;

    let mut figures: Vec<(String, f64)> = Vec::new();
    for store in ["shopify", "etsy", "squarespace"] {
        let started = Instant::now();
        let id = connect(&client, &base, &token, store, &fakes).await?;
        let synced = wait_synced(&client, &base, &token, &id, &mut server).await?;
        let secs = started.elapsed().as_secs_f64();
        ensure!(
            synced["products"] == products,
            "{store} synced {} of {products} products",
            synced["products"]
        );
        figures.push((format!("{store}.sync_secs"), round(secs)));
        figures.push((
            format!("{store}.products_per_s"),
            round(products as f64 / secs),
        ));
        let started = Instant::now();
        let response = client
            .post(format!("{base}/api/stores/{id}/sync?full=true"))
            .bearer_auth(&token)
            .send()
            .await?;
        json_of(response, StatusCode::ACCEPTED, "POST /api/stores/{id}/sync").await?;
        wait_synced(&client, &base, &token, &id, &mut server).await?;
        figures.push((
            format!("{store}.resync_secs"),
            round(started.elapsed().as_secs_f64()),
        ));
    }

    let page = timings(PAGE_SAMPLES, || async {
        let response = client
            .get(format!("{base}/products"))
            .header("cookie", format!("picscripter_session={token}"))
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        ensure!(
            status == StatusCode::OK && body.contains("Create post"),
            "GET /products answered {status} without products"
        );
        Ok(())
    })
    .await?;
    let search = timings(PAGE_SAMPLES, || async {
        let response = client
            .get(format!("{base}/api/products?q=mug"))
            .bearer_auth(&token)
            .send()
            .await?;
        json_of(response, StatusCode::OK, "GET /api/products").await?;
        Ok(())
    })
    .await?;
    figures.push(("products_page_ms.p50".into(), page.0));
    figures.push(("products_page_ms.p99".into(), page.1));
    figures.push(("products_api_ms.p50".into(), search.0));
    figures.push(("products_api_ms.p99".into(), search.1));
    figures.push(("peak_rss_mib".into(), round(peak_rss_mib(server.pid())?)));
    server.stop();
    for task in fakes.tasks {
        task.abort();
    }

    let mut all = Map::new();
    for (name, value) in figures {
        println!("{name}: {value}");
        all.insert(name, json!(value));
    }
    println!("{}", Value::Object(all));
    Ok(())
}

/// Connects `store` as a browser would (authorize, the fake's consent, the callback); the
/// store's id.
async fn connect(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    store: &str,
    fakes: &Fakes,
) -> Result<String> {
    let body = if store == "shopify" {
        json!({ "shop": SHOP })
    } else {
        json!({})
    };
    let response = client
        .post(format!("{base}/api/stores/{store}/authorize"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let answer = json_of(
        response,
        StatusCode::OK,
        "POST /api/stores/{store}/authorize",
    )
    .await?;
    let url = answer["url"].as_str().context("no authorize url")?;
    let callback = match store {
        "shopify" => fakes.shopify.authorize_directly(url, SHOP),
        "etsy" => fakes.etsy.authorize_directly(url, "bench"),
        _ => fakes.squarespace.authorize_directly(url, "bench"),
    }
    .map_err(|problem| anyhow!("the {store} fake refused our authorize URL: {problem}"))?;
    let response = client.get(&callback).bearer_auth(token).send().await?;
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    ensure!(
        location.starts_with("/connections?store_connected="),
        "the {store} callback went to {location:?}"
    );
    let response = client
        .get(format!("{base}/api/stores"))
        .bearer_auth(token)
        .send()
        .await?;
    let overview = json_of(response, StatusCode::OK, "GET /api/stores").await?;
    overview["stores"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|connected| connected["store"] == store)
        .and_then(|connected| connected["id"].as_str())
        .map(str::to_owned)
        .with_context(|| format!("{store} is not among the stores: {overview}"))
}

/// Waits until store `id`'s sync is over; the store then.
async fn wait_synced(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    id: &str,
    server: &mut Child,
) -> Result<Value> {
    let started = Instant::now();
    loop {
        let response = client
            .get(format!("{base}/api/stores"))
            .bearer_auth(token)
            .send()
            .await?;
        let overview = json_of(response, StatusCode::OK, "GET /api/stores").await?;
        let store = overview["stores"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|store| store["id"] == id)
            .cloned()
            .context("the store vanished")?;
        if store["sync"]["running"] == false {
            ensure!(
                store["sync"]["last_error"].is_null(),
                "the sync failed: {}",
                store["sync"]["last_error"]
            );
            return Ok(store);
        }
        if let Some(status) = server.exited() {
            return Err(anyhow!(
                "the server exited during a sync ({status}):\n{}",
                server.log_tail()
            ));
        }
        ensure!(started.elapsed() < SYNC_TIMEOUT, "the sync did not end");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// p50 and p99 of `samples` runs of `request`, in milliseconds.
async fn timings<Request, Requesting>(samples: usize, request: Request) -> Result<(f64, f64)>
where
    Request: Fn() -> Requesting,
    Requesting: std::future::Future<Output = Result<()>>,
{
    let mut took = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        request().await?;
        took.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    took.sort_by(f64::total_cmp);
    let at = |share: f64| took[((took.len() - 1) as f64 * share).round() as usize];
    Ok((round(at(0.5)), round(at(0.99))))
}

fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn server_env(data_dir: &Path, port: u16, fakes: &Fakes) -> Vec<(String, String)> {
    let jwt_secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let shop_template = format!("{}/{{shop}}", fakes.shopify_url);
    [
        ("DATA_DIR", data_dir.display().to_string()),
        ("PICSCRIPTER_ADDR", format!("127.0.0.1:{port}")),
        ("JWT_SECRET", jwt_secret),
        (
            "DATABASE_URL",
            std::env::var("BENCH_DATABASE_URL").unwrap_or_default(),
        ),
        ("REDIS_URL", String::new()),
        ("SHOPIFY_CLIENT_ID", CLIENT_ID.to_owned()),
        ("SHOPIFY_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("SHOPIFY_SHOP_URL_TEMPLATE", shop_template),
        ("ETSY_CLIENT_ID", CLIENT_ID.to_owned()),
        ("ETSY_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("ETSY_AUTH_URL", fakes.etsy_url.clone()),
        ("ETSY_API_URL", fakes.etsy_url.clone()),
        ("SQUARESPACE_CLIENT_ID", CLIENT_ID.to_owned()),
        ("SQUARESPACE_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("SQUARESPACE_AUTH_URL", fakes.squarespace_url.clone()),
        ("SQUARESPACE_API_URL", fakes.squarespace_url.clone()),
        ("RATE_LIMIT_API", "1000000/s".to_owned()),
        ("RATE_LIMIT_AUTH", "1000000/s".to_owned()),
        ("RATE_LIMIT_OAUTH", "1000000/s".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}
