use proptest::prelude::*;

use super::*;

fn characters(text: &str) -> usize {
    text.chars().count()
}

fn limits(max_hashtags: usize, max_length: usize) -> CaptionLimits<'static> {
    CaptionLimits {
        max_hashtags,
        length: &characters,
        max_length,
    }
}

fn passed(voice: &Voice, caption: &str) -> String {
    voice.pass(caption, &limits(3, 2_200)).text
}

#[test]
fn buzzwords_and_machine_tells_give_way_to_plain_words() {
    let voice = Voice::default();
    assert_eq!(
        passed(
            &voice,
            "In today's fast-paced world, our mugs elevate your mornings. Delve into the range!"
        ),
        "Our mugs improve your mornings. Look at the range!"
    );
    assert_eq!(
        passed(&voice, "A SEAMLESS glaze and a cutting-edge kiln."),
        "A SMOOTH glaze and a new kiln."
    );
}

#[test]
fn shapes_that_give_machine_writing_away_are_undone() {
    let voice = Voice::default();
    assert_eq!(
        passed(&voice, "It is not just a mug, but a small daily joy."),
        "It is a mug and a small daily joy."
    );
    assert_eq!(
        passed(&voice, "A bold, bright, and beautiful glaze."),
        "A bold and bright glaze."
    );
    assert_eq!(
        passed(
            &voice,
            "Fired twice — glazed by hand — packed with care — shipped fast."
        ),
        "Fired twice — glazed by hand, packed with care, shipped fast."
    );
    assert_eq!(
        passed(&voice, "New mugs!!! Blue ones! Ships Monday!"),
        "New mugs! Blue ones. Ships Monday."
    );
}

#[test]
fn hashtags_past_the_platforms_number_go_from_the_end_but_kept_ones_stay() {
    let voice = Voice::with_phrases(&[], &["#kilnworks".to_owned()]);
    assert_eq!(
        passed(
            &voice,
            "Blue mugs. #pottery #mugs #handmade #blue #kilnworks"
        ),
        "Blue mugs. #pottery #mugs #kilnworks"
    );
}

#[test]
fn three_sentences_of_one_length_become_two() {
    let voice = Voice::default();
    assert_eq!(
        passed(
            &voice,
            "We fired a new batch today. The glaze came out deep blue. They ship from Monday morning."
        ),
        "We fired a new batch today. The glaze came out deep blue, and they ship from Monday morning."
    );
    // A name keeps its capital.
    assert_eq!(
        passed(
            &voice,
            "We fired a new batch today. The glaze came out deep blue. Anna packs them on Monday."
        ),
        "We fired a new batch today. The glaze came out deep blue, and Anna packs them on Monday."
    );
}

#[test]
fn the_users_phrases_are_avoided_or_kept() {
    let voice = Voice::with_phrases(
        &["cheap => affordable".to_owned(), "basically".to_owned()],
        &["Elevate Coffee".to_owned()],
    );
    assert_eq!(
        passed(
            &voice,
            "Basically, cheap mugs for Elevate Coffee fans. We elevate mornings."
        ),
        "Affordable mugs for Elevate Coffee fans. We lift mornings."
    );
}

#[test]
fn a_change_that_would_take_the_caption_past_the_limit_is_not_made() {
    let voice = Voice::default();
    let caption =
        "We fired a new batch today. The glaze came out deep blue. They ship from Monday morning.";
    let at_the_limit = characters(caption);
    let pass = voice.pass(caption, &limits(3, at_the_limit));
    assert_eq!(
        pass.text, caption,
        "joining the sentences adds four characters"
    );
    assert!(pass.changes.is_empty());
}

#[test]
fn each_change_names_its_rule_and_applies_alone() {
    let voice = Voice::default();
    let caption = "Unleash your style!! A bold, bright and beautiful mug.";
    let pass = voice.pass(caption, &limits(3, 2_200));
    let rules: Vec<Vec<VoiceRule>> = pass
        .changes
        .iter()
        .map(|change| change.rules.clone())
        .collect();
    assert_eq!(
        rules,
        [
            vec![VoiceRule::Buzzword],
            vec![VoiceRule::Exclamations],
            vec![VoiceRule::TripleAdjectives],
        ]
    );
    assert_eq!(
        pass.with_only(|index| index == 1),
        "Unleash your style! A bold, bright and beautiful mug."
    );
    assert_eq!(pass.with_only(|_| true), pass.text);
    for change in &pass.changes {
        assert_eq!(&caption[change.start..change.end], change.before);
    }
}

