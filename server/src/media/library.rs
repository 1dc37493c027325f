//! The media library port: uploads checked by content, kept in the media store with a row
//! describing them, listed, served to their owner, and deleted when no post uses them.

use std::sync::Arc;

use async_trait::async_trait;
use sea_orm::DatabaseConnection;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use app::services::Media;
use app::types::{ApiError, MediaId, MediaItem, UserId};

use super::probe::probe;
use super::store::MediaStore;
use crate::clock::SharedClock;
use crate::db::media::{self as rows, NewMedia};
use crate::db::posts::media_item;
use crate::error::Error;
use crate::publishing::Pipeline;

pub struct MediaLibrary {
    db: DatabaseConnection,
    store: Arc<dyn MediaStore>,
    clock: SharedClock,
}

impl MediaLibrary {
    pub fn new(db: DatabaseConnection, store: Arc<dyn MediaStore>, clock: SharedClock) -> Self {
        Self { db, store, clock }
    }

    async fn keep(
        &self,
        owner: UserId,
        file_name: Option<String>,
        bytes: Vec<u8>,
    ) -> Result<MediaItem, Error> {
        let probed = probe(&bytes)
            .map_err(|refusal| Error::Refused(ApiError::validation("file", refusal.to_string())))?;
        let id = MediaId(Uuid::new_v4());
        let key = format!("{}/{}.{}", owner.0, id.0, probed.extension);
        let sha256 = format!("{:x}", Sha256::digest(&bytes));
        self.store.put(&key, &bytes).await?;
        let name = file_name
            .map(|name| {
                name.chars()
                    .filter(|c| !c.is_control())
                    .take(200)
                    .collect::<String>()
            })
            .filter(|name| !name.is_empty());
        let row = rows::insert(
            &self.db,
            owner,
            NewMedia {
                id,
                mime: probed.mime,
                width: probed.width,
                height: probed.height,
                bytes: bytes.len() as u64,
                sha256: &sha256,
                storage_key: &key,
                original_name: name.as_deref(),
            },
            self.clock.now(),
        )
        .await;
        match row {
            Ok(row) => Ok(media_item(&row, Pipeline::media_url(&row))),
            Err(error) => {
                // No row, no file: an upload either lands whole or not at all.
                let _ = self.store.delete(&key).await;
                Err(error.into())
            }
        }
    }

    async fn remove(&self, owner: UserId, id: MediaId) -> Result<(), Error> {
        let row = rows::get(&self.db, owner, id)
            .await?
            .ok_or(Error::Refused(ApiError::NotFound))?;
        if rows::in_use(&self.db, id).await? {
            return Err(Error::conflict(
                "A post uses this image. Remove it from the post, or delete the post, first.",
            ));
        }
        rows::delete(&self.db, owner, id).await?;
        self.store.delete(&row.storage_key).await?;
        Ok(())
    }
}

#[async_trait]
impl Media for MediaLibrary {
    async fn upload(
        &self,
        owner: UserId,
        file_name: Option<String>,
        bytes: Vec<u8>,
    ) -> Result<MediaItem, ApiError> {
        Ok(self.keep(owner, file_name, bytes).await?)
    }

    async fn list(&self, owner: UserId) -> Result<Vec<MediaItem>, ApiError> {
        let rows = rows::list(&self.db, owner).await.map_err(Error::from)?;
        Ok(rows
            .iter()
            .map(|row| media_item(row, Pipeline::media_url(row)))
            .collect())
    }

    async fn file(&self, owner: UserId, id: MediaId) -> Result<(String, Vec<u8>), ApiError> {
        let row = rows::get(&self.db, owner, id)
            .await
            .map_err(Error::from)?
            .ok_or(ApiError::NotFound)?;
        let bytes = self
            .store
            .get(&row.storage_key)
            .await
            .map_err(Error::from)?;
        Ok((row.mime, bytes))
    }

    async fn delete(&self, owner: UserId, id: MediaId) -> Result<(), ApiError> {
        Ok(self.remove(owner, id).await?)
    }
}
