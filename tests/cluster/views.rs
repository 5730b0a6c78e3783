//! Read views on the real server.