#[test]
fn a_plain_caption_scores_full_marks_and_a_loud_one_says_why_not() {
    let voice = Voice::default();
    let plain = voice.score(
        "Blue mugs, fired on Tuesday. Twelve left.",
        &limits(3, 2_200),
    );
    assert_eq!(plain.score, 100, "{plain:?}");
    assert!(plain.reasons.is_empty());

    let loud = voice.score(
        "Unleash the magic!!! In today's fast-paced world, our seamless mugs elevate everything!",
        &limits(3, 2_200),
    );
    let said: Vec<&str> = loud
        .reasons
        .iter()
        .map(|reason| reason.says.as_str())
        .collect();
    assert_eq!(
        said,
        [
            "3 buzzwords: Unleash, seamless, elevate",
            "1 phrase that sounds machine-written: In today's fast-paced world",
            "2 exclamation marks too many",
        ]
    );
    assert_eq!(loud.score, 100 - 18 - 10 - 8);
}

#[test]
fn a_missing_phrase_to_keep_costs_points() {
    let voice = Voice::with_phrases(&[], &["#kilnworks".to_owned()]);
    let score = voice.score("Blue mugs.", &limits(3, 2_200));
    assert_eq!(score.score, 95);
    assert_eq!(
        score.reasons[0].says,
        "1 phrase you always use is missing: #kilnworks"
    );
}

#[test]
fn an_ai_rewrites_edits_are_changes_of_their_own_before_the_rules() {
    let voice = Voice::default();
    let caption = "Our new mugs are here. They hold coffee well. Ready now!!";
    let rewritten = "Our new mugs are in. They keep coffee hot. Ready now!!";
    let pass = voice.pass_after(caption, Some(rewritten), &limits(3, 2_200));
    assert_eq!(
        pass.text,
        "Our new mugs are in. They keep coffee hot. Ready now!"
    );
    let rewrites: Vec<(&str, &str)> = pass
        .changes
        .iter()
        .filter(|change| change.rules == [VoiceRule::AiRewrite])
        .map(|change| (change.before.as_str(), change.after.as_str()))
        .collect();
    assert_eq!(
        rewrites,
        [("here.", "in."), ("hold", "keep"), ("well.", "hot.")]
    );
    // Each can be taken back alone, the rules' change kept.
    let second = pass
        .changes
        .iter()
        .position(|change| change.before == "hold")
        .unwrap();
    assert_eq!(
        pass.with_only(|index| index != second),
        "Our new mugs are in. They hold coffee hot. Ready now!"
    );
}

fn with_emoji(density: EmojiDensity) -> Voice {
    Voice {
        emoji: density,
        ..Voice::default()
    }
}

#[test]
fn past_a_few_emoji_the_later_ones_go() {
    let voice = with_emoji(EmojiDensity::AFew);
    assert_eq!(
        passed(&voice, "Mugs 🔥 are 🎉 back ☕ for 👋🏽 the 🇫🇷 weekend."),
        "Mugs 🔥 are 🎉 back ☕ for the weekend."
    );
}

#[test]
fn with_no_emoji_wanted_all_go_and_no_space_is_left_doubled() {
    let voice = with_emoji(EmojiDensity::None);
    let out = passed(
        &voice,
        "🎉 New mugs 🔥🔥 are back ☕, twelve left 👋🏽\n🇫🇷 Ships Monday.",
    );
    assert_eq!(out, "New mugs are back, twelve left\nShips Monday.");
    // An emoji between two words leaves one space.
    assert_eq!(passed(&voice, "Mugs🔥bowls"), "Mugs bowls");
}

#[test]
fn a_lively_caption_keeps_eight_emoji() {
    let voice = with_emoji(EmojiDensity::Lively);
    let out = passed(
        &voice,
        "Mugs 🔥 bowls 🎉 plates ☕ jugs 👋🏽 cups 🇫🇷 vases 🌿 spoons 🍵 lids 🏺 pots 🌸 tiles ✨",
    );
    assert_eq!(
        out,
        "Mugs 🔥 bowls 🎉 plates ☕ jugs 👋🏽 cups 🇫🇷 vases 🌿 spoons 🍵 lids 🏺 pots tiles"
    );
    assert_eq!(crate::studio::emoji::count(&out), 8);
}

#[test]
fn each_emoji_past_the_density_costs_points() {
    let voice = with_emoji(EmojiDensity::AFew);
    let score = voice.score(
        "Mugs 🔥 are 🎉 back ☕ for 👋🏽 the 🇫🇷 weekend.",
        &limits(3, 2_200),
    );
    assert_eq!(score.reasons.len(), 1, "{score:?}");
    assert_eq!(score.reasons[0].rule, VoiceRule::TooManyEmoji);
    assert_eq!(score.reasons[0].says, "2 emoji too many");
    assert_eq!(score.score, 100 - 8);
}

