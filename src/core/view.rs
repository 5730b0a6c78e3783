//! What templates read (`-o jsonpath`, `-o custom-columns`, `--sort-by`): the role document, with
//! kubectl's paths of an object's identity (`.metadata.name`, `.metadata.namespace`,
//! `.metadata.creationTimestamp`, `.metadata.labels`) mapped onto it; a key no role document has
//! is named instead of printing nothing.

use k8s_openapi::jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::format::jsonpath::Template;
use crate::format::jsonpath::columns::{Column, custom_columns};
use crate::model::roles::{AUTOSCALER_KEY, CONTAINER_LISTS, CONTEXT_KEYS, IDENTITY_KEYS, Profile, RoleName};

/// Where kubectl's paths of an object's identity live.
const METADATA_KEY: &str = "metadata";

/// The fields of the live object's metadata a template may address.
const METADATA_FIELDS: [&str; 4] = ["name", "namespace", "creationTimestamp", "labels"];

/// The role document as templates see it: `doc` with `metadata.name`, `.namespace`,
/// `.creationTimestamp` and `.labels` of `obj` (the ops document's own `metadata` trait keeps its
/// values).
pub fn for_templates(doc: &Value, obj: &Value) -> Value {
    let mut view = doc.clone();
    if let Some(map) = view.as_object_mut() {
        let metadata = map.entry(METADATA_KEY).or_insert_with(|| Value::Object(Map::new()));
        if let Some(metadata) = metadata.as_object_mut() {
            for field in METADATA_FIELDS {
                if let (false, Some(value)) = (metadata.contains_key(field), obj["metadata"].get(field)) {
                    metadata.insert(field.into(), value.clone());
                }
            }
        }
    }
    view
}

/// `--sort-by`'s value of one object: what `key` finds in its view. The age (`.status.age`,
/// `3m` or `2d4h`, which would sort as text) sorts as time: its seconds since creation.
pub fn sort_value(key: &Template, view: &Value, obj: &Value, now: Timestamp) -> Option<Value> {
    if key.is_fields(&["status", "age"]) {
        let created = obj["metadata"]["creationTimestamp"].as_str()?.parse::<Timestamp>().ok()?;
        return Some(json!(now.as_second() - created.as_second()));
    }
    key.values(view).first().map(|v| (*v).clone())
}

