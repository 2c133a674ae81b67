//! Test helpers: a Vigie app on a random port over a fresh store (SQLite in a temp dir, or a fresh PostgreSQL
//! schema), and typed request helpers.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::sync::oneshot;
use vigie::config::Config;

pub const PG_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub config: Config,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    journal: vigie_journal::Journal,
    _lock: vigie::DataLock,
}

pub fn config(backend: Backend, dir: PathBuf) -> Config {
    let mut cfg = Config::default();
    cfg.storage.data_dir = dir;
    if backend == Backend::Postgres {
        cfg.storage.database = std::env::var("VIGIE_TEST_POSTGRES").unwrap_or_else(|_| PG_DEFAULT.into());
        cfg.storage.postgres_schema = format!("http_{}", vigie_journal::new_event_id().simple());
    }
    cfg
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(backend, dir.path().to_path_buf());
        Self::spawn_with(cfg, dir).await
    }

    pub async fn spawn_with(cfg: Config, dir: tempfile::TempDir) -> TestApp {
        Self::spawn_with_options(cfg, dir, Default::default()).await
    }

    pub async fn spawn_with_options(
        cfg: Config,
        dir: tempfile::TempDir,
        options: vigie_server::ServerOptions,
    ) -> TestApp {
        Self::spawn_at(cfg, dir, options, "127.0.0.1:0").await
    }

    /// The app on a given address (to bring a server back where its clients expect it).
    pub async fn spawn_at(
        cfg: Config,
        dir: tempfile::TempDir,
        options: vigie_server::ServerOptions,
        bind: &str,
    ) -> TestApp {
        let c = cfg.clone();
        let (journal, lock) = tokio::task::spawn_blocking(move || vigie::open(&c)).await.unwrap().unwrap_or_else(|e| {
            panic!("cannot open the store ({e:#}); PostgreSQL tests need a server: run `bash .ci/run`")
        });
        let listener = tokio::net::TcpListener::bind(bind).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let j = journal.clone();
        let task = tokio::spawn(async move {
            vigie_server::serve(listener, j, options, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        TestApp {
            addr,
            client: reqwest::Client::new(),
            config: cfg,
            dir,
            stop: Some(stop),
            task: Some(task),
            journal,
            _lock: lock,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let r = self.get(path).await;
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    /// Posts files to the import endpoint as a multipart form.
    pub async fn import(&self, files: &[(&str, &str)], query: &str, actor: Option<&str>) -> reqwest::Response {
        let mut form = reqwest::multipart::Form::new();
        for (name, body) in files {
            let part = reqwest::multipart::Part::bytes(body.as_bytes().to_vec()).file_name(name.to_string());
            form = form.part("file", part);
        }
        let mut req = self.client.post(self.url(&format!("/api/v1/import{query}"))).multipart(form);
        if let Some(a) = actor {
            req = req.header("x-vigie-actor", a);
        }
        req.send().await.unwrap()
    }

    /// Stops the server gracefully and closes the journal; returns the config and temp dir for a restart.
    pub async fn stop(mut self) -> (Config, tempfile::TempDir) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            tokio::time::timeout(std::time::Duration::from_secs(10), t).await.expect("graceful shutdown").unwrap();
        }
        let j = self.journal.clone();
        tokio::task::spawn_blocking(move || j.shutdown()).await.unwrap();
        drop(self._lock);
        (self.config, self.dir)
    }
}

pub const ORGS: &str = "id,name,level,parent_id\nCPCO,Centre,strategic,\nGS-IDF,Groupement IDF,tactical,CPCO\nGS-MRS,Groupement Marseille,tactical,CPCO\n";
pub const SITES: &str = "id;name;kind;lat;lon;organization_id;city\nSTA;Stade de France;venue;48,924475;2,360127;GS-IDF;Saint-Denis\nDEP1;Dépôt de Vincennes;depot;48,8418;2,4379;GS-IDF;Vincennes\nMRS;Stade de Marseille;venue;43,2698;5,3959;GS-MRS;Marseille\n";
pub const ITEMS: &str = "id,name,category,unit,unit_mass_kg,unit_volume_m3\nPLATE,Plaque,protection,pièce,2.9,0.004\nRATION,Ration,vivres,ration,1.8,0.004\n";
pub const STOCK: &str = "site_id,item_id,quantity,condition,lot,expires_on,counted_at\nDEP1,PLATE,1200,serviceable,L1,,2024-07-20 08:00\nDEP1,RATION,500,serviceable,R1,2025-01-01,2024-07-20 08:00\nMRS,PLATE,30,unserviceable,L2,,2024-07-20 09:00\n";

pub fn registry() -> Vec<(&'static str, &'static str)> {
    vec![("organizations.csv", ORGS), ("sites.csv", SITES), ("items.csv", ITEMS), ("stock.csv", STOCK)]
}

/// Reads SSE messages from a response until `n` have arrived (or a timeout), returning (id, event, data).
pub async fn read_sse(resp: reqwest::Response, n: usize) -> Vec<(u64, String, serde_json::Value)> {
    let mut stream = resp.bytes_stream();
    let mut buf = String::new();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while out.len() < n {
        let chunk = tokio::time::timeout_at(deadline, futures_util::StreamExt::next(&mut stream))
            .await
            .expect("SSE timed out")
            .expect("stream ended");
        buf.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        while let Some(end) = buf.find("\n\n") {
            let msg: String = buf.drain(..end + 2).collect();
            let (mut id, mut ev, mut data) = (0, String::new(), String::new());
            for line in msg.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().parse().unwrap();
                } else if let Some(v) = line.strip_prefix("event:") {
                    ev = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if !data.is_empty() {
                out.push((id, ev, serde_json::from_str(&data).unwrap()));
            }
        }
    }
    out
}
