//! `list`, and `get` without a name: the workloads of a namespace (or of all, `-A`) as a table, as
//! names (`-o name`), as role documents (`-o yaml|json`) or through a JSONPath template.
//!
//! Every kind is fetched at once, each in pages (`--chunk-size`); output follows in kind order and
//! a table is printed page by page as it arrives, so memory stays flat however many objects there
//! are. Tables and names of the built-in kinds read only the fields a row needs (see `rows`);
//! documents, sorting and custom kinds read whole objects. With `-w`, each change of a listed kind
//! follows the list as it happens, in the same format.

use std::collections::HashMap;
use std::io::Write;

use futures_util::future::Either;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc};

use crate::cli::{GetArgs, ListArgs, OutputFormat};
use crate::cluster::client::Cluster;
use crate::cluster::fetch;
use crate::cluster::list::{self, ListQuery, Objects, Page, WatchQuery};
use crate::core::hpa::Autoscaler;
use crate::core::project::{self, ViewOptions};
use crate::core::rows::{LabelColumns, Layout, RowPlan, value_rows};
use crate::core::view;
use crate::error::{Error, Result};
use crate::format::jsonpath::columns::Column;
use crate::format::jsonpath::{Template, sort_order};
use crate::format::output;
use crate::model::roles::{KindInfo, Profile, RoleName};
use crate::model::target::parse_target;

/// The list `get` stands for when it names no object: `get`, `get deploy`.
pub fn list_of_get(profile: &Profile, args: &GetArgs) -> Result<Option<ListArgs>> {
    if !args.more.is_empty() || args.target.name.is_some() {
        return Ok(None);
    }
    let kind = match args.target.target.as_deref() {
        // `get deploy,sts`: the kinds are read by the list.
        Some(kinds) if kinds.contains(',') && !kinds.contains('/') => Some(kinds.to_string()),
        target => match parse_target(profile, target, None)? {
            Some((_, Some(_))) => return Ok(None),
            Some((kind, None)) => Some(kind.kind.clone()),
            None => None,
        },
    };
    // Flags about one object's document have nothing to work on in a list.
    let one_object =
        [("-c", args.container.is_some()), ("--raw", args.raw), ("--show-owners", args.show_owners)];
    if let Some((flag, _)) = one_object.iter().find(|(_, given)| *given) {
        return Err(Error::Usage(format!(
            "{flag} works on one object's document; name it, e.g. `get deploy/web {flag}`"
        )));
    }
    Ok(Some(ListArgs {
        kind,
        selector: args.selector.clone(),
        output: args.output.clone(),
        chunk_size: args.chunk_size,
        all: args.all,
        no_headers: args.no_headers,
        allow_missing_template_keys: args.allow_missing_template_keys,
        sort_by: args.sort_by.clone(),
        label_columns: args.label_columns.clone(),
        show_labels: args.show_labels,
        field_selector: args.field_selector.clone(),
        watch: args.watch,
    }))
}

/// The kinds a list names: `deploy`, `deploy,sts` (each once, in the order given), or all.
fn listed_kinds<'p>(profile: &'p Profile, kinds: Option<&str>) -> Result<Vec<&'p KindInfo>> {
    let Some(kinds) = kinds else { return Ok(profile.kinds.iter().collect()) };
    let mut out: Vec<&KindInfo> = Vec::new();
    for name in kinds.split(',') {
        if name.is_empty() {
            return Err(Error::Usage(format!(
                "\"{kinds}\" has an empty type; separate types with single commas, e.g. deploy,sts"
            )));
        }
        let kind = profile.kind(name)?;
        if !out.iter().any(|k| k.kind == kind.kind) {
            out.push(kind);
        }
    }
    Ok(out)
}

/// The list, written to stdout as it arrives.
pub async fn print_list(cluster: &Cluster, profile: &Profile, role: RoleName, args: &ListArgs) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    list_workloads(cluster, profile, role, args, &mut out).await
}

