//! The composer's previews, side by side, one per chosen account: the text as far as the
//! platform's feed shows it before "more", its length as the platform counts it, the media in
//! the shapes the feed crops them to, and what the platform would refuse. Drawn on the server
//! (`preview_post`) from the rules in each platform's file, and shown by the composer as HTML,
//! so the browser carries none of those rules.

use leptos::prelude::*;

use crate::components::browser::initial;
use crate::types::{Gallery, PreviewMedia, Ratio, TargetPreview};

/// Every preview as HTML, in the order the accounts were chosen.
pub fn previews_html(previews: Vec<TargetPreview>) -> String {
    if previews.is_empty() {
        return view! {
            <p class="field-hint">"Choose an account to see the post as its platform shows it."</p>
        }
        .to_html();
    }
    previews.into_iter().map(card).collect()
}

fn card(preview: TargetPreview) -> String {
    let TargetPreview {
        platform,
        handle,
        display_name,
        headline,
        text,
        looks,
        media,
        problem,
        ..
    } = preview;
    let handle = format!("@{handle}");
    let name = display_name.unwrap_or_else(|| handle.clone());
    let label = format!("Preview for {handle} on {}", platform.display_name());
    let (visible, more) = match looks
        .fold
        .and_then(|fold| fold.visible(&text).map(|cut| (cut, fold.more)))
    {
        Some((cut, more)) => (cut.to_owned(), Some(more)),
        None => (text.clone(), None),
    };
    let counter = looks.counter;
    let count = format!(
        "{}/{} {}",
        thousands(counter.used),
        thousands(counter.max),
        counter.unit
    );
    let over = counter.is_over().then(|| {
        format!(
            "{} {} too long for {}.",
            thousands(counter.used - counter.max),
            counter.unit,
            platform.display_name()
        )
    });
    let pictures = pictures(&media, looks.gallery, looks.frame);
    let text_first = looks.gallery == Gallery::Grid;
    let words = view! {
        {headline.map(|headline| view! { <p class="preview-headline">{headline}</p> })}
        <p class="preview-text">
            {visible} {more.map(|more| view! { <span class="preview-more">{more}</span> })}
        </p>
    }
    .to_html();
    let (before, after) = if text_first {
        (words, pictures)
    } else {
        (pictures, words)
    };
    let head = view! {
        <header class="preview-header">
            <span class="preview-avatar" aria-hidden="true">{initial(&name)}</span>
            <span class="preview-name">{name}</span>
            <span class="preview-handle">{format!("{handle} · {}", platform.display_name())}</span>
        </header>
    }
    .to_html();
    let foot = view! {
        <p class="preview-count" class:preview-count-over=over.is_some()>{count}</p>
        {over.map(|over| view! { <p class="field-error">{over}</p> })}
        {problem.map(|problem| view! { <p class="field-error">{problem}</p> })}
    }
    .to_html();
    let inner = format!("{head}{before}{after}{foot}");
    view! { <article class="preview-card" aria-label=label inner_html=inner></article> }.to_html()
}

