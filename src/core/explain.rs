//! What `kubectl oam explain` knows without a cluster: reading `ROLE.TRAIT.FIELD`, every path it takes,
//! where a field lives in an object, and its description in an OpenAPI v3 document.

use serde_json::Value;

use crate::core::hpa;
use crate::error::{Error, Result};
use crate::model::roles::{
    AUTOSCALER_KEY, CONTAINERS_KEY, Field, INIT_CONTAINERS_KEY, KindInfo, Profile, Role, RoleName, Root,
};
use crate::model::roles::{RelatedField, RelatedKind, RelatedTrait};

/// A role field found from `dev.containers.env` or `ops.scaler.replicas`.
#[derive(Debug)]
pub struct Found<'p> {
    pub role: &'p Role,
    pub trait_name: &'p str,
    pub field: &'p Field,
    /// `containers.app.env`: the container the user named, if any.
    pub container: Option<String>,
    /// Container fields: `containers` or `initContainers` (init containers and sidecars).
    pub list: &'static str,
}

/// Every role path `explain` takes, for messages and completion: each trait's fields, container
/// fields under both container lists, and the ops autoscaler section.
pub fn every_path(profile: &Profile, only: Option<RoleName>) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    for role in profile.roles.iter().filter(|r| only.is_none_or(|o| o == r.name)) {
        for t in &role.traits {
            let lists: &[&str] = if t.name == CONTAINERS_KEY {
                &[CONTAINERS_KEY, INIT_CONTAINERS_KEY]
            } else {
                &[t.name.as_str()]
            };
            for list in lists {
                for f in &t.fields {
                    let path = format!("{}.{list}.{}", role.name, f.name);
                    if !paths.contains(&path) {
                        paths.push(path);
                    }
                }
            }
        }
        if role.name == RoleName::Ops {
            paths.extend(hpa::FIELDS.iter().map(|f| format!("ops.{AUTOSCALER_KEY}.{f}")));
        }
        // Fields of the objects around the workload (`related:` sections).
        for t in &role.related {
            paths.extend(t.fields.iter().map(|f| format!("{}.{}.{}", role.name, t.name, f.name)));
        }
    }
    paths
}

/// A field of a related object's section (`ops.expose.ports`), with its role, trait and kind.
pub struct RelatedFound<'p> {
    pub role: &'p Role,
    pub section: &'p RelatedTrait,
    pub field: &'p RelatedField,
    pub kind: &'p RelatedKind,
}

/// Reads `ROLE.TRAIT.FIELD` of a related section; None when it names no such field.
pub fn related_field<'p>(profile: &'p Profile, path: &str) -> Option<RelatedFound<'p>> {
    let parts: Vec<&str> = path.split('.').collect();
    let [role, section, field] = parts.as_slice() else { return None };
    let role = profile.roles.iter().find(|r| r.name.as_str() == *role)?;
    let section = role.related.iter().find(|t| t.name == *section)?;
    let field = section.fields.iter().find(|f| f.name == *field)?;
    let kind = profile.related.iter().find(|k| k.root == field.root)?;
    Some(RelatedFound { role, section, field, kind })
}

/// `ops.autoscaler.FIELD`: the field of the HorizontalPodAutoscaler section.
pub fn autoscaler_field(path: &str) -> Option<&'static str> {
    let field = path.strip_prefix("ops.")?.strip_prefix(AUTOSCALER_KEY)?.strip_prefix('.')?;
    hpa::FIELDS.iter().find(|f| **f == field).copied()
}

