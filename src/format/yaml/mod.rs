//! YAML in and out: every document kubectl-oam reads (role documents, manifests, profiles) and every
//! YAML text it prints.
//!
//! Reading uses granit-parser's event stream (pure Rust, no unsafe, fuzzed, source spans on every
//! event; already built as part of kube's kubeconfig loader). Its simple-key bookkeeping is amortised,
//! so scanning is linear, and the limits below stop any input early: nesting, documents, alias
//! expansion and size are checked while the events arrive, so any text is accepted or refused in time
//! linear in its length. serde_yaml (libyaml) was quadratic in nesting depth before its own recursion
//! limit could apply, and keeps no positions.
//!
//! Plain scalars resolve by the YAML 1.2 core schema, as serde_yaml did and as kubectl agrees for
//! every form both schemas share: `null`/`Null`/`NULL`/`~`/empty, `true`/`false` (three spellings
//! each), decimal, `0x` and `0o` integers, and floats. Forms that only YAML 1.1 gives a type (`yes`,
//! `no`, `on`, `off`, `y`, `n`, `1_000`, `0b101`, `12:30:45`, `2001-12-14`, `=`) stay strings;
//! [`Parsed::yaml11_misreading`] names the type a YAML 1.1 reader (kubectl) would give them. Forms the
//! two schemas read as different numbers (`012`, octal 10 in 1.1, 12 in 1.2) and values JSON cannot
//! hold (`.inf`, `.nan`, integers beyond 64 bits) are errors with their position.
//!
//! Writing is a small emitter for JSON values in serde_yaml's layout (2-space indent, sequences under
//! a key not indented, `|` blocks for multi-line text) that quotes every string a YAML 1.1 or 1.2
//! reader could take for another type.
//!
//! `parse` reads, `emit` writes, `de` reads into typed structs, `splice` changes a text in place
//! (only the lines a change needs; `--local` edits of manifest files).

mod de;
mod emit;
mod parse;
mod splice;

pub use de::deserialize;
pub use emit::{needs_quotes, to_string, to_string_with_comments};
pub use parse::{
    DOCUMENT_LIMITS, Limits, MAX_PROFILE_BYTES, PROFILE_LIMITS, Parsed, YamlError, parse, parse_document,
    parse_documents, parse_one, resolve_plain, yaml11_type,
};
pub use splice::{edit_documents, hide_documents};

#[cfg(test)]
mod tests;