/// What the list prints.
enum Mode {
    Table,
    Names,
    Documents { json: bool },
    JsonPath(Template),
    Columns(Vec<Column>),
}

pub async fn list_workloads(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    args: &ListArgs,
    out: &mut impl Write,
) -> Result<()> {
    list_in(cluster, profile, role, args, None, out).await.map(|_| ())
}

/// One context's part of a list of several (`--context a,b`): table rows are kept, with the
/// context as their first cell, for one table of all contexts; names, documents (which carry a
/// `context` key) are written to `out`. Returns the table's headers (CONTEXT first) and rows.
pub async fn list_part(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    args: &ListArgs,
    context: &str,
    out: &mut impl Write,
) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    list_in(cluster, profile, role, args, Some(context), out).await
}

async fn list_in(
    cluster: &Cluster,
    profile: &Profile,
    role: RoleName,
    args: &ListArgs,
    context: Option<&str>,
    out: &mut impl Write,
) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let mode = match &args.output {
        None | Some(OutputFormat::Wide) => Mode::Table,
        Some(OutputFormat::Name) => Mode::Names,
        Some(OutputFormat::Yaml) => Mode::Documents { json: false },
        Some(OutputFormat::Json) => Mode::Documents { json: true },
        Some(OutputFormat::JsonPath(text)) => {
            let template = crate::format::jsonpath::parse(text).map_err(Error::Usage)?;
            // Watching, each document is printed on its own as it changes (as kubectl); else the
            // template reads their `List`.
            view::check_keys(&template, profile, role, !args.watch, "-o jsonpath").map_err(Error::Usage)?;
            Mode::JsonPath(if args.allow_missing_template_keys {
                template.allowing_missing()
            } else {
                template
            })
        }
        Some(OutputFormat::CustomColumns(spec)) => {
            Mode::Columns(view::checked_columns(spec, profile, role).map_err(Error::Usage)?)
        }
        Some(OutputFormat::Apply) => {
            return Err(Error::Usage(
                "-o apply prints the apply body of one object; name it, e.g. deploy/web".into(),
            ));
        }
    };
    let kinds = listed_kinds(profile, args.kind.as_deref())?;
    let layout = Layout {
        role,
        wide: args.output == Some(OutputFormat::Wide),
        all_namespaces: cluster.all_namespaces,
        with_controller: args.all,
    };
    // Sorting needs each object's role document (the key is a path in it): whole objects.
    // An empty key does not sort, as kubectl.
    let sort_by = args.sort_by.as_deref().filter(|key| !key.trim().is_empty());
    let sorting = sort_by.is_some();
    // A bad key is refused before anything is read.
    let sort_key = sort_by
        .map(|text| crate::format::jsonpath::parse_sort_key(text).map_err(Error::Usage))
        .transpose()?;
    // Each kind's pages come through a channel of its own, so that all kinds are fetched at once
    // while the output follows kind order. A later kind's visible objects wait in its channel
    // until its turn, a page's worth at most (its budget), which keeps memory flat; hidden ones
    // (most ReplicaSets and Jobs) cost nothing, so those kinds are read meanwhile.
    let budget = args.chunk_size as usize;
    let query = ListQuery {
        chunk_size: args.chunk_size,
        selector: args.selector.clone(),
        field_selector: args.field_selector.clone(),
        all: args.all,
        version: args.watch,
    };
    let budgets: Vec<Semaphore> = kinds.iter().map(|_| Semaphore::new(budget)).collect();
    // `-o wide` of ops: a column per related kind that selects the pods (SVC, PDB).
    let related_columns = match (layout.wide, &mode) {
        (true, Mode::Table) => crate::core::related::wide_kinds(profile, role),
        _ => Vec::new(),
    };
    let mut senders = Vec::new();
    let mut receivers = Vec::new();
    for (kind, budget) in kinds.iter().zip(&budgets) {
        let (tx, rx) = mpsc::unbounded_channel();
        let plan = RowPlan::new(profile, role, kind).filter(|_| !sorting);
        // The related columns of `-o wide` read the pod template's labels: whole objects then.
        let partial =
            plan.is_some() && matches!(mode, Mode::Table | Mode::Names) && related_columns.is_empty();
        senders.push(list::fetch_kind(cluster, kind, &query, partial, budget, tx));
        receivers.push((*kind, plan, budget, rx));
    }
    let printing = async {
        let hpas = match role {
            // Names need no autoscaler, unless they are sorted by documents that show it.
            RoleName::Ops if !matches!(mode, Mode::Names) || sorting => {
                let namespace = (!cluster.all_namespaces).then_some(cluster.namespace.as_str());
                fetch::list_autoscalers(cluster, namespace, fetch::Read::Cached).await?
            }
            _ => Vec::new(),
        };
        let namespace = (!cluster.all_namespaces).then_some(cluster.namespace.as_str());
        let related_lists =
            fetch::list_related_kinds(cluster, &related_columns, namespace, fetch::Read::Cached, &|k| {
                let header = crate::core::related::wide_headers(&[k]).concat();
                format!("the {header} column does not show them")
            })
            .await?
            .unwrap_or_default();
        let related = RelatedColumns { kinds: &related_columns, lists: &related_lists };
        let mut printer = Printer::new(profile, layout, mode, HpaIndex::new(&hpas), args, sort_key, related);
        printer.context = context.map(str::to_string);
        let mut versions: Vec<String> = Vec::new();
        for (kind, plan, budget, mut rx) in receivers {
            versions.push(String::new());
            while let Some(page) = rx.recv().await {
                let page = match page {
                    Ok(page) => page,
                    Err(e) => {
                        printer.cut_short(out);
                        return Err(e);
                    }
                };
                if let (Some(version), Some(last)) = (&page.version, versions.last_mut()) {
                    last.clone_from(version);
                }
                let spent = page.spent;
                if !printer.page(kind, plan.as_ref(), page, out)? {
                    return Ok(printer.collected()); // the reader went away (`| head`)
                }
                budget.add_permits(spent);
            }
        }
        printer.finish(cluster, out)?;
        if !args.watch || context.is_some() {
            return Ok(printer.collected());
        }
        let watches: Vec<(&KindInfo, WatchQuery)> = kinds
            .iter()
            .zip(versions)
            .map(|(kind, from)| {
                let query = WatchQuery {
                    selector: args.selector.clone(),
                    field_selector: args.field_selector.clone(),
                    name: None,
                    all: args.all,
                    from,
                };
                (*kind, query)
            })
            .collect();
        crate::cluster::fetch::flush_warnings();
        follow(cluster, &watches, |kind, obj| printer.change(kind, obj, out)).await?;
        Ok(printer.collected())
    };
    // Printing ends first on an error or a closed pipe: the fetches still under way are dropped.
    let fetching = futures_util::future::join_all(senders);
    futures_util::pin_mut!(fetching, printing);
    match futures_util::future::select(fetching, printing).await {
        Either::Left((_, printing)) => printing.await,
        Either::Right((printed, _)) => printed,
    }
}

