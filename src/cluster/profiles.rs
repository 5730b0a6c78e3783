//! Which role profile is in effect: `--profile FILE`, else the cluster's ConfigMap
//! (kube-public/kubectl-oam-profile unless `--profile-configmap` names another), else the built-in.
//!
//! The cluster's profile is cached for a few minutes (like kubectl's discovery cache), so that a view
//! stays one API request.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cluster::client::Cluster;
use crate::error::{Error, Result};
use crate::model::roles::Profile;
use crate::model::schema::KindSchema;
use crate::model::target::{self, Action};

pub const CONFIGMAP_KEY: &str = "profile.yaml";
const CACHE_TTL: Duration = Duration::from_secs(300);

#[derive(Serialize, Deserialize)]
struct Cached {
    fetched: u64,
    /// None: the cluster publishes no profile (or this user may not read it).
    text: Option<String>,
    /// Why there is no text: "not found", "may not be read (403 Forbidden)".
    #[serde(default)]
    missing: Option<String>,
}

/// Where the profile in effect came from, for `kubectl oam roles` and `-v`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// "configmap kube-public/kubectl-oam-profile", or a file's path.
    pub source: String,
    /// Seconds since it was read from the cluster (0: just now); None for a file.
    pub age: Option<u64>,
    /// Why the built-in profile is used instead of the cluster's, if it is.
    pub missing: Option<String>,
}

impl Origin {
    /// One line: what the profile is, where from, how old.
    pub fn describe(&self, profile_source: &str) -> String {
        let age = self.age.map(|age| {
            if age == 0 {
                "read just now".to_string()
            } else {
                format!(
                    "cached {} ago; re-read after {}, or now with --refresh",
                    crate::cluster::transport::duration_text(Duration::from_secs(age)),
                    crate::cluster::transport::duration_text(CACHE_TTL)
                )
            }
        });
        match (&self.missing, age) {
            (Some(why), Some(age)) => format!("{profile_source} ({} {why}; {age})", self.source),
            (Some(why), None) => format!("{profile_source} ({} {why})", self.source),
            (None, Some(age)) => format!("{} ({age})", self.source),
            (None, None) => self.source.clone(),
        }
    }
}

/// Where to look for the profile: `--profile FILE`, else the ConfigMap `--profile-configmap` names.
#[derive(Debug, Clone, Default)]
pub struct ProfileOptions {
    pub file: Option<std::path::PathBuf>,
    /// NAMESPACE/NAME, as given.
    pub configmap: String,
    /// 1 or more: say when the built-in profile stands in for the cluster's.
    pub verbosity: u8,
}

/// A profile from a file, without a cluster. Reads one byte past the size limit at most, so that
/// a huge file is refused without being read whole.
pub fn from_file(path: &Path) -> Result<Profile> {
    use std::io::Read;
    let limit = crate::format::yaml::PROFILE_LIMITS.max_bytes;
    let shown = path.display();
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(limit as u64 + 1).read_to_end(&mut bytes))
        .map_err(|e| Error::Invalid(format!("cannot read role profile {shown}: {e}")))?;
    if bytes.len() > limit {
        return Err(Error::Invalid(format!(
            "role profile {shown} is over the limit of {limit} bytes ({} MiB)",
            limit >> 20
        )));
    }
    let text = String::from_utf8(bytes)
        .map_err(|e| Error::Invalid(format!("role profile {shown} is not UTF-8 text: {e}")))?;
    Profile::parse(&text, &shown.to_string())
}

/// The profile in effect: `--profile FILE`, else the ConfigMap named by `--profile-configmap`
/// (cached), else the built-in one. `refresh` skips the cache (for `kubectl oam roles`). Custom
/// kinds are checked against the server's schema.
pub async fn load(cluster: &Cluster, options: &ProfileOptions, refresh: bool) -> Result<Profile> {
    let (profile, _) = load_with_origin(cluster, options, refresh).await?;
    with_schemas(cluster, profile, refresh).await
}

