//! Talking to the API server: the client and its errors (`client`), request limits (`transport`),
//! reads (`fetch`, and `list` for paged workload lists and the watch of `-w`), the write pipeline
//! (`write`: dry-run, or the plan `--dry-run=client` makes locally, commit, retries, removals, JSON
//! patches), the watch behind `--wait` (`wait`), and the role profile lookup (`profiles`).
//!
//! Takes plain values (`ClientOptions`, `ProfileOptions`, `WaitOptions`), never the command line:
//! imports `error`, `format`, `model` and `core`.

pub mod client;
pub mod fetch;
pub mod list;
pub mod profiles;
pub mod reconcile;
pub mod transport;
pub mod wait;
pub mod write;
