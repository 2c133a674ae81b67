//! The longer fuzzing run, apart from the tests:
//!
//! ```sh
//! cargo run --release -p vigie-fuzz -- --seconds 600 csv          # ten minutes on the CSV scanner
//! cargo run --release -p vigie-fuzz -- --seconds 1800 all         # half an hour, split between csv, xlsx, json
//! cargo run --release -p vigie-fuzz -- --seed 42 --start 1234 --inputs 1 --save-all xlsx   # one input, saved
//! cargo run --release -p vigie-fuzz -- replay target/fuzz-failures/xlsx-42-1234            # run it again
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use vigie_fuzz::{csv::CsvTarget, http::JsonTarget, xlsx::XlsxTarget, Config, Input, Limits, Target};

#[global_allocator]
static A: vigie_fuzz::alloc::Counting = vigie_fuzz::alloc::Counting;

const USAGE: &str = "usage: vigie-fuzz [--seconds N] [--inputs N] [--seed N] [--start N] [--timeout S] \
[--memory-mb M] [--max-input-mb M] [--out DIR] [--keep-going] [--save-all] csv|xlsx|json|all...
       vigie-fuzz replay DIR...

  --seconds N       time to run, split between the targets (default 60)
  --inputs N        at most N inputs per target
  --seed N          the run's seed (default: from the clock; printed)
  --start N         the first input's index (default 0): input N of seed S is always the same
  --timeout S       an input running longer has hung (default 10; 60 in a debug build)
  --memory-mb M     an input may allocate at most M MiB on top of what was live (default 256)
  --max-input-mb M  the largest input made (default 8; a workbook part inflates to at most 4 times that)
  --out DIR         where failing inputs are saved (default target/fuzz-failures)
  --keep-going      go on after a failure (a hang still stops the run)
  --save-all        save every input (with --inputs 1: one input as files)";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("replay") {
        std::process::exit(replay(&args[1..]));
    }
    let mut seconds = 60.0;
    let mut cfg = Config {
        seed: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64,
        start: 0,
        inputs: None,
        duration: None,
        // A debug build is some ten times slower: the long run is meant for --release.
        timeout: Duration::from_secs(if cfg!(debug_assertions) { 60 } else { 10 }),
        memory_bound: 256 << 20,
        limits: Limits { max_input: 8 << 20, max_inflated: 32 << 20 },
        out: PathBuf::from("target/fuzz-failures"),
        keep_going: false,
        save_all: false,
    };
    let mut targets = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| -> String {
            it.next().unwrap_or_else(|| {
                eprintln!("{name} needs a value\n{USAGE}");
                std::process::exit(2)
            })
        };
        let num = |name: &str, v: String| -> f64 {
            v.parse().unwrap_or_else(|_| {
                eprintln!("{name}: not a number: {v}\n{USAGE}");
                std::process::exit(2)
            })
        };
        match a.as_str() {
            "--seconds" => seconds = num("--seconds", value("--seconds")),
            "--inputs" => cfg.inputs = Some(num("--inputs", value("--inputs")) as u64),
            "--seed" => cfg.seed = num("--seed", value("--seed")) as u64,
            "--start" => cfg.start = num("--start", value("--start")) as u64,
            "--timeout" => cfg.timeout = Duration::from_secs_f64(num("--timeout", value("--timeout"))),
            "--memory-mb" => cfg.memory_bound = (num("--memory-mb", value("--memory-mb")) * 1048576.0) as usize,
            "--max-input-mb" => {
                let mb = num("--max-input-mb", value("--max-input-mb"));
                cfg.limits =
                    Limits { max_input: (mb * 1048576.0) as usize, max_inflated: (4.0 * mb * 1048576.0) as usize };
            }
            "--out" => cfg.out = PathBuf::from(value("--out")),
            "--keep-going" => cfg.keep_going = true,
            "--save-all" => cfg.save_all = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            "all" => targets.extend(["csv", "xlsx", "json"]),
            t @ ("csv" | "xlsx" | "json") => targets.push(match t {
                "csv" => "csv",
                "xlsx" => "xlsx",
                _ => "json",
            }),
            other => {
                eprintln!("unknown argument {other}\n{USAGE}");
                std::process::exit(2);
            }
        }
    }
    if targets.is_empty() {
        eprintln!("{USAGE}");
        std::process::exit(2);
    }
    cfg.duration = Some(Duration::from_secs_f64(seconds / targets.len() as f64));
    let corpus = vigie_fuzz::csv_corpus();
    let mut failed = false;
    for t in targets {
        let target: Arc<dyn Target> = match t {
            "csv" => Arc::new(CsvTarget::new(corpus.clone())),
            "xlsx" => Arc::new(XlsxTarget::new(&corpus)),
            _ => match JsonTarget::new(&corpus, cfg.timeout.mul_f64(0.9)) {
                Ok(j) => Arc::new(j),
                Err(e) => {
                    eprintln!("json: cannot start: {e}");
                    std::process::exit(1);
                }
            },
        };
        eprintln!("{t}: fuzzing for {:.0} s, seed {}", cfg.duration.unwrap().as_secs_f64(), cfg.seed);
        let report = vigie_fuzz::run(target, &cfg);
        println!("{report}");
        failed |= !report.failures.is_empty();
    }
    std::process::exit(i32::from(failed));
}

/// Runs saved inputs again: workbooks on the XLSX target, other files on the CSV target, requests on a server.
fn replay(dirs: &[String]) -> i32 {
    let corpus = vigie_fuzz::csv_corpus();
    let mut failed = 0;
    for d in dirs {
        let input = match Input::load(std::path::Path::new(d)) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("{d}: {e}");
                return 2;
            }
        };
        let target: Box<dyn Target> = match &input.payload {
            vigie_fuzz::Payload::Request(_) => match JsonTarget::new(&corpus, Duration::from_secs(60)) {
                Ok(j) => Box::new(j),
                Err(e) => {
                    eprintln!("json: cannot start: {e}");
                    return 1;
                }
            },
            _ if input.is_workbook() => Box::new(XlsxTarget::new(&corpus)),
            _ => Box::new(CsvTarget::new(corpus.clone())),
        };
        let t = std::time::Instant::now();
        match vigie_fuzz::replay(&*target, &input, 256 << 20) {
            Ok(()) => println!("{d}: {}: ok in {:.3} s", target.name(), t.elapsed().as_secs_f64()),
            Err(e) => {
                println!("{d}: {}: {e}", target.name());
                failed += 1;
            }
        }
    }
    i32::from(failed > 0)
}