/// The HPAs by the namespace, kind and name they target, so that a row finds its own at once.
struct HpaIndex<'a> {
    by_target: HashMap<(&'a str, &'a str, &'a str), Vec<&'a Value>>,
}

impl<'a> HpaIndex<'a> {
    fn new(hpas: &'a [Value]) -> HpaIndex<'a> {
        let mut by_target: HashMap<_, Vec<&Value>> = HashMap::new();
        for hpa in hpas {
            let target = &hpa["spec"]["scaleTargetRef"];
            let key = (
                hpa["metadata"]["namespace"].as_str().unwrap_or_default(),
                target["kind"].as_str().unwrap_or_default(),
                target["name"].as_str().unwrap_or_default(),
            );
            by_target.entry(key).or_default().push(hpa);
        }
        HpaIndex { by_target }
    }

    fn find(&self, kind: &KindInfo, name: &str, namespace: Option<&str>) -> Option<Autoscaler> {
        let candidates = self.by_target.get(&(namespace.unwrap_or_default(), kind.kind.as_str(), name))?;
        Autoscaler::targeting_name(candidates.iter().copied(), kind, name, namespace)
    }
}

/// Prints pages as they come (or, sorting, all at the end).
struct Printer<'a> {
    profile: &'a Profile,
    layout: Layout,
    mode: Mode,
    hpas: HpaIndex<'a>,
    chunk_size: usize,
    sort_key: Option<Template>,
    now: Timestamp,
    table: StreamTable,
    /// Objects shown, and controlled ones left out.
    shown: usize,
    hidden: usize,
    /// Rows not printed yet: a block is printed once it holds a page's worth (`--chunk-size`), so
    /// that a list of a few objects of several kinds is one aligned table.
    pending: Vec<Vec<String>>,
    /// Documents kept for a JSONPath template.
    documents: Vec<Value>,
    /// With `--sort-by`, everything waits for the last page: each object's key and what it prints.
    sorted: Vec<(Option<Value>, Shown)>,
    /// `-L`, `--show-labels`.
    labels: LabelColumns,
    /// `-w`: documents and templates are printed one by one, each as it comes.
    watching: bool,
    /// One context's part of a list of several: its name heads each row and document.
    context: Option<String>,
    /// That part's rows, for the one table of every context.
    rows: Vec<Vec<String>>,
    /// `-o wide`: the related objects' columns.
    related: RelatedColumns<'a>,
}

