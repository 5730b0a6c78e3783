//! Read commands: `get`, `list`, `owners`, `roles`.

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, ObjectList};
use serde_json::{Value, json};

use crate::cli::{GetArgs, ListArgs, OutputFormat, OwnersArgs, RolesArgs, TargetArgs};
use crate::cluster::{Action, Cluster};
use crate::error::{Error, Result};
use crate::output;
use crate::owners::{FieldOwners, field_owners};
use crate::project::{self, ApplyOptions, Autoscaler, ViewOptions};
use crate::roles::{KindInfo, Profile, RoleName};

/// Page size for the HPA list: large namespaces come in pages, never one huge response.
const PAGE_SIZE: u32 = 500;

/// A workload named on the command line.
#[derive(Debug, Clone)]
pub struct Target<'p> {
    pub kind: &'p KindInfo,
    pub name: String,
    pub namespace: String,
}

impl Target<'_> {
    pub fn action(&self) -> Action<'_> {
        Action { kind: &self.kind.kind, name: &self.name, namespace: &self.namespace }
    }

    /// kubectl's spelling: deployment.apps/web
    pub fn display(&self) -> String {
        format!("{}/{}", self.kind.display_resource(), self.name)
    }
}

/// `TYPE/NAME`, `TYPE NAME`, or just `TYPE` (a list: the name is None).
pub fn parse_target<'p>(
    profile: &'p Profile,
    args: &TargetArgs,
) -> Result<Option<(&'p KindInfo, Option<String>)>> {
    let Some(first) = &args.target else {
        return Ok(None);
    };
    let (kind, name) = match first.split_once('/') {
        Some((kind, name)) => {
            if args.name.is_some() {
                return Err(Error::Usage(format!(
                    "give either TYPE/NAME or TYPE NAME, not both (\"{first}\" and \"{}\")",
                    args.name.as_deref().unwrap_or_default()
                )));
            }
            (kind, Some(name.to_string()))
        }
        None => (first.as_str(), args.name.clone()),
    };
    if name.as_deref() == Some("") {
        return Err(Error::Usage(format!("\"{first}\" names no object; use TYPE/NAME, e.g. deploy/web")));
    }
    let kind = profile.kind(kind)?;
    if let Some(name) = &name {
        crate::cluster::check_name(&kind.kind, name)?;
    }
    Ok(Some((kind, name)))
}

/// Like `parse_target` but a name is required.
pub fn require_target<'p>(profile: &'p Profile, cluster: &Cluster, text: &str) -> Result<Target<'p>> {
    let args = TargetArgs { target: Some(text.to_string()), name: None };
    match parse_target(profile, &args)? {
        Some((kind, Some(name))) => Ok(Target { kind, name, namespace: cluster.namespace.clone() }),
        _ => Err(Error::Usage(format!("\"{text}\" is not TYPE/NAME, e.g. deploy/web"))),
    }
}

pub fn api_resource(kind: &KindInfo) -> ApiResource {
    ApiResource {
        group: kind.group().to_string(),
        version: kind.version().to_string(),
        api_version: kind.api_version.clone(),
        kind: kind.kind.clone(),
        plural: kind.resource.clone(),
    }
}

pub fn workload_api(cluster: &Cluster, kind: &KindInfo, namespace: Option<&str>) -> Api<DynamicObject> {
    let resource = api_resource(kind);
    match namespace {
        Some(ns) => Api::namespaced_with(cluster.client.clone(), ns, &resource),
        None => Api::all_with(cluster.client.clone(), &resource),
    }
}

/// One GET of the object, as JSON. No discovery: the kind table gives the URL.
pub async fn fetch(cluster: &Cluster, target: &Target<'_>) -> Result<Value> {
    let api = workload_api(cluster, target.kind, Some(&target.namespace));
    let request = kube::core::Request::new(api.resource_url())
        .get(&target.name, &Default::default())
        .map_err(|e| Error::Invalid(format!("cannot build the request for {}: {e}", target.display())))?;
    // Straight into JSON: the views work on JSON, and a typed detour costs a second conversion.
    let obj: Value = cluster.client.request(request).await.map_err(|e| cluster.error(e, &target.action()))?;
    Ok(with_type(obj, target.kind))
}

fn with_type(mut value: Value, kind: &KindInfo) -> Value {
    // List items come without apiVersion/kind.
    value["apiVersion"] = json!(kind.api_version);
    value["kind"] = json!(kind.kind);
    value
}

