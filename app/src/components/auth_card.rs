//! The centred card that the sign-in and register pages sit in. A signed-in visitor is sent
//! straight home.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::api::account::HOME_PATH;
use crate::session::use_session;

#[component]
pub fn AuthCard(title: &'static str, children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    let children = StoredValue::new(children);
    view! {
        <main class="auth-page">
            <Suspense>
                {move || Suspend::new(async move {
                    match session.user.await {
                        Ok(Some(_)) => view! { <Redirect path=HOME_PATH /> }.into_any(),
                        _ => {
                            view! {
                                <section class="auth-card" aria-labelledby="auth-title">
                                    <p class="auth-brand">"Picscripterai"</p>
                                    <h1 id="auth-title" class="auth-title">{title}</h1>
                                    {children.read_value()()}
                                </section>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </main>
    }
}