/// `-o wide`'s columns of related objects (ops: Services, PDBs): the kinds and their lists.
#[derive(Default)]
struct RelatedColumns<'a> {
    kinds: &'a [&'a crate::model::roles::RelatedKind],
    lists: &'a [(String, Vec<Value>)],
}

/// What one object prints, kept for sorting.
enum Shown {
    Rows(Vec<Vec<String>>),
    Name(String),
    Document(Value),
}

impl<'a> Printer<'a> {
    fn new(
        profile: &'a Profile,
        layout: Layout,
        mode: Mode,
        hpas: HpaIndex<'a>,
        args: &ListArgs,
        sort_key: Option<Template>,
        related: RelatedColumns<'a>,
    ) -> Self {
        let labels = LabelColumns { keys: args.label_columns.clone(), show_labels: args.show_labels };
        let related_headers = crate::core::related::wide_headers(related.kinds);
        let headers = match &mode {
            Mode::Columns(columns) => columns.iter().map(|c| c.header.clone()).collect(),
            _ => (layout.headers().iter().map(|h| h.to_uppercase()))
                .chain(related_headers)
                .chain(labels.headers())
                .collect(),
        };
        Printer {
            profile,
            layout,
            mode,
            hpas,
            chunk_size: args.chunk_size as usize,
            sort_key,
            now: Timestamp::now(),
            table: StreamTable::new(headers, !args.no_headers),
            shown: 0,
            hidden: 0,
            pending: Vec::new(),
            documents: Vec::new(),
            sorted: Vec::new(),
            labels,
            watching: args.watch,
            context: None,
            rows: Vec::new(),
            related,
        }
    }

    /// The rows held so far: a block of the table, or with a context, kept for the table of all.
    fn block(&mut self) -> String {
        let pending = std::mem::take(&mut self.pending);
        match &self.context {
            Some(context) => {
                self.rows.extend(pending.into_iter().map(|row| {
                    let mut cells = vec![context.clone()];
                    cells.extend(row);
                    cells
                }));
                String::new()
            }
            None => self.table.block(&pending),
        }
    }

