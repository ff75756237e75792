//! The ECS rollout emulator (harness/ecs_emulator.py, on top of moto) on a
//! free loopback port, stopped with SIGTERM (it stops its moto too).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use super::moto::{http, venv_bin};

pub struct Emulator {
    child: Child,
    pub port: u16,
    _recording: tempfile::TempDir,
}

impl Emulator {
    /// `time_scale` real seconds per emulated second: 0.2 runs a 1 s task
    /// start in 0.2 s.
    pub fn start(time_scale: f64) -> Emulator {
        Emulator::start_with(time_scale, &[])
    }

    /// As `start`, with more options of `ecs_emulator.py` (harness/README.md),
    /// e.g. `&["--minute", "2"]`: 2 emulated seconds per minute of bake time,
    /// step/canary bake time and hook timeout (then × `time_scale`).
    pub fn start_with(time_scale: f64, options: &[&str]) -> Emulator {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("harness/ecs_emulator.py");
        // moto's recorder writes to a file; keep it out of the working tree.
        let recording = tempfile::tempdir().unwrap();
        let mut child = Command::new(venv_bin("python"))
            .arg(script)
            .env("MOTO_RECORDER_FILEPATH", recording.path().join("moto_recording"))
            .args(["--port", "0", "--time-scale", &time_scale.to_string()])
            .args(options)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the emulator starts");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let port = line
            .trim()
            .strip_prefix("ready http://127.0.0.1:")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the emulator did not say it was ready: {line:?}"));
        Emulator { child, port, _recording: recording }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn post(&self, path: &str, body: &str) -> String {
        http(self.port, "POST", path, body).unwrap()
    }

    pub fn get(&self, path: &str) -> String {
        http(self.port, "GET", path, "").unwrap()
    }

    /// Deployment state changes: `[{"time", "service", "deployment", "event"}]`.
    pub fn timeline(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.get("/_emulator/timeline")).unwrap()
    }

    pub fn start_recording(&self) {
        self.post("/moto-api/recorder/reset-recording", "");
        self.post("/moto-api/recorder/start-recording", "");
    }

    /// Every client request moto recorded since `start_recording`, in order,
    /// as `(X-Amz-Target, JSON body)`; the emulator's own lookups left out.
    pub fn recorded_requests(&self) -> Vec<(String, serde_json::Value)> {
        use base64::Engine as _;
        self.post("/moto-api/recorder/stop-recording", "");
        let recording = self.get("/moto-api/recorder/download-recording");
        let mut requests = Vec::new();
        for line in recording.lines() {
            let entry: serde_json::Value = serde_json::from_str(line).unwrap();
            let headers = entry["headers"].as_object().unwrap();
            if headers.keys().any(|k| k.eq_ignore_ascii_case("x-ecs-emulator-internal")) {
                continue;
            }
            let Some((_, target)) = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("x-amz-target")) else {
                continue;
            };
            let body = entry["body"].as_str().unwrap_or_default();
            let body = match entry["body_encoded"] == true {
                true => String::from_utf8(base64::engine::general_purpose::STANDARD.decode(body).unwrap()).unwrap(),
                false => body.to_string(),
            };
            requests.push((target.as_str().unwrap().to_string(), serde_json::from_str(&body).unwrap_or_default()));
        }
        requests
    }

    /// The `X-Amz-Target` action of every request moto recorded, in order.
    pub fn recorded_actions(&self) -> Vec<String> {
        self.post("/moto-api/recorder/stop-recording", "");
        super::moto::parse_recording(&self.get("/moto-api/recorder/download-recording"))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}
