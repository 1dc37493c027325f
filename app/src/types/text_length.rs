//! How X measures a post's text: the "weighted length" of twitter-text's version 3 rules
//! (platforms.md, X: "280 weighted chars; URLs count 23; CJK and most emoji count 2"). The
//! composer's live counter and the server's check use this one function, so they never
//! disagree with each other.
//!
//! The rules, in units of one ordinary character:
//! - a code point in U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F or U+2032–U+2037 counts 1;
//!   every other code point (CJK, most symbols) counts 2;
//! - a URL counts 23, however long (X shortens it to a t.co link);
//! - an emoji counts 2 however many code points make it: skin tones, ZWJ families, flags,
//!   keycaps and variation selectors are part of the one emoji.
//!
//! Where this differs from twitter-text: text is not NFC-normalised first (browsers and
//! keyboards send composed text already), and a URL without `http(s)://` is recognised only
//! for common top-level domains, not twitter-text's full list of about 1,500. The twitter-text
//! crate itself needs a C++ toolchain (cxx) and would put its tables into the browser's wasm.

/// X's limit for a standard account, in weighted characters.
pub const X_MAX_WEIGHTED_LENGTH: usize = 280;
/// What any URL counts.
pub const X_URL_LENGTH: usize = 23;

/// Top-level domains that make a bare `name.tld` count as a URL.
const BARE_URL_TLDS: &[&str] = &[
    "com", "org", "net", "io", "co", "app", "dev", "ai", "me", "info", "biz", "shop", "store",
    "xyz", "online", "site", "tech", "blog", "news", "tv", "ly", "gl", "gg", "us", "uk", "de",
    "fr", "es", "it", "nl", "be", "ch", "at", "se", "no", "dk", "fi", "pl", "pt", "ie", "ca", "au",
    "nz", "jp", "cn", "kr", "in", "br", "mx", "ar", "ru", "edu", "gov",
];

/// The weighted length of `text` under X's rules.
pub fn x_weighted_length(text: &str) -> usize {
    let mut total = 0;
    for token in split_keeping_whitespace(text) {
        total += if is_url(token) {
            // Punctuation right after a URL ("see x.com/a.") is not part of it.
            let url = token.trim_end_matches(|c: char| ".,;:!?)]}'\"".contains(c));
            X_URL_LENGTH + weighted_chars(&token[url.len()..])
        } else {
            weighted_chars(token)
        };
    }
    total
}

/// Whether `text` fits X's limit (and is not blank).
pub fn fits_x(text: &str) -> bool {
    !text.trim().is_empty() && x_weighted_length(text) <= X_MAX_WEIGHTED_LENGTH
}

/// Runs of non-whitespace and single whitespace characters, in order, covering all of `text`.
fn split_keeping_whitespace(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let end = if first.is_whitespace() {
            first.len_utf8()
        } else {
            rest.find(char::is_whitespace).unwrap_or(rest.len())
        };
        let (token, tail) = rest.split_at(end);
        rest = tail;
        Some(token)
    })
}

fn is_url(token: &str) -> bool {
    let lower = token.to_ascii_lowercase();
    if let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    {
        return rest.contains('.') && rest.len() > 2;
    }
    // A bare domain: labels of letters, digits and hyphens, the last one a known TLD,
    // optionally followed by a path.
    let host = lower.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.trim_end_matches(|c: char| ".,;:!?)]}'\"".contains(c));
    let labels: Vec<&str> = host.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| BARE_URL_TLDS.contains(tld))
        && !lower.contains('@')
}

/// The weight of one code point outside emoji: 1 in the ranges twitter-text weighs 100,
/// 2 elsewhere.
fn code_point_weight(c: char) -> usize {
    match u32::from(c) {
        0..=0x10FF | 0x2000..=0x200D | 0x2010..=0x201F | 0x2032..=0x2037 => 1,
        _ => 2,
    }
}

fn is_pictographic(c: char) -> bool {
    matches!(u32::from(c),
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2300..=0x23FF | 0x2B00..=0x2BFF
        | 0x3030 | 0x303D | 0x3297 | 0x3299 | 0x00A9 | 0x00AE | 0x203C | 0x2049 | 0x2122
        | 0x2139 | 0x2194..=0x21AA)
}

