//! Fuzzing Vigie's inputs on stable Rust, without sanitizers: seeded generators make **structured** inputs (the
//! seed corpus under `corpus/`, or tables, workbooks and bodies built from what the format and the API expect, then
//! mutated: bit flips, truncation, splicing, huge repeats, odd delimiters and quotes, BOMs, invalid UTF-8, lying
//! archive headers, deep JSON nesting, huge numbers) and **arbitrary** ones (random bytes), and [`run`] feeds them to
//! a [`Target`] that calls the real code:
//!
//! - [`csv::CsvTarget`]: `vigie_import::read` then `plan` (against an empty state and one holding the corpus);
//! - [`xlsx::XlsxTarget`]: the same on workbooks written by `rust_xlsxwriter`, mutated part by part or as bytes;
//! - [`http::JsonTarget`]: every route of `vigie_server::routes::ROUTES` whose body is JSON, through a real server
//!   on a port of its own over a fresh SQLite journal, as an administrator.
//!
//! Properties checked on every input: no panic; an answer within [`Config::timeout`] (a watchdog: the input runs on
//! a worker thread); at most [`Config::memory_bound`] bytes, plus [`Target::memory_per_input_byte`] for each byte
//! of the input, allocated on top of what was live before it (the [`alloc::Counting`] allocator, which the fuzzing
//! binary and test install): an import holds every record of its files until it is planned, so its memory grows
//! with its rows, but never beyond this line; and each target's own (problems
//! bounded, imports idempotent, HTTP answers well-formed and never 5xx, the server still healthy afterwards).
//!
//! Input `i` of a run seeded with `s` is generated from `(s, i)` alone, so any input can be made again
//! (`--seed s --start i --inputs 1`); a failing input is also saved under [`Config::out`] for `vigie-fuzz replay`.

pub mod alloc;
pub mod csv;
pub mod http;
pub mod mutate;
pub mod xlsx;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vigie_import::SourceFile;

/// The seed corpus: small files written for Vigie, under `crates/vigie-fuzz/corpus`.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// The CSV files of the seed corpus (one per table), in name order.
pub fn csv_corpus() -> Vec<SourceFile> {
    let dir = corpus_dir().join("csv");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|p| SourceFile {
            name: p.file_name().unwrap().to_string_lossy().into_owned(),
            bytes: std::fs::read(&p).unwrap(),
        })
        .collect()
}

/// A small, fast, seeded generator (SplitMix64): the same seed gives the same inputs everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The generator of input `index` of a run seeded with `seed`: every input stands alone.
    pub fn for_input(seed: u64, index: u64) -> Rng {
        let mut r = Rng(seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// [`pick`](Self::pick), by value.
    pub fn one_of<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// A size in `0..=max`, most often small: every power of two up to `max` is as likely as the others.
    pub fn size(&mut self, max: usize) -> usize {
        if max == 0 {
            return 0;
        }
        let bits = usize::BITS - max.leading_zeros();
        let b = self.below(bits as usize + 1);
        self.below((1usize << b).min(max) + 1).min(max)
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// An HTTP request the JSON target sends.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path with its parameters filled in, and the query.
    pub path: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// What a target is given.
#[derive(Debug, Clone)]
pub enum Payload {
    Files(Vec<SourceFile>),
    Request(Request),
}

/// One generated input: how it was made (for the counts) and what it is.
#[derive(Debug, Clone)]
pub struct Input {
    /// `structured`, `grammar`, `arbitrary`… (a label for the counts).
    pub kind: &'static str,
    pub payload: Payload,
}

impl Input {
    /// Bytes in the input.
    pub fn len(&self) -> usize {
        match &self.payload {
            Payload::Files(f) => f.iter().map(|f| f.bytes.len()).sum(),
            Payload::Request(r) => r.body.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the input under `dir` (made): files as `N/NAME`, a request as `request.json` and `body.bin`.
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        match &self.payload {
            Payload::Files(files) => {
                for (i, f) in files.iter().enumerate() {
                    let sub = dir.join(i.to_string());
                    std::fs::create_dir_all(&sub)?;
                    let name: String =
                        f.name.chars().map(|c| if c == '/' || c == '\\' || c == '\0' { '_' } else { c }).collect();
                    let name = if name.is_empty() || name == "." || name == ".." { "_".into() } else { name };
                    std::fs::write(sub.join(name), &f.bytes)?;
                }
            }
            Payload::Request(r) => {
                let meta = serde_json::json!({"method": r.method, "path": r.path, "content_type": r.content_type});
                std::fs::write(dir.join("request.json"), serde_json::to_vec_pretty(&meta).unwrap())?;
                std::fs::write(dir.join("body.bin"), &r.body)?;
            }
        }
        Ok(())
    }

    /// Reads an input [`save`](Self::save)d under `dir`.
    pub fn load(dir: &Path) -> std::io::Result<Input> {
        let meta = dir.join("request.json");
        if meta.is_file() {
            let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&meta)?)?;
            let s = |k: &str| m[k].as_str().map(str::to_string);
            let request = Request {
                method: s("method").unwrap_or_default(),
                path: s("path").unwrap_or_default(),
                content_type: s("content_type"),
                body: std::fs::read(dir.join("body.bin"))?,
            };
            return Ok(Input { kind: "saved", payload: Payload::Request(request) });
        }
        let mut subs: Vec<(usize, PathBuf)> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path())))
            .collect();
        subs.sort();
        let mut files = Vec::new();
        for (_, sub) in subs {
            for e in std::fs::read_dir(sub)? {
                let p = e?.path();
                files.push(SourceFile {
                    name: p.file_name().unwrap().to_string_lossy().into_owned(),
                    bytes: std::fs::read(&p)?,
                });
            }
        }
        Ok(Input { kind: "saved", payload: Payload::Files(files) })
    }

    /// Whether the input is a workbook (for a replay: which target takes it).
    pub fn is_workbook(&self) -> bool {
        matches!(&self.payload, Payload::Files(f) if f.iter().any(|f| {
            let n = f.name.to_lowercase();
            n.ends_with(".xlsx") || n.ends_with(".xlsm")
        }))
    }
}

