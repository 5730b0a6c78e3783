//! Role-scoped writes on the real server.
