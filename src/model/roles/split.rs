//! Naming an item of a list two roles split (`where:`/`unless:`, pod volumes) the way the role
//! whose item it is names it: which role that is depends on the item, not on its path.

use super::{Field, ItemFilter, KindInfo, Profile, split_server_path};
use crate::model::schema::{KindSchema, ListType, Shape};

/// Names a field of an item of a list two roles split (`.spec.template.spec.volumes[name="config"]
/// .configMap.name`) as the role whose item it is in `object` (the body sent, or the live object)
/// names it: `storage.volumes.config.configMap.name`. None when no such item is found.
pub fn split_item_label(
    profile: &Profile,
    kind: &KindInfo,
    server_field: &str,
    object: &serde_json::Value,
) -> Option<String> {
    let segments = split_server_path(server_field);
    for role in &profile.roles {
        for (trait_name, fields) in role.object_traits(&kind.kind) {
            for field in fields.into_iter().filter(|f| f.items.is_some()) {
                let path = field.path.in_object(kind);
                let Some((last, parent)) = path.split_last() else { continue };
                if segments.len() < path.len() || segments[..parent.len()] != *parent {
                    continue;
                }
                let Some(name) = segments[parent.len()]
                    .strip_prefix(&format!("{last}[name=\""))
                    .and_then(|rest| rest.strip_suffix("\"]"))
                else {
                    continue;
                };
                let items =
                    path.iter().try_fold(object, |v, k| v.get(k)).and_then(serde_json::Value::as_array);
                let item = items.into_iter().flatten().find(|i| i["name"].as_str() == Some(name));
                if item.is_some_and(|i| field.keeps_item(i)) {
                    let tail: String = segments[path.len()..].iter().map(|s| format!(".{s}")).collect();
                    return Some(format!("{trait_name}.{}.{name}{tail}", field.name));
                }
            }
        }
    }
    None
}

/// A field that takes some items of a list (`where:`/`unless:`) needs a list whose items are merged
/// by `name` (each role applies its own items, owned per key): not a map, a scalar, or a list the
/// schema says is atomic or keyed otherwise.
pub(super) fn check_keyed(
    kind: &KindInfo,
    schema: &KindSchema,
    field: &Field,
    filter: &ItemFilter,
) -> Result<(), String> {
    let Some(node) = schema.node(&field.path.in_object(kind)) else { return Ok(()) };
    let word = if filter.present { "where" } else { "unless" };
    match (&node.shape, &node.list) {
        // A schema that keeps unknown fields says nothing of the list: the server decides.
        (Shape::Any, _) | (Shape::List, None) => Ok(()),
        (Shape::List, Some(ListType::Map(keys))) if keys.iter().map(String::as_str).eq(["name"]) => Ok(()),
        (Shape::List, _) => Err(format!(
            "{word}: takes items of a list merged by name; {} in {} is not (each role could not apply its own items)",
            field.path, kind.kind
        )),
        _ => Err(format!("{word}: takes items of a list; {} in {} is not a list", field.path, kind.kind)),
    }
}