#[test]
fn taking_emoji_out_leaves_nothing_for_a_second_pass() {
    let caption =
        "🎉🎉 New mugs!! 🔥🔥🔥 ☕☕ #mugs 👋🏽👋🏽 🇫🇷\n✨ Elevate Coffee ✨✨ #kilnworks 🌸🌸";
    for density in [EmojiDensity::None, EmojiDensity::AFew, EmojiDensity::Lively] {
        let voice = with_emoji(density);
        let first = voice.pass(caption, &limits(3, 2_200));
        let second = voice.pass(&first.text, &limits(3, 2_200));
        assert!(
            second.changes.is_empty(),
            "{density:?}: {:?} -> {:?}",
            first.text,
            second.text
        );
        assert!(crate::studio::emoji::count(&first.text) <= density.most());
        assert!(!first.text.contains("  "), "{density:?}: {:?}", first.text);
    }
}

#[test]
fn no_plain_word_is_itself_a_word_the_pass_replaces() {
    let voice = Voice::default();
    for list in [&voice.buzzwords, &voice.tells] {
        assert!(list.self_feeding().is_empty(), "{:?}", list.self_feeding());
        for plain in list.replacements() {
            let plain_words = words::words(&plain);
            assert!(
                voice.buzzwords.find(&plain, &plain_words).is_empty()
                    && voice.tells.find(&plain, &plain_words).is_empty(),
                "{plain:?} would be replaced again"
            );
        }
    }
}

/// Pieces of captions: plain words, the words the rules look for, punctuation and emoji, each
/// with its own spacing.
const PIECES: [&str; 46] = [
    " We",
    " fired",
    " mugs",
    " today",
    " the",
    " glaze",
    " is",
    " blue",
    " They",
    " ship",
    " Anna",
    ".",
    ".",
    "!",
    "!!",
    ",",
    " —",
    "\n",
    " #mugs",
    " #blue",
    " #pottery",
    " #kilnworks",
    " elevate",
    " Seamless",
    " unleash",
    " delve into",
    " In today's fast-paced world,",
    " needless to say",
    " not just",
    " but",
    " bold",
    ", bright",
    " and beautiful",
    " and",
    " Elevate Coffee",
    " cheap",
    " look no further",
    " world-class",
    " journey",
    " 3",
    " 🔥",
    "🔥",
    " ☕",
    " 👋🏽",
    " 🇫🇷",
    "\n✨",
];

fn captions() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES.to_vec()), 0..60)
        .prop_map(|pieces| pieces.concat().trim_start().to_owned())
}

fn users_voice() -> Voice {
    Voice::with_phrases(
        &["cheap => affordable".to_owned()],
        &["Elevate Coffee".to_owned(), "#kilnworks".to_owned()],
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_second_pass_changes_nothing(
        caption in captions(),
        density in prop::sample::select(vec![EmojiDensity::None, EmojiDensity::AFew, EmojiDensity::Lively]),
    ) {
        let mut voice = users_voice();
        voice.emoji = density;
        let first = voice.pass(&caption, &limits(3, 2_200));
        let second = voice.pass(&first.text, &limits(3, 2_200));
        prop_assert!(second.changes.is_empty(), "{:?} -> {:?} -> {:?}", caption, first.text, second.text);
    }

    #[test]
    fn phrases_to_keep_always_survive(caption in captions()) {
        let voice = users_voice();
        let out = voice.pass(&caption, &limits(3, 2_200)).text;
        for kept in ["elevate coffee", "#kilnworks"] {
            let before = caption.to_lowercase().matches(kept).count();
            let after = out.to_lowercase().matches(kept).count();
            prop_assert!(after >= before, "{kept}: {caption:?} -> {out:?}");
        }
    }

    #[test]
    fn never_longer_than_the_platform_allows(caption in captions(), limit in 20usize..400) {
        let voice = users_voice();
        let out = voice.pass(&caption, &limits(3, limit)).text;
        prop_assert!(characters(&out) <= limit.max(characters(&caption)), "{caption:?} -> {out:?}");
    }

    #[test]
    fn the_changes_rebuild_the_text_from_the_original(caption in captions()) {
        let pass = users_voice().pass(&caption, &limits(3, 2_200));
        prop_assert_eq!(pass.with_only(|_| true), pass.text.clone());
        let mut last_end = 0;
        for change in &pass.changes {
            prop_assert!(change.start >= last_end);
            prop_assert_eq!(&caption[change.start..change.end], change.before.as_str());
            last_end = change.end;
        }
    }
}
