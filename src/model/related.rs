//! Objects around the workload as data: the `related:` section of the profile (Services, Ingresses,
//! HTTPRoutes, PodDisruptionBudgets, PersistentVolumeClaims) and the role traits whose paths start at
//! one of their roots (`service.spec.ports`). Such a trait is shown as a section keyed by the related
//! object's name; how each kind is found from the workload (`find:`) is decided in `core::related`.
//!
//! Pure: imports `error`, `format` and `model` only.

use crate::model::roles::raw::RawRelated;
use crate::model::roles::{FieldPath, Find, KindInfo, RelatedField, RelatedKind, RelatedTrait, Root};
use crate::model::schema::KindSchema;

impl Find {
    pub fn parse(text: &str) -> Option<Find> {
        match text {
            "selectsPods" => Some(Find::SelectsPods),
            "routesToServices" => Some(Find::RoutesToServices),
            "mountedByPods" => Some(Find::MountedByPods),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Find::SelectsPods => "selectsPods",
            Find::RoutesToServices => "routesToServices",
            Find::MountedByPods => "mountedByPods",
        }
    }
}

impl RelatedField {
    pub fn path_text(&self) -> String {
        format!("{}.{}", self.root, self.segments.join("."))
    }
}

impl RelatedTrait {
    /// The roots (related kinds) this trait has fields of, in profile order of first use.
    pub fn roots(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for f in &self.fields {
            if !out.contains(&f.root.as_str()) {
                out.push(&f.root);
            }
        }
        out
    }

    /// The fields this trait has of `root`.
    pub fn fields_of<'a>(&'a self, root: &'a str) -> impl Iterator<Item = &'a RelatedField> + 'a {
        self.fields.iter().filter(move |f| f.root == root)
    }
}

/// Roots that name places in the workload, never a related kind.
const WORKLOAD_ROOTS: [&str; 4] = ["container", "pod", "template", "claimTemplate"];

impl RelatedKind {
    /// Parses one `related:` entry; the error is the message after the profile key.
    pub(crate) fn parse(root: &str, raw: RawRelated) -> Result<RelatedKind, String> {
        let at = format!("related.{root}");
        if WORKLOAD_ROOTS.contains(&root) || matches!(root, "spec" | "metadata" | "status") {
            return Err(format!(
                "{at}: \"{root}\" is a root of the workload's own fields; name it otherwise"
            ));
        }
        if root.is_empty() || root.contains('.') {
            return Err(format!("{at}: a root is one name without dots"));
        }
        if !raw.api_version.contains('/') && raw.api_version != "v1" {
            return Err(format!("{at}.apiVersion \"{}\" is not GROUP/VERSION", raw.api_version));
        }
        let find = Find::parse(&raw.find).ok_or_else(|| {
            format!("{at}.find \"{}\": expected selectsPods, routesToServices or mountedByPods", raw.find)
        })?;
        Ok(RelatedKind {
            root: root.to_string(),
            info: KindInfo {
                kind: raw.kind,
                api_version: raw.api_version,
                resource: raw.resource,
                names: raw.names.into_iter().map(|n| n.to_lowercase()).collect(),
                template: Vec::new(),
                schema: None,
            },
            find,
            optional: raw.optional,
        })
    }

    /// The related root a profile path starts with, if any.
    pub(crate) fn root_of<'a>(related: &'a [RelatedKind], path: &str) -> Option<&'a RelatedKind> {
        let first = path.split('.').next()?;
        related.iter().find(|r| r.root == first)
    }

    /// Checks a path of this kind against its schema (k8s-openapi's types for built-in kinds; a kind
    /// without a known schema is not checked here).
    pub fn check_path(&self, path: &FieldPath) -> Result<(), String> {
        match KindSchema::builtin(&self.info.api_version, &self.info.kind) {
            Some(schema) => schema.check(&self.info, path),
            None => Ok(()),
        }
    }
}

impl RelatedField {
    /// A trait field of a related object: the path below the root must be ownable (spec, labels,
    /// annotations) and exist in the kind's schema (built-in kinds; an optional CRD is checked by the
    /// server when written).
    pub(crate) fn parse(
        related: &RelatedKind,
        key: &str,
        name: &str,
        path: &str,
        exclude: &[String],
        check_schema: bool,
    ) -> Result<RelatedField, String> {
        let below = path.split_once('.').map(|(_, rest)| rest).unwrap_or_default();
        let object_path = FieldPath::parse(below).map_err(|m| format!("{key}.path: {m}"))?;
        if object_path.root != Root::Object {
            return Err(format!("{key}.path: \"{path}\": a related object has no pod template"));
        }
        // Messages name the path as the profile spells it, root included.
        let named =
            |m: String| format!("{key}.path: {}", m.replace(&format!("\"{below}\""), &format!("\"{path}\"")));
        object_path.check_ownable().map_err(named)?;
        if check_schema {
            related.check_path(&object_path).map_err(named)?;
        }
        Ok(RelatedField {
            name: name.to_string(),
            root: related.root.clone(),
            segments: object_path.segments,
            exclude: exclude.to_vec(),
        })
    }
}