/// The namespace's HPAs as JSON; a user who may not list them gets the view without autoscaler.
pub async fn list_autoscalers(cluster: &Cluster, namespace: Option<&str>) -> Result<Vec<Value>> {
    let api: Api<HorizontalPodAutoscaler> = match namespace {
        Some(ns) => Api::namespaced(cluster.client.clone(), ns),
        None => Api::all(cluster.client.clone()),
    };
    let mut out = Vec::new();
    let mut params = ListParams::default().limit(PAGE_SIZE);
    loop {
        match api.list(&params).await {
            Ok(list) => {
                out.extend(list.items.into_iter().filter_map(|h| serde_json::to_value(h).ok()));
                match list.metadata.continue_.filter(|c| !c.is_empty()) {
                    Some(token) => params = params.continue_token(&token),
                    None => return Ok(out),
                }
            }
            Err(kube::Error::Api(status)) if status.code == 403 => {
                eprintln!(
                    "warning: may not list horizontalpodautoscalers; the autoscaler trait is not shown"
                );
                return Ok(Vec::new());
            }
            Err(err) => return Err(cluster.transport_error(err)),
        }
    }
}

/// The object and, for roles with autoscaled fields, the HPA that targets it: both requests at once.
pub async fn fetch_with_autoscaler(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    target: &Target<'_>,
) -> Result<(Value, Option<Autoscaler>)> {
    let wants_hpa = profile
        .role(role)
        .object_traits(&target.kind.kind)
        .any(|(_, fields)| fields.iter().any(|f| f.autoscaled));
    if !wants_hpa {
        return Ok((fetch(cluster, target).await?, None));
    }
    let (obj, hpas) =
        tokio::join!(fetch(cluster, target), list_autoscalers(cluster, Some(&target.namespace)));
    let obj = obj?;
    let hpa = Autoscaler::targeting(&hpas?, target.kind, &obj);
    Ok((obj, hpa))
}

pub async fn get(cluster: &Cluster, profile: &Profile, role: RoleName, args: &GetArgs) -> Result<String> {
    let (kind, name) = match parse_target(profile, &args.target)? {
        Some((kind, Some(name))) => (kind, name),
        Some((kind, None)) => {
            let list = ListArgs {
                kind: Some(kind.kind.clone()),
                selector: args.selector.clone(),
                output: args.output,
                chunk_size: args.chunk_size,
            };
            return list_workloads(cluster, profile, role, &list).await;
        }
        None => {
            let list = ListArgs {
                kind: None,
                selector: args.selector.clone(),
                output: args.output,
                chunk_size: args.chunk_size,
            };
            return list_workloads(cluster, profile, role, &list).await;
        }
    };
    let target = Target { kind, name, namespace: cluster.namespace.clone() };
    let (obj, hpa) = fetch_with_autoscaler(cluster, profile, role, &target).await?;
    if let Some(only) = &args.container {
        if !project::containers(&obj, kind).iter().any(|c| project::container_name(c) == only) {
            return Err(Error::Usage(format!(
                "{} in namespace \"{}\" has no container \"{only}\"; it has {}",
                target.display(),
                target.namespace,
                container_names(&obj, kind).join(", ")
            )));
        }
    }
    let output = if args.raw { Some(OutputFormat::Apply) } else { args.output };
    if output == Some(OutputFormat::Apply) {
        let doc = project::document(
            profile,
            role,
            kind,
            &obj,
            &ViewOptions { container: None, autoscaler: hpa.as_ref() },
        );
        let opts = ApplyOptions {
            autoscaler: hpa.as_ref(),
            force: false,
            manager: Some(&profile.role(role).manager),
        };
        let body = project::apply_body(profile, role, kind, &obj, &doc, &opts)
            .map_err(|p| Error::Invalid(p.into_iter().map(|d| d.0).collect::<Vec<_>>().join("; ")))?;
        return output::yaml(&body.body);
    }
    let view = ViewOptions { container: args.container.as_deref(), autoscaler: hpa.as_ref() };
    let mut doc = project::document(profile, role, kind, &obj, &view);
    crate::status::add_to(&mut doc, &kind.kind, &obj);
    if role == RoleName::Dev {
        crate::status::add_ready_pod_images(cluster, &target, args.container.as_deref(), &obj, &mut doc)
            .await;
    }
    let owners = args.show_owners.then(|| field_owners(profile, kind, &obj, Some(role)));
    match output {
        Some(OutputFormat::Json) => Ok(match owners {
            Some(owners) => output::json(&json!({"document": doc, "owners": owners})),
            None => output::json(&doc),
        }),
        _ => {
            let mut text = output::yaml(&doc)?;
            if let Some(owners) = owners {
                text.push_str(&owners_comment(&owners));
            }
            Ok(text)
        }
    }
}

