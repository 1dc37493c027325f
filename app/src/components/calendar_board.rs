//! The calendar's moving part: an island around the server-drawn grid that lets a post be
//! dragged to another day (month) or hour (week), or moved with the keyboard: focus the post,
//! press Space, choose a slot with the arrow keys, Enter moves it, Escape leaves it. A live
//! region says what moved where; a move the server refuses (into the past, into an hour the
//! clocks skip) leaves the post where it was and says why.
//!
//! The grid marks what it needs: a post is `[data-post]` with `data-local` (its time on the
//! user's clock), `data-movable` and `data-excerpt`; a slot is `[data-slot]` (`YYYY-MM-DD` in
//! the month, `YYYY-MM-DDTHH` in the week) with `data-label` and a `[data-list]` to hold posts.
//! Slots come in rows of seven in the page's order in both views, so the arrow keys step by one
//! across and by seven up and down.

use leptos::prelude::*;

/// How to move a post without a mouse, said once beside the grid.
const HELP: &str = "Drag a post to another day or hour to move it. With the keyboard: focus a post, press Space, choose a slot with the arrow keys, then press Enter to move it there or Escape to leave it.";

#[island(lazy)]
pub fn CalendarBoard(children: Children) -> impl IntoView {
    let said = RwSignal::new(String::new());
    let failed = RwSignal::new(None::<String>);
    #[cfg(feature = "hydrate")]
    let board = dom::Board::new(said, failed);
    view! {
        <div
            class="cal-board"
            on:dragstart=move |ev| {
                #[cfg(feature = "hydrate")]
                board.drag_start(&ev);
                #[cfg(not(feature = "hydrate"))]
                let _ = ev;
            }
            on:dragover=move |ev| {
                #[cfg(feature = "hydrate")]
                board.drag_over(&ev);
                #[cfg(not(feature = "hydrate"))]
                let _ = ev;
            }
            on:drop=move |ev| {
                #[cfg(feature = "hydrate")]
                board.drop(&ev);
                #[cfg(not(feature = "hydrate"))]
                let _ = ev;
            }
            on:dragend=move |_| {
                #[cfg(feature = "hydrate")]
                board.cancel(false);
            }
            on:keydown=move |ev| {
                #[cfg(feature = "hydrate")]
                board.key(&ev);
                #[cfg(not(feature = "hydrate"))]
                let _ = ev;
            }
        >
            <p class="field-hint cal-help">{HELP}</p>
            <p class="notice notice-error" role="alert" hidden=move || failed.with(Option::is_none)>
                {move || failed.get()}
            </p>
            <p class="sr-only" role="status" aria-live="polite">
                {move || said.get()}
            </p>
            {children()}
        </div>
    }
}

/// The time a post dropped on `slot` gets: the slot's day (month) keeping the post's time, or
/// the slot's hour (week) keeping its minutes. `None` for a slot or time that is not one.
pub fn new_local(slot: &str, current: &str) -> Option<String> {
    let time = current.get(11..16)?;
    match slot.len() {
        10 => Some(format!("{slot}T{time}")),
        13 => Some(format!("{slot}:{}", time.get(3..)?)),
        _ => None,
    }
}

#[cfg(feature = "hydrate")]
mod dom {
    use leptos::prelude::*;
    use leptos::task::spawn_local;
    use wasm_bindgen::JsCast as _;
    use web_sys::{DragEvent, Element, EventTarget, HtmlElement, KeyboardEvent};

    use super::new_local;
    use crate::api::posts::move_post;
    use crate::types::{CalendarSpan, PostId};

    const TARGET: &str = "cal-drop-target";
    const MOVING: &str = "cal-moving";

    /// A post on its way: the post, the slot it would land on, and whether the keyboard moves
    /// it (a drag ends with the mouse; a keyboard move with Enter or Escape).
    struct Moving {
        chip: Element,
        cursor: Option<Element>,
        keyboard: bool,
    }

    #[derive(Clone, Copy)]
    pub struct Board {
        moving: StoredValue<Option<Moving>, LocalStorage>,
        said: RwSignal<String>,
        failed: RwSignal<Option<String>>,
    }

    fn closest(target: Option<EventTarget>, selector: &str) -> Option<Element> {
        target?
            .dyn_into::<Element>()
            .ok()?
            .closest(selector)
            .ok()
            .flatten()
    }

    fn data(element: &Element, name: &str) -> String {
        element
            .get_attribute(&format!("data-{name}"))
            .unwrap_or_default()
    }

