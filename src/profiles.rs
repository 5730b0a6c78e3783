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

use crate::cli::KubeFlags;
use crate::cluster::{Action, Cluster};
use crate::error::{Error, Result};
use crate::roles::Profile;
use crate::schema::KindSchema;

pub const CONFIGMAP_KEY: &str = "profile.yaml";
const CACHE_TTL: Duration = Duration::from_secs(300);

#[derive(Serialize, Deserialize)]
struct Cached {
    fetched: u64,
    /// None: the cluster publishes no profile (or this user may not read it).
    text: Option<String>,
}

/// A profile from a file, without a cluster. Reads one byte past the size limit at most, so that
/// a huge file is refused without being read whole.
pub fn from_file(path: &Path) -> Result<Profile> {
    use std::io::Read;
    let limit = crate::yaml::PROFILE_LIMITS.max_bytes;
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
pub async fn load(cluster: &Cluster, flags: &KubeFlags, refresh: bool) -> Result<Profile> {
    let profile = select(cluster, flags, refresh).await?;
    with_schemas(cluster, profile, refresh).await
}

async fn select(cluster: &Cluster, flags: &KubeFlags, refresh: bool) -> Result<Profile> {
    if let Some(path) = &flags.profile {
        return from_file(path);
    }
    let (namespace, name) = flags.profile_configmap.split_once('/').ok_or_else(|| {
        Error::Usage(format!("--profile-configmap \"{}\" is not NAMESPACE/NAME", flags.profile_configmap))
    })?;
    crate::cluster::check_namespace(namespace)?;
    crate::cluster::check_name("ConfigMap", name)?;
    let cache = cluster.cache_dir.join(format!("profile-{namespace}-{name}.json"));
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let cached = (!refresh)
        .then(|| std::fs::read(&cache).ok())
        .flatten()
        .and_then(|bytes| serde_json::from_slice::<Cached>(&bytes).ok())
        .filter(|c| now.saturating_sub(c.fetched) < CACHE_TTL.as_secs());
    let text = match cached {
        Some(c) => c.text,
        None => {
            let text = fetch(cluster, namespace, name).await?;
            // A cache that cannot be written only costs a request next time.
            let _ = std::fs::create_dir_all(&cluster.cache_dir).and_then(|_| {
                let entry = Cached { fetched: now, text: text.clone() };
                std::fs::write(&cache, serde_json::to_vec(&entry)?)
            });
            text
        }
    };
    match text {
        Some(text) => Profile::parse(&text, &format!("configmap {namespace}/{name}")),
        None => Ok(Profile::builtin()),
    }
}

async fn fetch(cluster: &Cluster, namespace: &str, name: &str) -> Result<Option<String>> {
    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), namespace);
    match api.get_opt(name).await {
        Ok(Some(cm)) => match cm.data.and_then(|mut d| d.remove(CONFIGMAP_KEY)) {
            Some(text) => Ok(Some(text)),
            None => Err(Error::Invalid(format!(
                "configmap {namespace}/{name} has no key {CONFIGMAP_KEY}; ask your platform team to fix it, or pass --profile FILE"
            ))),
        },
        Ok(None) => Ok(None),
        Err(kube::Error::Api(status)) if status.code == 403 => {
            eprintln!("warning: may not read configmap {namespace}/{name}; using the built-in role profile");
            Ok(None)
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
                let entry = Cached { fetched: now, text: text.clone() };
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
    fn profile_files_are_read_within_the_size_limit() {
        let dir = std::env::temp_dir().join(format!("oam-profile-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let limit = crate::yaml::PROFILE_LIMITS.max_bytes;
        let cases = [
            ("builtin.yaml", crate::roles::BUILTIN_PROFILE.as_bytes().to_vec(), ""),
            ("huge.yaml", vec![b'#'; limit + 10], "is over the limit of 1048576 bytes (1 MiB)"),
            ("latin1.yaml", b"kind: R\xf4leProfile\n".to_vec(), "is not UTF-8 text"),
            ("bom.yaml", [b"\xef\xbb\xbf".as_slice(), crate::roles::BUILTIN_PROFILE.as_bytes()].concat(), ""),
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
