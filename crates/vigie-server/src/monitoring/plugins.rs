//! Command checks: Nagios plugins, run as an administrator configured them and never as data would like.
//!
//! - The target is split into an argument vector with the shell's quoting rules (single quotes, double quotes,
//!   backslashes) but **no shell**: no expansion, redirection, pipe, list or substitution. A character that would
//!   mean one of those to a shell, outside quotes, refuses the check (and `$` or a backtick inside double quotes, where
//!   a shell would expand them). Whatever is accepted means the same to `/bin/sh`: no check changes meaning.
//! - The program is an absolute path or a bare name, found in the configured plugin directories only
//!   (`[monitoring] plugin_dirs`); its real path (symbolic links and `..` resolved) must lie in one of them.
//!   Wrappers that run whatever command they are given (`negate`, `urlize`) are refused.
//! - It runs in its own process group with a minimal environment (`PATH`, `LANG=C`, `LC_ALL=C`), from `/`, stdin
//!   closed; on expiry of the check's timeout the whole group is killed (UNKNOWN, "plugin timed out after N s").
//!   At most [`OUTPUT_CAP`] bytes of each output stream are kept; the rest is read and discarded, so a talkative
//!   plugin is never blocked on a full pipe (the result then keeps what a pushed one may: its first KiB).
//! - Not as root, unless `[monitoring] allow_root_plugins` says so.
//!
//! No Nagios macro (`$HOSTADDRESS$`…) is expanded: a target names its host itself.

use super::active::Probe;
use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use vigie_domain::health::Status;
pub use vigie_monitor::command::split;

/// Bytes kept of a plugin's standard output (and, separately, of its standard error).
pub const OUTPUT_CAP: usize = 64 * 1024;
/// The `PATH` a plugin sees (some plugins run helpers such as `ping`).
pub const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// The default plugin directory (Debian's `monitoring-plugins`).
pub const DEFAULT_DIR: &str = "/usr/lib/nagios/plugins";
/// Programs that run the command line they are given: allowed, they would make any program a plugin.
const WRAPPERS: &[&str] = &["negate", "urlize"];
/// What an operator reads when the server runs as root and may not run plugins so.
pub const ROOT_REFUSAL: &str = "UNKNOWN - refused to run a plugin as root; see [monitoring] allow_root_plugins";

/// A program found: the real file to run and the name it is run as (a multi-call plugin such as `check_tcp` acts
/// on the name of the link that called it: `check_ftp`).
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub path: PathBuf,
    pub arg0: PathBuf,
}

/// How command checks run, from the configuration.
#[derive(Debug)]
pub struct Plugins {
    dirs: Vec<PathBuf>,
    allow_root: bool,
    as_root: bool,
    /// Refusals already logged (check, reason): each is logged once.
    logged: Mutex<HashSet<(String, String)>>,
}

impl Plugins {
    pub fn new(dirs: Vec<PathBuf>, allow_root: bool) -> Plugins {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let as_root = unsafe { libc::geteuid() } == 0;
        Plugins { dirs, allow_root, as_root, logged: Default::default() }
    }

    /// The configured directories that exist, resolved.
    fn roots(&self) -> Vec<PathBuf> {
        self.dirs.iter().filter_map(|d| std::fs::canonicalize(d).ok()).collect()
    }

    fn dirs_text(&self) -> String {
        let d: Vec<_> = self.dirs.iter().map(|d| d.display().to_string()).collect();
        if d.is_empty() {
            "none".into()
        } else {
            d.join(", ")
        }
    }

    /// Finds a program in the plugin directories: see the module's doc.
    pub fn resolve(&self, program: &str) -> Result<Program, String> {
        let roots = self.roots();
        if roots.is_empty() {
            return Err(format!("no plugin directory is available ([monitoring] plugin_dirs: {})", self.dirs_text()));
        }
        let given = Path::new(program);
        if given.components().any(|c| matches!(c, Component::ParentDir | Component::CurDir)) {
            return Err(format!("`{program}`: a plugin is named without `.` or `..`"));
        }
        let candidates: Vec<PathBuf> = if program.contains('/') {
            if !given.is_absolute() {
                return Err(format!("`{program}`: a plugin is given as an absolute path or a bare name"));
            }
            vec![given.to_path_buf()]
        } else {
            roots.iter().map(|d| d.join(program)).collect()
        };
        for candidate in candidates {
            let real = match std::fs::canonicalize(&candidate) {
                Ok(r) => r,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !program.contains('/') => continue,
                Err(e) => return Err(format!("{}: {e}", candidate.display())),
            };
            if !roots.iter().any(|d| real.starts_with(d)) {
                return Err(format!(
                    "{} is not in a plugin directory ([monitoring] plugin_dirs: {}){}",
                    candidate.display(),
                    self.dirs_text(),
                    if real != candidate { format!(": it leads to {}", real.display()) } else { String::new() }
                ));
            }
            if !real.is_file() {
                return Err(format!("{} is not a file", candidate.display()));
            }
            for name in [candidate.file_name(), real.file_name()].into_iter().flatten() {
                if WRAPPERS.iter().any(|w| name == *w) {
                    return Err(format!(
                        "{} runs the command it is given: it is not allowed as a command check",
                        candidate.display()
                    ));
                }
            }
            return Ok(Program { path: real, arg0: candidate });
        }
        Err(format!("no plugin `{program}` in the plugin directories ({})", self.dirs_text()))
    }

