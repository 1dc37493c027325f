//! The controls every kit-built fake offers its tests, written once: a fake's world says where
//! its authorization server and script are, its handle how to lock that world, and the rest
//! follows. What a platform does differently (how failures are queued, how consent is decided,
//! how long tokens live) stays in the fake's own methods.

use std::hash::Hash;
use std::sync::MutexGuard;
use std::time::Duration;

use super::oauth::AuthorizationServer;
use super::script::Script;

/// A fake's world, as far as the shared controls reach into it.
pub trait KitWorld {
    type Endpoint: Copy + Eq + Hash;

    fn oauth(&mut self) -> &mut AuthorizationServer;
    fn script(&mut self) -> &mut Script<Self::Endpoint>;
    /// The id the authorization server issues `username`'s tokens to, once the account exists.
    fn account_id(&self, username: &str) -> Option<String>;
}

/// A handle on a fake whose world is a [`KitWorld`]: what tests and benchmarks turn and read.
pub trait FakeControls {
    type World: KitWorld;

    /// The fake's world, locked.
    fn world(&self) -> MutexGuard<'_, Self::World>;

    /// How long every API answer takes (default none): a stand-in for the network and the
    /// platform's own work, for benchmarks.
    fn set_latency(&self, latency: Duration) {
        self.world().script().set_latency(latency);
    }

    /// Requests that reached `endpoint`, whatever they were answered.
    fn request_count(&self, endpoint: <Self::World as KitWorld>::Endpoint) -> usize {
        self.world().script().request_count(endpoint)
    }

    /// Token requests with `grant_type=authorization_code`, whatever they were answered.
    fn code_exchange_count(&self) -> usize {
        self.world().oauth().counts().code_exchanges
    }

    /// Token requests with `grant_type=refresh_token`, whatever they were answered.
    fn refresh_count(&self) -> usize {
        self.world().oauth().counts().refreshes
    }

    /// Revokes one access or refresh token (a stand-in for whatever kills a single token).
    fn revoke_token(&self, token: &str) {
        self.world().oauth().revoke(token);
    }

    /// What the user removing the app at the platform does: every token of that account stops
    /// working.
    fn revoke_all_tokens_of(&self, username: &str) {
        let mut world = self.world();
        if let Some(id) = world.account_id(username) {
            world.oauth().revoke_account(&id);
        }
    }

    /// Every access and refresh token the fake ever issued: tests look for them where they
    /// must never appear (logs, pages, API answers).
    fn issued_tokens(&self) -> Vec<String> {
        self.world().oauth().issued_tokens()
    }
}