    /// A context's part: the headers (CONTEXT first) and its rows.
    fn collected(&mut self) -> (Vec<String>, Vec<Vec<String>>) {
        let mut headers = vec!["CONTEXT".to_string()];
        headers.extend(self.table.headers.iter().cloned());
        (headers, std::mem::take(&mut self.rows))
    }

    fn whole_hpa(&self, kind: &KindInfo, obj: &Value) -> Option<Autoscaler> {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        self.hpas.find(kind, name, obj["metadata"]["namespace"].as_str())
    }

    fn document(&self, kind: &KindInfo, obj: &Value) -> Value {
        let hpa = self.whole_hpa(kind, obj);
        let view = ViewOptions { container: None, autoscaler: hpa.as_ref(), related: None };
        let mut doc = project::document(self.profile, self.layout.role, kind, obj, &view);
        crate::core::status::add_to(&mut doc, &kind.kind, obj);
        match &self.context {
            Some(context) => crate::core::fleet::with_context(doc, context),
            None => doc,
        }
    }

    /// `-o name` of several contexts: each name after its context and a space.
    fn context_prefix(&self) -> String {
        self.context.as_ref().map(|c| format!("{c} ")).unwrap_or_default()
    }

    /// What `obj` prints in this mode.
    fn shown(&self, kind: &KindInfo, obj: &Value, doc: Option<Value>) -> Shown {
        match &self.mode {
            Mode::Table => {
                let hpa = self.whole_hpa(kind, obj);
                let mut rows = value_rows(self.profile, &self.layout, kind, obj, hpa.as_ref(), self.now);
                if !self.related.kinds.is_empty() {
                    let cells = crate::core::related::wide_cells(
                        self.profile,
                        self.related.kinds,
                        kind,
                        obj,
                        self.related.lists,
                    );
                    rows.iter_mut().for_each(|row| row.extend(cells.iter().cloned()));
                }
                let labels = self.labels.cells(obj["metadata"]["labels"].as_object());
                rows.iter_mut().for_each(|row| row.extend(labels.iter().cloned()));
                Shown::Rows(rows)
            }
            Mode::Columns(columns) => {
                let view = view::for_templates(&doc.unwrap_or_else(|| self.document(kind, obj)), obj);
                Shown::Rows(vec![columns.iter().map(|c| c.cell(&view)).collect()])
            }
            Mode::JsonPath(_) => {
                Shown::Document(view::for_templates(&doc.unwrap_or_else(|| self.document(kind, obj)), obj))
            }
            Mode::Names => {
                let name = obj["metadata"]["name"].as_str().unwrap_or_default();
                Shown::Name(format!("{}{}/{name}\n", self.context_prefix(), kind.display_resource()))
            }
            Mode::Documents { .. } => Shown::Document(doc.unwrap_or_else(|| self.document(kind, obj))),
        }
    }

    /// Prints one page; false when the reader went away.
    fn page(
        &mut self,
        kind: &KindInfo,
        plan: Option<&RowPlan>,
        page: Page,
        out: &mut impl Write,
    ) -> Result<bool> {
        self.hidden += page.hidden;
        let mut text = String::new();
        match (page.objects, plan) {
            (Objects::Partial(objects), Some(plan)) => {
                self.shown += objects.len();
                for obj in &objects {
                    if matches!(self.mode, Mode::Names) {
                        text.push_str(&self.context_prefix());
                        text.push_str(&format!("{}/{}\n", kind.display_resource(), obj.name()));
                    } else {
                        let hpa = self.hpas.find(kind, obj.name(), obj.metadata.namespace.as_deref());
                        let labels = self.labels.cells(obj.labels());
                        let mut rows = obj.rows(plan, &self.layout, kind, hpa.as_ref(), self.now);
                        rows.iter_mut().for_each(|row| row.extend(labels.iter().cloned()));
                        self.pending.extend(rows);
                    }
                }
            }
            // Partial pages are asked for only with a plan.
            (Objects::Partial(_), None) => {}
            (Objects::Whole(objects), _) => {
                for obj in &objects {
                    let shown = match &self.sort_key {
                        Some(key) => {
                            let doc = self.document(kind, obj);
                            let value = view::sort_value(key, &view::for_templates(&doc, obj), obj, self.now);
                            let shown = self.shown(kind, obj, Some(doc));
                            self.sorted.push((value, shown));
                            continue;
                        }
                        None => self.shown(kind, obj, None),
                    };
                    text.push_str(&self.print(shown)?);
                }
            }
        }
        if self.pending.len() >= self.chunk_size {
            text.push_str(&self.block());
        }
        write(out, &text)
    }