/// Reads `ROLE.TRAIT.FIELD` (`ROLE.containers[.NAME].FIELD` for container fields).
pub fn find<'p>(profile: &'p Profile, path: &str) -> Result<Found<'p>> {
    let parts: Vec<&str> = path.split('.').collect();
    let role_name = match parts[0] {
        "dev" => RoleName::Dev,
        "ops" => RoleName::Ops,
        other => {
            return Err(Error::Usage(format!(
                "\"{path}\" does not start with a role (\"{other}\"); write ROLE.TRAIT.FIELD, e.g. dev.containers.env or ops.scaler.replicas"
            )));
        }
    };
    let role = profile.role(role_name);
    let every = || every_path(profile, Some(role_name)).join(", ");
    let (trait_name, container, field_name) = match parts.as_slice() {
        [_, t, f] => (*t, None, *f),
        [_, t, c, f] if *t == CONTAINERS_KEY || *t == INIT_CONTAINERS_KEY => (*t, Some(c.to_string()), *f),
        _ => {
            return Err(Error::Usage(format!(
                "\"{path}\" is not ROLE.TRAIT.FIELD; the {role_name} fields are {}",
                every()
            )));
        }
    };
    // Init containers and sidecars have the same fields as containers, in their own list.
    let (trait_name, list) = match trait_name {
        INIT_CONTAINERS_KEY => (CONTAINERS_KEY, INIT_CONTAINERS_KEY),
        other => (other, CONTAINERS_KEY),
    };
    let found = role
        .traits
        .iter()
        .find(|t| t.name == trait_name)
        .and_then(|t| t.fields.iter().find(|f| f.name == field_name).map(|f| (t.name.as_str(), f)));
    match found {
        Some((trait_name, field)) => Ok(Found { role, trait_name, field, container, list }),
        None => {
            let elsewhere = profile
                .roles
                .iter()
                .filter(|r| r.name != role_name)
                .find(|r| {
                    r.traits
                        .iter()
                        .any(|t| t.name == trait_name && t.fields.iter().any(|f| f.name == field_name))
                })
                .map(|r| format!(" (it is an {} field: {}.{trait_name}.{field_name})", r.name, r.name))
                .unwrap_or_default();
            Err(Error::Usage(format!(
                "the {role_name} role has no field \"{trait_name}.{field_name}\"{elsewhere}; its fields are {}",
                every()
            )))
        }
    }
}

/// Where the field lives in an object of `kind`, as keys from the root ("[]" steps into a list);
/// `list` is the container list of a container field.
pub fn object_path(kind: &KindInfo, field: &Field, list: &str) -> Vec<String> {
    let mut path = match field.path.root {
        Root::Container => {
            let mut p = kind.container_list_path(list);
            p.push("[]".into());
            p
        }
        Root::Pod => kind.pod_spec_path(),
        Root::Template => kind.template.clone(),
        Root::Object => Vec::new(),
        Root::ClaimTemplate => {
            let mut p = field.path.in_object(kind);
            p.truncate(crate::model::roles::CLAIM_TEMPLATES_PATH.len());
            p.push("[]".into());
            p
        }
    };
    path.extend(field.path.segments.iter().cloned());
    path
}

