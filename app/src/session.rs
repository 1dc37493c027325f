//! The signed-in user as the server renders every page: read once per request. Islands that
//! need the user get it as a prop.

use leptos::prelude::*;

use crate::api::account::{SignOut, current_user};
use crate::types::{ApiError, User};

#[derive(Clone, Copy)]
pub struct Session {
    pub user: Resource<Result<Option<User>, ApiError>>,
    /// The sidebar's sign-out form. It posts without JavaScript; an error comes back in the
    /// URL, where this action finds it.
    pub sign_out: ServerAction<SignOut>,
}

pub fn provide_session() {
    provide_context(Session {
        user: Resource::new(|| (), |_| current_user()),
        sign_out: ServerAction::<SignOut>::new(),
    });
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}
