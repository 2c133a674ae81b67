//! Test helpers: a Vigie app on a random port over a fresh store (SQLite in a temp dir, or a fresh PostgreSQL
//! schema), with one user per role (see [`USERS`]) and a token each, and typed request helpers. `app.client` acts
//! as the administrator; `app.client_as(name)` as another user.

#![allow(dead_code)]

pub mod pg;

use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::sync::oneshot;
use vigie::config::Config;
use vigie_domain::access::{Permission, Role, TokenIssued, User, UserName};
use vigie_domain::{Actor, Event, NewEvent, OrgId, PartnerId};

/// Users and a token each, written straight to the journal (the registry they name may come later).
pub fn seed(journal: &vigie_journal::Journal) -> std::collections::BTreeMap<String, String> {
    let mut events = Vec::new();
    let mut tokens = std::collections::BTreeMap::new();
    let st = journal.state();
    for (name, role, org, partner) in USERS {
        let user = UserName::parse(name).unwrap();
        if !st.accounts.users.contains_key(&user) {
            events.push(Event::UserUpserted(User {
                name: user.clone(),
                role: *role,
                organization_id: org.map(|o| OrgId::parse(o).unwrap()),
                partner_id: partner.map(|p| PartnerId::parse(p).unwrap()),
                password_hash: String::new(),
                disabled: false,
            }));
        }
        let (id, secret) = vigie_app::credentials::new_token();
        events.push(Event::TokenIssued(TokenIssued {
            id: id.clone(),
            user,
            label: "test".into(),
            scopes: Permission::ALL.to_vec(),
            expires_at: None,
            hash: vigie_app::credentials::token_hash(&secret),
            parent: None,
        }));
        tokens.insert(name.to_string(), format!("{}{id}_{secret}", vigie_app::credentials::TOKEN_PREFIX));
    }
    drop(st);
    let events =
        events.into_iter().map(|event| NewEvent { actor: Actor::system("test"), source: "test".into(), event });
    journal.append(events.collect()).unwrap();
    tokens
}

/// A client that sends this bearer token on every request.
pub fn client_with(token: &str) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    reqwest::Client::builder().default_headers(h).build().unwrap()
}

pub const PG_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The users every test app has: (name, role, organisation, partner).
pub const USERS: &[(&str, Role, Option<&str>, Option<&str>)] = &[
    ("admin", Role::Admin, None, None),
    ("cpco", Role::Strategic, None, None),
    ("idf", Role::Tactical, Some("GS-IDF"), None),
    ("mrs", Role::Tactical, Some("GS-MRS"), None),
    ("toc", Role::Toc, None, None),
    ("atos", Role::Partner, None, Some("ATOS")),
    ("mur", Role::Viewer, None, None),
];

pub struct TestApp {
    pub addr: SocketAddr,
    /// Acts as `admin`.
    pub client: reqwest::Client,
    /// Each seeded user's token (`vigie_…`), by user name.
    pub tokens: std::collections::BTreeMap<String, String>,
    /// The journal's position after the seeding: the test's own events come after it.
    pub base: u64,
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
        let j = journal.clone();
        let tokens = tokio::task::spawn_blocking(move || seed(&j)).await.unwrap();
        let base = journal.state().last_seq;
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
            client: client_with(&tokens["admin"]),
            tokens,
            base,
            config: cfg,
            dir,
            stop: Some(stop),
            task: Some(task),
            journal,
            _lock: lock,
        }
    }

    /// A client acting as one of the [`USERS`].
    pub fn client_as(&self, user: &str) -> reqwest::Client {
        client_with(&self.tokens[user])
    }

    /// The journal, for tests that prepare state directly.
    pub fn journal(&self) -> &vigie_journal::Journal {
        &self.journal
    }

    /// Adds a user with a password (argon2id, as `vigie user add` does).
    pub async fn add_user(&mut self, name: &str, role: Role, partner: Option<&str>, password: &str) {
        let j = self.journal.clone();
        let user = User {
            name: UserName::parse(name).unwrap(),
            role,
            organization_id: None,
            partner_id: partner.map(|p| PartnerId::parse(p).unwrap()),
            password_hash: vigie_app::credentials::hash_password(password).unwrap(),
            disabled: false,
        };
        tokio::task::spawn_blocking(move || {
            j.append(vec![NewEvent {
                actor: Actor::system("test"),
                source: "test".into(),
                event: Event::UserUpserted(user),
            }])
        })
        .await
        .unwrap()
        .unwrap();
        self.base = self.journal.state().last_seq;
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

    /// Posts files to the import endpoint as a multipart form, as `user` (default: admin).
    pub async fn import(&self, files: &[(&str, &str)], query: &str, user: Option<&str>) -> reqwest::Response {
        let mut form = reqwest::multipart::Form::new();
        for (name, body) in files {
            let part = reqwest::multipart::Part::bytes(body.as_bytes().to_vec()).file_name(name.to_string());
            form = form.part("file", part);
        }
        let client = user.map_or_else(|| self.client.clone(), |u| self.client_as(u));
        client.post(self.url(&format!("/api/v1/import{query}"))).multipart(form).send().await.unwrap()
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

/// Runs openssl (Debian's, installed by the test command); panics with its error output.
pub fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A test PKI in `dir`: a CA (`ca.pem`, `ca.key`) and a server certificate for localhost and 127.0.0.1 signed by
/// it (`leaf.pem`, `leaf.key`), valid for `days` days.
pub fn test_pki(dir: &std::path::Path, days: u32) {
    let days = days.to_string();
    openssl(
        dir,
        &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "365"]
            .into_iter()
            .chain(["-subj", "/CN=Vigie test CA"])
            .collect::<Vec<_>>(),
    );
    openssl(
        dir,
        &["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost"],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
        ]
        .into_iter()
        .chain(["-days", days.as_str(), "-extfile", "ext.cnf"])
        .collect::<Vec<_>>(),
    );
}

/// A PDF's text as poppler's `pdftotext` reads it (Debian poppler-utils, installed by `scripts/test.sh`).
pub fn pdftotext(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.pdf");
    std::fs::write(&file, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils) must be installed: scripts/test.sh installs it");
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}
