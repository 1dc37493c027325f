//! The Human Authenticity Engine on a 2,000-character caption: its pass (every rule, to the
//! fixed point) and its score, each timed over many runs, p50 and p99 printed. The caption is
//! written the way a model writes when nobody stops it: buzzwords, tells, stacked dashes and
//! adjectives, exclamation marks, hashtags, sentences of one length.
//!
//! `make bench-voice`, or `cargo bench -p server --bench voice`. Without `--bench` among its
//! arguments it does nothing.

use std::time::{Duration, Instant};

use server::studio::voice::{CaptionLimits, Voice};

const RUNS: usize = 2_000;

const PARAGRAPHS: [&str; 4] = [
    "In today's fast-paced world, our handmade mugs elevate your morning ritual!! Each piece is \
     bold, bright, and beautiful — glazed by hand — fired twice — packed with care. It is not \
     just a mug, but a small daily joy. ",
    "We fired a new batch this week. The glaze came out deep blue. They ship from Monday \
     morning. Delve into the range and unleash your style! Look no further for a seamless gift. ",
    "Our studio sits by the river and we work with local clay. Anna mixes every glaze herself, \
     and no two mugs are the same, which is the point of making them by hand. ",
    "#pottery #handmade #mugs #ceramics #shopsmall ",
];

fn caption() -> String {
    let mut text = String::new();
    while text.chars().count() < 2_000 {
        for paragraph in PARAGRAPHS {
            text.push_str(paragraph);
        }
    }
    text.chars().take(2_000).collect()
}

fn percentiles(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    let at = |share: f64| {
        let index = ((times.len() as f64 * share).ceil() as usize).clamp(1, times.len()) - 1;
        times[index]
    };
    (at(0.50), at(0.99))
}

fn measure(mut run: impl FnMut()) -> (Duration, Duration) {
    for _ in 0..50 {
        run();
    }
    let times = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed()
        })
        .collect();
    percentiles(times)
}

fn main() {
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let caption = caption();
    let voice = Voice::with_phrases(
        &["cheap => affordable".to_owned()],
        &["#shopsmall".to_owned()],
    );
    let count = |text: &str| text.chars().count();
    let limits = CaptionLimits {
        max_hashtags: 5,
        length: &count,
        max_length: 2_200,
    };
    let pass = voice.pass(&caption, &limits);
    println!(
        "caption: {} characters, {} changes, score {} before and {} after",
        caption.chars().count(),
        pass.changes.len(),
        voice.score(&caption, &limits).score,
        voice.score(&pass.text, &limits).score
    );
    let (p50, p99) = measure(|| {
        std::hint::black_box(voice.pass(std::hint::black_box(&caption), &limits));
    });
    println!("voice.pass_p50_us: {}", p50.as_micros());
    println!("voice.pass_p99_us: {}", p99.as_micros());
    let (p50, p99) = measure(|| {
        std::hint::black_box(voice.score(std::hint::black_box(&caption), &limits));
    });
    println!("voice.score_p50_us: {}", p50.as_micros());
    println!("voice.score_p99_us: {}", p99.as_micros());
    let (p50, p99) = measure(|| {
        std::hint::black_box(Voice::with_phrases(&[], &[]));
    });
    println!("voice.load_p50_us: {}", p50.as_micros());
    println!("voice.load_p99_us: {}", p99.as_micros());
}