/// The keys a role's documents may have at the top, as templates see them, in document order.
pub fn document_keys(profile: &Profile, role: RoleName) -> Vec<String> {
    let definition = profile.role(role);
    let mut keys: Vec<String> = IDENTITY_KEYS.iter().map(|k| k.to_string()).collect();
    let traits = CONTAINER_LISTS
        .iter()
        .map(|k| k.to_string())
        .chain(definition.traits.iter().map(|t| t.name.clone()))
        .filter(|key| definition.has_document_key(key));
    let autoscaler = profile
        .kinds
        .iter()
        .any(|kind| crate::core::hpa::has_section(profile, role, kind))
        .then(|| AUTOSCALER_KEY.to_string());
    // Sections of the objects around the workload (Services, PDBs, claims…).
    let related = definition.related.iter().map(|t| t.name.clone());
    for key in traits
        .chain(autoscaler)
        .chain(related)
        .chain(CONTEXT_KEYS.iter().map(|k| k.to_string()))
        .chain([METADATA_KEY.to_string()])
    {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

/// Refuses a template that addresses a key no document of the role has (`{.spec.replicas}`), which
/// with kubectl's default `--allow-missing-template-keys` would print nothing and exit 0. `list`:
/// the template reads a `List` of documents. `what` names the template in the message.
pub fn check_keys(
    template: &Template,
    profile: &Profile,
    role: RoleName,
    list: bool,
    what: &str,
) -> Result<(), String> {
    check_keys_with(template, profile, role, list, what, &[])
}

/// [`check_keys`], the documents having `extra` keys too (`context`, in views of several contexts).
pub fn check_keys_with(
    template: &Template,
    profile: &Profile,
    role: RoleName,
    list: bool,
    what: &str,
    extra: &[&str],
) -> Result<(), String> {
    let mut known = document_keys(profile, role);
    for key in extra {
        if !known.iter().any(|k| k == key) {
            known.insert(0, key.to_string());
        }
    }
    match template.document_keys(list).into_iter().find(|(key, _)| !known.contains(key)) {
        None => Ok(()),
        Some((key, path)) => Err(format!(
            "{what}: {path}: a {role} role document has no key \"{key}\"; its keys are {} (metadata: name, namespace, creationTimestamp, labels); see `kubectl oam {role} get TYPE/NAME -o yaml`",
            known.join(", ")
        )),
    }
}

/// `-o custom-columns=SPEC`: its columns, each path checked as [`check_keys`] does.
pub fn checked_columns(spec: &str, profile: &Profile, role: RoleName) -> Result<Vec<Column>, String> {
    let columns = custom_columns(spec)?;
    for column in &columns {
        check_keys(&column.path, profile, role, false, "-o custom-columns")?;
    }
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::jsonpath::{parse, parse_sort_key};

    #[test]
    fn templates_see_the_objects_identity_under_metadata() {
        let obj = json!({"metadata": {"name": "web", "namespace": "shop", "uid": "u",
            "creationTimestamp": "2024-01-01T00:00:00Z", "labels": {"app": "web", "tier": "x"}}});
        let dev = json!({"kind": "Deployment", "name": "web", "namespace": "shop", "containers": {}});
        let view = for_templates(&dev, &obj);
        assert_eq!(view["metadata"]["name"], "web");
        assert_eq!(view["metadata"]["creationTimestamp"], "2024-01-01T00:00:00Z");
        assert_eq!(view["metadata"]["labels"]["tier"], "x");
        assert!(view["metadata"].get("uid").is_none());
        // The ops document's metadata trait keeps its own labels.
        let ops = json!({"name": "web", "metadata": {"labels": {"app": "web"}}});
        let view = for_templates(&ops, &obj);
        assert_eq!(view["metadata"]["labels"], json!({"app": "web"}));
        assert_eq!(view["metadata"]["namespace"], "shop");
    }

    #[test]
    fn age_sorts_as_time() {
        let now: Timestamp = "2024-01-02T00:00:00Z".parse().unwrap();
        let obj = |t: &str| json!({"metadata": {"creationTimestamp": t}});
        let key = parse_sort_key(".status.age").unwrap();
        let doc = json!({"status": {"age": "3m"}});
        assert_eq!(sort_value(&key, &doc, &obj("2024-01-01T23:57:00Z"), now), Some(json!(180)));
        let key = parse_sort_key("{.metadata.creationTimestamp}").unwrap();
        let view = for_templates(&doc, &obj("2024-01-01T23:57:00Z"));
        assert_eq!(sort_value(&key, &view, &obj(""), now), Some(json!("2024-01-01T23:57:00Z")));
    }

    #[test]
    fn keys_no_role_document_has_are_named() {
        let p = Profile::builtin();
        let dev = document_keys(&p, RoleName::Dev);
        assert!(dev.contains(&"containers".to_string()) && !dev.contains(&"scaler".to_string()), "{dev:?}");
        let ops = document_keys(&p, RoleName::Ops);
        assert!(ops.contains(&"scaler".to_string()) && ops.contains(&"autoscaler".to_string()), "{ops:?}");
        let check = |text: &str, role, list| check_keys(&parse(text).unwrap(), &p, role, list, "-o jsonpath");
        assert!(check("{.metadata.name} {.containers.app.image}", RoleName::Dev, false).is_ok());
        assert!(
            check("{.initContainers.x.image}", RoleName::Dev, false).is_ok(),
            "a key some documents have"
        );
        let err = check("{.spec.replicas}", RoleName::Ops, false).unwrap_err();
        assert!(err.contains("no key \"spec\"") && err.contains("scaler"), "{err}");
        assert!(check("{.items[*].scaler.replicas}", RoleName::Dev, true).is_err());
        assert!(check("{.items[*].metadata.name}", RoleName::Ops, true).is_ok());
    }
}
