//! Queries on `studio_settings`: one row per user with their writer choice, their own writer's
//! sealed keys and their brand voice. Keys come in and go out as [`EncryptedToken`]s, each
//! encrypted for its owner and column ([`key_context`]); this module never sees a plaintext.
//!
//! A save writes a key's columns only when the key changes ([`KeyChange`]), so a save that
//! keeps the stored key never writes back a ciphertext that `rotate-key` replaced meanwhile.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use app::types::{EmojiDensity, UserId, WriterChoice};

use super::DbError;
use super::entities::studio_setting::{self, Column};
use crate::crypto::EncryptedToken;

/// Which of a person's writer keys a ciphertext is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Gemini,
    OpenAi,
}

impl KeyKind {
    pub const ALL: [KeyKind; 2] = [Self::Gemini, Self::OpenAi];
}

/// The associated data a writer key is encrypted with: a ciphertext moved to another person's
/// row, or from one key's columns to the other's, no longer decrypts.
pub fn key_context(owner: UserId, kind: KeyKind) -> Vec<u8> {
    let kind = match kind {
        KeyKind::Gemini => "gemini",
        KeyKind::OpenAi => "openai",
    };
    format!("studio-settings:{}:{kind}-key", owner.0).into_bytes()
}

/// Everything a person chose, but the keys. The default is what a person who never saved
/// has: the server's writer, no brand voice, a few emoji.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StudioChoices {
    pub writer: WriterChoice,
    pub gemini_model: Option<String>,
    pub gemini_url: Option<String>,
    pub openai_url: Option<String>,
    pub openai_model: Option<String>,
    pub voice_samples: Vec<String>,
    pub avoid: Vec<String>,
    pub keep: Vec<String>,
    pub dictionary: Vec<String>,
    pub emoji_density: EmojiDensity,
}

/// A person's row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStudioSettings {
    pub choices: StudioChoices,
    pub gemini_key: Option<EncryptedToken>,
    pub openai_key: Option<EncryptedToken>,
    pub updated_at: DateTime<Utc>,
}

impl StoredStudioSettings {
    pub fn key(&self, kind: KeyKind) -> Option<&EncryptedToken> {
        match kind {
            KeyKind::Gemini => self.gemini_key.as_ref(),
            KeyKind::OpenAi => self.openai_key.as_ref(),
        }
    }
}

/// What a save does to one stored key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    /// Leaves the stored key (or its absence) as it is.
    Keep,
    Set(EncryptedToken),
    Clear,
}

fn corrupt(column: &str, owner: Uuid) -> sea_orm::DbErr {
    sea_orm::DbErr::Custom(format!(
        "studio_settings.{column} of {owner} does not parse"
    ))
}

fn list(column: &str, owner: Uuid, json: &str) -> Result<Vec<String>, sea_orm::DbErr> {
    serde_json::from_str(json).map_err(|_| corrupt(column, owner))
}

fn list_json(list: &[String]) -> String {
    serde_json::to_string(list).expect("a list of strings is JSON")
}

/// A key's three columns as one token: all set, or none.
fn sealed(
    key_id: Option<String>,
    nonce: Option<Vec<u8>>,
    ciphertext: Option<Vec<u8>>,
) -> Option<EncryptedToken> {
    match (key_id, nonce, ciphertext) {
        (Some(key_id), Some(nonce), Some(ciphertext)) => Some(EncryptedToken {
            key_id,
            nonce,
            ciphertext,
        }),
        _ => None,
    }
}

impl TryFrom<studio_setting::Model> for StoredStudioSettings {
    type Error = sea_orm::DbErr;

    fn try_from(row: studio_setting::Model) -> Result<Self, Self::Error> {
        let owner = row.user_id;
        Ok(Self {
            choices: StudioChoices {
                writer: WriterChoice::parse(&row.writer).ok_or_else(|| corrupt("writer", owner))?,
                gemini_model: row.gemini_model,
                gemini_url: row.gemini_url,
                openai_url: row.openai_url,
                openai_model: row.openai_model,
                voice_samples: list("voice_samples", owner, &row.voice_samples)?,
                avoid: list("avoid", owner, &row.avoid)?,
                keep: list("keep", owner, &row.keep)?,
                dictionary: list("dictionary", owner, &row.dictionary)?,
                emoji_density: EmojiDensity::parse(&row.emoji_density)
                    .ok_or_else(|| corrupt("emoji_density", owner))?,
            },
            gemini_key: sealed(
                row.gemini_key_id,
                row.gemini_key_nonce,
                row.gemini_key_ciphertext,
            ),
            openai_key: sealed(
                row.openai_key_id,
                row.openai_key_nonce,
                row.openai_key_ciphertext,
            ),
            updated_at: row.updated_at,
        })
    }
}