    /// The text of one object's output; rows and JSONPath documents are kept for later.
    fn print(&mut self, shown: Shown) -> Result<String> {
        let first = self.shown == 0;
        self.shown += 1;
        Ok(match (shown, &self.mode) {
            (Shown::Rows(rows), _) => {
                self.pending.extend(rows);
                String::new()
            }
            (Shown::Name(line), _) => line,
            // Watching, each JSON document stands alone, as kubectl prints them.
            (Shown::Document(doc), Mode::Documents { json: true }) if self.watching => output::json(&doc),
            (Shown::Document(doc), Mode::Documents { json }) => document_text(&doc, *json, first)?,
            (Shown::Document(doc), Mode::JsonPath(template)) if self.watching => {
                let name = doc["metadata"]["name"].as_str().unwrap_or_default().to_string();
                template.render(&doc).map_err(|e| Error::Usage(format!("{name}: {e}")))?
            }
            (Shown::Document(doc), _) => {
                self.documents.push(doc);
                String::new()
            }
        })
    }

    /// One change a watch saw (`-w`), printed at once: false when the reader went away.
    fn change(&mut self, kind: &KindInfo, obj: &Value, out: &mut impl Write) -> Result<bool> {
        self.now = Timestamp::now();
        let shown = self.shown(kind, obj, None);
        let mut text = self.print(shown)?;
        text.push_str(&self.block());
        Ok(write(out, &text)? && out.flush().is_ok())
    }

    /// A fetch failed: what was read still prints (rows held for alignment, the end of a JSON
    /// array), so that the output before the error does not depend on the page size; sorted and
    /// JSONPath output needs the whole list and prints nothing.
    fn cut_short(&mut self, out: &mut impl Write) {
        let mut text = self.block();
        let array = matches!(self.mode, Mode::Documents { json: true }) && !self.watching;
        if array && self.shown > 0 && self.sort_key.is_none() {
            text.push_str("\n]\n");
        }
        if matches!(write(out, &text), Ok(true)) {
            let _ = out.flush();
        }
    }

