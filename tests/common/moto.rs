//! moto's server on a free loopback port, started from the project's venv
//! (`scripts/setup` creates it), stopped when dropped.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    child: Child,
    pub port: u16,
    _recording: tempfile::TempDir,
}

pub fn venv_bin(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin").join(name);
    assert!(path.exists(), "{} is missing: run scripts/setup to create the test venv", path.display());
    path
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Moto {
    pub fn start() -> Moto {
        let port = free_port();
        // The recorder writes to a file; keep it out of the working tree.
        let recording = tempfile::tempdir().unwrap();
        let child = Command::new(venv_bin("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_RECORDER_FILEPATH", recording.path().join("moto_recording"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let moto = Moto { child, port, _recording: recording };
        let deadline = Instant::now() + Duration::from_secs(30);
        while http(port, "GET", "/moto-api/", "").is_err() {
            assert!(Instant::now() < deadline, "moto_server did not answer on port {port} within 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn start_recording(&self) {
        http(self.port, "POST", "/moto-api/recorder/reset-recording", "").unwrap();
        http(self.port, "POST", "/moto-api/recorder/start-recording", "").unwrap();
    }

    /// The `X-Amz-Target` action of every request recorded, in order.
    pub fn recorded_actions(&self) -> Vec<String> {
        http(self.port, "POST", "/moto-api/recorder/stop-recording", "").unwrap();
        parse_recording(&http(self.port, "GET", "/moto-api/recorder/download-recording", "").unwrap())
    }
}

/// The actions in moto's recording, leaving out the emulator's own lookups
/// (marked `X-Ecs-Emulator-Internal`): they are not the client's calls.
pub fn parse_recording(body: &str) -> Vec<String> {
    body.lines()
        .filter_map(|line| {
            let entry: serde_json::Value = serde_json::from_str(line).ok()?;
            let headers = entry.get("headers")?.as_object()?;
            if headers.keys().any(|k| k.eq_ignore_ascii_case("x-ecs-emulator-internal")) {
                return None;
            }
            let target = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("x-amz-target"))?.1.as_str()?;
            Some(target.rsplit('.').next().unwrap_or(target).to_string())
        })
        .collect()
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.1 request to loopback; returns the body.
pub fn http(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<String> {
    http_with(port, method, path, &[("Content-Type", "application/json")], body)
}

/// A plain HTTP/1.1 request to loopback with these headers (Host, Content-Length
/// and Connection are added); returns the body of a 2xx answer.
pub fn http_with(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    write!(stream, "{head}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, rest) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    if !head.starts_with("HTTP/1.1 2") && !head.starts_with("HTTP/1.0 2") {
        return Err(std::io::Error::other(format!("{method} {path}: {}", head.lines().next().unwrap_or(""))));
    }
    // moto answers with Content-Length or chunked; undo chunking if needed.
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let mut out = String::new();
        let mut rest = rest;
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if size == 0 {
                break;
            }
            out.push_str(&tail[..size.min(tail.len())]);
            rest = tail.get(size + 2..).unwrap_or("");
        }
        return Ok(out);
    }
    Ok(rest.to_string())
}
