//! The strip across the top of every page when the server runs against the platform fakes
//! (`serve --sandbox`), so nobody mistakes a simulated post for a real one.

use leptos::prelude::*;

use crate::api::meta::is_sandbox;

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
                                "Sandbox: X, Pinterest and LinkedIn are simulated here. Nothing is posted to real accounts. "
                                <a href="/sandbox/x/_control" rel="external">"Make sandbox X fail"</a>
                                " \u{b7} "
                                <a href="/sandbox/pinterest/_control" rel="external">"Make sandbox Pinterest fail"</a>
                                " \u{b7} "
                                <a href="/sandbox/linkedin/_control" rel="external">"Make sandbox LinkedIn fail"</a>
                            </div>
                        }
                    })
            })}
        </Suspense>
    }
}
