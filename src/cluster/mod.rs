//! Talking to the API server.
pub mod client;
pub mod profiles;
pub mod transport;
pub mod wait;
