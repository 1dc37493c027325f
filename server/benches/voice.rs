//! The AI Studio's own work on a caption, timed over many runs, p50 and p99 printed:
//! - the Human Authenticity Engine on a 2,000-character caption: its pass (every rule, to the
//!   fixed point) and its score. The caption is written the way a model writes when nobody stops
//!   it: buzzwords, tells, stacked dashes and adjectives, exclamation marks, hashtags, sentences
//!   of one length;
//! - the proofreader (harper-core) on the same caption: its first check, which loads the
//!   dictionary, and every later one; emoji suggestions for it; and the whole offline path on
//!   it, the pass then the proofreader and the suggestions over what the pass left (what a
//!   caption costs with no model at all);
//! - the basic writer, then the pass over what it wrote;
//! - the time to the first streamed piece from the Gemini fake on 127.0.0.1, and to the whole
//!   caption.
//!
//! `make bench-voice`, or `cargo bench -p server --bench voice`. Without `--bench` among its
//! arguments it does nothing.

use std::time::{Duration, Instant};

use app::types::{Platform, Tone};
use futures_util::StreamExt;
use server::sandbox::gemini::GeminiFake;
use server::studio::brief::{BriefImage, CaptionBrief, CaptionRules, ImageFacts, VoiceContext};
use server::studio::emoji;
use server::studio::proofread::Proofreader;
use server::studio::voice::{CaptionLimits, Voice};
use server::studio::writers::{BasicWriter, CaptionWriter, GeminiWriter};

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

fn measure(run: impl FnMut()) -> (Duration, Duration) {
    measure_runs(RUNS, run)
}

fn measure_runs(runs: usize, mut run: impl FnMut()) -> (Duration, Duration) {
    for _ in 0..runs.min(50) {
        run();
    }
    let times = (0..runs)
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

    let own_words = vec!["Anna".to_owned(), "shopsmall".to_owned()];
    let started = Instant::now();
    let flags = Proofreader.check(&caption, &own_words);
    println!(
        "proofread.first_check_ms: {} ({} flags)",
        started.elapsed().as_millis(),
        flags.len()
    );
    let (p50, p99) = measure_runs(300, || {
        std::hint::black_box(Proofreader.check(std::hint::black_box(&caption), &own_words));
    });
    println!("proofread.check_p50_us: {}", p50.as_micros());
    println!("proofread.check_p99_us: {}", p99.as_micros());
    let (p50, p99) = measure(|| {
        std::hint::black_box(emoji::suggest(std::hint::black_box(&caption), 8));
    });
    println!("emoji.suggest_p50_us: {}", p50.as_micros());
    println!("emoji.suggest_p99_us: {}", p99.as_micros());
    let (p50, p99) = measure_runs(300, || {
        let passed = voice.pass(std::hint::black_box(&caption), &limits);
        std::hint::black_box(Proofreader.check(&passed.text, &own_words));
        std::hint::black_box(emoji::suggest(&passed.text, 8));
    });
    println!(
        "offline_path.pass_proofread_emoji_p50_us: {}",
        p50.as_micros()
    );
    println!(
        "offline_path.pass_proofread_emoji_p99_us: {}",
        p99.as_micros()
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let brief = brief();
    let (p50, p99) = measure(|| {
        let written = runtime.block_on(async {
            let pieces = BasicWriter
                .write(&brief)
                .await
                .expect("the basic writer writes");
            server::studio::writers::whole(pieces)
                .await
                .expect("a caption")
        });
        std::hint::black_box(voice.pass(&written, &limits));
    });
    println!("basic_writer_and_pass_p50_us: {}", p50.as_micros());
    println!("basic_writer_and_pass_p99_us: {}", p99.as_micros());

    runtime.block_on(first_pieces(&brief));
}

fn brief() -> CaptionBrief {
    CaptionBrief {
        platform: Platform::Instagram,
        tone: Tone::Friendly,
        images: vec![BriefImage {
            mime: "image/png".into(),
            bytes: b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec().into(),
            facts: ImageFacts {
                width: 1080,
                height: 1350,
                colours: vec!["deep blue".into()],
                taken_on: None,
            },
        }],
        product: None,
        voice: VoiceContext::default(),
        rules: CaptionRules {
            max_length: 2_200,
            unit: "characters",
            max_hashtags: 5,
            fold_at: Some(125),
            line_breaks: server::platforms::LineBreaks::Kept,
        },
        note: Some("new spring glazes, twelve mugs".into()),
        variant: 0,
        draft: None,
    }
}

/// The Gemini fake streaming a 60-word caption: when the first piece arrives, and the last.
async fn first_pieces(brief: &CaptionBrief) {
    let fake = GeminiFake::new("bench-key");
    fake.set_reply(Some("Spring glazes are out of the kiln today. ".repeat(8)));
    let (addr, _server) = server::sandbox::serve(fake.router())
        .await
        .expect("the fake listens");
    let writer = GeminiWriter::new(
        &format!("http://{addr}"),
        "gemini-2.5-flash",
        "bench-key".to_owned().into(),
    );
    let mut first = Vec::new();
    let mut whole = Vec::new();
    for run in 0..(RUNS / 4 + 20) {
        let started = Instant::now();
        let mut pieces = writer.write(brief).await.expect("the fake writes");
        pieces.next().await.expect("a first piece").expect("text");
        let to_first = started.elapsed();
        while let Some(piece) = pieces.next().await {
            piece.expect("text");
        }
        if run >= 20 {
            first.push(to_first);
            whole.push(started.elapsed());
        }
    }
    let (p50, p99) = percentiles(first);
    println!("gemini_fake.first_piece_p50_us: {}", p50.as_micros());
    println!("gemini_fake.first_piece_p99_us: {}", p99.as_micros());
    let (p50, p99) = percentiles(whole);
    println!("gemini_fake.whole_caption_p50_us: {}", p50.as_micros());
    println!("gemini_fake.whole_caption_p99_us: {}", p99.as_micros());
}
