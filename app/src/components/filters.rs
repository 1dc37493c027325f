//! The choices the list pages filter by, as `<select>`s of plain GET forms: a target status or a
//! platform, "any" first.

use leptos::prelude::*;

use crate::components::status_badge::status_name;
use crate::types::{Platform, TargetStatus};

/// A status to filter by. `statuses` are the ones offered, `chosen` the one in the URL.
#[component]
pub fn StatusSelect(
    id: &'static str,
    chosen: Option<TargetStatus>,
    #[prop(default = &TargetStatus::ALL)] statuses: &'static [TargetStatus],
) -> impl IntoView {
    let chosen = chosen.map_or("", TargetStatus::as_str);
    view! {
        <div class="field">
            <label for=id class="field-label">"Status"</label>
            <select id=id name="status" class="field-input">
                <option value="">"Any status"</option>
                {statuses
                    .iter()
                    .map(|choice| {
                        view! {
                            <option value=choice.as_str() selected=chosen == choice.as_str()>
                                {status_name(*choice)}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

/// A platform to filter by; `chosen` is the one in the URL.
#[component]
pub fn PlatformSelect(id: &'static str, chosen: Option<Platform>) -> impl IntoView {
    let chosen = chosen.map_or("", Platform::as_str);
    view! {
        <div class="field">
            <label for=id class="field-label">"Platform"</label>
            <select id=id name="platform" class="field-input">
                <option value="">"Any platform"</option>
                {Platform::ALL
                    .into_iter()
                    .map(|choice| {
                        view! {
                            <option value=choice.as_str() selected=chosen == choice.as_str()>
                                {choice.display_name()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}
