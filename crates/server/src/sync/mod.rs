//! Sync: applying pushed mutations, serving pulls and bootstrap pages, who sees what, and
//! the dashboard's call facts kept in step with the synced rows.

pub mod apply;
pub mod facts;
pub mod pull;
pub mod rows;
pub mod scope;
