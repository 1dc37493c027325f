//! Where a post stands on one account, as a badge: "@ana · Published". The status is spelled
//! out, so the colour only repeats what the text says.

use leptos::prelude::*;

use crate::components::timestamp::utc_text;
use crate::types::{Target, TargetStatus};

/// The status in a word or two, as the filters list it.
pub fn status_name(status: TargetStatus) -> &'static str {
    match status {
        TargetStatus::Draft => "Draft",
        TargetStatus::Scheduled => "Scheduled",
        TargetStatus::Publishing => "Publishing",
        TargetStatus::Processing => "Processing",
        TargetStatus::Published => "Published",
        TargetStatus::Retrying => "Retrying",
        TargetStatus::Failed => "Failed",
        TargetStatus::Cancelled => "Cancelled",
        TargetStatus::WaitingReconnect => "Waiting for reconnect",
        TargetStatus::Held => "Held",
    }
}

/// The status in words, with its time where one matters ("Scheduled for …").
pub fn status_text(target: &Target) -> String {
    match (target.status, target.due_at, target.next_attempt_at) {
        (TargetStatus::Scheduled, Some(at), _) => format!("Scheduled for {}", utc_text(at)),
        (TargetStatus::Retrying, _, Some(at)) => format!("Retrying at {}", utc_text(at)),
        (TargetStatus::Processing, _, Some(at)) => {
            format!("Processing, checked again at {}", utc_text(at))
        }
        (status, _, _) => status_name(status).to_owned(),
    }
}

/// Whether a worker will still move the target without the user doing anything, so a page
/// showing it should look again soon.
pub fn moves_on_its_own(status: TargetStatus) -> bool {
    matches!(
        status,
        TargetStatus::Scheduled
            | TargetStatus::Publishing
            | TargetStatus::Processing
            | TargetStatus::Retrying
    )
}

/// `@handle · Status`.
#[component]
pub fn TargetBadge(target: Target) -> impl IntoView {
    let class = format!("badge badge-{}", target.status.as_str());
    let text = format!("@{} \u{b7} {}", target.account_handle, status_text(&target));
    view! { <span class=class>{text}</span> }
}

/// Only the status (for a table that names the account in its own column).
#[component]
pub fn StatusBadge(target: Target) -> impl IntoView {
    let class = format!("badge badge-{}", target.status.as_str());
    view! { <span class=class>{status_text(&target)}</span> }
}
