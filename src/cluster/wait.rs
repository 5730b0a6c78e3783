//! `--wait`: after a write, follow the workload's rollout through a watch on the one object until
//! `core::rollout` judges it settled.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use futures_util::StreamExt;
use kube::api::{WatchEvent, WatchParams};
use serde_json::Value;

use crate::cluster::client::Cluster;
use crate::cluster::fetch;
use crate::core::rollout::{State, judge, pod_problem};
use crate::error::{Error, Result};
use crate::format::output;
use crate::model::target::Target;

/// What `--wait`, `--timeout` and `-q` ask for.
#[derive(Debug, Clone)]
pub struct WaitOptions {
    /// None: wait for ever (`--timeout 0`, as kubectl).
    pub timeout: Option<Duration>,
    pub quiet: bool,
}

/// The one call after a successful write: with `--wait`, prints `line` at once and follows the
/// rollout (the result is then empty); without, hands `line` back to be printed.
pub async fn after_write(
    cluster: &Cluster,
    target: &Target<'_>,
    wait: Option<WaitOptions>,
    line: String,
) -> Result<String> {
    match wait {
        None => Ok(line),
        Some(options) => {
            output::emit(&line)?;
            follow(cluster, target, &options).await?;
            Ok(String::new())
        }
    }
}

/// Progress on stderr: one line rewritten in place on a terminal, a line per change otherwise,
/// nothing with `-q`.
struct Progress {
    label: String,
    quiet: bool,
    live: bool,
    /// The last step shown (or, with -q, that would have been shown).
    step: String,
    shown: bool,
}

impl Progress {
    fn new(label: String, quiet: bool) -> Progress {
        Progress { label, quiet, live: std::io::stderr().is_terminal(), step: String::new(), shown: false }
    }

    fn step(&mut self, step: &str) {
        if step != self.step {
            self.step = step.to_string();
            self.line(&format!("{}: {step}", self.label));
        }
    }

    fn line(&mut self, line: &str) {
        if self.quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = if self.live { write!(err, "\r\x1b[2K{line}") } else { writeln!(err, "{line}") };
        let _ = err.flush();
        self.shown = true;
    }

    /// Shows the last line, if any, and ends a live line so that what follows starts afresh.
    fn finish(&mut self, line: Option<&str>) {
        if let Some(line) = line {
            self.line(line);
        }
        if self.live && self.shown {
            eprintln!();
        }
    }
}

/// Follows the rollout of `target` until it is done (Ok), stalls or times out (an error naming
/// what is stuck).
pub async fn follow(cluster: &Cluster, target: &Target<'_>, options: &WaitOptions) -> Result<()> {
    let label = target.display();
    let mut progress = Progress::new(label.clone(), options.quiet);
    let watching = watch_until_settled(cluster, target, &mut progress);
    let outcome = match options.timeout {
        Some(limit) => match tokio::time::timeout(limit, watching).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Waited::TimedOut(limit)),
        },
        None => watching.await,
    };
    match outcome {
        Ok(State::Done(summary)) => {
            progress.finish(Some(&format!("{label} rolled out: {summary}")));
            Ok(())
        }
        Ok(State::NothingToWait(why)) => {
            progress.finish(Some(&format!("{label}: nothing to wait for: {why}")));
            Ok(())
        }
        // (The watch returns only settled states; a Progressing one would be a stall all the same.)
        Ok(State::Stalled(why) | State::Progressing(why)) => {
            progress.finish(None);
            let stuck = stuck_pod(cluster, target).await;
            Err(Error::Rollout(format!("{} stalled: {why}{stuck}", object_in_namespace(target))))
        }
        Err(Waited::TimedOut(limit)) => {
            progress.finish(None);
            let stuck = stuck_pod(cluster, target).await;
            let last = if progress.step.is_empty() { String::new() } else { format!(" ({})", progress.step) };
            Err(Error::Rollout(format!(
                "{} has not rolled out after {} (--timeout){last}{stuck}; check it, or wait longer with --timeout",
                object_in_namespace(target),
                humanize(limit)
            )))
        }
        Err(Waited::Failed(err)) => {
            progress.finish(None);
            Err(err)
        }
    }
}

enum Waited {
    TimedOut(Duration),
    Failed(Error),
}

fn object_in_namespace(target: &Target<'_>) -> String {
    format!("{} in namespace \"{}\"", target.display(), target.namespace)
}

fn humanize(d: Duration) -> String {
    let secs = d.as_secs();
    match (secs / 60, secs % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

/// Reads the object, then watches it (field selector on its name) from that version on, until
/// its state is anything but Progressing. A watch the server ends or expires starts again from a
/// fresh read.
async fn watch_until_settled(
    cluster: &Cluster,
    target: &Target<'_>,
    progress: &mut Progress,
) -> std::result::Result<State, Waited> {
    let label = target.display();
    let api = fetch::workload_api(cluster, target.kind, Some(&target.namespace));
    let kind = target.kind.kind.as_str();
    loop {
        let obj = fetch::fetch(cluster, target).await.map_err(Waited::Failed)?;
        let state = judge(kind, &obj);
        let State::Progressing(step) = &state else {
            return Ok(state);
        };
        progress.step(step);
        let version = obj["metadata"]["resourceVersion"].as_str().unwrap_or("0").to_string();
        let params = WatchParams::default().fields(&format!("metadata.name={}", target.name)).timeout(290);
        let request = kube::core::Request::new(api.resource_url())
            .watch(&params, &version)
            .map_err(|e| Waited::Failed(Error::Invalid(format!("cannot build the watch of {label}: {e}"))))?;
        let events = match cluster.client.request_events::<Value>(request).await {
            Ok(events) => events,
            Err(e) => return Err(Waited::Failed(cluster.error(e, &target.action()))),
        };
        let mut events = std::pin::pin!(events);
        while let Some(event) = events.next().await {
            match event {
                Ok(WatchEvent::Added(obj) | WatchEvent::Modified(obj)) => match judge(kind, &obj) {
                    State::Progressing(step) => progress.step(&step),
                    settled => return Ok(settled),
                },
                Ok(WatchEvent::Deleted(_)) => {
                    return Err(Waited::Failed(Error::Rollout(format!(
                        "{} was deleted while waiting for its rollout",
                        object_in_namespace(target)
                    ))));
                }
                Ok(WatchEvent::Bookmark(_)) => {}
                // Expired version (410) or a broken stream: read again and watch from there.
                Ok(WatchEvent::Error(_)) | Err(_) => break,
            }
        }
    }
}

/// One more request, made only when a rollout stalls or times out: the first pod of the workload
/// that is not ready, and why (unschedulable, image pull, crash), as "; pod NAME ...".
async fn stuck_pod(cluster: &Cluster, target: &Target<'_>) -> String {
    let Ok(obj) = fetch::fetch(cluster, target).await else {
        return String::new();
    };
    let selector = obj["spec"]["selector"]
        .get("matchLabels")
        .or_else(|| obj["spec"]["jobTemplate"]["spec"]["selector"].get("matchLabels"))
        .and_then(Value::as_object)
        .map(|labels| {
            labels.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if selector.is_empty() {
        return String::new();
    }
    let Some(values) = fetch::pods(cluster, &target.namespace, &selector.join(","), 100, None).await else {
        return String::new();
    };
    values.iter().find_map(pod_problem).map(|p| format!("; {p}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_written() {
        assert_eq!(humanize(Duration::from_secs(300)), "5m");
        assert_eq!(humanize(Duration::from_secs(90)), "1m30s");
        assert_eq!(humanize(Duration::from_secs(7)), "7s");
    }
}
