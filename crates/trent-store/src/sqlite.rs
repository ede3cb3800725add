//! SQLite backend. 
/// SQLite store.
pub struct SqliteStore;
