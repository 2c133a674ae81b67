/// mimalloc: the journal's replay and the import allocate millions of small blocks, often freed on another thread
/// than the one that allocated them, where glibc's allocator spends its time on arena locks.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    vigie::cli::main()
}
