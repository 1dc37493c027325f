//! When a post goes out: now, at a chosen time in the user's time zone, or not yet (a draft).

use leptos::prelude::*;

use crate::types::Schedule;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Now,
    Later,
    Draft,
}

impl When {
    const ALL: [When; 3] = [When::Now, When::Later, When::Draft];

    fn value(self) -> &'static str {
        match self {
            Self::Now => "now",
            Self::Later => "schedule",
            Self::Draft => "draft",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Now => "Publish now",
            Self::Later => "Schedule",
            Self::Draft => "Save as draft",
        }
    }

    /// The choice an editor starts with: a post with a time keeps it; a post edited in place
    /// without one is a draft; anything else goes out now.
    pub fn starting(editing: bool, has_time: bool) -> Self {
        match (editing, has_time) {
            (_, true) => Self::Later,
            (true, false) => Self::Draft,
            (false, false) => Self::Now,
        }
    }

    /// What the submit button says for this choice.
    pub fn submit_label(self) -> &'static str {
        match self {
            Self::Now => "Publish now",
            Self::Later => "Schedule post",
            Self::Draft => "Save draft",
        }
    }

    /// The schedule to send. `local` is a `datetime-local` value, which browsers may give with
    /// seconds; the server takes minutes.
    pub fn schedule(self, local: &str) -> Schedule {
        match self {
            Self::Now => Schedule::NOW,
            Self::Draft => Schedule::DRAFT,
            Self::Later => Schedule::Local {
                local: local.chars().take("YYYY-MM-DDTHH:MM".len()).collect(),
            },
        }
    }
}

#[component]
pub fn SchedulePicker(
    when: RwSignal<When>,
    /// The chosen date and time, as the `datetime-local` input gives it.
    local: RwSignal<String>,
    /// The user's time zone, which the server reads `local` in.
    zone: String,
    /// An error about the schedule from the last submission.
    #[prop(into)]
    error: Signal<Option<String>>,
) -> impl IntoView {
    let later = move || when.get() == When::Later;
    view! {
        <fieldset class="fieldset">
            <legend class="field-label">"When"</legend>
            <div class="choice-row">
                {When::ALL
                    .into_iter()
                    .map(|choice| {
                        view! {
                            <label class="choice">
                                <input
                                    type="radio"
                                    name="when"
                                    value=choice.value()
                                    checked=move || when.get() == choice
                                    prop:checked=move || when.get() == choice
                                    on:change=move |_| when.set(choice)
                                />
                                {choice.label()}
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
            <Show when=later>
                <div class="field">
                    <label for="compose-schedule" class="field-label">"Date and time (your time zone)"</label>
                    <input
                        id="compose-schedule"
                        type="datetime-local"
                        class="field-input field-input-narrow"
                        required
                        value=move || local.get()
                        prop:value=move || local.get()
                        aria-describedby="compose-schedule-hint"
                        aria-invalid=move || error.get().is_some().then_some("true")
                        on:input=move |ev| local.set(event_target_value(&ev))
                    />
                    <p id="compose-schedule-hint" class="field-hint">
                        {format!("In {zone}, the time zone in your settings.")}
                    </p>
                </div>
            </Show>
            <Show when=move || error.get().is_some()>
                <p class="field-error" role="alert">{move || error.get()}</p>
            </Show>
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_editor_starts_from_the_posts_time_then_from_what_it_edits() {
        assert_eq!(When::starting(true, true), When::Later);
        assert_eq!(When::starting(false, true), When::Later);
        assert_eq!(When::starting(true, false), When::Draft);
        assert_eq!(When::starting(false, false), When::Now);
    }

    #[test]
    fn a_scheduled_time_is_sent_to_the_minute() {
        assert_eq!(
            When::Later.schedule("2026-12-24T09:30:15"),
            Schedule::Local {
                local: "2026-12-24T09:30".into()
            }
        );
        assert_eq!(When::Now.schedule("ignored"), Schedule::NOW);
        assert_eq!(When::Draft.schedule(""), Schedule::DRAFT);
    }
}