pub fn container_names(obj: &Value, kind: &KindInfo) -> Vec<String> {
    project::containers(obj, kind).iter().map(|c| project::container_name(c).to_string()).collect()
}

/// Owners as YAML comments, so the document still applies unchanged.
pub fn owners_comment(owners: &[FieldOwners]) -> String {
    let mut text = String::from("# owners (from managedFields):\n");
    for row in owners {
        let holders: Vec<String> = row
            .managers
            .iter()
            .map(|h| {
                let role = h.role.as_deref().map(|r| format!(" [{r}]")).unwrap_or_default();
                let sub =
                    if h.subresource.is_empty() { String::new() } else { format!(" /{}", h.subresource) };
                format!("{}{role} {}{sub} {}", h.manager, h.operation, h.time)
            })
            .collect();
        let flag = if row.outside_role.is_empty() { "" } else { "  <- outside role" };
        text.push_str(&format!("#   {}: {}{flag}\n", row.field, holders.join("; ")));
    }
    text
}

/// Pages through one kind's list, handing each object to `each`; objects are not kept.
async fn for_each_object(
    cluster: &Cluster,
    kind: &KindInfo,
    selector: Option<&str>,
    chunk_size: u32,
    mut each: impl FnMut(Value),
) -> Result<()> {
    let namespace = (!cluster.all_namespaces).then_some(cluster.namespace.as_str());
    let api = workload_api(cluster, kind, namespace);
    let mut params = ListParams::default().limit(chunk_size);
    if let Some(sel) = selector {
        params = params.labels(sel);
    }
    loop {
        let request = kube::core::Request::new(api.resource_url())
            .list(&params)
            .map_err(|e| Error::Invalid(format!("cannot build the list request: {e}")))?;
        let page: ObjectList<Value> = match cluster.client.request(request).await {
            Ok(page) => page,
            Err(kube::Error::Api(status)) if status.code == 404 => {
                return Err(Error::Invalid(format!(
                    "the server does not serve {} ({}); check the kinds of the role profile",
                    kind.resource, kind.api_version
                )));
            }
            Err(e) => return Err(cluster.transport_error(e)),
        };
        for obj in page.items {
            each(with_type(obj, kind));
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(()),
        }
    }
}

pub async fn list_workloads(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    args: &ListArgs,
) -> Result<String> {
    let kinds: Vec<&KindInfo> = match &args.kind {
        Some(k) => vec![profile.kind(k)?],
        None => profile.kinds.iter().collect(),
    };
    let hpas = if role == RoleName::Ops {
        let namespace = (!cluster.all_namespaces).then_some(cluster.namespace.as_str());
        list_autoscalers(cluster, namespace).await?
    } else {
        Vec::new()
    };
    let wide = args.output == Some(OutputFormat::Wide);
    let as_documents = matches!(args.output, Some(OutputFormat::Yaml | OutputFormat::Json));
    let mut rows = Vec::new();
    let mut documents = Vec::new();
    for kind in kinds {
        for_each_object(cluster, kind, args.selector.as_deref(), args.chunk_size, |obj| {
            let hpa = Autoscaler::targeting(&hpas, kind, &obj);
            if as_documents {
                let view = ViewOptions { container: None, autoscaler: hpa.as_ref() };
                let mut doc = project::document(profile, role, kind, &obj, &view);
                crate::status::add_to(&mut doc, &kind.kind, &obj);
                documents.push(doc);
            } else {
                rows.extend(table_rows(
                    profile,
                    role,
                    kind,
                    &obj,
                    hpa.as_ref(),
                    wide,
                    cluster.all_namespaces,
                ));
            }
        })
        .await?;
    }
    if as_documents {
        return match args.output {
            Some(OutputFormat::Json) => Ok(output::json(&Value::Array(documents))),
            _ => Ok(documents.iter().map(output::yaml).collect::<Result<Vec<_>>>()?.join("---\n")),
        };
    }
    if rows.is_empty() {
        let scope = if cluster.all_namespaces {
            "any namespace".to_string()
        } else {
            format!("namespace \"{}\"", cluster.namespace)
        };
        eprintln!("No workloads found in {scope}.");
        return Ok(String::new());
    }
    let mut headers: Vec<&str> = Vec::new();
    if cluster.all_namespaces {
        headers.push("namespace");
    }
    headers.extend(["name", "kind", "ready", "up-to-date", "available"]);
    headers.extend(match role {
        RoleName::Dev => ["container", "image", "ports", "cpu", "memory", "age"].as_slice(),
        RoleName::Ops => ["replicas", "strategy", "placement", "age"].as_slice(),
    });
    if wide {
        headers.extend(match role {
            RoleName::Dev => ["command", "env"],
            RoleName::Ops => ["labels", "autoscaler"],
        });
    }
    Ok(output::table(&headers, rows))
}

