//! `rotate-key`: every stored token ends up under the current key, still decrypts to what it
//! was, and a second run has nothing to do.

mod common;

use sea_orm::Database;
use secrecy::{ExposeSecret, SecretString};

use app::types::{ConnectionId, Platform, Store, StoreId, UserId};
use server::clock::SystemClock;
use server::crypto::{Keyring, generate_key};
use server::db::connections::{self, NewConnection, StoredTokens, TokenKind, token_context};
use server::db::stores::{self, NewStore};
use server::db::token_rows::{self, TokenTable};
use server::key_rotation::{RotationReport, rotate_keys};

use common::{Backend, TestApp};

fn secret(text: &str) -> SecretString {
    SecretString::from(text.to_owned())
}

async fn rotation_moves_every_token_to_the_new_key(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.signed_in_user().await;
    let owner = UserId(app.user_id(&token).await);
    let db = Database::connect(&app.database_url).await.unwrap();

    let old_key = secret(&generate_key());
    let old = Keyring::new(&old_key, &[]).unwrap();
    let mut stored = Vec::new();
    for (index, with_refresh) in [true, false, true].into_iter().enumerate() {
        let id = ConnectionId(uuid::Uuid::new_v4());
        let access = format!("access-{index}");
        let refresh = format!("refresh-{index}");
        let tokens = StoredTokens {
            access: old.encrypt(&secret(&access), &token_context(id, TokenKind::Access)),
            refresh: with_refresh
                .then(|| old.encrypt(&secret(&refresh), &token_context(id, TokenKind::Refresh))),
            expires_at: None,
        };
        let account = format!("account-{index}");
        let new = NewConnection {
            platform: Platform::X,
            account_id: &account,
            handle: "@ana",
            display_name: None,
            avatar_url: None,
            scopes: "tweet.read tweet.write",
        };
        connections::insert(&db, owner, id, new, tokens, chrono::Utc::now())
            .await
            .unwrap();
        stored.push((id, access, with_refresh.then_some(refresh)));
    }
    // A store's tokens are rotated too, under their own table's context.
    let store = StoreId(uuid::Uuid::new_v4());
    let context = |kind| TokenTable::Stores.context(store.0, kind);
    let store_tokens = StoredTokens {
        access: old.encrypt(&secret("shpat-access"), &context(TokenKind::Access)),
        refresh: Some(old.encrypt(&secret("shprt-refresh"), &context(TokenKind::Refresh))),
        expires_at: None,
    };
    let new_store = NewStore {
        store: Store::Shopify,
        account_id: "test-shop.myshopify.com",
        name: "Test Shop",
        url: None,
        scopes: "read_products",
    };
    stores::insert(
        &db,
        owner,
        store,
        new_store,
        store_tokens,
        chrono::Utc::now(),
    )
    .await
    .unwrap();

    let new_key = secret(&generate_key());
    let during = Keyring::new(&new_key, &[old_key]).unwrap();
    let report = rotate_keys(&db, &during, &SystemClock).await.unwrap();
    assert_eq!(
        report,
        RotationReport {
            rotated: 4,
            current: 0,
            studio_keys: 0,
        }
    );

    // The old key can now be dropped: everything decrypts with the new one alone.
    let after = Keyring::new(&new_key, &[]).unwrap();
    for (id, access, refresh) in &stored {
        let (_, tokens) = connections::tokens(&db, *id).await.unwrap().unwrap();
        assert_eq!(tokens.access.key_id, after.current_key_id());
        let plain = after
            .decrypt(&tokens.access, &token_context(*id, TokenKind::Access))
            .unwrap();
        assert_eq!(plain.expose_secret(), access);
        match (refresh, tokens.refresh) {
            (Some(refresh), Some(encrypted)) => {
                let plain = after
                    .decrypt(&encrypted, &token_context(*id, TokenKind::Refresh))
                    .unwrap();
                assert_eq!(plain.expose_secret(), refresh);
            }
            (None, None) => {}
            other => panic!("the refresh token changed shape: {other:?}"),
        }
    }
    let again = rotate_keys(&db, &after, &SystemClock).await.unwrap();
    assert_eq!(
        again,
        RotationReport {
            rotated: 0,
            current: 4,
            studio_keys: 0,
        }
    );
    let row = token_rows::load(&db, TokenTable::Stores, store.0)
        .await
        .unwrap()
        .unwrap();
    let refresh = after
        .decrypt(&row.tokens.refresh.unwrap(), &context(TokenKind::Refresh))
        .unwrap();
    assert_eq!(refresh.expose_secret(), "shprt-refresh");
}

on_both_databases!(rotation_moves_every_token_to_the_new_key);

#[tokio::test]
async fn a_token_copied_into_another_row_does_not_decrypt() {
    let keyring = Keyring::new(&secret(&generate_key()), &[]).unwrap();
    let (one, two) = (
        ConnectionId(uuid::Uuid::new_v4()),
        ConnectionId(uuid::Uuid::new_v4()),
    );
    let token = keyring.encrypt(&secret("access"), &token_context(one, TokenKind::Access));
    assert!(
        keyring
            .decrypt(&token, &token_context(two, TokenKind::Access))
            .is_err()
    );
    assert!(
        keyring
            .decrypt(&token, &token_context(one, TokenKind::Refresh))
            .is_err()
    );
}
