//! Talking to the API server.
pub mod client;
pub mod fetch;
pub mod list;
pub mod profiles;
pub mod transport;
pub mod wait;
pub mod write;
