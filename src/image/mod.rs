//! Container builders behind one interface: docker (buildx), podman and
//! buildah build an image from a context and push it, and the pushed
//! manifest's digest comes back so deployments pin it.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::aws::RegistryAuth;

/// Whether a `repository` declaration is a full URI (`HOST/PATH`) rather
/// than the name of an ECR repository of this account and region.
pub fn is_repository_uri(repository: &str) -> bool {
    let first = repository.split('/').next().unwrap_or_default();
    repository.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost")
}

/// The container builders ecsflow drives: the `builder` attribute, `--builder`
/// and ECSFLOW_BUILDER all name one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum BuilderKind {
    Docker,
    Podman,
    Buildah,
}

impl BuilderKind {
    pub const ALL: [BuilderKind; 3] = [BuilderKind::Docker, BuilderKind::Podman, BuilderKind::Buildah];

    pub fn program(self) -> &'static str {
        match self {
            BuilderKind::Docker => "docker",
            BuilderKind::Podman => "podman",
            BuilderKind::Buildah => "buildah",
        }
    }

    pub fn parse(text: &str) -> Option<BuilderKind> {
        BuilderKind::ALL.into_iter().find(|k| k.program() == text)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("no container builder found: install docker (with buildx), podman or buildah, or name one with `builder`, --builder or ECSFLOW_BUILDER")]
    NoBuilder,
    #[error("`{0}` is not installed (not found on PATH)")]
    NotInstalled(&'static str),
    #[error("ECSFLOW_BUILDER is `{0}`; it takes docker, podman or buildah")]
    UnknownBuilder(String),
    #[error("{0}")]
    Failed(String, Vec<String>),
    #[error("{0}")]
    Io(String),
}

impl ImageError {
    /// The builder's output, for the failure report.
    pub fn output(&self) -> &[String] {
        match self {
            ImageError::Failed(_, lines) => lines,
            _ => &[],
        }
    }
}

/// What `build` builds.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    pub context: PathBuf,
    pub dockerfile: PathBuf,
    pub target: Option<String>,
    pub build_args: Vec<(String, String)>,
    pub platform: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Builder {
    pub kind: BuilderKind,
    program: PathBuf,
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| candidate.is_file())
}

impl Builder {
    /// The step's `builder`, else `--builder`, else ECSFLOW_BUILDER, else the
    /// first of docker, podman, buildah found on PATH.
    pub fn choose(step: Option<BuilderKind>, flag: Option<BuilderKind>) -> Result<Builder, ImageError> {
        let from_env = match std::env::var("ECSFLOW_BUILDER") {
            Ok(text) if !text.is_empty() => Some(BuilderKind::parse(&text).ok_or(ImageError::UnknownBuilder(text))?),
            _ => None,
        };
        match step.or(flag).or(from_env) {
            Some(kind) => on_path(kind.program())
                .map(|program| Builder { kind, program })
                .ok_or(ImageError::NotInstalled(kind.program())),
            None => BuilderKind::ALL
                .into_iter()
                .find_map(|kind| on_path(kind.program()).map(|program| Builder { kind, program }))
                .ok_or(ImageError::NoBuilder),
        }
    }

    /// Builds the image; `line` sees every line of the builder's output.
    /// Returns the image's ID (`sha256:…`).
    pub async fn build(&self, request: &BuildRequest, line: &(dyn Fn(&str) + Sync)) -> Result<String, ImageError> {
        let work =
            tempfile::tempdir().map_err(|e| ImageError::Io(format!("cannot make a temporary directory: {e}")))?;
        let iidfile = work.path().join("image-id");
        let mut args: Vec<String> = match self.kind {
            BuilderKind::Docker => vec!["buildx".into(), "build".into(), "--load".into()],
            BuilderKind::Podman | BuilderKind::Buildah => vec!["build".into()],
        };
        args.extend(["-f".into(), request.dockerfile.display().to_string()]);
        args.extend(["--iidfile".into(), iidfile.display().to_string()]);
        if let Some(target) = &request.target {
            args.extend(["--target".into(), target.clone()]);
        }
        for (key, value) in &request.build_args {
            args.extend(["--build-arg".into(), format!("{key}={value}")]);
        }
        if let Some(platform) = &request.platform {
            args.extend(["--platform".into(), platform.clone()]);
        }
        args.push(request.context.display().to_string());
        self.run("build", &args, &[], line).await?;
        let id = std::fs::read_to_string(&iidfile)
            .map_err(|e| ImageError::Io(format!("{} wrote no image ID: {e}", self.kind.program())))?;
        Ok(id.trim().to_string())
    }