/// The owner's settings, if they ever saved any.
pub async fn get(
    db: &impl ConnectionTrait,
    owner: UserId,
) -> Result<Option<StoredStudioSettings>, DbError> {
    let row = studio_setting::Entity::find_by_id(owner.0).one(db).await?;
    Ok(row.map(StoredStudioSettings::try_from).transpose()?)
}

/// The three columns of `kind`'s key.
fn key_columns(kind: KeyKind) -> [Column; 3] {
    match kind {
        KeyKind::Gemini => [
            Column::GeminiKeyId,
            Column::GeminiKeyNonce,
            Column::GeminiKeyCiphertext,
        ],
        KeyKind::OpenAi => [
            Column::OpenaiKeyId,
            Column::OpenaiKeyNonce,
            Column::OpenaiKeyCiphertext,
        ],
    }
}

/// Stores the owner's choices, creating their row or replacing it, and changes each key as
/// asked. A key kept on a first save is simply absent.
pub async fn upsert(
    db: &impl ConnectionTrait,
    owner: UserId,
    choices: &StudioChoices,
    gemini_key: KeyChange,
    openai_key: KeyChange,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let mut updated = vec![
        Column::Writer,
        Column::GeminiModel,
        Column::GeminiUrl,
        Column::OpenaiUrl,
        Column::OpenaiModel,
        Column::VoiceSamples,
        Column::Avoid,
        Column::Keep,
        Column::Dictionary,
        Column::EmojiDensity,
        Column::UpdatedAt,
    ];
    for (kind, change) in [
        (KeyKind::Gemini, &gemini_key),
        (KeyKind::OpenAi, &openai_key),
    ] {
        if *change != KeyChange::Keep {
            updated.extend(key_columns(kind));
        }
    }
    let columns = |change: KeyChange| match change {
        KeyChange::Set(token) => (
            Some(token.key_id),
            Some(token.nonce),
            Some(token.ciphertext),
        ),
        KeyChange::Keep | KeyChange::Clear => (None, None, None),
    };
    let (gemini_key_id, gemini_key_nonce, gemini_key_ciphertext) = columns(gemini_key);
    let (openai_key_id, openai_key_nonce, openai_key_ciphertext) = columns(openai_key);
    let row = studio_setting::ActiveModel {
        user_id: Set(owner.0),
        writer: Set(choices.writer.as_str().to_owned()),
        gemini_model: Set(choices.gemini_model.clone()),
        gemini_url: Set(choices.gemini_url.clone()),
        gemini_key_id: Set(gemini_key_id),
        gemini_key_nonce: Set(gemini_key_nonce),
        gemini_key_ciphertext: Set(gemini_key_ciphertext),
        openai_url: Set(choices.openai_url.clone()),
        openai_model: Set(choices.openai_model.clone()),
        openai_key_id: Set(openai_key_id),
        openai_key_nonce: Set(openai_key_nonce),
        openai_key_ciphertext: Set(openai_key_ciphertext),
        voice_samples: Set(list_json(&choices.voice_samples)),
        avoid: Set(list_json(&choices.avoid)),
        keep: Set(list_json(&choices.keep)),
        dictionary: Set(list_json(&choices.dictionary)),
        emoji_density: Set(choices.emoji_density.as_str().to_owned()),
        updated_at: Set(now),
    };
    studio_setting::Entity::insert(row)
        .on_conflict(
            OnConflict::column(Column::UserId)
                .update_columns(updated)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map_err(DbError::from_write)?;
    Ok(())
}

/// For `rotate-key`: the owners of stored settings after `after`, in order, `limit` at most.
pub async fn owners_after(
    db: &impl ConnectionTrait,
    after: Option<UserId>,
    limit: u64,
) -> Result<Vec<UserId>, DbError> {
    let mut query = studio_setting::Entity::find()
        .select_only()
        .column(Column::UserId)
        .order_by_asc(Column::UserId)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(Column::UserId.gt(after.0));
    }
    let owners: Vec<Uuid> = query.into_tuple().all(db).await?;
    Ok(owners.into_iter().map(UserId).collect())
}

/// For `rotate-key`: replaces the owner's `kind` key with `new` if it is still `old`. `false`
/// when the person saved another key (or removed it) meanwhile: what they saved was written
/// under the current key, so nothing is lost.
pub async fn replace_key(
    db: &impl ConnectionTrait,
    owner: UserId,
    kind: KeyKind,
    old: &EncryptedToken,
    new: EncryptedToken,
) -> Result<bool, DbError> {
    let [key_id, nonce, ciphertext] = key_columns(kind);
    let updated = studio_setting::Entity::update_many()
        .col_expr(key_id, Expr::value(new.key_id))
        .col_expr(nonce, Expr::value(new.nonce))
        .col_expr(ciphertext, Expr::value(new.ciphertext))
        .filter(Column::UserId.eq(owner.0))
        .filter(key_id.eq(old.key_id.clone()))
        .filter(nonce.eq(old.nonce.clone()))
        .filter(ciphertext.eq(old.ciphertext.clone()))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}