    /// Logs a refusal once per check and reason, and says it as the check's result.
    fn refuse(&self, check: &str, why: String) -> Probe {
        let fresh = self.logged.lock().unwrap_or_else(|p| p.into_inner()).insert((check.to_string(), why.clone()));
        if fresh {
            tracing::warn!(check, reason = %why, "command check refused");
        }
        Probe { status: Status::Unknown, output: format!("UNKNOWN - refused: {why}") }
    }

    /// Runs a command check's target: see the module's doc.
    pub async fn run(&self, check: &str, line: &str, timeout: Duration) -> Probe {
        let argv = match split(line) {
            Ok(a) => a,
            Err(why) => return self.refuse(check, why),
        };
        let program = match self.resolve(&argv[0]) {
            Ok(p) => p,
            Err(why) => return self.refuse(check, why),
        };
        if self.as_root && !self.allow_root {
            let fresh = self.logged.lock().unwrap_or_else(|p| p.into_inner()).insert((String::new(), "root".into()));
            if fresh {
                tracing::error!(
                    "command checks are not run: the server runs as root and [monitoring] allow_root_plugins is \
                     false (run Vigie as an unprivileged user, or allow it)"
                );
            }
            return Probe { status: Status::Unknown, output: ROOT_REFUSAL.into() };
        }
        execute(&program, &argv[1..], timeout).await
    }
}

/// Reads a stream to its end, keeping at most `cap` bytes: the rest is read and dropped.
async fn read_capped(r: Option<impl AsyncRead + Unpin>, cap: usize) -> Vec<u8> {
    let mut kept = Vec::new();
    let Some(mut r) = r else { return kept };
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => return kept,
            Ok(n) => {
                let room = cap - kept.len();
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
}

/// Runs a plugin: exit code 0–3 as the status, its output as the text.
async fn execute(program: &Program, args: &[String], timeout: Duration) -> Probe {
    let unknown = |output: String| Probe { status: Status::Unknown, output };
    let mut cmd = tokio::process::Command::new(&program.path);
    cmd.arg0(&program.arg0)
        .args(args)
        .env_clear()
        .env("PATH", PATH)
        .env("LANG", "C")
        .env("LC_ALL", "C")
        .current_dir("/")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return unknown(format!("UNKNOWN - could not run {}: {e}", program.arg0.display())),
    };
    let pid = child.id();
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let work = async {
        let (out, err) = tokio::join!(read_capped(stdout, OUTPUT_CAP), read_capped(stderr, OUTPUT_CAP));
        (out, err, child.wait().await)
    };
    match tokio::time::timeout(timeout, work).await {
        Ok((out, err, Ok(status))) => {
            let status_ = status.code().map_or(Status::Unknown, |c| Status::from_exit_code(c as i64));
            let mut text = String::from_utf8_lossy(&out).trim_end().to_string();
            if text.is_empty() {
                text = match status.code() {
                    Some(_) => format!("(no output) {}", String::from_utf8_lossy(&err).trim()),
                    None => format!("UNKNOWN - the plugin ended without an exit code ({status})"),
                };
            }
            Probe { status: status_, output: text }
        }
        Ok((.., Err(e))) => unknown(format!("UNKNOWN - waiting for the plugin: {e}")),
        Err(_) => {
            // The child is not reaped yet, so its pid still names its process group: kill the whole group (what
            // it started too), then reap it.
            if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
                // SAFETY: kill has no memory preconditions; a negative pid names the plugin's own group.
                unsafe { libc::kill(-pid, libc::SIGKILL) };
            }
            let _ = child.kill().await;
            unknown(format!("UNKNOWN - plugin timed out after {} s and was killed", timeout.as_secs()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_come_from_the_plugin_directories_only() {
        use std::os::unix::fs::{symlink, PermissionsExt};
        let d = tempfile::tempdir().unwrap();
        let plugins = d.path().join("plugins");
        std::fs::create_dir(&plugins).unwrap();
        let p = |name: &str| plugins.join(name);
        std::fs::write(p("check_a"), "#!/bin/sh\necho OK\n").unwrap();
        std::fs::set_permissions(p("check_a"), std::fs::Permissions::from_mode(0o755)).unwrap();
        symlink(p("check_a"), p("check_b")).unwrap();
        symlink("/bin/sh", p("evil")).unwrap();
        std::fs::write(p("negate"), "").unwrap();
        std::fs::create_dir(p("sub")).unwrap();
        let real = std::fs::canonicalize(&plugins).unwrap();
        let ps = Plugins::new(vec![plugins.clone(), d.path().join("missing")], false);
        assert_eq!(ps.resolve("check_a").unwrap(), Program { path: real.join("check_a"), arg0: real.join("check_a") });
        assert_eq!(
            ps.resolve(p("check_b").to_str().unwrap()).unwrap(),
            Program { path: real.join("check_a"), arg0: p("check_b") },
            "a link within the directories runs under its own name"
        );
        for (program, why) in [
            ("evil", "it leads to"),
            ("/bin/sh", "is not in a plugin directory"),
            ("sh", "no plugin `sh`"),
            ("negate", "runs the command it is given"),
            ("sub", "is not a file"),
            ("./check_a", "without `.` or `..`"),
            ("..", "without `.` or `..`"),
            ("plugins/check_a", "absolute path or a bare name"),
        ] {
            let e = ps.resolve(program).expect_err(program);
            assert!(e.contains(why), "{program}: {e}");
        }
        let escape = format!("{}/../plugins/check_a", plugins.display());
        assert!(ps.resolve(&escape).unwrap_err().contains("`..`"));
        let none = Plugins::new(vec![d.path().join("missing")], false);
        assert!(none.resolve("check_a").unwrap_err().contains("no plugin directory is available"));
    }
}
