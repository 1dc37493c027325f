//! Database migrations, the same on SQLite and PostgreSQL. Run at start-up and by
//! `picscripter migrate`. One file per step; a step is never edited once it has shipped.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_create_users_and_sessions;
mod m20261125_000002_create_connections;
mod m20261125_000003_create_oauth_states;
mod m20261126_000004_create_posts;
mod m20261126_000005_order_targets;
mod m20261126_000006_target_lease_expiry;
mod m20261126_000007_target_progress_and_options;
mod m20261126_000008_media_video;
mod m20261126_000009_account_choices;
mod m20261126_000010_studio_settings;
mod m20261127_000011_stores_and_products;
mod m20261127_000012_products_listing_index;
mod m20261127_000013_analytics_events;
mod m20261127_000014_templates;
mod m20261127_000015_post_metrics;
mod m20261127_000016_media_uploads;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_users_and_sessions::Migration),
            Box::new(m20261125_000002_create_connections::Migration),
            Box::new(m20261125_000003_create_oauth_states::Migration),
            Box::new(m20261126_000004_create_posts::Migration),
            Box::new(m20261126_000005_order_targets::Migration),
            Box::new(m20261126_000006_target_lease_expiry::Migration),
            Box::new(m20261126_000007_target_progress_and_options::Migration),
            Box::new(m20261126_000008_media_video::Migration),
            Box::new(m20261126_000009_account_choices::Migration),
            Box::new(m20261126_000010_studio_settings::Migration),
            Box::new(m20261127_000011_stores_and_products::Migration),
            Box::new(m20261127_000012_products_listing_index::Migration),
            Box::new(m20261127_000013_analytics_events::Migration),
            Box::new(m20261127_000014_templates::Migration),
            Box::new(m20261127_000015_post_metrics::Migration),
            Box::new(m20261127_000016_media_uploads::Migration),
        ]
    }
}