/// Code points that continue the emoji before them: variation selector 16, skin tones, the
/// keycap mark and tag characters (subdivision flags).
fn extends_emoji(c: char) -> bool {
    matches!(u32::from(c), 0xFE0F | 0x1F3FB..=0x1F3FF | 0x20E3 | 0xE0020..=0xE007F)
}

fn is_regional_indicator(c: char) -> bool {
    matches!(u32::from(c), 0x1F1E6..=0x1F1FF)
}

const ZWJ: char = '\u{200D}';

fn weighted_chars(text: &str) -> usize {
    let chars: Vec<char> = text.chars().collect();
    let mut total = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let keycap_base =
            matches!(c, '0'..='9' | '#' | '*') && matches!(next, Some('\u{FE0F}' | '\u{20E3}'));
        if is_regional_indicator(c) {
            // A flag is a pair of regional indicators; a lone one still counts as an emoji.
            total += 2;
            i += if next.is_some_and(is_regional_indicator) {
                2
            } else {
                1
            };
        } else if is_pictographic(c) || keycap_base {
            total += 2;
            i += 1;
            // Swallow everything that belongs to this emoji, ZWJ-joined parts included.
            while let Some(&follower) = chars.get(i) {
                if extends_emoji(follower) {
                    i += 1;
                } else if follower == ZWJ && chars.get(i + 1).is_some_and(|&c| is_pictographic(c)) {
                    i += 2;
                } else {
                    break;
                }
            }
        } else {
            total += code_point_weight(c);
            i += 1;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ordinary_latin_text_counts_one_per_character() {
        assert_eq!(x_weighted_length("Hello, world!"), 13);
        assert_eq!(x_weighted_length("café über"), 9);
        assert!(fits_x(&"a".repeat(280)));
        assert!(!fits_x(&"a".repeat(281)));
        assert!(!fits_x("   "));
    }

    #[test]
    fn cjk_counts_two() {
        assert_eq!(x_weighted_length("日本語"), 6);
        assert_eq!(x_weighted_length("한국어"), 6);
        assert!(fits_x(&"日".repeat(140)));
        assert!(!fits_x(&"日".repeat(141)));
    }

    #[test]
    fn a_url_counts_23_however_long() {
        let long = format!("https://example.com/{}", "a".repeat(200));
        assert_eq!(x_weighted_length(&long), 23);
        assert_eq!(x_weighted_length("see https://x.co now"), 4 + 23 + 4);
        assert_eq!(x_weighted_length("shop at example.shop/sale."), 8 + 23 + 1);
        assert_eq!(
            x_weighted_length("mail ana@example.com"),
            20,
            "an email is not a URL"
        );
        assert_eq!(x_weighted_length("file.txt"), 8, "not a known TLD");
    }

    #[test]
    fn an_emoji_counts_two_whatever_it_is_made_of() {
        for emoji in [
            "😀",
            "👍🏽",
            "👨\u{200D}👩\u{200D}👧",
            "🇩🇪",
            "1\u{FE0F}\u{20E3}",
            "❤\u{FE0F}",
            "🏳\u{FE0F}\u{200D}🌈",
        ] {
            assert_eq!(x_weighted_length(emoji), 2, "{emoji:?}");
        }
        assert_eq!(x_weighted_length("ok 👍🏽👍🏽"), 3 + 4);
    }

    proptest! {
        #[test]
        fn plain_ascii_counts_its_characters(text in "[a-zA-Z0-9 ,!'-]{0,400}") {
            prop_assert_eq!(x_weighted_length(&text), text.chars().count());
        }

        #[test]
        fn cjk_counts_twice_its_characters(text in "[\u{4E00}-\u{9FFF}]{0,200}") {
            prop_assert_eq!(x_weighted_length(&text), 2 * text.chars().count());
        }

        #[test]
        fn without_urls_no_character_counts_more_than_two(text in "[^:./]{0,200}") {
            prop_assert!(x_weighted_length(&text) <= 2 * text.chars().count());
        }

        #[test]
        fn appending_text_never_shortens_a_post(a in "[^:./]{0,100}", b in "[^:./]{0,100}") {
            let joined = format!("{a} {b}");
            prop_assert!(x_weighted_length(&joined) >= x_weighted_length(&a));
        }
    }
}