/// The description of `path` in an OpenAPI v3 document for the kind's group and version.
pub fn describe(openapi: &Value, kind: &KindInfo, path: &[String]) -> Option<String> {
    let schemas = openapi.pointer("/components/schemas")?.as_object()?;
    let root = schemas.values().find(|s| {
        s["x-kubernetes-group-version-kind"].as_array().is_some_and(|gvks| {
            gvks.iter().any(|g| {
                g["kind"] == kind.kind.as_str()
                    && g["version"] == kind.version()
                    && g["group"].as_str().unwrap_or_default() == kind.group()
            })
        })
    })?;
    // A property is either the schema itself, or `allOf: [{$ref}]` beside its own description.
    let resolve = |schema: &Value| -> Option<Value> {
        let reference = schema["$ref"]
            .as_str()
            .or_else(|| schema["allOf"].as_array()?.iter().find_map(|s| s["$ref"].as_str()));
        match reference {
            Some(r) => schemas.get(r.strip_prefix("#/components/schemas/")?).cloned(),
            None => Some(schema.clone()),
        }
    };
    let mut node = root.clone();
    let mut description = None;
    for step in path {
        let resolved = resolve(&node)?;
        let next = if step == "[]" {
            resolved.get("items")?.clone()
        } else {
            resolved.get("properties")?.get(step)?.clone()
        };
        if step != "[]" {
            description = next["description"]
                .as_str()
                .map(str::to_string)
                .or_else(|| resolve(&next).and_then(|s| s["description"].as_str().map(str::to_string)));
        }
        node = next;
    }
    description
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn role_paths_name_fields_or_say_which_there_are() {
        let p = Profile::builtin();
        let found = find(&p, "dev.containers.env").unwrap();
        assert_eq!(
            (found.trait_name, found.field.name.as_str(), found.container),
            ("containers", "env", None)
        );
        let found = find(&p, "dev.containers.app.image").unwrap();
        assert_eq!(found.container.as_deref(), Some("app"));
        assert_eq!(find(&p, "ops.scaler.replicas").unwrap().field.name, "replicas");
        let err = find(&p, "dev.scaler.replicas").unwrap_err().to_string();
        assert!(err.contains("it is an ops field: ops.scaler.replicas"), "{err}");
        let err = find(&p, "dev.containers.bogus").unwrap_err().to_string();
        assert!(err.contains("dev.containers.image, dev.containers.command"), "{err}");
        assert!(find(&p, "qa.x.y").unwrap_err().to_string().contains("does not start with a role"));
        assert!(find(&p, "dev").is_err());
        let init = find(&p, "dev.initContainers.migrate.image").unwrap();
        assert_eq!(
            (init.list, init.container.as_deref(), init.field.name.as_str()),
            ("initContainers", Some("migrate"), "image")
        );
        assert_eq!(find(&p, "dev.initContainers.env").unwrap().list, "initContainers");
        assert_eq!(autoscaler_field("ops.autoscaler.maxReplicas"), Some("maxReplicas"));
        assert_eq!(autoscaler_field("ops.autoscaler.replicas"), None);
        assert_eq!(autoscaler_field("dev.autoscaler.maxReplicas"), None);
        let ports = related_field(&p, "ops.expose.ports").unwrap();
        assert_eq!(
            (ports.kind.info.kind.as_str(), ports.field.segments.join(".")),
            ("Service", "spec.ports".into())
        );
        assert_eq!(related_field(&p, "ops.gateway.routes").unwrap().kind.root, "httpRoute");
        assert!(related_field(&p, "dev.expose.ports").is_none() && related_field(&p, "ops.expose").is_none());
        assert!(every_path(&p, Some(RoleName::Dev)).contains(&"dev.claims.size".to_string()));
        let paths = every_path(&p, None);
        for path in ["dev.initContainers.image", "ops.autoscaler.metrics", "ops.scaler.replicas"] {
            assert!(paths.contains(&path.to_string()), "{path} in {paths:?}");
        }
    }

    #[test]
    fn paths_into_the_object_and_descriptions_from_openapi() {
        let p = Profile::builtin();
        let deploy = p.kind("deploy").unwrap();
        let env = find(&p, "dev.containers.env").unwrap().field;
        assert_eq!(
            object_path(deploy, env, CONTAINERS_KEY).join("."),
            "spec.template.spec.containers.[].env"
        );
        assert_eq!(
            object_path(deploy, env, INIT_CONTAINERS_KEY).join("."),
            "spec.template.spec.initContainers.[].env"
        );
        let cj = p.kind("cj").unwrap();
        assert_eq!(
            object_path(cj, env, CONTAINERS_KEY).join("."),
            "spec.jobTemplate.spec.template.spec.containers.[].env"
        );
        let doc = json!({"components": {"schemas": {
            "io.k8s.api.apps.v1.Deployment": {
                "x-kubernetes-group-version-kind": [{"group": "apps", "version": "v1", "kind": "Deployment"}],
                "properties": {"spec": {"allOf": [{"$ref": "#/components/schemas/spec"}], "description": "Spec."}}},
            "spec": {"properties": {"replicas": {"type": "integer", "description": "Number of pods."}}}
        }}});
        let replicas = vec!["spec".to_string(), "replicas".to_string()];
        assert_eq!(describe(&doc, deploy, &replicas).as_deref(), Some("Number of pods."));
        assert_eq!(describe(&doc, deploy, &["spec".to_string()]).as_deref(), Some("Spec."));
        assert_eq!(describe(&doc, deploy, &["status".to_string()]), None);
        assert_eq!(describe(&doc, cj, &replicas), None, "no CronJob schema in this document");
    }
}