/// `load`, and where the profile came from. The built-in profile standing in for a ConfigMap that
/// is missing or unreadable is normal for many users: said with `-v`, never as a warning. Custom
/// kinds are not yet checked against the server's schema here (`load` does that).
pub async fn load_with_origin(
    cluster: &Cluster,
    options: &ProfileOptions,
    refresh: bool,
) -> Result<(Profile, Origin)> {
    if let Some(path) = &options.file {
        let origin = Origin { source: format!("file {}", path.display()), age: None, missing: None };
        return Ok((from_file(path)?, origin));
    }
    let (namespace, name) = options.configmap.split_once('/').ok_or_else(|| {
        Error::Usage(format!("--profile-configmap \"{}\" is not NAMESPACE/NAME", options.configmap))
    })?;
    target::check_namespace(namespace)?;
    target::check_name("ConfigMap", name)?;
    let cache = cluster.cache_dir.join(format!("profile-{namespace}-{name}-{}.json", cluster.identity));
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let cached = (!refresh)
        .then(|| std::fs::read(&cache).ok())
        .flatten()
        .and_then(|bytes| serde_json::from_slice::<Cached>(&bytes).ok())
        .filter(|c| now.saturating_sub(c.fetched) < CACHE_TTL.as_secs());
    let entry = match cached {
        Some(c) => c,
        None => {
            let (text, missing) = match fetch(cluster, namespace, name).await? {
                Ok(text) => (Some(text), None),
                Err(why) => (None, Some(why)),
            };
            let entry = Cached { fetched: now, text, missing };
            // A cache that cannot be written only costs a request next time.
            let _ = std::fs::create_dir_all(&cluster.cache_dir)
                .and_then(|_| std::fs::write(&cache, serde_json::to_vec(&entry)?));
            entry
        }
    };
    let source = format!("configmap {namespace}/{name}");
    let origin = Origin {
        source: source.clone(),
        age: Some(now.saturating_sub(entry.fetched)),
        missing: entry.text.is_none().then(|| entry.missing.clone().unwrap_or_else(|| "not found".into())),
    };
    let profile = match entry.text {
        Some(text) => Profile::parse(&text, &source)?,
        None => Profile::builtin(),
    };
    if options.verbosity >= 1 && origin.missing.is_some() {
        eprintln!("role profile: {}", origin.describe(&profile.source));
    }
    Ok((profile, origin))
}

/// The profile's text, or (inner Err) why the cluster has none for this user.
async fn fetch(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> Result<std::result::Result<String, String>> {
    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), namespace);
    match api.get_opt(name).await {
        Ok(Some(cm)) => match cm.data.and_then(|mut d| d.remove(CONFIGMAP_KEY)) {
            Some(text) => Ok(Ok(text)),
            None => Err(Error::Invalid(format!(
                "configmap {namespace}/{name} has no key {CONFIGMAP_KEY}; ask your platform team to fix it, or pass --profile FILE"
            ))),
        },
        Ok(None) => Ok(Err("not found".into())),
        Err(kube::Error::Api(status)) if status.code == 403 => {
            Ok(Err("may not be read by this user (403 Forbidden)".into()))
        }
        Err(err) => Err(cluster.error(err, &Action { kind: "ConfigMap", name, namespace })),
    }
}

/// Checks the paths of every custom kind (one without a built-in schema) against the schema the
/// server publishes for it (OpenAPI v3, cached like the profile), and keeps that schema for its list
/// semantics. A group-version the server does not serve is left alone: commands on that kind say so.
async fn with_schemas(cluster: &Cluster, mut profile: Profile, refresh: bool) -> Result<Profile> {
    let custom: Vec<usize> = (0..profile.kinds.len())
        .filter(|&i| KindSchema::builtin(&profile.kinds[i].api_version, &profile.kinds[i].kind).is_none())
        .collect();
    let bad = |source: &str, msg: String| Error::Invalid(format!("role profile {source}: {msg}"));
    for i in custom {
        let kind = &profile.kinds[i];
        let Some(doc) = openapi(cluster, &kind.api_version, refresh).await? else { continue };
        let Some(schema) = KindSchema::from_openapi(doc, &kind.api_version, &kind.kind) else {
            return Err(bad(
                &profile.source,
                format!(
                    "kinds.{}: the server's schema of {} has no kind {}; check the kind's name and apiVersion",
                    kind.kind, kind.api_version, kind.kind
                ),
            ));
        };
        profile.check_paths(kind, &schema).map_err(|m| bad(&profile.source, m))?;
        profile.kinds[i].schema = Some(Arc::new(schema));
    }
    Ok(profile)
}

