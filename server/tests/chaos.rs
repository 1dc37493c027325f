//! The fault campaign (see tests/campaign/mod.rs). `make test` runs the short seeded form
//! below on the debug build; `make chaos` runs the full one on the release build:
//!
//!   CHAOS_BIN=target/release/picscripter CHAOS_INJECTIONS=1000 CHAOS_BURST=2000 \
//!     cargo test -p server --test chaos -- --ignored --nocapture
//!
//! `CHAOS_SEED` replays a run; without it the full campaign draws a seed and prints it.

mod campaign;
mod common;
// The conformance suite's fakes, through the trait it drives them by.
#[allow(dead_code)]
#[path = "conformance/fakes.rs"]
mod fakes;

use std::path::PathBuf;

use campaign::Settings;

fn number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|raw| {
            raw.parse()
                .unwrap_or_else(|_| panic!("{name}: `{raw}` is not a number"))
        })
        .unwrap_or(default)
}

async fn campaign(settings: Settings) {
    let report = campaign::run(&settings).await;
    println!("{report}");
    assert!(
        report.violations.is_empty(),
        "the campaign found violations (replay with CHAOS_SEED={}):\n{report}",
        settings.seed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_seeded_campaign_loses_and_doubles_nothing() {
    campaign(Settings {
        seed: number("CHAOS_SEED", 20_261_126),
        // Five of each kind of fault.
        injections: 70,
        burst: 200,
        binary: PathBuf::from(common::process::BIN),
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the full campaign takes about eight minutes: `make chaos`"]
async fn the_full_campaign_loses_and_doubles_nothing() {
    let seed = number("CHAOS_SEED", rand::random::<u32>().into());
    println!("CHAOS_SEED={seed}");
    campaign(Settings {
        seed,
        injections: usize::try_from(number("CHAOS_INJECTIONS", 1_000)).unwrap(),
        burst: usize::try_from(number("CHAOS_BURST", 2_000)).unwrap(),
        binary: std::env::var_os("CHAOS_BIN")
            .map_or_else(|| PathBuf::from(common::process::BIN), PathBuf::from),
    })
    .await;
}
