//! The signed-in user as the whole UI sees it: one resource, refetched whenever an action
//! that changes who is signed in (or their profile) completes.

use leptos::prelude::*;

use crate::api::account::{Register, SignIn, SignOut, current_user};
use crate::api::settings::UpdateProfile;
use crate::types::{ApiError, User};

#[derive(Clone, Copy)]
pub struct Session {
    pub user: Resource<Result<Option<User>, ApiError>>,
    pub sign_in: ServerAction<SignIn>,
    pub register: ServerAction<Register>,
    pub sign_out: ServerAction<SignOut>,
    pub update_profile: ServerAction<UpdateProfile>,
}

pub fn provide_session() {
    let sign_in = ServerAction::<SignIn>::new();
    let register = ServerAction::<Register>::new();
    let sign_out = ServerAction::<SignOut>::new();
    let update_profile = ServerAction::<UpdateProfile>::new();
    let user = Resource::new(
        move || {
            (
                sign_in.version().get(),
                register.version().get(),
                sign_out.version().get(),
                update_profile.version().get(),
            )
        },
        |_| current_user(),
    );
    provide_context(Session {
        user,
        sign_in,
        register,
        sign_out,
        update_profile,
    });
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}
