//! The fault-injecting proxy (harness/fault_proxy.py) on a free loopback port,
//! in front of an upstream endpoint (the emulator or moto), stopped with
//! SIGTERM when dropped. Fault windows are opened over its control API.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use super::moto::{http, venv_bin};

pub struct Proxy {
    child: Child,
    pub port: u16,
}

impl Proxy {
    /// Forwards to `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> Proxy {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("harness/fault_proxy.py");
        let mut child = Command::new(venv_bin("python"))
            .arg(script)
            .args(["--upstream", upstream, "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the fault proxy starts");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let port = line
            .trim()
            .strip_prefix("ready http://127.0.0.1:")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the fault proxy did not say it was ready: {line:?}"));
        Proxy { child, port }
    }

    /// What clients use as `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Opens fault windows: one spec or a list, e.g.
    /// `{"action": "DescribeServices", "kind": "throttle", "seconds": 6}`.
    /// Returns the opened windows (with their `id`).
    pub fn fault(&self, spec: serde_json::Value) -> Vec<serde_json::Value> {
        let body = http(self.port, "POST", "/_proxy/faults", &spec.to_string())
            .unwrap_or_else(|e| panic!("the fault proxy refused {spec}: {e}"));
        let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
        answer["windows"].as_array().cloned().unwrap_or_default()
    }

    /// Every request so far: `{"n", "time", "method", "path", "action", "did",
    /// "forwarded", "status", "window", "ended", ...}`, in arrival order.
    pub fn log(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&http(self.port, "GET", "/_proxy/log", "").unwrap()).unwrap()
    }

    /// Closes every window and clears the log.
    pub fn reset(&self) {
        http(self.port, "POST", "/_proxy/reset", "").unwrap();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}