    fn movable(chip: &Element) -> bool {
        data(chip, "movable") == "true"
    }

    fn slot_words(slot: &Element) -> String {
        let label = data(slot, "label");
        if slot.class_list().contains("cal-skipped") {
            format!("{label} (the clocks skip this hour)")
        } else {
            label
        }
    }

    impl Board {
        pub fn new(said: RwSignal<String>, failed: RwSignal<Option<String>>) -> Self {
            Self {
                moving: StoredValue::new_local(None),
                said,
                failed,
            }
        }

        fn start(self, chip: Element, keyboard: bool) -> bool {
            if !movable(&chip) {
                self.said.set(format!(
                    "\u{201c}{}\u{201d} has started or gone out, so it stays where it is.",
                    data(&chip, "excerpt")
                ));
                return false;
            }
            let _ = chip.class_list().add_1(MOVING);
            let cursor = keyboard
                .then(|| chip.closest("[data-slot]").ok().flatten())
                .flatten();
            if let Some(cursor) = &cursor {
                let _ = cursor.class_list().add_1(TARGET);
                self.said.set(format!(
                    "Moving \u{201c}{}\u{201d}, now on {}. Choose a slot with the arrow keys, then press Enter to move it there, or Escape to leave it.",
                    data(&chip, "excerpt"),
                    slot_words(cursor)
                ));
            }
            self.moving.set_value(Some(Moving {
                chip,
                cursor,
                keyboard,
            }));
            true
        }

        fn point_at(self, slot: Element) {
            self.moving.update_value(|moving| {
                let Some(moving) = moving else { return };
                if moving.cursor.as_ref() == Some(&slot) {
                    return;
                }
                if let Some(old) = moving.cursor.take() {
                    let _ = old.class_list().remove_1(TARGET);
                }
                let _ = slot.class_list().add_1(TARGET);
                moving.cursor = Some(slot);
            });
        }

        /// Ends a move without moving: Escape, or a drag let go outside the grid. A drag that
        /// ended on a slot already handed its post on, so there is nothing left to end.
        pub fn cancel(self, say: bool) {
            let Some(moving) = self.moving.try_update_value(Option::take).flatten() else {
                return;
            };
            Self::unmark(&moving);
            if say {
                self.said.set(format!(
                    "\u{201c}{}\u{201d} stays where it was.",
                    data(&moving.chip, "excerpt")
                ));
            }
        }

        fn unmark(moving: &Moving) {
            let _ = moving.chip.class_list().remove_1(MOVING);
            if let Some(cursor) = &moving.cursor {
                let _ = cursor.class_list().remove_1(TARGET);
            }
        }

        pub fn drag_start(self, ev: &DragEvent) {
            let Some(chip) = closest(ev.target(), "[data-post]") else {
                return;
            };
            let id = data(&chip, "post");
            if !self.start(chip, false) {
                ev.prevent_default();
                return;
            }
            if let Some(transfer) = ev.data_transfer() {
                let _ = transfer.set_data("text/plain", &id);
                transfer.set_effect_allowed("move");
            }
        }

        pub fn drag_over(self, ev: &DragEvent) {
            if self.moving.with_value(Option::is_none) {
                return;
            }
            if let Some(slot) = closest(ev.target(), "[data-slot]") {
                // Saying "a drop is welcome here".
                ev.prevent_default();
                if let Some(transfer) = ev.data_transfer() {
                    transfer.set_drop_effect("move");
                }
                self.point_at(slot);
            }
        }

        pub fn drop(self, ev: &DragEvent) {
            ev.prevent_default();
            if let Some(slot) = closest(ev.target(), "[data-slot]") {
                self.point_at(slot);
            }
            self.finish();
        }

        pub fn key(self, ev: &KeyboardEvent) {
            let keyboard_move = self
                .moving
                .with_value(|moving| moving.as_ref().map(|moving| moving.keyboard));
            let key = ev.key();
            match keyboard_move {
                None if key == " " => {
                    if let Some(chip) = closest(ev.target(), "[data-post]") {
                        ev.prevent_default();
                        self.start(chip, true);
                    }
                }
                Some(true) => {
                    let step = match key.as_str() {
                        "ArrowLeft" => Some(-1),
                        "ArrowRight" => Some(1),
                        "ArrowUp" => Some(-7),
                        "ArrowDown" => Some(7),
                        _ => None,
                    };
                    match (step, key.as_str()) {
                        (Some(step), _) => {
                            ev.prevent_default();
                            self.step(ev.current_target(), step);
                        }
                        (None, "Enter") => {
                            ev.prevent_default();
                            self.finish();
                        }
                        (None, "Escape") => {
                            ev.prevent_default();
                            self.cancel(true);
                        }
                        (None, " ") => ev.prevent_default(),
                        _ => {}
                    }
                }
                _ => {}
            }
        }