/// Sizes of what generators make.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The longest input (a file, a body), in bytes; huge repeats reach up to it.
    pub max_input: usize,
    /// The most a generated workbook part holds uncompressed (an archive that inflates far beyond its size).
    pub max_inflated: usize,
}

/// A thing to fuzz: it makes inputs and runs the real code on them.
pub trait Target: Send + Sync {
    fn name(&self) -> &'static str;
    /// Input `index`'s value: a function of `rng` alone.
    fn generate(&self, rng: &mut Rng, limits: &Limits) -> Input;
    /// Runs the code under test on one input; `Err` names a property that does not hold.
    fn run(&self, input: &Input) -> Result<(), String>;
    /// Checks after a run (the server still answers); also called after a failure.
    fn finish(&self) -> Result<(), String> {
        Ok(())
    }
    /// Bytes an input may allocate for each of its bytes, beyond [`Config::memory_bound`]: an import holds its
    /// records (a 7-byte CSV row costs some 500 bytes until it is planned).
    fn memory_per_input_byte(&self) -> usize {
        0
    }
    /// What the inputs reached (answers by status, imports planned or refused), for the report.
    fn stats(&self) -> String {
        String::new()
    }
}

/// How long and how hard to fuzz.
#[derive(Debug, Clone)]
pub struct Config {
    pub seed: u64,
    /// The first input's index.
    pub start: u64,
    /// Inputs to run (at most), and/or…
    pub inputs: Option<u64>,
    /// …time to run for (at most): the run stops at whichever comes first.
    pub duration: Option<Duration>,
    /// The watchdog: an input that takes longer has hung.
    pub timeout: Duration,
    /// Bytes an input may allocate on top of what was live before it.
    pub memory_bound: usize,
    pub limits: Limits,
    /// Where failing inputs are saved.
    pub out: PathBuf,
    /// Go on after a failure (a long run); a hang always stops the run.
    pub keep_going: bool,
    /// Save every input run (with `--inputs 1`, to get one input as a file).
    pub save_all: bool,
}

/// One property that did not hold.
#[derive(Debug, Clone)]
pub struct Failure {
    pub index: u64,
    pub message: String,
    pub saved: Option<PathBuf>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "input {}: {}", self.index, self.message)?;
        if let Some(p) = &self.saved {
            write!(f, " (saved in {}; replay with `cargo run -p vigie-fuzz -- replay {}`)", p.display(), p.display())?;
        }
        Ok(())
    }
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub target: &'static str,
    pub seed: u64,
    pub inputs: u64,
    pub by_kind: BTreeMap<&'static str, u64>,
    pub bytes: u64,
    pub largest_input: usize,
    pub elapsed: Duration,
    pub slowest: Duration,
    /// The most bytes one input allocated on top of what was live before it.
    pub peak_extra: usize,
    /// The target's own counts.
    pub stats: String,
    pub failures: Vec<Failure>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kinds: Vec<String> = self.by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
        write!(
            f,
            "{}: {} inputs (seed {}; {}), {:.1} MB in all, largest {:.2} MB, in {:.1} s, slowest {:.3} s, \
             peak {:.1} MiB allocated on top, {} failure(s)",
            self.target,
            self.inputs,
            self.seed,
            kinds.join(", "),
            self.bytes as f64 / 1e6,
            self.largest_input as f64 / 1e6,
            self.elapsed.as_secs_f64(),
            self.slowest.as_secs_f64(),
            self.peak_extra as f64 / (1 << 20) as f64,
            self.failures.len()
        )?;
        if !self.stats.is_empty() {
            write!(f, "; {}", self.stats)?;
        }
        for fail in &self.failures {
            write!(f, "\n  {fail}")?;
        }
        Ok(())
    }
}

/// Panic messages with their place, from any thread (a server's task panics on its own thread).
static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records every panic's message and place (and still prints it).
pub fn record_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
            let msg = panic_text(info.payload());
            if let Ok(mut p) = PANICS.lock() {
                if p.len() < 100 {
                    p.push(format!("{msg}{at}"));
                }
            }
            default(info);
        }));
    });
}