    fn finish(&mut self, cluster: &Cluster, out: &mut impl Write) -> Result<()> {
        let mut text = String::new();
        if self.sort_key.is_some() {
            let mut sorted = std::mem::take(&mut self.sorted);
            // A key no object has is a mistyped path, as kubectl says.
            if !sorted.is_empty() && sorted.iter().all(|(value, _)| value.is_none()) {
                let key = self.sort_key.as_ref().map(|k| k.source().to_string()).unwrap_or_default();
                return Err(Error::Usage(format!(
                    "--sort-by \"{key}\": no object has this field; it is a path of the role document, e.g. .name or .scaler.replicas"
                )));
            }
            // Stable: objects with equal keys keep the server's order, as kubectl's.
            sorted.sort_by(|(a, _), (b, _)| {
                sort_order(&a.iter().collect::<Vec<_>>(), &b.iter().collect::<Vec<_>>())
            });
            for (_, shown) in sorted {
                text.push_str(&self.print(shown)?);
            }
        }
        text.push_str(&self.block());
        match &self.mode {
            Mode::Documents { json: true } | Mode::JsonPath(_) if self.watching => {}
            Mode::Documents { json: true } => text.push_str(if self.shown == 0 { "[]\n" } else { "\n]\n" }),
            Mode::JsonPath(template) => {
                let count = self.documents.len();
                let list = serde_json::json!({
                    "apiVersion": "v1",
                    "kind": "List",
                    "items": std::mem::take(&mut self.documents),
                });
                let rendered = template
                    .render(&list)
                    .map_err(|e| Error::Usage(format!("the List of {count} objects: {e}")))?;
                text.push_str(&rendered);
            }
            // Several contexts: said once, for all of them.
            Mode::Table | Mode::Names | Mode::Columns(_) if self.shown == 0 && self.context.is_none() => {
                let scope = if cluster.all_namespaces {
                    "any namespace".to_string()
                } else {
                    format!("namespace \"{}\"", cluster.namespace)
                };
                match self.hidden {
                    0 => eprintln!("No workloads found in {scope}."),
                    n => eprintln!(
                        "No workloads found in {scope} ({n} controlled by other workloads are hidden; --all shows them)."
                    ),
                }
            }
            _ => {}
        }
        if write(out, &text)? {
            out.flush().or_else(quiet_pipe)?;
        }
        Ok(())
    }
}

/// Follows `watches` (`-w`): each change of any of the kinds goes to `print` as it comes, until
/// the reader goes away (`print` says false), an error, or the user interrupts.
pub async fn follow<'k>(
    cluster: &Cluster,
    watches: &[(&'k KindInfo, WatchQuery)],
    mut print: impl FnMut(&'k KindInfo, &Value) -> Result<bool>,
) -> Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let watchers: Vec<_> = watches
        .iter()
        .enumerate()
        .map(|(index, (kind, query))| list::watch_kind(cluster, kind, index, query, tx.clone()))
        .collect();
    drop(tx);
    let printing = async {
        while let Some(change) = rx.recv().await {
            let change = change?;
            if !print(watches[change.index].0, &change.object)? {
                return Ok(());
            }
        }
        Ok(())
    };
    let watching = futures_util::future::join_all(watchers);
    futures_util::pin_mut!(watching, printing);
    match futures_util::future::select(watching, printing).await {
        Either::Left((_, printing)) => printing.await,
        Either::Right((printed, _)) => printed,
    }
}

/// One document of a YAML stream or of a JSON array (`first`: the first one printed), so that the
/// whole is what printing the list at once would give.
fn document_text(doc: &Value, json: bool, first: bool) -> Result<String> {
    if !json {
        let text = output::yaml(doc)?;
        return Ok(if first { text } else { format!("---\n{text}") });
    }
    // serde_json's pretty array: each item indented by two spaces (strings hold no raw newlines).
    let item = serde_json::to_string_pretty(doc).unwrap_or_default();
    let mut text = String::from(if first { "[\n" } else { ",\n" });
    for (i, line) in item.lines().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        text.push_str("  ");
        text.push_str(line);
    }
    Ok(text)
}

fn quiet_pipe(e: std::io::Error) -> std::io::Result<()> {
    if e.kind() == std::io::ErrorKind::BrokenPipe { Ok(()) } else { Err(e) }
}

