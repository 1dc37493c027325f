//! The `picscripter` binary.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use server::backend::Backend;
use server::clock::SystemClock;
use server::config::Config;
use server::key_rotation::rotate_keys;
use server::startup::{Application, cancel_on_signal, token_keyring};
use server::{db, telemetry};

/// glibc's allocator was a fifth of the web process's CPU under `GET /api/posts` load
/// (`perf`, BENCHMARKS.md): every request allocates its rows, JSON and headers.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_arena_eager_commit` in mimalloc.h (v3, which libmimalloc-sys builds); its
/// bindings do not name it.
const MI_OPTION_ARENA_EAGER_COMMIT: std::ffi::c_int = 4;

unsafe extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// mimalloc commits its arenas up front on Linux and keeps what it freed there: an idle web
/// process held 36 MiB instead of 25. Committing on demand lets freed pages go back, at little
/// cost to its speed. The option is read when the first arena is made, before `main`, so it
/// is set from the program's initialisers.
extern "C" fn commit_on_demand() {
    // SAFETY: sets one of mimalloc's options; no thread is running yet.
    unsafe { mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) };
}

#[used]
#[unsafe(link_section = ".init_array")]
static COMMIT_ON_DEMAND: extern "C" fn() = commit_on_demand;

#[derive(Parser)]
#[command(
    name = "picscripter",
    version,
    about = "Picscripterai: plan, write and publish posts everywhere"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app and the API (runs pending migrations first).
    Serve {
        /// Listen here instead of PICSCRIPTER_ADDR (default 127.0.0.1:3000).
        #[arg(long)]
        addr: Option<SocketAddr>,
        /// The Leptos site settings (output name, site root).
        #[arg(long, default_value = "Leptos.toml")]
        leptos_config: PathBuf,
        /// Do not publish from this process (run `picscripter worker` processes instead).
        #[arg(long)]
        no_workers: bool,
        /// Try the app with no real accounts: mounts fakes of X and Pinterest under
        /// /sandbox/{platform}, points the platforms at them and shows a "Sandbox" banner on
        /// every page.
        #[arg(long)]
        sandbox: bool,
    },
    /// Run the publishing workers alone (no web server), against the same database and Redis
    /// as the web processes.
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Re-encrypt every stored platform token under the current ENCRYPTION_KEY, so that the
    /// keys in ENCRYPTION_KEYS_OLD can be retired. Safe while the app runs.
    RotateKey,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // Flags are applied before anything is derived from them (the default public URL).
    let overrides = match &cli.command {
        Command::Serve {
            addr: Some(addr), ..
        } => vec![("PICSCRIPTER_ADDR", addr.to_string())],
        _ => Vec::new(),
    };
    let (mut config, warnings) = match Config::from_env(&overrides) {
        Ok(parsed) => parsed,
        Err(problems) => {
            eprintln!("picscripter cannot start: {problems}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format, config.log_filter.as_deref());
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    let result = match cli.command {
        Command::Serve {
            leptos_config,
            no_workers,
            sandbox,
            ..
        } => {
            config.run_workers = !no_workers;
            config.sandbox = sandbox;
            serve(config, leptos_config).await
        }
        Command::Worker => worker(config).await,
        Command::Migrate => migrate(config).await,
        Command::RotateKey => rotate_key(config).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("picscripter: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config, leptos_config: PathBuf) -> anyhow::Result<()> {
    let path = leptos_config
        .to_str()
        .context("the --leptos-config path is not UTF-8")?;
    let leptos = leptos::config::get_configuration(Some(path))
        .with_context(|| format!("cannot read the Leptos site settings from {path}; run from the repository root or pass --leptos-config"))?
        .leptos_options;
    let app = Application::build(config, leptos).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn(
        cancel_on_signal(shutdown.clone()).context("cannot listen for SIGTERM and Ctrl-C")?,
    );
    tracing::info!(addr = %app.local_addr(), "listening");
    app.run_until_stopped(shutdown).await
}

async fn worker(config: Config) -> anyhow::Result<()> {
    let backend = Backend::open(&config, std::sync::Arc::new(SystemClock)).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn(
        cancel_on_signal(shutdown.clone()).context("cannot listen for SIGTERM and Ctrl-C")?,
    );
    let tasks = tokio_util::task::TaskTracker::new();
    backend.spawn_publishing(
        Backend::worker_settings(&config),
        &tasks,
        &shutdown,
        config.shutdown_grace,
    );
    if let Some(addr) = config.worker_health_addr {
        let probes = server::http::health::Probes {
            db: backend.db.clone(),
            redis: backend.redis.clone(),
            metrics: std::sync::Arc::new(server::http::metrics::Metrics::new(
                backend.stats.clone(),
                true,
                backend.clock.clone(),
                config.metrics_token.clone(),
            )),
        };
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on WORKER_HEALTH_ADDR {addr}"))?;
        tracing::info!(addr = %listener.local_addr()?, "health probes listening");
        let probes = server::http::health::router()
            .with_state(probes)
            .into_make_service_with_connect_info::<SocketAddr>();
        let stop = shutdown.clone();
        tasks.spawn(async move {
            let served = axum::serve(listener, probes)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
            if let Err(error) = served {
                tracing::warn!(%error, "the health probes stopped");
            }
        });
    }
    tasks.close();
    tracing::info!("worker running");
    shutdown.cancelled().await;
    // The workers finish or hand back their jobs within the grace period themselves.
    if tokio::time::timeout(
        config.shutdown_grace + std::time::Duration::from_secs(1),
        tasks.wait(),
    )
    .await
    .is_err()
    {
        tracing::warn!("background tasks were still running at the end of the grace period");
    }
    if let Some(redis) = backend.redis {
        let _ = fred::prelude::ClientLike::quit(&redis).await;
    }
    tracing::info!("stopped");
    Ok(())
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    db::open(&config.database_url(), config.database_max_connections).await?;
    tracing::info!("migrations applied");
    Ok(())
}

async fn rotate_key(config: Config) -> anyhow::Result<()> {
    let keyring = token_keyring(&config)?;
    let db = db::open(&config.database_url(), config.database_max_connections).await?;
    let report = rotate_keys(&db, &keyring, &SystemClock)
        .await
        .context("the rotation stopped; nothing is lost, run it again")?;
    println!(
        "re-encrypted the tokens of {} connection(s) and {} AI Studio writer key(s) under key {}; {} connection(s) already used it",
        report.rotated,
        report.studio_keys,
        keyring.current_key_id(),
        report.current
    );
    Ok(())
}
