//! Storage in role documents: the items of a list two roles split (pod volumes: claims or not), and
//! a StatefulSet's claim templates shown per template.

use serde_json::{Map, Value};

use super::{DocProblem, is_empty_value};
use crate::model::object::get_path;
use crate::model::roles::{CLAIM_TEMPLATES_PATH, Field, ItemFilter, KindInfo, Profile, RoleName};

/// A `claimTemplate.` field of each of a StatefulSet's volumeClaimTemplates, keyed by the template's
/// name (`{data: 5Gi}`); absent when no template has it.
pub(super) fn claim_template_values(field: &Field, obj: &Value) -> Option<Value> {
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
    let path = field.path.in_object(kind);
    let owner = profile.roles.iter().filter(|r| r.name != role_name).find_map(|r| {
        r.object_traits(&kind.kind).find_map(|(t, fs)| {
            fs.into_iter()
                .find(|f| {
                    f.path.in_object(kind) == path && f.items.as_ref().is_some_and(|o| o.complements(filter))
                })
                .map(|f| format!("the {} role's ({}.{})", r.name, t, f.name))
        })
    });
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