/// Writes `text`; false when the reader went away (`| head`), which ends the list quietly.
fn write(out: &mut impl Write, text: &str) -> Result<bool> {
    match out.write_all(text.as_bytes()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// A kubectl-style table printed in blocks (one per page): no borders, upper-case headers, columns
/// padded with three spaces. Widths are those of the rows printed so far and only grow, so a block
/// lines up with the ones above it unless it holds a wider cell. kubectl does the same per chunk
/// (its tab writer is flushed after each page of `--chunk-size`); waiting for the last page to
/// size the columns would mean holding every row.
struct StreamTable {
    headers: Vec<String>,
    widths: Vec<usize>,
    show_headers: bool,
    started: bool,
}

impl StreamTable {
    fn new(headers: Vec<String>, show_headers: bool) -> StreamTable {
        let widths = if show_headers { headers.iter().map(|h| width(h)).collect() } else { Vec::new() };
        StreamTable { headers, widths, show_headers, started: false }
    }

    fn block(&mut self, rows: &[Vec<String>]) -> String {
        if rows.is_empty() {
            return String::new();
        }
        let escaped: Vec<Vec<String>> = rows
            .iter()
            .map(|row| row.iter().map(|c| crate::format::output::one_line(c).into_owned()).collect())
            .collect();
        let rows = &escaped;
        for row in rows {
            if self.widths.len() < row.len() {
                self.widths.resize(row.len(), 0);
            }
            for (w, cell) in self.widths.iter_mut().zip(row) {
                *w = (*w).max(width(cell));
            }
        }
        let mut text = String::new();
        if !self.started && self.show_headers {
            self.line(&self.headers, &mut text);
        }
        self.started = true;
        for row in rows {
            self.line(row, &mut text);
        }
        text
    }

    fn line(&self, cells: &[String], text: &mut String) {
        let start = text.len();
        for (cell, w) in cells.iter().zip(&self.widths) {
            text.push_str(cell);
            text.extend(std::iter::repeat_n(' ', w - width(cell) + 3));
        }
        text.truncate(text.trim_end().len().max(start));
        text.push('\n');
    }
}

fn width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn streamed_documents_are_the_array_and_stream_printed_whole() {
        let docs = [json!({"kind": "Deployment", "name": "a", "env": {"X": "1\n2"}}), json!({"name": "b"})];
        let mut json_text: String =
            docs.iter().enumerate().map(|(i, d)| document_text(d, true, i == 0).unwrap()).collect();
        json_text.push_str("\n]\n");
        assert_eq!(json_text, output::json(&Value::Array(docs.to_vec())));
        let yaml: String =
            docs.iter().enumerate().map(|(i, d)| document_text(d, false, i == 0).unwrap()).collect();
        let whole: Vec<String> = docs.iter().map(|d| output::yaml(d).unwrap()).collect();
        assert_eq!(yaml, whole.join("---\n"));
    }

    #[test]
    fn comma_lists_of_kinds_as_kubectl_takes_them() {
        let p = Profile::builtin();
        let kinds = |text: Option<&str>| -> Result<Vec<String>> {
            Ok(listed_kinds(&p, text)?.iter().map(|k| k.kind.clone()).collect())
        };
        assert_eq!(kinds(Some("deploy,sts")).unwrap(), ["Deployment", "StatefulSet"]);
        assert_eq!(kinds(Some("sts,deployments,sts")).unwrap(), ["StatefulSet", "Deployment"]);
        assert_eq!(kinds(None).unwrap().len(), p.kinds.len());
        assert!(kinds(Some("deploy,")).is_err());
        assert!(kinds(Some("deploy,pods")).is_err());
    }

    #[test]
    fn table_blocks_line_up_and_only_grow() {
        let row = |cells: &[&str]| cells.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        let mut table = StreamTable::new(vec!["NAME".into(), "IMAGE".into()], true);
        let first = table.block(&[row(&["web", "nginx:1"]), row(&["api-long", "x"])]);
        assert_eq!(
            first,
            output::table(&["name", "image"], vec![row(&["web", "nginx:1"]), row(&["api-long", "x"])])
        );
        assert_eq!(table.block(&[row(&["a", "b"])]), "a          b\n", "narrow cells keep the widths above");
        assert_eq!(table.block(&[row(&["much-longer-name", "é"])]), "much-longer-name   é\n");
        assert_eq!(table.block(&[]), "");
        let mut bare = StreamTable::new(vec!["NAME".into(), "IMAGE".into()], false);
        assert_eq!(bare.block(&[row(&["web", "nginx:1"])]), "web   nginx:1\n");
    }
}
