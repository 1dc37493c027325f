//! The strip across the top of every page when the server runs against the platform fakes
//! (`serve --sandbox`), so nobody mistakes a simulated post for a real one.

use leptos::prelude::*;

use crate::api::meta::is_sandbox;

/// Each fake's page for arming a failure, by its mount under `/sandbox`.
const CONTROL_PAGES: [(&str, &str); 7] = [
    ("x", "X"),
    ("pinterest", "Pinterest"),
    ("linkedin", "LinkedIn"),
    ("youtube", "YouTube"),
    ("tiktok", "TikTok"),
    ("facebook", "Facebook"),
    ("instagram", "Instagram"),
];

#[component]
pub fn SandboxBanner() -> impl IntoView {
    // Blocking, so the banner is in the server's HTML and hydration finds it there.
    let sandbox = OnceResource::new_blocking(is_sandbox());
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                matches!(sandbox.await, Ok(true))
                    .then(|| {
                        view! {
                            <div class="sandbox-banner" role="note">
                                "Sandbox: every platform here is simulated. Nothing is posted to real accounts. Make one fail: "
                                {CONTROL_PAGES
                                    .iter()
                                    .enumerate()
                                    .map(|(index, (path, name))| {
                                        view! {
                                            {(index > 0).then_some(" \u{b7} ")}
                                            <a
                                                href=format!("/sandbox/{path}/_control")
                                                rel="external"
                                                aria-label=format!("Make sandbox {name} fail")
                                            >
                                                {*name}
                                            </a>
                                        }
                                    })
                                    .collect_view()}
                            </div>
                        }
                    })
            })}
        </Suspense>
    }
}
