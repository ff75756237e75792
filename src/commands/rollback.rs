//! `ecsflow rollback`: returns a service to an earlier revision.

use std::io::IsTerminal;

use super::{run::run_input, Error, Input, Outcome};
use crate::aws::{Aws, ConnectOptions};
use crate::taskdef::reference;

/// `ecsflow rollback`: rolls a service back and waits for the rollout, as the
/// one-step pipeline `rollback SERVICE [to REVISION]` would.
pub fn rollback(
    cluster: &str,
    service: &str,
    to: Option<&str>,
    options: &ConnectOptions,
    style: crate::exec::report::Style,
) -> Result<Outcome, Error> {
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let to = match to {
        Some(to) => Some(to.to_string()),
        None if interactive => match pick_revision(cluster, service, options)? {
            Some(picked) => Some(picked),
            None => {
                eprintln!("nothing rolled back");
                return Ok(Outcome::Done);
            }
        },
        // Without a terminal: the revision before the live one.
        None => None,
    };
    // The binding reads as the service's name where that is a valid name.
    let name = if crate::syntax::names::is_binding_name(service) { service } else { "target" };
    let mut text = format!("cluster = {}\nservice {name} = {}\nrollback {name}", quote(cluster), quote(service));
    if let Some(to) = &to {
        text.push_str(&format!(" to {}", quote(to)));
    }
    text.push('\n');
    run_input(&Input::Generated { name: "rollback", text }, &[], options, style, None)
}

/// A string literal of the pipeline language.
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("\\$"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Lists the family's recent revisions and asks which one to return to.
fn pick_revision(cluster: &str, service: &str, options: &ConnectOptions) -> Result<Option<String>, Error> {
    use std::io::{BufRead, Write};
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(Error::Runtime)?;
    let revisions = runtime.block_on(async {
        let aws = Aws::connect(options).await?;
        let live = aws.describe_service(cluster, service).await?;
        let family = reference::family_of(&live.task_definition);
        let mut listed = Vec::new();
        for (revision, arn) in aws.active_revisions(&family).await?.into_iter().take(10) {
            let definition = aws.describe_task_definition(&arn).await?;
            let images: Vec<String> = definition
                .json
                .get("containerDefinitions")
                .and_then(|d| d.as_array())
                .map(|defs| defs.iter().filter_map(|d| d.get("image")?.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            let at =
                definition.registered_at.map(|t| humantime::format_rfc3339_seconds(t).to_string()).unwrap_or_default();
            let is_live = reference::short(&arn) == reference::short(&live.task_definition);
            listed.push((revision, reference::short(&arn), images.join(", "), at, is_live));
        }
        Ok::<_, crate::aws::AwsError>(listed)
    });
    let revisions = revisions?;
    let default = revisions.iter().skip_while(|r| !r.4).nth(1).map(|r| r.1.clone());
    eprintln!("recent revisions of {service} (newest first):");
    for (revision, _, images, at, is_live) in &revisions {
        eprintln!("  {revision:>5}  {at:20}  {images}{}", if *is_live { "   <- live" } else { "" });
    }
    let hint = default.as_deref().and_then(reference::revision_of).map(|r| format!(" [{r}]")).unwrap_or_default();
    eprint!("roll back to revision{hint}: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return Ok(None);
    }
    let answer = answer.trim();
    if answer.is_empty() {
        return Ok(default);
    }
    match revisions.iter().find(|r| r.0.to_string() == answer || r.1 == answer) {
        Some(found) => Ok(Some(found.1.clone())),
        None => Err(Error::UnknownRevision { answer: answer.to_string() }),
    }
}
