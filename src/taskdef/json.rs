//! Task definitions as JSON: from what ECS describes (or a file holds) to
//! exactly the input RegisterTaskDefinition accepts, with a pipeline's
//! container overrides applied. Pure functions, but for reading a file,
//! which `check` and `run` do through the same bounded, validating reader;
//! `plan` diffs their output and `run` registers it.

use std::io;
use std::path::Path;

use serde_json::{Map, Value as Json};

/// The members of RegisterTaskDefinition's input. Everything else a
/// description carries (ARN, revision, status, requiresAttributes,
/// compatibilities, registeredAt/By, deregisteredAt, …) is output only.
pub const INPUT_FIELDS: &[&str] = &[
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "tags",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
    "inferenceAccelerators",
    "ephemeralStorage",
    "runtimePlatform",
    "enableFaultInjection",
];

/// One `container "NAME" { … }` block with its values resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerChanges {
    pub name: String,
    pub image: Option<String>,
    /// Merged into `environment` by name.
    pub env: Vec<(String, String)>,
    /// Merged into `secrets` by name (`valueFrom` is an ARN or parameter name).
    pub secrets: Vec<(String, String)>,
    pub command: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    pub containers: Vec<ContainerChanges>,
    pub cpu: Option<String>,
    pub memory: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskdefError {
    #[error("the task definition has no container `{name}`; its containers are {}", list(.available))]
    UnknownContainer { name: String, available: Vec<String> },
    #[error("the task definition is not a JSON object with `containerDefinitions`")]
    Malformed,
}

fn list(names: &[String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

/// A description's `taskDefinition` (with its `tags` beside it) reduced to
/// RegisterTaskDefinition's input. A file goes through [`file_input`]
/// instead: what someone wrote travels as written.
pub fn register_input(described: &Json, tags: Option<&Json>) -> Result<Map<String, Json>, TaskdefError> {
    let mut input = input_fields(described)?;
    // Empty lists are what ECS describes for "none"; leave them out so the
    // input reads as people write it and the tags rule below holds.
    input.retain(|_, v| !matches!(v, Json::Array(a) if a.is_empty()));
    if let Some(tags) = tags.filter(|t| t.as_array().is_some_and(|a| !a.is_empty())) {
        input.insert("tags".into(), tags.clone());
    }
    Ok(input)
}

/// A task definition file — RegisterTaskDefinition's input, or a
/// `describe-task-definition` export with `tags` beside `taskDefinition` —
/// as the input to send: output-only fields left out, `null`s left out (old
/// console exports write every absent field as `null`), and everything else
/// exactly as written, empty lists included.
pub fn file_input(file: &Json) -> Result<Map<String, Json>, TaskdefError> {
    let mut input = input_fields(file)?;
    if let Some(tags) = file.get("taskDefinition").and(file.get("tags")) {
        input.insert("tags".into(), tags.clone());
    }
    input.retain(|_, v| !v.is_null());
    input.values_mut().for_each(drop_nulls);
    Ok(input)
}

/// Far beyond any real task definition (ECS allows 64 KiB); a bound so that
/// `file "/dev/zero"` cannot make `check` or `run` read forever.
pub const MAX_FILE_SIZE: u64 = 1024 * 1024;

/// Why a task definition file cannot be a `register` base. `check` and `run`
/// both read a file through [`read_file_with`], so they refuse the same files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    Missing,
    Unreadable(String),
    NotJson(String),
    NotTaskDefinition(String),
}

impl FileProblem {
    /// The problem as one sentence about `path` (as the pipeline wrote it).
    pub fn message(&self, path: &str) -> String {
        match self {
            FileProblem::Missing => format!("task definition file `{path}` does not exist"),
            FileProblem::Unreadable(why) => format!("cannot read `{path}`: {why}"),
            FileProblem::NotJson(why) => format!("`{path}` is not JSON: {why}"),
            FileProblem::NotTaskDefinition(why) => format!("`{path}` is not a task definition: {why}"),
        }
    }
}

/// A task definition file on this machine's disk, as [`file_input`] makes it.
pub fn read_file(path: &Path) -> Result<Map<String, Json>, FileProblem> {
    use std::io::Read;
    let entry = std::fs::metadata(path).map(|metadata| metadata.is_file().then_some(metadata.len()));
    read_file_with(entry, |limit| {
        let mut bytes = Vec::new();
        std::fs::File::open(path)?.take(limit).read_to_end(&mut bytes)?;
        Ok(bytes)
    })
}

/// A task definition file, given what is at its path (`Some(length)` for a
/// regular file, `None` for anything else, which may never end or block) and
/// a way to read up to a number of its bytes. The checker reads through its
/// own file system this way; [`read_file`] reads the disk.
pub fn read_file_with(
    entry: io::Result<Option<u64>>,
    read: impl FnOnce(u64) -> io::Result<Vec<u8>>,
) -> Result<Map<String, Json>, FileProblem> {
    let too_large = |len| FileProblem::Unreadable(format!("it is {len} bytes, too large for a task definition"));
    match entry {
        Ok(Some(len)) if len > MAX_FILE_SIZE => return Err(too_large(len.to_string())),
        Ok(Some(_)) => {}
        Ok(None) => return Err(FileProblem::Unreadable("it is not a regular file".into())),
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Err(FileProblem::Missing),
        Err(error) => return Err(FileProblem::Unreadable(error.to_string())),
    }
    let bytes = read(MAX_FILE_SIZE + 1).map_err(|error| FileProblem::Unreadable(error.to_string()))?;
    // It grew after its length was read.
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(too_large(format!("more than {MAX_FILE_SIZE}")));
    }
    parse_file(&bytes)
}

