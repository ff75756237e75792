//! The distribution registry on loopback with htpasswd auth, and a buildah
//! environment of the test's own (vfs storage, chroot isolation) in which
//! ECR-style names reach that registry through HTTP_PROXY.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::moto::free_port;

/// The host moto's ECR gives repositories in us-east-1.
pub const ECR_HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
/// What moto's GetAuthorizationToken decodes to, after `AWS:`.
pub const MOTO_PASSWORD: &str = "123456789012-auth-token";

pub struct Registry {
    child: Child,
    pub port: u16,
    password: String,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// A registry that lets user `AWS` in with `password`.
    pub fn start(password: &str) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let htpasswd = Command::new("htpasswd").args(["-Bbn", "AWS", password]).output().expect("htpasswd runs");
        std::fs::write(dir.path().join("htpasswd"), &htpasswd.stdout).unwrap();
        let config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {root}/data\nhttp:\n  addr: 127.0.0.1:{port}\nauth:\n  htpasswd:\n    realm: ecsflow-tests\n    path: {root}/htpasswd\n",
            root = dir.path().display()
        );
        std::fs::write(dir.path().join("registry.yml"), config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.path().join("registry.yml"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry starts (scripts/setup installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the registry did not listen on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Registry { child, port, password: password.to_string(), _dir: dir }
    }

    /// The digest the registry serves for `repository:tag`.
    pub fn digest(&self, repository: &str, tag: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let credentials = aws_smithy_types::base64::encode(format!("AWS:{}", self.password));
        write!(
            stream,
            "HEAD /v2/{repository}/manifests/{tag} HTTP/1.1\r\nHost: {ECR_HOST}\r\nAuthorization: Basic {credentials}\r\nAccept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
            .lines()
            .find_map(|l| {
                l.strip_prefix("Docker-Content-Digest: ").or_else(|| l.strip_prefix("docker-content-digest: "))
            })
            .map(|d| d.trim().to_string())
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// buildah storage and registries configuration private to one test.
pub struct BuildEnv {
    pub dir: tempfile::TempDir,
}

impl BuildEnv {
    pub fn new() -> BuildEnv {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("storage.conf"),
            format!(
                "[storage]\ndriver = \"vfs\"\nrunroot = \"{0}/run\"\ngraphroot = \"{0}/root\"\n",
                dir.path().display()
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("registries.conf"),
            // Every ECR host the tests push to goes to the loopback registry.
            format!(
                "[[registry]]\nlocation = \"{ECR_HOST}\"\ninsecure = true\n\n[[registry]]\nlocation = \"123456789012.dkr.ecr.eu-west-1.amazonaws.com\"\ninsecure = true\n"
            ),
        )
        .unwrap();
        BuildEnv { dir }
    }

    /// What ecsflow (and so the builder it starts) needs in its environment.
    pub fn env(&self, registry_port: u16) -> Vec<(String, String)> {
        let path = |name: &str| self.dir.path().join(name).display().to_string();
        vec![
            ("CONTAINERS_STORAGE_CONF".into(), path("storage.conf")),
            ("CONTAINERS_REGISTRIES_CONF".into(), path("registries.conf")),
            ("BUILDAH_ISOLATION".into(), "chroot".into()),
            ("HTTP_PROXY".into(), format!("http://127.0.0.1:{registry_port}")),
            ("NO_PROXY".into(), "127.0.0.1,localhost".into()),
            ("ECSFLOW_BUILDER".into(), "buildah".into()),
        ]
    }

    fn buildah(&self, args: &[&str]) -> String {
        let output = Command::new("buildah")
            .args(args)
            .env("CONTAINERS_STORAGE_CONF", self.dir.path().join("storage.conf"))
            .env("BUILDAH_ISOLATION", "chroot")
            .output()
            .expect("buildah runs (scripts/setup installs it)");
        assert!(output.status.success(), "buildah {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// `localhost/busybox-base`: busybox-static and its applet links, so a
    /// Dockerfile can `RUN` without pulling anything.
    pub fn busybox_base(&self) {
        let rootfs = self.dir.path().join("rootfs");
        std::fs::create_dir_all(rootfs.join("bin")).unwrap();
        std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).expect("busybox-static is installed");
        let status = Command::new(rootfs.join("bin/busybox"))
            .args(["--install", "-s", &rootfs.join("bin").display().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        // The links point at the host's path; make them relative to the image.
        for entry in std::fs::read_dir(rootfs.join("bin")).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap() != "busybox" {
                std::fs::remove_file(&path).unwrap();
                std::os::unix::fs::symlink("busybox", &path).unwrap();
            }
        }
        let container = self.buildah(&["from", "scratch"]);
        self.buildah(&["copy", &container, &rootfs.display().to_string(), "/"]);
        self.buildah(&["config", "--env", "PATH=/bin", &container]);
        self.buildah(&["commit", "--rm", &container, "localhost/busybox-base"]);
    }
}

pub fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}
