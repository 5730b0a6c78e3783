//! Who owns each role field, read from managedFields, and the document with its owners as comments.

use serde::Serialize;
use serde_json::Value;

use crate::format::yaml;
use crate::model::managed::{Step, managed_entries, owns};
use crate::model::object::{all_containers, container_name, get_path};
use crate::model::roles::{CONTAINER_LISTS, Field, KindInfo, Profile, RoleName};

fn is_empty(value: &Value) -> bool {
    value.as_object().is_some_and(|m| m.is_empty()) || value.as_array().is_some_and(|a| a.is_empty())
}

/// The role a field manager stands for, if it is one of the profile's role managers.
pub fn role_of_manager(profile: &Profile, manager: &str) -> Option<RoleName> {
    profile.roles.iter().find(|r| r.manager == manager).map(|r| r.name)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Holder {
    pub manager: String,
    /// dev/ops for the role managers; otherwise absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    pub operation: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subresource: String,
    pub time: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldOwners {
    /// The field as the role document names it: `containers.app.image`, `scaler.replicas`.
    pub field: String,
    pub role: String,
    pub managers: Vec<Holder>,
    /// Managers holding the field that do not stand for its role.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outside_role: Vec<String>,
}

/// Every role field present in (or owned on) `obj`, with its managers.
pub fn field_owners(
    profile: &Profile,
    kind: &KindInfo,
    obj: &Value,
    only: Option<RoleName>,
) -> Vec<FieldOwners> {
    let entries = managed_entries(obj);
    let mut rows = Vec::new();
    for role in profile.roles.iter().filter(|r| only.is_none_or(|o| o == r.name)) {
        let mut add = |label: String, path: Vec<Step>, field: &Field| {
            // Keys that are not the role's (the tools', reserved ones) are no sign of its owners.
            let keys = profile.other_keys(kind, field);
            let not_the_roles = |k: &str| keys.contains(k);
            let other: Option<&dyn Fn(&str) -> bool> = (!keys.is_empty()).then_some(&not_the_roles);
            rows.extend(holders_row(profile, &entries, role.name, label, &path, other));
        };
        let container_fields: Vec<&Field> = role.container_fields().collect();
        if !container_fields.is_empty() {
            for (list, c) in all_containers(obj, kind) {
                let name = container_name(c);
                for field in &container_fields {
                    // An empty value (`resources: {}`, defaulted) is no field anyone set.
                    if get_path(c, &field.path.segments).is_none_or(is_empty) {
                        continue;
                    }
                    let mut path: Vec<Step> =
                        kind.container_list_path(list).into_iter().map(Step::Field).collect();
                    path.push(Step::Key(serde_json::json!({"name": name})));
                    path.extend(field.path.segments.iter().cloned().map(Step::Field));
                    add(format!("{list}.{name}.{}", field.name), path, field);
                }
            }
        }
        for (trait_name, fields) in role.object_traits(&kind.kind) {
            for field in fields {
                if get_path(obj, &field.path.in_object(kind)).is_none_or(is_empty) {
                    continue;
                }
                // A field of some items of a keyed list (pod volumes: claims or not): each item.
                if field.items.is_some() {
                    for name in own_item_names(obj, kind, field) {
                        let mut path: Vec<Step> =
                            field.path.in_object(kind).into_iter().map(Step::Field).collect();
                        path.push(Step::Key(serde_json::json!({"name": name})));
                        add(format!("{trait_name}.{}.{name}", field.name), path, field);
                    }
                    continue;
                }
                let path = field.path.in_object(kind).into_iter().map(Step::Field).collect();
                add(format!("{trait_name}.{}", field.name), path, field);
            }
        }
    }
    rows
}

/// The names of the items of `field`'s list that are its own (`where:`/`unless:`).
fn own_item_names(obj: &Value, kind: &KindInfo, field: &Field) -> Vec<String> {
    let list = get_path(obj, &field.path.in_object(kind)).map(|v| field.own_items(v));
    list.as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|item| item.get("name").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// Every role field of the objects around the workload (`related:` sections), with its managers,
/// labelled as the document names it (`expose.web.ports`).
pub fn related_field_owners(
    profile: &Profile,
    related: &crate::core::related::Related,
    only: Option<RoleName>,
) -> Vec<FieldOwners> {
    let mut rows = Vec::new();
    for role in profile.roles.iter().filter(|r| only.is_none_or(|o| o == r.name)) {
        for t in &role.related {
            for root in t.roots() {
                for obj in related.of(root) {
                    let entries = managed_entries(obj);
                    let name = crate::core::related::object_name(obj);
                    for f in t.fields_of(root) {
                        if get_path(obj, &f.segments).is_none_or(is_empty) {
                            continue;
                        }
                        let path: Vec<Step> = f.segments.iter().cloned().map(Step::Field).collect();
                        let not_the_roles = |k: &str| f.exclude.iter().any(|e| e == k);
                        let other: Option<&dyn Fn(&str) -> bool> =
                            (!f.exclude.is_empty()).then_some(&not_the_roles);
                        let label = format!("{}.{name}.{}", t.name, f.name);
                        rows.extend(holders_row(profile, &entries, role.name, label, &path, other));
                    }
                }
            }
        }
    }
    rows
}

/// The document as YAML with each field's owners as a comment at the end of its line (for a map or
/// list, of its key's line): `image: nginx:1  # kubectl-oam-dev (Apply), helm (Update)`. Comments
/// are ignored when the document is applied. Owned fields the document does not show follow at
/// the end.
pub fn yaml_with_owners(doc: &Value, owners: &[FieldOwners]) -> String {
    let mut comments = std::collections::BTreeMap::new();
    let mut not_shown = String::new();
    for row in owners {
        let holders: Vec<String> = row
            .managers
            .iter()
            .map(|h| {
                let mut how = h.operation.clone();
                if !h.subresource.is_empty() {
                    how.push_str(&format!(" /{}", h.subresource));
                }
                if row.outside_role.contains(&h.manager) {
                    how.push_str(&format!(", outside {}", row.role));
                }
                format!("{} ({how})", h.manager)
            })
            .collect();
        let holders = holders.join(", ");
        let mut path = document_path(&row.field);
        // A related section's field: section → object name → field (`expose.web.ports`).
        let related: Vec<String> = row.field.splitn(3, '.').map(str::to_string).collect();
        if get_path(doc, &path).is_none() && related.len() == 3 && get_path(doc, &related).is_some() {
            path = related;
        }
        if get_path(doc, &path).is_some() {
            comments.insert(path, holders);
        } else {
            not_shown.push_str(&format!("#   {}: {holders}\n", row.field));
        }
    }
    let mut text = String::from("# field managers (from managedFields) follow each field\n");
    text.push_str(&yaml::to_string_with_comments(doc, &comments));
    if !not_shown.is_empty() {
        text.push_str("# owned fields not shown here:\n");
        text.push_str(&not_shown);
    }
    text
}

/// The keys of an owners row's field in the role document: `containers.app.image` is
/// containers → app → image (container names have no dots), `scaler.replicas` scaler → replicas.
pub fn document_path(field: &str) -> Vec<String> {
    let container_list =
        CONTAINER_LISTS.iter().any(|list| field.strip_prefix(list).is_some_and(|rest| rest.starts_with('.')));
    field.splitn(if container_list { 3 } else { 2 }, '.').map(str::to_string).collect()
}

/// The row of one field of `role`: the managers among `entries` that hold `path` (keys `other`
/// says are not the role's are no sign of an owner); None when nobody holds it.
fn holders_row(
    profile: &Profile,
    entries: &[crate::model::managed::ManagedEntry],
    role: RoleName,
    label: String,
    path: &[Step],
    other: Option<&dyn Fn(&str) -> bool>,
) -> Option<FieldOwners> {
    let managers: Vec<Holder> = entries
        .iter()
        .filter(|e| owns(&e.fields, path, other))
        .map(|e| Holder {
            manager: e.manager.clone(),
            role: role_of_manager(profile, &e.manager).map(|r| r.to_string()),
            operation: e.operation.clone(),
            subresource: e.subresource.clone(),
            time: e.time.clone(),
        })
        .collect();
    if managers.is_empty() {
        return None;
    }
    let outside_role = managers
        .iter()
        .filter(|h| h.role.as_deref() != Some(role.as_str()))
        .map(|h| h.manager.clone())
        .collect();
    Some(FieldOwners { field: label, role: role.to_string(), managers, outside_role })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object() -> Value {
        json!({
            "metadata": {
                "name": "web", "namespace": "shop",
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
                "managedFields": [
                    {"manager": "kubectl-client-side-apply", "operation": "Update", "time": "2026-01-01T00:00:00Z",
                     "fieldsType": "FieldsV1",
                     "fieldsV1": {"f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}},
                                  "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                                      "k:{\"name\":\"app\"}": {".": {}, "f:image": {}, "f:name": {},
                                                              "f:env": {".": {}, "k:{\"name\":\"A\"}": {".": {}, "f:name": {}, "f:value": {}}}}}}}}}},
                    {"manager": "kubectl-oam-dev", "operation": "Apply", "time": "2026-01-02T00:00:00Z",
                     "fieldsType": "FieldsV1",
                     "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
                         "k:{\"name\":\"app\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}}},
                    {"manager": "kube-controller-manager", "operation": "Update", "subresource": "scale", "time": "2026-01-03T00:00:00Z",
                     "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}
                ]
            },
            "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "app", "image": "a:1", "env": [{"name": "A", "value": "1"}]}]}}}
        })
    }

    #[test]
    fn owners_per_field_with_roles_and_outside_flags() {
        let p = Profile::builtin();
        let kind = p.kind("deploy").unwrap();
        let rows = field_owners(&p, kind, &object(), None);
        let by_field =
            |f: &str| rows.iter().find(|r| r.field == f).unwrap_or_else(|| panic!("{f} in {rows:#?}"));
        let image = by_field("containers.app.image");
        let names: Vec<&str> = image.managers.iter().map(|h| h.manager.as_str()).collect();
        assert_eq!(names, ["kubectl-client-side-apply", "kubectl-oam-dev"]);
        assert_eq!(image.managers[1].role.as_deref(), Some("dev"));
        assert_eq!(image.outside_role, ["kubectl-client-side-apply"]);
        let env = by_field("containers.app.env");
        assert_eq!(env.managers.len(), 1);
        let replicas = by_field("scaler.replicas");
        assert_eq!(replicas.role, "ops");
        assert_eq!(replicas.managers[1].subresource, "scale");
        assert!(
            rows.iter().all(|r| r.field != "metadata.annotations"),
            "the last-applied annotation is not a role field"
        );
    }
}
