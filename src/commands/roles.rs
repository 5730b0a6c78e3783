//! `kubectl oam roles`: the role profile in effect, where it came from, and its fields.

use crate::cli::{DocumentFormat, RolesArgs};
use crate::error::{Error, Result};
use crate::format::{output, yaml};
use crate::model::roles::Profile;

/// `origin`: where the profile came from and how old it is, one line.
pub fn roles(profile: &Profile, origin: &str, args: &RolesArgs) -> Result<String> {
    match args.output {
        Some(DocumentFormat::Yaml) => return Ok(profile.text.clone()),
        Some(DocumentFormat::Json) => {
            let value = yaml::parse_one(&profile.text, &yaml::PROFILE_LIMITS)
                .map_err(|e| Error::Invalid(format!("role profile {}: {e}", profile.source)))?
                .value;
            return Ok(output::json(&value));
        }
        _ => {}
    }
    let mut rows = Vec::new();
    for role in &profile.roles {
        for t in &role.traits {
            for f in &t.fields {
                rows.push(vec![
                    role.name.to_string(),
                    role.manager.clone(),
                    t.name.clone(),
                    f.name.clone(),
                    f.path.to_string(),
                    f.kinds.as_ref().map_or("all".into(), |k| k.join(",")),
                    if f.autoscaled {
                        "held by an HPA that targets the workload".into()
                    } else if let Some(items) = &f.items {
                        format!("only the items {items}", items = items.describe())
                    } else {
                        String::new()
                    },
                ]);
            }
        }
        // Fields of the objects around the workload: one entry per object, keyed by name.
        for t in &role.related {
            for f in &t.fields {
                let kind = profile.related.iter().find(|k| k.root == f.root);
                rows.push(vec![
                    role.name.to_string(),
                    role.manager.clone(),
                    t.name.clone(),
                    f.name.clone(),
                    f.path_text(),
                    "all".into(),
                    kind.map(|k| format!("per {} ({}), by name", k.info.kind, k.find.as_str()))
                        .unwrap_or_default(),
                ]);
            }
        }
        for f in &role.read_only {
            rows.push(vec![
                role.name.to_string(),
                role.manager.clone(),
                "readOnly".into(),
                f.name.clone(),
                f.path.to_string(),
                f.kinds.as_ref().map_or("all".into(), |k| k.join(",")),
                f.reason.clone().unwrap_or_default(),
            ]);
        }
    }
    let mut text = format!("Role profile: {origin}\n");
    text.push_str(&output::table(&["role", "manager", "trait", "field", "path", "kinds", "note"], rows));
    Ok(text)
}