/// A task definition file's bytes as the input to send, if they are one:
/// JSON with a non-empty `containerDefinitions` list whose every entry has a
/// `name` (RegisterTaskDefinition refuses anything less, and a container
/// block names a container).
pub fn parse_file(bytes: &[u8]) -> Result<Map<String, Json>, FileProblem> {
    let file: Json = serde_json::from_slice(bytes).map_err(|error| FileProblem::NotJson(error.to_string()))?;
    let not_one = |why: String| FileProblem::NotTaskDefinition(why);
    let definition = file.get("taskDefinition").unwrap_or(&file);
    let definitions =
        definition.get("containerDefinitions").ok_or_else(|| not_one("it has no `containerDefinitions`".into()))?;
    let definitions = definitions.as_array().ok_or_else(|| not_one("`containerDefinitions` is not a list".into()))?;
    if definitions.is_empty() {
        return Err(not_one("`containerDefinitions` is empty".into()));
    }
    if let Some(index) = definitions.iter().position(|d| !d.get("name").is_some_and(Json::is_string)) {
        return Err(not_one(format!("container definition {} has no `name`", index + 1)));
    }
    file_input(&file).map_err(|error| not_one(error.to_string()))
}

/// The members of RegisterTaskDefinition's input that a description or a
/// file holds, unwrapping `{"taskDefinition": …}`.
fn input_fields(described: &Json) -> Result<Map<String, Json>, TaskdefError> {
    let described = described.get("taskDefinition").unwrap_or(described);
    let object = described.as_object().ok_or(TaskdefError::Malformed)?;
    if !object.get("containerDefinitions").is_some_and(Json::is_array) {
        return Err(TaskdefError::Malformed);
    }
    Ok(object.iter().filter(|(k, _)| INPUT_FIELDS.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// Leaves out every object member whose value is `null`, at any depth. A
/// `null` inside a list is kept: removing it would shift what follows.
fn drop_nulls(value: &mut Json) {
    match value {
        Json::Object(members) => {
            members.retain(|_, v| !v.is_null());
            members.values_mut().for_each(drop_nulls);
        }
        Json::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// A registered revision's input (from [`register_input`]) in the form a
/// file wrote it in, where the two differ only in how they say "none": the
/// file wrote `[]` where the description leaves the field out, or left out
/// a field ECS describes as `[]`. Anything else stays as described, so
/// comparing the result with the file's input finds every real difference.
pub fn shaped_like(mut described: Map<String, Json>, written: &Map<String, Json>) -> Map<String, Json> {
    shape_object(&mut described, written);
    described
}

fn shape_object(described: &mut Map<String, Json>, written: &Map<String, Json>) {
    let is_empty_list = |v: &Json| v.as_array().is_some_and(Vec::is_empty);
    described.retain(|k, v| written.contains_key(k) || !is_empty_list(v));
    for (key, written) in written {
        match described.get_mut(key) {
            Some(described) => shape_value(described, written),
            None if is_empty_list(written) => {
                described.insert(key.clone(), Json::Array(Vec::new()));
            }
            None => {}
        }
    }
}

fn shape_value(described: &mut Json, written: &Json) {
    match (described, written) {
        (Json::Object(described), Json::Object(written)) => shape_object(described, written),
        (Json::Array(described), Json::Array(written)) if described.len() == written.len() => {
            described.iter_mut().zip(written).for_each(|(d, w)| shape_value(d, w));
        }
        _ => {}
    }
}

/// Applies a `register` block's changes.
pub fn apply(input: &mut Map<String, Json>, changes: &Changes) -> Result<(), TaskdefError> {
    if let Some(cpu) = &changes.cpu {
        input.insert("cpu".into(), Json::String(cpu.clone()));
    }
    if let Some(memory) = &changes.memory {
        input.insert("memory".into(), Json::String(memory.clone()));
    }
    let definitions =
        input.get_mut("containerDefinitions").and_then(Json::as_array_mut).ok_or(TaskdefError::Malformed)?;
    let names: Vec<String> =
        definitions.iter().filter_map(|d| d.get("name").and_then(Json::as_str).map(str::to_string)).collect();
    for change in &changes.containers {
        let Some(definition) =
            definitions.iter_mut().find(|d| d.get("name").and_then(Json::as_str) == Some(change.name.as_str()))
        else {
            return Err(TaskdefError::UnknownContainer { name: change.name.clone(), available: names.clone() });
        };
        let definition = definition.as_object_mut().ok_or(TaskdefError::Malformed)?;
        if let Some(image) = &change.image {
            definition.insert("image".into(), Json::String(image.clone()));
        }
        if let Some(command) = &change.command {
            definition.insert("command".into(), command.iter().cloned().map(Json::String).collect());
        }
        merge_by_name(definition, "environment", "value", &change.env);
        merge_by_name(definition, "secrets", "valueFrom", &change.secrets);
    }
    Ok(())
}

/// `environment` and `secrets` are lists of `{name, …}`: replace by name, append new.
fn merge_by_name(definition: &mut Map<String, Json>, field: &str, value_key: &str, entries: &[(String, String)]) {
    if entries.is_empty() {
        return;
    }
    let list = definition.entry(field).or_insert_with(|| Json::Array(Vec::new()));
    if !list.is_array() {
        *list = Json::Array(Vec::new());
    }
    let list = list.as_array_mut().expect("made an array above");
    for (name, value) in entries {
        let entry = serde_json::json!({ "name": name, value_key: value });
        match list.iter_mut().find(|e| e.get("name").and_then(Json::as_str) == Some(name)) {
            Some(existing) => *existing = entry,
            None => list.push(entry),
        }
    }
}

/// The container names of a task definition.
pub fn container_names(input: &Map<String, Json>) -> Vec<String> {
    input
        .get("containerDefinitions")
        .and_then(Json::as_array)
        .map(|defs| defs.iter().filter_map(|d| d.get("name").and_then(Json::as_str).map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Pretty JSON with `secrets` values hidden, for plans and diffs: a
/// `valueFrom` names where a secret lives, which is itself worth keeping out
/// of CI logs.
pub fn display(input: &Map<String, Json>) -> String {
    let mut shown = Json::Object(input.clone());
    let hide = |value: &mut Json| *value = Json::String("(hidden)".into());
    if let Some(defs) = shown.get_mut("containerDefinitions").and_then(Json::as_array_mut) {
        for def in defs {
            // Where secrets come from: the container's secrets, its log
            // driver's secret options, its private registry's credentials.
            for pointer in ["/secrets", "/logConfiguration/secretOptions"] {
                for secret in def.pointer_mut(pointer).and_then(Json::as_array_mut).into_iter().flatten() {
                    if let Some(value) = secret.get_mut("valueFrom") {
                        hide(value);
                    }
                }
            }
            if let Some(parameter) = def.pointer_mut("/repositoryCredentials/credentialsParameter") {
                hide(parameter);
            }
        }
    }
    serde_json::to_string_pretty(&shown).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn display_hides_every_secret_source() {
        let input = json!({
            "family": "web",
            "containerDefinitions": [{
                "name": "web",
                "secrets": [{"name": "DB", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/db"}],
                "logConfiguration": {"logDriver": "splunk", "secretOptions": [
                    {"name": "splunk-token", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:splunk"}
                ]},
                "repositoryCredentials": {"credentialsParameter": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:registry"}
            }]
        });
        let shown = display(input.as_object().unwrap());
        assert!(!shown.contains("arn:aws"), "{shown}");
        assert_eq!(shown.matches("(hidden)").count(), 3, "{shown}");
        assert!(shown.contains("\"splunk-token\""), "names stay: {shown}");
    }

    fn described() -> Json {
        json!({
            "taskDefinition": {
                "taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:41",
                "family": "web",
                "revision": 41,
                "status": "ACTIVE",
                "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}],
                "compatibilities": ["EC2", "FARGATE"],
                "registeredAt": 1700000000.0,
                "registeredBy": "arn:aws:iam::123456789012:user/ci",
                "networkMode": "awsvpc",
                "cpu": "256",
                "memory": "512",
                "volumes": [],
                "placementConstraints": [],
                "containerDefinitions": [{
                    "name": "web",
                    "image": "web:old",
                    "environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                    "secrets": [{"name": "DB", "valueFrom": "arn:aws:ssm:eu-west-1:1:parameter/db"}]
                }, {"name": "sidecar", "image": "envoy"}]
            },
            "tags": [{"key": "team", "value": "web"}]
        })
    }

    #[test]
    fn keeps_only_input_fields_and_the_tags() {
        let raw = described();
        let input = register_input(&raw, raw.get("tags")).unwrap();
        let mut keys: Vec<&str> = input.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["containerDefinitions", "cpu", "family", "memory", "networkMode", "tags"]);
    }

    #[test]
    fn overrides_merge_env_and_secrets_by_name() {
        let raw = described();
        let mut input = register_input(&raw, None).unwrap();
        let changes = Changes {
            containers: vec![ContainerChanges {
                name: "web".into(),
                image: Some("repo@sha256:abc".into()),
                env: vec![("B".into(), "20".into()), ("C".into(), "3".into())],
                secrets: vec![("API".into(), "arn:aws:secretsmanager:x".into())],
                command: Some(vec!["serve".into()]),
            }],
            cpu: Some("1 vCPU".into()),
            memory: None,
        };
        apply(&mut input, &changes).unwrap();
        let web = &input["containerDefinitions"][0];
        assert_eq!(web["image"], "repo@sha256:abc");
        assert_eq!(
            web["environment"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "20"}, {"name": "C", "value": "3"}])
        );
        assert_eq!(web["secrets"][1], json!({"name": "API", "valueFrom": "arn:aws:secretsmanager:x"}));
        assert_eq!(web["command"], json!(["serve"]));
        assert_eq!(input["cpu"], "1 vCPU");
        assert_eq!(input["containerDefinitions"][1], json!({"name": "sidecar", "image": "envoy"}));
    }

    #[test]
    fn an_unknown_container_lists_the_real_ones() {
        let mut input = register_input(&described(), None).unwrap();
        let changes = Changes {
            containers: vec![ContainerChanges { name: "api".into(), ..Default::default() }],
            ..Default::default()
        };
        assert_eq!(
            apply(&mut input, &changes).unwrap_err().to_string(),
            "the task definition has no container `api`; its containers are `web`, `sidecar`"
        );
    }

    #[test]
    fn secrets_are_hidden_when_shown() {
        let input = register_input(&described(), None).unwrap();
        let shown = display(&input);
        assert!(shown.contains("(hidden)"));
        assert!(!shown.contains("parameter/db"));
    }

    #[test]
    fn a_file_keeps_its_empty_lists_and_loses_its_nulls() {
        let file = json!({
            "family": "api",
            "taskRoleArn": null,
            "requiresCompatibilities": [],
            "volumes": [],
            "placementConstraints": [],
            "tags": [],
            "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": null},
            "containerDefinitions": [{
                "name": "api",
                "image": "api:1",
                "command": null,
                "mountPoints": [{"sourceVolume": "data", "containerPath": "/data", "readOnly": null}],
                "logConfiguration": {"logDriver": "awslogs", "secretOptions": null, "options": {"awslogs-group": "/ecs/api"}},
                "environment": []
            }]
        });
        let input = file_input(&file).unwrap();
        assert_eq!(
            Json::Object(input),
            json!({
                "family": "api",
                "requiresCompatibilities": [],
                "volumes": [],
                "placementConstraints": [],
                "tags": [],
                "runtimePlatform": {"operatingSystemFamily": "LINUX"},
                "containerDefinitions": [{
                    "name": "api",
                    "image": "api:1",
                    "mountPoints": [{"sourceVolume": "data", "containerPath": "/data"}],
                    "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/api"}},
                    "environment": []
                }]
            })
        );
    }

    #[test]
    fn a_file_export_loses_its_output_fields_and_keeps_the_tags_beside_it() {
        let mut file = described();
        file["tags"] = json!([]);
        let input = file_input(&file).unwrap();
        let mut keys: Vec<&str> = input.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "containerDefinitions",
                "cpu",
                "family",
                "memory",
                "networkMode",
                "placementConstraints",
                "tags",
                "volumes"
            ]
        );
        assert_eq!(input["tags"], json!([]));
    }

    #[test]
    fn a_file_that_never_ends_or_is_too_large_is_not_read() {
        let not_regular = FileProblem::Unreadable("it is not a regular file".into());
        assert_eq!(read_file(Path::new("/dev/zero")), Err(not_regular));
        let dir = tempfile::tempdir().unwrap();
        let large = dir.path().join("large.json");
        std::fs::write(&large, vec![b' '; MAX_FILE_SIZE as usize + 1]).unwrap();
        assert_eq!(
            read_file(&large),
            Err(FileProblem::Unreadable("it is 1048577 bytes, too large for a task definition".into()))
        );
        // Grown between looking and reading: still bounded.
        let grown = read_file_with(Ok(Some(10)), |limit| Ok(vec![b' '; limit as usize]));
        assert_eq!(
            grown,
            Err(FileProblem::Unreadable("it is more than 1048576 bytes, too large for a task definition".into()))
        );
        assert_eq!(read_file(&dir.path().join("absent.json")), Err(FileProblem::Missing));
    }

    #[test]
    fn a_file_is_a_task_definition_only_with_named_containers() {
        let problem = |text: &str| parse_file(text.as_bytes()).unwrap_err().message("td.json");
        assert_eq!(problem("{"), "`td.json` is not JSON: EOF while parsing an object at line 1 column 1");
        assert_eq!(problem("[]"), "`td.json` is not a task definition: it has no `containerDefinitions`");
        assert_eq!(
            problem(r#"{"containerDefinitions": {}}"#),
            "`td.json` is not a task definition: `containerDefinitions` is not a list"
        );
        assert_eq!(
            problem(r#"{"taskDefinition": {"containerDefinitions": []}}"#),
            "`td.json` is not a task definition: `containerDefinitions` is empty"
        );
        assert_eq!(
            problem(r#"{"containerDefinitions": [{"name": "a"}, {"image": "b"}]}"#),
            "`td.json` is not a task definition: container definition 2 has no `name`"
        );
        let input = parse_file(br#"{"family": "a", "containerDefinitions": [{"name": "a", "command": null}]}"#);
        assert_eq!(input.map(Json::Object), Ok(json!({"family": "a", "containerDefinitions": [{"name": "a"}]})));
    }

    #[test]
    fn a_description_takes_the_files_way_of_saying_none() {
        let written = file_input(&json!({
            "family": "api",
            "volumes": [],
            "tags": [],
            "containerDefinitions": [{"name": "api", "image": "api:1", "portMappings": []}]
        }))
        .unwrap();
        // What ECS describes for it: no tags, and defaults the file left out.
        let described = register_input(
            &json!({"taskDefinition": {
                "family": "api",
                "volumes": [],
                "placementConstraints": [],
                "containerDefinitions": [{"name": "api", "image": "api:1", "portMappings": [], "mountPoints": []}]
            }}),
            Some(&json!([])),
        )
        .unwrap();
        assert_eq!(shaped_like(described.clone(), &written), written);
        // A real difference stays one.
        let mut other = described;
        other["containerDefinitions"][0]["image"] = json!("api:2");
        assert_ne!(shaped_like(other, &written), written);
    }
}
