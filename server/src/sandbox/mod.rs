//! Local fakes of the other companies' APIs picscripter talks to, one file per platform, each
//! built from `shared/platforms.md` (that document decides when a fake and a real client
//! disagree). Integration tests serve them on `127.0.0.1:0` and point the configured base URLs
//! at them; `picscripter serve --sandbox` nests them into the app so the whole connect-and-publish
//! flow can be clicked through without an account at any platform.
//!
//! A fake's job is to be strict where the platform is strict (PKCE, single-use codes, rotating
//! refresh tokens, text limits, duplicate content) and to fail on command: tests script 429s,
//! 5xx, expired tokens and "accepted but the answer was lost" to prove the clients and the queue
//! handle them. Fakes keep everything in memory, trust whoever reaches them and must never be
//! reachable from a production deployment without `--sandbox`.

pub mod etsy;
pub mod gemini;
pub mod kit;
pub mod linkedin;
pub mod meta;
pub mod openai_compat;
pub mod pinterest;
pub mod shopify;
pub mod squarespace;
pub mod tiktok;
pub mod x;
pub mod youtube;

use std::net::{Ipv4Addr, SocketAddr};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Serves `router` on a fresh loopback port and returns where it listens, plus the serving task
/// (abort it to stop the fake; dropping the handle leaves it running until the runtime ends).
pub async fn serve(router: axum::Router) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let address = listener.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::warn!(%error, "a sandbox fake stopped serving");
        }
    });
    Ok((address, task))
}
