//! Storage in role documents: the items of a list two roles split (pod volumes: claims or not), and
//! a StatefulSet's claim templates shown per template.

use serde_json::{Map, Value};

use super::{DocProblem, is_empty_value};
use crate::model::object::get_path;
use crate::model::roles::{CLAIM_TEMPLATES_PATH, Field, ItemFilter, KindInfo, Profile, RoleName};

/// A `claimTemplate.` field of each of a StatefulSet's volumeClaimTemplates, keyed by the template's
/// name (`{data: 5Gi}`); absent when no template has it.
pub(crate) fn claim_template_values(field: &Field, obj: &Value) -> Option<Value> {
    let path: Vec<String> = CLAIM_TEMPLATES_PATH.map(str::to_string).to_vec();
    let values: Map<String, Value> = get_path(obj, &path)?
        .as_array()?
        .iter()
        .filter_map(|template| {
            let name = template.get("metadata")?.get("name")?.as_str()?;
            let v = get_path(template, &field.path.segments).filter(|v| !is_empty_value(v))?;
            Some((name.to_string(), v.clone()))
        })
        .collect();
    (!values.is_empty()).then_some(Value::Object(values))
}

/// Items of a list a field takes only some of (`where:`/`unless:`) that are not its own: another
/// role's, named with its field.
pub(super) fn other_items(
    profile: &Profile,
    role_name: RoleName,
    kind: &KindInfo,
    trait_name: &str,
    field: &Field,
    filter: &ItemFilter,
    items: &[Value],
) -> Vec<DocProblem> {
    let owner = others_owner(profile, role_name, kind, field, filter);
    let what = if filter.present { "without" } else { "with" };
    items
        .iter()
        .enumerate()
        .filter(|(_, item)| !filter.keeps(item))
        .map(|(i, item)| {
            let name =
                item.get("name").and_then(Value::as_str).map(|n| format!(" ({n})")).unwrap_or_default();
            let at = vec![trait_name.to_string(), field.name.clone(), i.to_string()];
            DocProblem::at(
                &at,
                format!(
                    "{trait_name}.{}[{i}]{name}: an item {what} {} is {}; remove it here",
                    field.name,
                    filter.has,
                    owner.clone().unwrap_or_else(|| "no role's".to_string())
                ),
            )
        })
        .collect()
}

/// Whose the items `filter` leaves are: `the dev role's (claimVolumes.volumes)`, if a role's.
fn others_owner(
    profile: &Profile,
    role_name: RoleName,
    kind: &KindInfo,
    field: &Field,
    filter: &ItemFilter,
) -> Option<String> {
    let path = field.path.in_object(kind);
    profile.roles.iter().filter(|r| r.name != role_name).find_map(|r| {
        r.object_traits(&kind.kind).find_map(|(t, fs)| {
            fs.into_iter()
                .find(|f| {
                    f.path.in_object(kind) == path && f.items.as_ref().is_some_and(|o| o.complements(filter))
                })
                .map(|f| format!("the {} role's ({}.{})", r.name, t, f.name))
        })
    })
}

/// Items of the document that take the name of a live item of the other role's kind (a claim named
/// like the operator's configMap volume): the two applies would merge into one item with two
/// sources, which the API refuses. Named, with what to do.
pub(super) fn names_of_others(
    profile: &Profile,
    role_name: RoleName,
    live: &Value,
    kind: &KindInfo,
    trait_name: &str,
    field: &Field,
    items: &[Value],
) -> Vec<DocProblem> {
    let Some(filter) = &field.items else { return Vec::new() };
    let owner = others_owner(profile, role_name, kind, field, filter).unwrap_or_else(|| "no role's".into());
    let live_items = get_path(live, &field.path.in_object(kind)).and_then(Value::as_array);
    let theirs: Vec<&str> = live_items
        .into_iter()
        .flatten()
        .filter(|item| !filter.keeps(item))
        .filter_map(|item| item.get("name").and_then(Value::as_str))
        .collect();
    items
        .iter()
        .enumerate()
        .filter(|(_, item)| filter.keeps(item))
        .filter_map(|(i, item)| {
            let name = item.get("name").and_then(Value::as_str).filter(|n| theirs.contains(n))?;
            Some(DocProblem::at(
                &[trait_name.to_string(), field.name.clone(), i.to_string()],
                format!(
                    "{trait_name}.{}[{i}] ({name}): the object's item \"{name}\" is {owner}; give this one another name",
                    field.name
                ),
            ))
        })
        .collect()
}