    /// Pushes `image` as `repository:TAG` for every tag; returns the digest of
    /// the pushed manifest. With `auth`, credentials go to the builder in a
    /// file readable by this user only, in memory-backed storage where there
    /// is one, removed after the push; never on the command line.
    pub async fn push(
        &self,
        image: &str,
        repository: &str,
        tags: &[String],
        auth: Option<&RegistryAuth>,
        line: &(dyn Fn(&str) + Sync),
    ) -> Result<String, ImageError> {
        let work = private_dir()?;
        let mut env: Vec<(String, String)> = Vec::new();
        let mut auth_args: Vec<String> = Vec::new();
        if let Some(auth) = auth {
            let encoded = aws_smithy_types::base64::encode(format!("{}:{}", auth.username, auth.password));
            let config = serde_json::json!({ "auths": { &auth.host: { "auth": encoded } } });
            let file = match self.kind {
                // docker reads `config.json` in DOCKER_CONFIG.
                BuilderKind::Docker => {
                    env.push(("DOCKER_CONFIG".into(), work.path().display().to_string()));
                    work.path().join("config.json")
                }
                BuilderKind::Podman | BuilderKind::Buildah => {
                    let file = work.path().join("auth.json");
                    auth_args.extend(["--authfile".into(), file.display().to_string()]);
                    file
                }
            };
            write_private(&file, config.to_string().as_bytes())?;
        }
        let mut digest = None;
        for tag in tags {
            let destination = format!("{repository}:{tag}");
            let pushed = match self.kind {
                BuilderKind::Docker => {
                    self.run("tag", &["tag".into(), image.into(), destination.clone()], &env, line).await?;
                    let output = self.run("push", &["push".into(), destination.clone()], &env, line).await?;
                    output
                        .iter()
                        .rev()
                        .find_map(|l| l.split("digest: ").nth(1))
                        .and_then(|d| d.split_whitespace().next())
                        .map(str::to_string)
                }
                BuilderKind::Podman | BuilderKind::Buildah => {
                    let digestfile = work.path().join("digest");
                    let mut args: Vec<String> = vec!["push".into()];
                    args.extend(auth_args.iter().cloned());
                    args.extend(["--digestfile".into(), digestfile.display().to_string()]);
                    args.extend([image.into(), format!("docker://{destination}")]);
                    self.run("push", &args, &env, line).await?;
                    std::fs::read_to_string(&digestfile).ok().map(|d| d.trim().to_string())
                }
            };
            let pushed = pushed.filter(|d| d.starts_with("sha256:")).ok_or_else(|| {
                ImageError::Failed(
                    format!("{} pushed {destination} but reported no digest", self.kind.program()),
                    Vec::new(),
                )
            })?;
            // Every tag names the same manifest.
            digest.get_or_insert(pushed);
        }
        digest.ok_or_else(|| ImageError::Failed("no tags to push".into(), Vec::new()))
    }

    /// Runs the builder; every output line goes to `line` and is kept for
    /// the failure report.
    async fn run(
        &self,
        what: &str,
        args: &[String],
        env: &[(String, String)],
        line: &(dyn Fn(&str) + Sync),
    ) -> Result<Vec<String>, ImageError> {
        let mut child = Command::new(&self.program)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| ImageError::Io(format!("cannot start {}: {e}", self.kind.program())))?;
        let stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
        let stderr = BufReader::new(child.stderr.take().expect("piped")).lines();
        let output = std::sync::Mutex::new(Vec::new());
        let keep = |text: String| {
            line(&text);
            if let Ok(mut output) = output.lock() {
                output.push(text);
            }
        };
        let read = async {
            let (mut stdout, mut stderr) = (stdout, stderr);
            let (mut out_done, mut err_done) = (false, false);
            while !(out_done && err_done) {
                tokio::select! {
                    next = stdout.next_line(), if !out_done => match next {
                        Ok(Some(text)) => keep(text),
                        _ => out_done = true,
                    },
                    next = stderr.next_line(), if !err_done => match next {
                        Ok(Some(text)) => keep(text),
                        _ => err_done = true,
                    },
                }
            }
        };
        read.await;
        let status =
            child.wait().await.map_err(|e| ImageError::Io(format!("{} did not finish: {e}", self.kind.program())))?;
        let output = output.into_inner().unwrap_or_default();
        if status.success() {
            Ok(output)
        } else {
            let last = output.iter().rev().find(|l| !l.trim().is_empty()).cloned().unwrap_or_default();
            Err(ImageError::Failed(
                format!(
                    "{} {what} failed ({}){}",
                    self.kind.program(),
                    status.code().map(|c| format!("exit {c}")).unwrap_or_else(|| "killed".into()),
                    if last.is_empty() { String::new() } else { format!(": {last}") }
                ),
                output,
            ))
        }
    }
}

/// A directory only this user can read, in memory-backed storage where the
/// machine has it, removed when dropped.
fn private_dir() -> Result<tempfile::TempDir, ImageError> {
    let shm = Path::new("/dev/shm");
    let dir =
        if shm.is_dir() { tempfile::Builder::new().prefix("ecsflow-").tempdir_in(shm) } else { tempfile::tempdir() };
    dir.map_err(|e| ImageError::Io(format!("cannot make a private directory: {e}")))
}

fn write_private(path: &Path, contents: &[u8]) -> Result<(), ImageError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| ImageError::Io(format!("cannot write credentials for the builder: {e}")))?;
    file.write_all(contents).map_err(|e| ImageError::Io(format!("cannot write credentials for the builder: {e}")))
}
