//! The workloads a command names: `TYPE/NAME`, `TYPE NAME`, several of them, and the checks that keep
//! a name from bending a URL.

use crate::error::{Error, Result};
use crate::model::roles::{KindInfo, Profile};

/// A workload named on the command line.
#[derive(Debug, Clone)]
pub struct Target<'p> {
    pub kind: &'p KindInfo,
    pub name: String,
    pub namespace: String,
}

impl Target<'_> {
    pub fn action(&self) -> Action<'_> {
        Action { kind: &self.kind.kind, name: &self.name, namespace: &self.namespace }
    }

    /// kubectl's spelling: deployment.apps/web
    pub fn display(&self) -> String {
        format!("{}/{}", self.kind.display_resource(), self.name)
    }
}

/// `TYPE/NAME`, `TYPE NAME`, or just `TYPE` (a list: the name is None), from the words as given:
/// `target` is `TYPE[/NAME]`, `name` the word after it.
pub fn parse_target<'p>(
    profile: &'p Profile,
    target: Option<&str>,
    name: Option<&str>,
) -> Result<Option<(&'p KindInfo, Option<String>)>> {
    let Some(first) = target else {
        return Ok(None);
    };
    let (kind, name) = match first.split_once('/') {
        Some((kind, object)) => {
            if let Some(name) = name {
                return Err(Error::Usage(format!(
                    "give either TYPE/NAME or TYPE NAME, not both (\"{first}\" and \"{name}\")"
                )));
            }
            (kind, Some(object.to_string()))
        }
        None => (first, name.map(str::to_string)),
    };
    if name.as_deref() == Some("") {
        return Err(Error::Usage(format!("\"{first}\" names no object; use TYPE/NAME, e.g. deploy/web")));
    }
    let kind = profile.kind(kind)?;
    if let Some(name) = &name {
        check_name(&kind.kind, name)?;
    }
    Ok(Some((kind, name)))
}

/// The objects `get` names: `TYPE/NAME…` (any types), or `TYPE NAME…`, as kubectl takes them.
pub fn parse_targets<'p>(profile: &'p Profile, words: &[String]) -> Result<Vec<(&'p KindInfo, String)>> {
    let Some((first, rest)) = words.split_first() else { return Ok(Vec::new()) };
    if first.contains('/') {
        let mut out = Vec::new();
        for word in words {
            if !word.contains('/') {
                return Err(Error::Usage(format!(
                    "\"{word}\" is not TYPE/NAME; after {first}, name every object as TYPE/NAME (or give TYPE NAME NAME…)"
                )));
            }
            if let Some((kind, Some(name))) = parse_target(profile, Some(word), None)? {
                out.push((kind, name));
            }
        }
        return Ok(out);
    }
    let mut out = Vec::new();
    for name in rest {
        if name.contains('/') {
            return Err(Error::Usage(format!(
                "\"{name}\" follows the type \"{first}\", so it must be a NAME; give TYPE NAME NAME… or TYPE/NAME TYPE/NAME…"
            )));
        }
        if let Some((kind, Some(name))) = parse_target(profile, Some(first), Some(name))? {
            out.push((kind, name));
        }
    }
    Ok(out)
}

/// What the user was doing, so that an API error can say it in their terms.
pub struct Action<'a> {
    /// e.g. "Deployment"
    pub kind: &'a str,
    pub name: &'a str,
    pub namespace: &'a str,
}

impl Action<'_> {
    pub fn object(&self) -> String {
        format!("{}/{} in namespace \"{}\"", self.kind.to_lowercase(), self.name, self.namespace)
    }
}

/// A namespace is a DNS-1123 label; checked before it becomes part of a URL.
pub fn check_namespace(namespace: &str) -> Result<()> {
    let ok = !namespace.is_empty()
        && namespace.len() <= 63
        && namespace.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !namespace.starts_with('-')
        && !namespace.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "\"{namespace}\" is not a valid namespace name (lower-case letters, digits and '-', at most 63)"
        )))
    }
}

/// An object name is a DNS-1123 subdomain; checked before it becomes part of a URL.
pub fn check_name(kind: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "\"{name}\" is not a valid {kind} name (lower-case letters, digits, '-' and '.', at most 253{})",
            if name.len() > 253 { format!("; this one has {}", name.len()) } else { String::new() }
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(
        target: Option<&'static str>,
        name: Option<&'static str>,
    ) -> (Option<&'static str>, Option<&'static str>) {
        (target, name)
    }

    #[test]
    fn targets_parse_in_both_forms() {
        let p = Profile::builtin();
        let cases = [
            (args(Some("deploy/web"), None), Some(("Deployment", Some("web")))),
            (args(Some("sts"), Some("db")), Some(("StatefulSet", Some("db")))),
            (args(Some("cj"), None), Some(("CronJob", None))),
            (args(None, None), None),
        ];
        for (a, expect) in cases {
            let got = parse_target(&p, a.0, a.1).unwrap().map(|(k, n)| (k.kind.clone(), n));
            let expect = expect.map(|(k, n)| (k.to_string(), n.map(str::to_string)));
            assert_eq!(got, expect, "{a:?}");
        }
        assert!(matches!(parse_target(&p, Some("pod/x"), None), Err(Error::UnknownKind(_))));
        assert!(matches!(parse_target(&p, Some("deploy/"), None), Err(Error::Usage(_))));
        assert!(matches!(parse_target(&p, Some("deploy/a"), Some("b")), Err(Error::Usage(_))));
    }

    #[test]
    fn several_objects_are_named_as_kubectl_names_them() {
        let p = Profile::builtin();
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let named = |w: &[&str]| {
            parse_targets(&p, &words(w))
                .map(|v| v.into_iter().map(|(k, n)| format!("{}/{n}", k.kind)).collect::<Vec<_>>())
        };
        assert_eq!(named(&["deploy/a", "sts/b"]).unwrap(), ["Deployment/a", "StatefulSet/b"]);
        assert_eq!(named(&["deploy", "a", "b"]).unwrap(), ["Deployment/a", "Deployment/b"]);
        assert!(matches!(named(&["deploy/a", "b"]), Err(Error::Usage(_))));
        assert!(matches!(named(&["deploy", "a", "sts/b"]), Err(Error::Usage(_))));
        assert!(matches!(named(&["deploy/a", "pod/b"]), Err(Error::UnknownKind(_))));
    }

    #[test]
    fn names_that_would_bend_a_url_are_refused() {
        for good in ["web", "web-1", "a.b", "0x"] {
            assert!(check_name("Deployment", good).is_ok(), "{good}");
        }
        for bad in ["", "Web", "dup?force=true", "web/status", "-x", "x-", "a b", "é"] {
            assert!(check_name("Deployment", bad).is_err(), "{bad}");
        }
        assert!(check_namespace("team-a").is_ok());
        for bad in ["", "a.b", "A", "x/y", &"a".repeat(64)] {
            assert!(check_namespace(bad).is_err(), "{bad}");
        }
    }
}