        /// Moves the keyboard's cursor `by` slots in the page's order.
        fn step(self, board: Option<EventTarget>, by: i32) {
            let Some(board) = board.and_then(|board| board.dyn_into::<Element>().ok()) else {
                return;
            };
            let Ok(slots) = board.query_selector_all("[data-slot]") else {
                return;
            };
            let slots: Vec<Element> = (0..slots.length())
                .filter_map(|index| slots.item(index)?.dyn_into::<Element>().ok())
                .collect();
            let current = self.moving.with_value(|moving| {
                moving
                    .as_ref()
                    .and_then(|moving| moving.cursor.clone())
                    .and_then(|cursor| slots.iter().position(|slot| *slot == cursor))
            });
            let Some(current) = current else { return };
            let next = i32::try_from(current).unwrap_or(0) + by;
            let Some(slot) = usize::try_from(next).ok().and_then(|next| slots.get(next)) else {
                self.said
                    .set("No further slot that way on this page.".to_owned());
                return;
            };
            self.said.set(slot_words(slot));
            self.point_at(slot.clone());
        }

        /// Asks the server to move the post to the cursor's slot; moves it on the page when
        /// the server did.
        fn finish(self) {
            let Some(moving) = self.moving.try_update_value(Option::take).flatten() else {
                return;
            };
            Self::unmark(&moving);
            let Moving {
                chip,
                cursor,
                keyboard,
            } = moving;
            let excerpt = data(&chip, "excerpt");
            let current = data(&chip, "local");
            let Some((slot, local)) = cursor.and_then(|slot| {
                let local = new_local(&data(&slot, "slot"), &current)?;
                Some((slot, local))
            }) else {
                return;
            };
            if local == current {
                self.said
                    .set(format!("\u{201c}{excerpt}\u{201d} stays where it was."));
                return;
            }
            let Ok(id) = uuid::Uuid::parse_str(&data(&chip, "post")) else {
                return;
            };
            // A week's slots are hours (`2026-11-27T09`), a month's are days.
            let view = if data(&slot, "slot").len() == 10 {
                CalendarSpan::Month
            } else {
                CalendarSpan::Week
            };
            let (said, failed) = (self.said, self.failed);
            spawn_local(async move {
                match move_post(PostId(id), local.clone(), view, keyboard).await {
                    Ok(note) => {
                        failed.set(None);
                        let item = chip.parent_element();
                        if let (Some(item), Ok(Some(list))) =
                            (item, slot.query_selector("[data-list]"))
                        {
                            let _ = list.append_child(&item);
                        }
                        let _ = chip.set_attribute("data-local", &local);
                        if let Ok(Some(time)) = chip.query_selector("[data-time]") {
                            time.set_text_content(Some(&local[11..16]));
                        }
                        if keyboard && let Some(chip) = chip.dyn_ref::<HtmlElement>() {
                            let _ = chip.focus();
                        }
                        let note = note.map(|note| format!(" {note}")).unwrap_or_default();
                        said.set(format!(
                            "Moved \u{201c}{excerpt}\u{201d} to {} at {}.{note}",
                            data(&slot, "label"),
                            &local[11..16]
                        ));
                    }
                    Err(error) => {
                        failed.set(Some(format!(
                            "\u{201c}{excerpt}\u{201d} was not moved: {error}"
                        )));
                        if keyboard && let Some(chip) = chip.dyn_ref::<HtmlElement>() {
                            let _ = chip.focus();
                        }
                    }
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_keeps_the_time_and_an_hour_keeps_the_minutes() {
        assert_eq!(
            new_local("2026-12-03", "2026-11-27T09:30").as_deref(),
            Some("2026-12-03T09:30")
        );
        assert_eq!(
            new_local("2026-03-29T02", "2026-03-27T09:30").as_deref(),
            Some("2026-03-29T02:30")
        );
        assert_eq!(new_local("nonsense", "2026-03-27T09:30"), None);
        assert_eq!(new_local("2026-12-03", "short"), None);
    }
}