impl RelatedTrait {
    /// A trait whose fields start at `related:` roots, or None for a trait of the workload's own fields.
    /// A trait may not mix both (its section is keyed by object name, the workload's are not).
    /// `fields`: (name, path, exclude, whether it has keys only the workload's fields take).
    pub(crate) fn parse(
        related_kinds: &[RelatedKind],
        at: &str,
        trait_name: &str,
        fields: &[(String, String, Vec<String>, bool)],
        check_schema: bool,
    ) -> Result<Option<RelatedTrait>, String> {
        let count = fields.iter().filter(|f| RelatedKind::root_of(related_kinds, &f.1).is_some()).count();
        if count == 0 {
            return Ok(None);
        }
        if count != fields.len() {
            return Err(format!(
                "{at}: mixes fields of related objects (related:) with the workload's; put them in separate traits"
            ));
        }
        let mut out = Vec::new();
        for (field_name, path, exclude, workload_only) in fields {
            let key = format!("{at}.{field_name}");
            let kind = RelatedKind::root_of(related_kinds, path).expect("counted above");
            if *workload_only {
                return Err(format!(
                    "{key}: a related object's field takes only path and exclude (kinds, autoscaled, reason and keys are for the workload's)"
                ));
            }
            out.push(RelatedField::parse(kind, &key, field_name, path, exclude, check_schema)?);
        }
        Ok(Some(RelatedTrait { name: trait_name.to_string(), fields: out }))
    }

    /// Two roles may not own overlapping paths of one related kind either.
    pub(crate) fn check_overlaps(traits: &[(String, &RelatedTrait)]) -> Result<(), String> {
        let mut paths: Vec<(String, Vec<String>, String)> = Vec::new();
        for (role, t) in traits {
            for f in &t.fields {
                paths.push((f.root.clone(), f.segments.clone(), format!("{role}.{}.{}", t.name, f.name)));
            }
        }
        for (i, a) in paths.iter().enumerate() {
            for b in paths.iter().skip(i + 1) {
                if a.0 == b.0 && (a.1.starts_with(&b.1) || b.1.starts_with(&a.1)) {
                    return Err(format!("{} overlaps {} for {}", b.2, a.2, a.0));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::model::roles::{BUILTIN_PROFILE, Profile, RoleName};

    #[test]
    fn builtin_related_traits_parse_and_exist_in_their_schemas() {
        let p = Profile::builtin();
        let roots: Vec<&str> = p.related.iter().map(|r| r.root.as_str()).collect();
        assert_eq!(roots, ["service", "ingress", "httpRoute", "pdb", "claim"]);
        assert!(p.related.iter().find(|r| r.root == "httpRoute").unwrap().optional);
        let ops: Vec<&str> = p.role(RoleName::Ops).related.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(ops, ["expose", "gateway", "disruptionBudget", "claimStorage"]);
        let dev: Vec<&str> = p.role(RoleName::Dev).related.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(dev, ["claims"]);
        assert!(
            !p.role(RoleName::Ops).traits.iter().any(|t| t.name == "expose"),
            "related traits are not workload traits"
        );
        assert_eq!(p.role_of_key("expose"), Some(RoleName::Ops));
        assert_eq!(p.role_of_key("claims"), Some(RoleName::Dev));
        // The built-in profile skips the check on load: every related path exists (k8s-openapi).
        for role in &p.roles {
            for t in &role.related {
                for f in &t.fields {
                    let kind = p.related.iter().find(|r| r.root == f.root).unwrap();
                    let path = crate::model::roles::FieldPath::parse(&f.segments.join(".")).unwrap();
                    kind.check_path(&path).unwrap_or_else(|e| panic!("{}: {e}", f.path_text()));
                }
            }
        }
    }

    #[test]
    fn bad_related_profiles_are_refused_naming_the_key() {
        let cases = [
            (
                BUILTIN_PROFILE.replace("path: service.spec.type", "path: service.spec.typo"),
                "roles.ops.traits.expose.type.path: \"service.spec.typo\" does not exist: spec of Service (v1) has no field \"typo\"; did you mean \"type\"?",
            ),
            (
                BUILTIN_PROFILE.replace("path: pdb.spec.minAvailable", "path: pdb.status.currentHealthy"),
                "roles.ops.traits.disruptionBudget.minAvailable.path: \"pdb.status.currentHealthy\" is status",
            ),
            (
                BUILTIN_PROFILE.replace("path: service.spec.type", "path: spec.paused"),
                "roles.ops.traits.expose: mixes fields of related objects",
            ),
            (BUILTIN_PROFILE.replace("find: mountedByPods", "find: mounts"), "related.claim.find \"mounts\""),
            (
                BUILTIN_PROFILE.replace("path: claim.spec.storageClassName", "path: claim.spec.accessModes"),
                "ops.claimStorage.storageClassName overlaps dev.claims.accessModes for claim",
            ),
            (
                BUILTIN_PROFILE.replace("  claimStorage:\n", "  claims:\n"),
                "trait \"claims\" is in both roles",
            ),
        ];
        for (text, wanted) in cases {
            let err = Profile::parse(&text, "test").unwrap_err().to_string();
            assert!(err.contains(wanted), "{err}\n  does not contain\n{wanted}");
        }
    }
}