/// The media as the feed shows them: several side by side (`Grid`), or the first with a count
/// of the others (`Carousel`), each in the shape the platform gives it.
fn pictures(media: &[PreviewMedia], gallery: Gallery, frame: crate::types::Frame) -> String {
    match (gallery, media) {
        (_, []) => String::new(),
        (Gallery::Grid, [_, _, ..]) => {
            let shown = media.len().min(4);
            let cells: String = media[..shown].iter().map(|file| cell(file, None)).collect();
            format!(r#"<div class="preview-grid preview-grid-{shown}">{cells}</div>"#)
        }
        (_, [first, rest @ ..]) => {
            let (shape, cropped) = frame.shape(first.width, first.height);
            let fixed = frame.tallest == frame.widest || cropped;
            let class = if fixed {
                format!(
                    "preview-frame preview-frame-{}-{}{}",
                    shape.0,
                    shape.1,
                    if frame.crops {
                        ""
                    } else {
                        " preview-frame-contain"
                    }
                )
            } else {
                "preview-frame".to_owned()
            };
            let note = cropped.then(|| format!("Shown cropped to {}.", ratio_words(shape)));
            let count = (!rest.is_empty()).then(|| format!("1 of {}", media.len()));
            let inner = cell(first, count);
            let note =
                view! { {note.map(|note| view! { <p class="preview-note">{note}</p> })} }.to_html();
            format!(r#"<div class="{class}">{inner}</div>{note}"#)
        }
    }
}

/// One file: its picture (a video's poster frame), marked as a video, with `count` over it.
fn cell(file: &PreviewMedia, count: Option<String>) -> String {
    view! {
        <div class="preview-cell">
            {match file.url.clone() {
                Some(url) => view! { <img class="preview-img" src=url alt="" /> }.into_any(),
                None => view! { <span class="preview-blank">"Video"</span> }.into_any(),
            }}
            {file.video.then(|| view! { <span class="preview-badge">"Video"</span> })}
            {count.map(|count| view! { <span class="preview-badge preview-badge-end">{count}</span> })}
        </div>
    }
    .to_html()
}

/// `4:5`, `1.91:1`.
fn ratio_words(Ratio(width, height): Ratio) -> String {
    if width.is_multiple_of(height) || height == 1 {
        format!("{}:1", width / height)
    } else if width > height && height == 100 {
        format!("{}:1", f64::from(width) / 100.0)
    } else {
        format!("{width}:{height}")
    }
}

/// `2,200`.
fn thousands(number: usize) -> String {
    let digits = number.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ConnectionId, Fold, Frame, Platform, PreviewRules, TextCounter};

    fn preview(text: &str, media: Vec<PreviewMedia>, looks: PreviewRules) -> TargetPreview {
        TargetPreview {
            connection_id: ConnectionId(uuid::Uuid::nil()),
            platform: Platform::Instagram,
            handle: "mugs".into(),
            display_name: Some("Mug <Shop>".into()),
            headline: None,
            text: text.into(),
            looks,
            media,
            problem: None,
        }
    }

    fn instagram(used: usize) -> PreviewRules {
        PreviewRules {
            counter: TextCounter::characters(used, 2200),
            fold: Some(Fold {
                chars: 12,
                lines: 2,
                more: "... more",
            }),
            frame: Frame {
                tallest: Ratio(4, 5),
                widest: Ratio(191, 100),
                crops: true,
            },
            gallery: Gallery::Carousel,
        }
    }

    fn photo(width: u32, height: u32) -> PreviewMedia {
        PreviewMedia {
            url: Some("/api/media/1/file".into()),
            video: false,
            width,
            height,
        }
    }

    #[test]
    fn a_long_caption_is_folded_where_the_feed_folds_it() {
        let html = card(preview(
            "Blue mugs, fired on Tuesday <b>",
            vec![],
            instagram(31),
        ));
        assert!(html.contains("Blue mugs, f"), "{html}");
        assert!(!html.contains("Tuesday"), "{html}");
        assert!(
            html.contains(r#"<span class="preview-more">... more</span>"#),
            "{html}"
        );
        assert!(html.contains("31/2,200 characters"), "{html}");
        assert!(html.contains("Mug &lt;Shop&gt;"), "{html}");
        assert!(html.contains("Preview for @mugs on Instagram"), "{html}");
    }

    #[test]
    fn text_over_the_limit_says_by_how_much() {
        let html = card(preview("x", vec![], instagram(2_205)));
        assert!(html.contains("preview-count-over"), "{html}");
        assert!(
            html.contains("5 characters too long for Instagram."),
            "{html}"
        );
    }

    #[test]
    fn a_tall_photo_is_shown_cropped_to_the_frame() {
        let html = card(preview(
            "Mugs",
            vec![photo(1080, 1920), photo(1080, 1080)],
            instagram(4),
        ));
        assert!(html.contains("preview-frame preview-frame-4-5"), "{html}");
        assert!(html.contains("Shown cropped to 4:5."), "{html}");
        assert!(html.contains("1 of 2"), "{html}");
        let wide = card(preview("Mugs", vec![photo(3000, 1000)], instagram(4)));
        assert!(wide.contains("Shown cropped to 1.91:1."), "{wide}");
        let square = card(preview("Mugs", vec![photo(1080, 1080)], instagram(4)));
        assert!(!square.contains("cropped"), "{square}");
    }

    #[test]
    fn a_title_is_shown_above_the_text() {
        let mut titled = preview("Mugs, glazed in blue", vec![], instagram(20));
        titled.headline = Some("Glazing <blue> mugs".into());
        let html = card(titled);
        let title = html
            .find(r#"<p class="preview-headline">Glazing &lt;blue&gt; mugs</p>"#)
            .unwrap_or_else(|| panic!("{html}"));
        assert!(title < html.find("Mugs, glazed").unwrap(), "{html}");
    }

    #[test]
    fn a_problem_is_shown_on_its_card() {
        let mut refused = preview("Mugs", vec![], instagram(4));
        refused.problem = Some("An Instagram post needs a photo or a video: add one.".into());
        assert!(card(refused).contains("needs a photo or a video"));
    }

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(280), "280");
        assert_eq!(thousands(2200), "2,200");
        assert_eq!(thousands(63_206), "63,206");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