fn take_panics() -> Vec<String> {
    PANICS.lock().map(|mut p| std::mem::take(&mut *p)).unwrap_or_default()
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

type Job = (u64, Arc<Input>);
type Done = (u64, Result<(), String>, Duration, usize);

/// Runs `target` on generated inputs within `cfg`'s bounds; every property that did not hold is in the report.
pub fn run(target: Arc<dyn Target>, cfg: &Config) -> Report {
    assert!(
        alloc::installed(),
        "the memory bound needs vigie_fuzz::alloc::Counting as the global allocator of this binary"
    );
    record_panics();
    take_panics();
    let (jobs, job_rx) = mpsc::channel::<Job>();
    let (done_tx, done) = mpsc::channel::<Done>();
    let worker_target = target.clone();
    std::thread::Builder::new()
        .name(format!("fuzz-{}", target.name()))
        .spawn(move || {
            for (index, input) in job_rx {
                let base = alloc::reset_peak();
                let t = Instant::now();
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| worker_target.run(&input)));
                let elapsed = t.elapsed();
                let extra = alloc::peak().saturating_sub(base);
                let r = r.unwrap_or_else(|p| Err(format!("panic: {}", panic_text(&*p))));
                drop(input);
                if done_tx.send((index, r, elapsed, extra)).is_err() {
                    break;
                }
            }
        })
        .expect("a worker thread");

    let mut report = Report { target: target.name(), seed: cfg.seed, ..Default::default() };
    let started = Instant::now();
    let mut index = cfg.start;
    let running = cfg.out.join(format!("{}.running", target.name()));
    let _ = std::fs::create_dir_all(&cfg.out);
    loop {
        if cfg.inputs.is_some_and(|n| report.inputs >= n) || cfg.duration.is_some_and(|d| started.elapsed() >= d) {
            break;
        }
        let input = Arc::new(target.generate(&mut Rng::for_input(cfg.seed, index), &cfg.limits));
        // If the process dies (a stack overflow, an abort), this says which input did it.
        let _ = std::fs::write(&running, format!("seed {} input {index}\n", cfg.seed));
        let save = |input: &Input| {
            let dir = cfg.out.join(format!("{}-{}-{index}", target.name(), cfg.seed));
            input.save(&dir).ok().map(|_| dir)
        };
        if cfg.save_all {
            save(&input);
        }
        *report.by_kind.entry(input.kind).or_default() += 1;
        report.bytes += input.len() as u64;
        report.largest_input = report.largest_input.max(input.len());
        report.inputs += 1;
        jobs.send((index, input.clone())).expect("the worker runs");
        let (problem, hung) = match done.recv_timeout(cfg.timeout) {
            Ok((_, r, elapsed, extra)) => {
                report.slowest = report.slowest.max(elapsed);
                report.peak_extra = report.peak_extra.max(extra);
                let mut problem = r.err();
                if problem.is_none() && PANICS.lock().is_ok_and(|p| !p.is_empty()) {
                    // A panic caught elsewhere (a server task's) is a bug all the same.
                    problem = Some("a panic on another thread".into());
                }
                let bound = cfg.memory_bound + target.memory_per_input_byte() * input.len();
                if problem.is_none() && extra > bound {
                    problem = Some(format!(
                        "{extra} bytes allocated on top of what was live for {} bytes of input (bound: {bound} bytes)",
                        input.len()
                    ));
                }
                (problem, false)
            }
            Err(_) => (Some(format!("no end within {:?}: a hang", cfg.timeout)), true),
        };
        if let Some(mut message) = problem {
            let panics = take_panics();
            if !panics.is_empty() {
                message = format!("{message} [panics: {}]", panics.join(" | "));
            }
            report.failures.push(Failure { index, message, saved: save(&input) });
            if hung || !cfg.keep_going {
                break;
            }
        }
        index += 1;
    }
    report.elapsed = started.elapsed();
    report.stats = target.stats();
    let hung = report.failures.last().is_some_and(|f| f.message.contains("a hang"));
    if !hung {
        if let Err(message) = target.finish() {
            report.failures.push(Failure { index, message: format!("after the run: {message}"), saved: None });
        }
        let _ = std::fs::remove_file(&running);
    }
    report
}

/// Runs one saved input on `target` (a replay), with the same checks but the watchdog.
pub fn replay(target: &dyn Target, input: &Input, memory_bound: usize) -> Result<(), String> {
    record_panics();
    let base = alloc::reset_peak();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| target.run(input)))
        .unwrap_or_else(|p| Err(format!("panic: {}", panic_text(&*p))));
    let extra = alloc::peak().saturating_sub(base);
    r?;
    let bound = memory_bound + target.memory_per_input_byte() * input.len();
    if alloc::installed() && extra > bound {
        return Err(format!("{extra} bytes allocated on top of what was live (bound: {bound} bytes)"));
    }
    target.finish()
}