/// The server's OpenAPI v3 document of a group-version (`/openapi/v3/apis/GROUP/VERSION`), cached
/// for a few minutes; None if the server does not serve it.
async fn openapi(cluster: &Cluster, api_version: &str, refresh: bool) -> Result<Option<Value>> {
    let path = match api_version.split_once('/') {
        Some((group, version)) => format!("/openapi/v3/apis/{group}/{version}"),
        None => format!("/openapi/v3/api/{api_version}"),
    };
    let cache = cluster.cache_dir.join(format!("openapi-{}.json", api_version.replace('/', "-")));
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let cached = (!refresh)
        .then(|| std::fs::read(&cache).ok())
        .flatten()
        .and_then(|bytes| serde_json::from_slice::<Cached>(&bytes).ok())
        .filter(|c| now.saturating_sub(c.fetched) < CACHE_TTL.as_secs());
    let text = match cached {
        Some(c) => c.text,
        None => {
            let request = http::Request::get(&path)
                .body(Vec::new())
                .map_err(|e| Error::Invalid(format!("cannot build the request for {path}: {e}")))?;
            let text = match cluster.client.request_text(request).await {
                Ok(text) => Some(text),
                Err(kube::Error::Api(status)) if status.code == 404 => None,
                Err(err) => return Err(cluster.transport_error(err)),
            };
            // A cache that cannot be written only costs a request next time.
            let _ = std::fs::create_dir_all(&cluster.cache_dir).and_then(|_| {
                let entry = Cached { fetched: now, text: text.clone(), missing: None };
                std::fs::write(&cache, serde_json::to_vec(&entry)?)
            });
            text
        }
    };
    match text {
        None => Ok(None),
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| cluster.bad_answer(format!("GET {path} with malformed JSON ({e})"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_says_where_from_and_how_old() {
        let origin = |age, missing: Option<&str>| Origin {
            source: "configmap kube-public/kubectl-oam-profile".into(),
            age,
            missing: missing.map(str::to_string),
        };
        let cases = [
            (origin(Some(0), None), "configmap kube-public/kubectl-oam-profile (read just now)"),
            (
                origin(Some(90), None),
                "configmap kube-public/kubectl-oam-profile (cached 1m30s ago; re-read after 5m, or now with --refresh)",
            ),
            (
                origin(Some(0), Some("not found")),
                "built-in (configmap kube-public/kubectl-oam-profile not found; read just now)",
            ),
            (Origin { source: "file p.yaml".into(), age: None, missing: None }, "file p.yaml"),
        ];
        for (origin, expected) in cases {
            assert_eq!(origin.describe("built-in"), expected);
        }
    }

    #[test]
    fn profile_files_are_read_within_the_size_limit() {
        let dir = std::env::temp_dir().join(format!("oam-profile-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let limit = crate::format::yaml::PROFILE_LIMITS.max_bytes;
        let cases = [
            ("builtin.yaml", crate::model::roles::BUILTIN_PROFILE.as_bytes().to_vec(), ""),
            ("huge.yaml", vec![b'#'; limit + 10], "is over the limit of 1048576 bytes (1 MiB)"),
            ("latin1.yaml", b"kind: R\xf4leProfile\n".to_vec(), "is not UTF-8 text"),
            (
                "bom.yaml",
                [b"\xef\xbb\xbf".as_slice(), crate::model::roles::BUILTIN_PROFILE.as_bytes()].concat(),
                "",
            ),
        ];
        for (name, content, expected) in cases {
            let path = dir.join(name);
            std::fs::write(&path, content).unwrap();
            match from_file(&path) {
                Ok(profile) => assert_eq!(expected, "", "{name} was read: {}", profile.source),
                Err(e) => assert!(!expected.is_empty() && e.to_string().contains(expected), "{name}: {e}"),
            }
        }
        let missing = from_file(&dir.join("missing.yaml")).unwrap_err().to_string();
        assert!(missing.starts_with("cannot read role profile"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
