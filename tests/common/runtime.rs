//! The real `bootstrap` behind the Lambda Runtime API that
//! `cargo lambda watch --only-lambda-apis` emulates, with its function URL
//! emulation at `http://127.0.0.1:PORT/lambda-url/_/`.

use super::repo;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills a child process when the test ends, however it ends.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// cargo-lambda from the venv scripts/test makes, else from PATH; a test
/// that needs it fails when it is missing, it never passes without it.
pub fn cargo_lambda() -> PathBuf {
    let venv = repo(".venv/bin/cargo-lambda");
    if venv.exists() {
        return venv;
    }
    which("cargo-lambda").unwrap_or_else(|| panic!("cargo-lambda is not installed: this test needs it; run it through ./scripts/test, which installs it"))
}

/// A program on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.exists())
    })
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "cargo lambda watch did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The emulated runtime and one `bootstrap` serving it, with moto behind.
pub struct Function {
    pub port: u16,
    pub log_file: PathBuf,
    pub bootstrap: Running,
    _watch: Running,
}

impl Function {
    /// Starts `cargo lambda watch` and `bootstrap` (its environment as in
    /// Lambda, plus `env`), logging to `dir/bootstrap.log`.
    pub fn start(moto: &str, dir: &Path, env: &[(&str, &str)]) -> Function {
        let port = free_port();
        let watch = Running(
            Command::new(cargo_lambda())
                .args([
                    "lambda",
                    "watch",
                    "--only-lambda-apis",
                    "-A",
                    "127.0.0.1",
                    "-P",
                    &port.to_string(),
                ])
                .current_dir(repo(""))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start cargo lambda watch"),
        );
        wait_for_port(port);
        let log_file = dir.join("bootstrap.log");
        let mut command = Command::new(super::bootstrap_binary());
        command
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_ENDPOINT_URL", moto)
            .env("AWS_REGION", "us-east-1")
            .env("DDNS_TABLE", "DDNS")
            .env_remove("RUST_LOG");
        for (k, v) in env {
            command.env(k, v);
        }
        let bootstrap = Running(
            command
                .stdout(std::fs::File::create(&log_file).expect("log file"))
                .stderr(Stdio::null())
                .spawn()
                .expect("start bootstrap"),
        );
        Function {
            port,
            log_file,
            bootstrap,
            _watch: watch,
        }
    }

    /// The function URL, as cargo lambda emulates it.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/lambda-url/_/", self.port)
    }

    /// `cargo lambda invoke` with an event file; the answer.
    pub fn invoke(&self, event_file: &Path) -> serde_json::Value {
        let out = Command::new(cargo_lambda())
            .args([
                "lambda",
                "invoke",
                "-A",
                "127.0.0.1",
                "-P",
                &self.port.to_string(),
                "--data-file",
            ])
            .arg(event_file)
            .arg("_")
            .output()
            .expect("run cargo lambda invoke");
        assert!(
            out.status.success(),
            "invoke failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
    }
}

/// A fixture event with the world's instance id replaced by moto's.
pub fn event_for(fixture: &str, world_id: &str, real_id: &str, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(repo(fixture))
        .unwrap()
        .replace(world_id, real_id);
    let path = dir.join(Path::new(fixture).file_name().unwrap());
    std::fs::write(&path, text).unwrap();
    path
}
