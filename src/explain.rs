//! `kubectl oam explain ROLE.TRAIT.FIELD [TYPE/NAME]`: what a role field is — its meaning from the
//! server's OpenAPI v3 description, its role and trait, where it lives in the object, and (given an
//! object) who owns it there.

use serde_json::Value;

use crate::cli::ExplainArgs;
use crate::cluster::Cluster;
use crate::error::{Error, Result};
use crate::owners::field_owners;
use crate::roles::{CONTAINERS_KEY, Field, KindInfo, Profile, Role, RoleName, Root};
use crate::view::{self, Target, parse_target};

/// A role field found from `dev.containers.env` or `ops.scaler.replicas`.
#[derive(Debug)]
pub struct Found<'p> {
    pub role: &'p Role,
    pub trait_name: &'p str,
    pub field: &'p Field,
    /// `containers.app.env`: the container the user named, if any.
    pub container: Option<String>,
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
    let every = || -> String {
        let mut names: Vec<String> = Vec::new();
        for t in &role.traits {
            for f in &t.fields {
                let name = format!("{role_name}.{}.{}", t.name, f.name);
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names.join(", ")
    };
    let (trait_name, container, field_name) = match parts.as_slice() {
        [_, t, f] => (*t, None, *f),
        [_, t, c, f] if *t == CONTAINERS_KEY => (*t, Some(c.to_string()), *f),
        _ => {
            return Err(Error::Usage(format!(
                "\"{path}\" is not ROLE.TRAIT.FIELD; the {role_name} fields are {}",
                every()
            )));
        }
    };
    let found = role
        .traits
        .iter()
        .find(|t| t.name == trait_name)
        .and_then(|t| t.fields.iter().find(|f| f.name == field_name).map(|f| (t.name.as_str(), f)));
    match found {
        Some((trait_name, field)) => Ok(Found { role, trait_name, field, container }),
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

/// Where the field lives in an object of `kind`, as keys from the root ("[]" steps into a list).
pub fn object_path(kind: &KindInfo, field: &Field) -> Vec<String> {
    let mut path = match field.path.root {
        Root::Container => {
            let mut p = kind.containers_path();
            p.push("[]".into());
            p
        }
        Root::Pod => kind.pod_spec_path(),
        Root::Template => kind.template.clone(),
        Root::Object => Vec::new(),
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

async fn openapi(cluster: &Cluster, kind: &KindInfo) -> Result<Value> {
    let url = match kind.group() {
        "" => format!("/openapi/v3/api/{}", kind.version()),
        group => format!("/openapi/v3/apis/{group}/{}", kind.version()),
    };
    let request = http::Request::get(&url)
        .body(Vec::new())
        .map_err(|e| Error::Invalid(format!("cannot build the request for {url}: {e}")))?;
    let text = cluster.client.request_text(request).await.map_err(|e| cluster.transport_error(e))?;
    serde_json::from_str(&text).map_err(|e| cluster.bad_answer(format!("GET {url} answered with {e}")))
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

pub async fn explain(cluster: &Cluster, profile: &Profile, args: &ExplainArgs) -> Result<String> {
    let found = find(profile, &args.field)?;
    let target = match parse_target(profile, &args.target)? {
        Some((kind, Some(name))) => Some(Target { kind, name, namespace: cluster.namespace.clone() }),
        Some((_, None)) => {
            return Err(Error::Usage(
                "explain takes TYPE/NAME (an object, for its owners), not a TYPE".into(),
            ));
        }
        None => None,
    };
    let field = found.field;
    // The kind to describe: the object's, else the first kind that has the field.
    let kind = match &target {
        Some(t) if !field.applies_to(&t.kind.kind) => {
            return Err(Error::Usage(format!(
                "{} in namespace \"{}\" has no {}.{}.{}: it is a field of {}",
                t.display(),
                t.namespace,
                found.role.name,
                found.trait_name,
                field.name,
                field.kinds.as_deref().unwrap_or_default().join(", ")
            )));
        }
        Some(t) => t.kind,
        None => profile
            .kinds
            .iter()
            .find(|k| field.applies_to(&k.kind))
            .ok_or_else(|| Error::Invalid(format!("no kind of the profile has {}", field.name)))?,
    };
    let path = object_path(kind, field);
    let shown_path = path.join(".").replace(".[]", "[*]");
    let label = match field.path.root {
        Root::Container => format!("{}.containers.NAME.{}", found.role.name, field.name),
        _ => format!("{}.{}.{}", found.role.name, found.trait_name, field.name),
    };
    let mut text = format!("FIELD:       {label}\n");
    text.push_str(&format!(
        "ROLE:        {} (field manager \"{}\"): {}\n",
        found.role.name, found.role.manager, found.role.description
    ));
    text.push_str(&format!(
        "TRAIT:       {}{}\n",
        found.trait_name,
        if field.path.root == Root::Container { " (one entry per container, by name)" } else { "" }
    ));
    text.push_str(&format!("PATH:        {shown_path} (in a {})\n", kind.kind));
    text.push_str(&format!(
        "KINDS:       {}\n",
        field.kinds.as_ref().map_or_else(|| "every workload kind".to_string(), |k| k.join(", "))
    ));
    if field.autoscaled {
        text.push_str("AUTOSCALED:  held by a HorizontalPodAutoscaler when one targets the workload\n");
    }
    let description = describe(&openapi(cluster, kind).await?, kind, &path);
    text.push_str("DESCRIPTION:\n");
    text.push_str(&indent(
        description.as_deref().unwrap_or("(the server's OpenAPI document has no description)"),
    ));
    if let Some(target) = target {
        let obj = view::fetch(cluster, &target).await?;
        let prefix = match (field.path.root, &found.container) {
            (Root::Container, Some(c)) => format!("{CONTAINERS_KEY}.{c}.{}", field.name),
            (Root::Container, None) => format!("{CONTAINERS_KEY}."),
            _ => format!("{}.{}", found.trait_name, field.name),
        };
        let owned: Vec<String> = field_owners(profile, kind, &obj, Some(found.role.name))
            .into_iter()
            .filter(|o| match (field.path.root, &found.container) {
                (Root::Container, None) => {
                    o.field.starts_with(&prefix) && o.field.rsplit('.').next() == Some(field.name.as_str())
                }
                _ => o.field == prefix || o.field.starts_with(&format!("{prefix}.")),
            })
            .map(|o| {
                let managers: Vec<String> =
                    o.managers.iter().map(|h| format!("{} ({})", h.manager, h.operation)).collect();
                format!("{}: {}", o.field, managers.join(", "))
            })
            .collect();
        text.push_str(&format!("OWNERS on {} in namespace \"{}\":\n", target.display(), target.namespace));
        if owned.is_empty() {
            text.push_str("    (not set, or owned by no field manager)\n");
        } else {
            text.push_str(&owned.iter().map(|o| indent(o)).collect::<String>());
        }
    }
    Ok(text)
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
    }

    #[test]
    fn paths_into_the_object_and_descriptions_from_openapi() {
        let p = Profile::builtin();
        let deploy = p.kind("deploy").unwrap();
        let env = find(&p, "dev.containers.env").unwrap().field;
        assert_eq!(object_path(deploy, env).join("."), "spec.template.spec.containers.[].env");
        let cj = p.kind("cj").unwrap();
        assert_eq!(object_path(cj, env).join("."), "spec.jobTemplate.spec.template.spec.containers.[].env");
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
