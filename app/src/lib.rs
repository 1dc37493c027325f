//! The Picscripterai web app: the page shell, the router and the pages, compiled twice: with
//! `ssr` into the server and with `hydrate` into the browser's wasm.

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod pages;
pub mod services;
pub mod session;
pub mod types;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Outlet, ParentRoute, Route, Router, Routes},
    path,
};

use crate::components::{
    app_layout::AppLayout, browser::HydrationMark, sandbox_banner::SandboxBanner,
    theme::document_theme,
};
use crate::pages::{
    analytics::Analytics, calendar::Calendar, compose::Compose, connections::Connections,
    home::Home, login::Login, media::Media, not_found::NotFound, post_detail::PostDetail,
    posts::Posts, products::Products, register::Register, settings::Settings, studio::Studio,
    templates::Templates,
};

/// The HTML document the server renders around [`App`].
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let stylesheet = format!("/{}/{}.css", options.site_pkg_dir, options.output_name);
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=document_theme()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <meta name="theme-color" content="#4f46e5" />
                <link rel="icon" href="/favicon.ico" sizes="32x32" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="manifest" href="/manifest.webmanifest" />
                <link rel="stylesheet" href=stylesheet />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title text="Picscripterai" />
        <SandboxBanner />
        <Router>
            <Routes fallback=NotFound>
                <ParentRoute path=path!("") view=SessionRoot ssr=SsrMode::Async>
                    <Route path=path!("/") view=Home ssr=SsrMode::Async />
                    <Route path=path!("/login") view=Login ssr=SsrMode::Async />
                    <Route path=path!("/register") view=Register ssr=SsrMode::Async />
                    <ParentRoute path=path!("") view=AppLayout ssr=SsrMode::Async>
                        <Route path=path!("/studio") view=Studio ssr=SsrMode::Async />
                        <Route path=path!("/compose") view=Compose ssr=SsrMode::Async />
                        <Route path=path!("/calendar") view=Calendar ssr=SsrMode::Async />
                        <Route path=path!("/posts") view=Posts ssr=SsrMode::Async />
                        <Route path=path!("/posts/:id") view=PostDetail ssr=SsrMode::Async />
                        <Route path=path!("/products") view=Products ssr=SsrMode::Async />
                        <Route path=path!("/media") view=Media ssr=SsrMode::Async />
                        <Route path=path!("/templates") view=Templates ssr=SsrMode::Async />
                        <Route path=path!("/analytics") view=Analytics ssr=SsrMode::Async />
                        <Route path=path!("/connections") view=Connections ssr=SsrMode::Async />
                        <Route path=path!("/settings") view=Settings ssr=SsrMode::Async />
                    </ParentRoute>
                </ParentRoute>
            </Routes>
        </Router>
        <HydrationMark />
    }
}

/// Holds the session for every page. It sits inside `<Routes>` because that is where the
/// router provides the error a form posted without JavaScript left in the URL, which the
/// session's actions pick up when they are created.
#[component]
fn SessionRoot() -> impl IntoView {
    session::provide_session();
    view! { <Outlet /> }
}