fn table_rows(
    profile: &Profile,
    role: RoleName,
    kind: &KindInfo,
    obj: &Value,
    hpa: Option<&Autoscaler>,
    wide: bool,
    all_namespaces: bool,
) -> Vec<Vec<String>> {
    let doc = project::document(profile, role, kind, obj, &ViewOptions { container: None, autoscaler: hpa });
    let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_string();
    // kubectl's live columns after NAME and KIND, AGE after the role's own (before -o wide's).
    let live = crate::status::columns(&kind.kind, obj);
    let age = crate::status::age(obj, k8s_openapi::jiff::Timestamp::now());
    let prefix = |mut row: Vec<String>| {
        row.insert(if role == RoleName::Dev { 7 } else { 5 }, age.clone());
        row.splice(2..2, live.iter().cloned());
        if all_namespaces {
            row.insert(0, obj["metadata"]["namespace"].as_str().unwrap_or_default().to_string());
        }
        row
    };
    match role {
        RoleName::Dev => {
            let containers = doc["containers"].as_object().cloned().unwrap_or_default();
            containers
                .iter()
                .map(|(cname, c)| {
                    let ports = c["ports"]
                        .as_array()
                        .map(|ps| {
                            ps.iter()
                                .map(|p| match p["protocol"].as_str() {
                                    Some(proto) => format!("{}/{proto}", p["containerPort"]),
                                    None => p["containerPort"].to_string(),
                                })
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| "<none>".into());
                    let res = |what: &str| {
                        let req = c["resources"]["requests"].get(what).and_then(Value::as_str);
                        let lim = c["resources"]["limits"].get(what).and_then(Value::as_str);
                        match (req, lim) {
                            (None, None) => "<none>".to_string(),
                            (Some(r), None) => r.to_string(),
                            (None, Some(l)) => format!("-/{l}"),
                            (Some(r), Some(l)) => format!("{r}/{l}"),
                        }
                    };
                    let mut row = vec![
                        name.clone(),
                        kind.kind.clone(),
                        cname.clone(),
                        output::cell(c.get("image")),
                        ports,
                        res("cpu"),
                        res("memory"),
                    ];
                    if wide {
                        let mut command: Vec<String> = Vec::new();
                        for key in ["command", "args"] {
                            if let Some(parts) = c[key].as_array() {
                                command.extend(parts.iter().map(|p| output::cell(Some(p))));
                            }
                        }
                        row.push(if command.is_empty() { "<none>".into() } else { command.join(" ") });
                        row.push(c["env"].as_object().map_or(0, |e| e.len()).to_string());
                    }
                    prefix(row)
                })
                .collect()
        }
        RoleName::Ops => {
            let replicas = match hpa {
                Some(h) => format!(
                    "hpa {}-{}",
                    h.min_replicas.map_or("?".into(), |v| v.to_string()),
                    h.max_replicas.map_or("?".into(), |v| v.to_string())
                ),
                None => match doc["scaler"].get("replicas") {
                    Some(v) => v.to_string(),
                    None if kind.kind == "DaemonSet" => "per node".into(),
                    None => "<none>".into(),
                },
            };
            let strategy = doc["rollout"]
                .get("strategy")
                .or_else(|| doc["rollout"].get("updateStrategy"))
                .map(|s| output::cell(s.get("type")))
                .or_else(|| doc["schedule"].get("schedule").map(|s| output::cell(Some(s))))
                .unwrap_or_else(|| "<none>".into());
            let placement = doc["placement"]
                .as_object()
                .filter(|m| !m.is_empty())
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| match (k.as_str(), v) {
                            ("nodeSelector", v) => output::cell(Some(v)),
                            ("tolerations", Value::Array(t)) => {
                                format!("{} toleration(s)", t.len())
                            }
                            ("priorityClassName", v) => {
                                format!("priority={}", output::cell(Some(v)))
                            }
                            (k, _) => k.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_else(|| "<none>".into());
            let mut row = vec![name, kind.kind.clone(), replicas, strategy, placement];
            if wide {
                row.push(output::cell(doc["metadata"].get("labels")));
                row.push(hpa.map_or("<none>".into(), |h| h.name.clone()));
            }
            vec![prefix(row)]
        }
    }
}

pub async fn owners(cluster: &Cluster, profile: &Profile, args: &OwnersArgs) -> Result<String> {
    let Some((kind, Some(name))) = parse_target(profile, &args.target)? else {
        return Err(Error::Usage("owners needs TYPE/NAME, e.g. kubectl oam owners deploy/web".into()));
    };
    let target = Target { kind, name, namespace: cluster.namespace.clone() };
    let obj = fetch(cluster, &target).await?;
    let rows = field_owners(profile, kind, &obj, None);
    match args.output {
        Some(OutputFormat::Json) => {
            return Ok(output::json(&serde_json::to_value(&rows).unwrap_or_default()));
        }
        Some(OutputFormat::Yaml) => {
            return output::yaml(&serde_json::to_value(&rows).unwrap_or_default());
        }
        _ => {}
    }
    let mut table = Vec::new();
    for row in &rows {
        for (i, h) in row.managers.iter().enumerate() {
            let note = if row.outside_role.contains(&h.manager) {
                match &h.role {
                    Some(r) => format!("held by {r}, outside {}", row.role),
                    None => format!("outside {}", row.role),
                }
            } else {
                String::new()
            };
            let operation = if h.subresource.is_empty() {
                h.operation.clone()
            } else {
                format!("{} ({})", h.operation, h.subresource)
            };
            table.push(vec![
                if i == 0 { row.field.clone() } else { String::new() },
                if i == 0 { row.role.clone() } else { String::new() },
                h.manager.clone(),
                h.role.clone().unwrap_or_else(|| "-".into()),
                operation,
                if h.time.is_empty() { "-".into() } else { h.time.clone() },
                note,
            ]);
        }
    }
    Ok(output::table(&["field", "role", "manager", "as", "operation", "time", "note"], table))
}

pub fn roles(profile: &Profile, args: &RolesArgs) -> Result<String> {
    match args.output {
        Some(OutputFormat::Yaml) => return Ok(profile.text.clone()),
        Some(OutputFormat::Json) => {
            let value: Value =
                serde_yaml::from_str(&profile.text).map_err(|e| Error::Invalid(e.to_string()))?;
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
            ]);
        }
    }
    let mut text = format!("Role profile: {}\n", profile.source);
    text.push_str(&output::table(&["role", "manager", "trait", "field", "path", "kinds"], rows));
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(target: Option<&str>, name: Option<&str>) -> TargetArgs {
        TargetArgs { target: target.map(str::to_string), name: name.map(str::to_string) }
    }

    #[test]
    fn targets_parse_in_both_forms() {
        let p = Profile::builtin();
        let cases = [
            (args(Some("deploy/web"), None), Some(("Deployment", Some("web")))),
            (args(Some("sts"), Some("db")), Some(("StatefulSet", Some("db")))),
            (args(Some("cj"), None), Some(("CronJob", None))),
            (args(None, None), None),
        ];
        for (a, expect) in cases {
            let got = parse_target(&p, &a).unwrap().map(|(k, n)| (k.kind.clone(), n));
            let expect = expect.map(|(k, n)| (k.to_string(), n.map(str::to_string)));
            assert_eq!(got, expect, "{a:?}");
        }
        assert!(matches!(parse_target(&p, &args(Some("pod/x"), None)), Err(Error::UnknownKind(_))));
        assert!(matches!(parse_target(&p, &args(Some("deploy/"), None)), Err(Error::Usage(_))));
        assert!(matches!(parse_target(&p, &args(Some("deploy/a"), Some("b"))), Err(Error::Usage(_))));
    }
}
