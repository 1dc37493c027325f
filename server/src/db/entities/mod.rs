//! SeaORM entities, one per table. Rows never leave `db`: queries return the shared types.

pub mod connection;
pub mod session;
pub mod user;
