//! OAuth `state`: bound to the user who started the authorization, single use, short-lived.

mod common;

use chrono::{Duration, Utc};
use sea_orm::Database;
use secrecy::{ExposeSecret, SecretString};

use app::types::UserId;
use server::db::oauth_states;

use common::{Backend, TestApp};

async fn a_state_is_taken_once_by_its_owner_before_it_expires(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ((_, token_a), (_, token_b)) = app.two_users().await;
    let (ana, bob) = (
        UserId(app.user_id(&token_a).await),
        UserId(app.user_id(&token_b).await),
    );
    let db = Database::connect(&app.database_url).await.unwrap();
    let now = Utc::now();
    let verifier = SecretString::from("a-pkce-verifier-of-forty-three-characters-x".to_owned());
    let expires = now + Duration::minutes(10);
    oauth_states::create(
        &db,
        ana,
        oauth_states::NewAuthorization {
            state: "state-1",
            provider: "x",
            pkce_verifier: &verifier,
            site: None,
        },
        now,
        expires,
    )
    .await
    .unwrap();

    // Bob cannot complete Ana's authorization, and trying does not spend it.
    assert!(
        oauth_states::take(&db, bob, "state-1", now)
            .await
            .unwrap()
            .is_none()
    );
    let taken = oauth_states::take(&db, ana, "state-1", now)
        .await
        .unwrap()
        .expect("Ana's state");
    assert_eq!(taken.provider, "x");
    assert_eq!(taken.site, None);
    assert_eq!(
        taken.pkce_verifier.expose_secret(),
        verifier.expose_secret()
    );
    assert!(
        oauth_states::take(&db, ana, "state-1", now)
            .await
            .unwrap()
            .is_none(),
        "single use"
    );

    oauth_states::create(
        &db,
        ana,
        oauth_states::NewAuthorization {
            state: "state-2",
            provider: "x",
            pkce_verifier: &verifier,
            site: None,
        },
        now,
        expires,
    )
    .await
    .unwrap();
    let late = expires + Duration::seconds(1);
    assert!(
        oauth_states::take(&db, ana, "state-2", late)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        oauth_states::take(&db, ana, "never-issued", now)
            .await
            .unwrap()
            .is_none()
    );

    oauth_states::create(
        &db,
        bob,
        oauth_states::NewAuthorization {
            state: "state-3",
            provider: "x",
            pkce_verifier: &verifier,
            site: None,
        },
        now,
        expires,
    )
    .await
    .unwrap();
    assert_eq!(oauth_states::delete_expired(&db, late).await.unwrap(), 1);
    assert!(
        oauth_states::take(&db, bob, "state-3", late)
            .await
            .unwrap()
            .is_none()
    );
}

on_both_databases!(a_state_is_taken_once_by_its_owner_before_it_expires);
