use super::*;

#[path = "test_proxy.rs"]
mod test_proxy;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use test_proxy::Proxy;
use vigie_journal::{Journal, JournalError, JournalHealth, JournalOptions};

/// The PostgreSQL URL of the test cluster. Tests never skip silently: without a reachable server they fail and
/// say how to start one (`.ci/run` starts one when none is running).
pub fn test_url() -> String {
    std::env::var("VIGIE_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn schema(name: &str) -> String {
    format!("{name}_{}", uuid::Uuid::now_v7().simple())
}

fn store(url: &str, schema: &str) -> PostgresStore {
    match PostgresStore::connect(url, schema) {
        Ok(s) => s,
        Err(e) => {
            panic!("PostgreSQL is needed at {} ({e}); run `bash .ci/run` or set VIGIE_TEST_POSTGRES", redact_url(url))
        }
    }
}

#[test]
fn storage_story_on_postgres() {
    let url = test_url();
    let schema = schema("story");
    drop(store(&url, &schema));
    let (u, s) = (url.clone(), schema.clone());
    vigie_journal::story::run(move || Box::new(PostgresStore::connect(&u, &s).expect("connect postgres")));
    PostgresStore::drop_schema(&url, &schema).unwrap();
}

#[test]
fn passwords_are_redacted() {
    assert_eq!(redact_url("postgres://vigie:s3cret@db:5432/v"), "postgres://vigie:***@db:5432/v");
    assert_eq!(redact_url("postgres://vigie@db/v"), "postgres://vigie@db/v");
}

/// An error says what the server said (message, SQLSTATE), and never the password.
#[test]
fn errors_carry_the_servers_message_and_no_password() {
    let url = test_url();
    let with_password = url.replacen("postgres://postgres@", "postgres://postgres:s3cret-pw@", 1);
    let missing_db = format!("{}/no_such_db_for_vigie", &with_password[..with_password.rfind('/').unwrap()]);
    let e = PostgresStore::connect(&missing_db, "s").err().expect("no such database").to_string();
    assert!(e.contains("database \"no_such_db_for_vigie\" does not exist"), "{e}");
    assert!(e.contains("SQLSTATE 3D000"), "{e}");
    assert!(!e.contains("s3cret-pw"), "{e}");
    assert!(e.contains("postgres:***@"), "{e}");

    // A statement the server refuses: its message and code, not "db error".
    let schema = schema("errors");
    let mut s = store(&url, &schema);
    let e = s.batch("SELECT nope FROM nowhere").unwrap_err().to_string();
    assert!(e.contains("relation \"nowhere\" does not exist (SQLSTATE 42P01)"), "{e}");
    // The connection is still good after an error the server answered.
    assert_eq!(s.head().unwrap(), Head::EMPTY);
    drop(s);
    PostgresStore::drop_schema(&url, &schema).unwrap();
}

/// A server that accepts connections and never answers cannot hang start-up: connecting gives up within its limit.
#[test]
fn a_server_that_never_answers_fails_the_connection_in_time() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let held: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
    let h = held.clone();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            h.lock().unwrap().push(s); // accepted, never answered
        }
    });
    let url = format!("postgres://postgres:pw@{addr}/test");
    let opts = PgOptions { connect_timeout: Duration::from_millis(500), ..Default::default() };
    let e = PostgresStore::connect_with(&url, "silent", opts).err().expect("no answer").to_string();
    assert!(e.contains("no answer from the server within 0.5 s (connecting)"), "{e}");
    assert!(!e.contains(":pw@"), "{e}");
    assert!(!held.lock().unwrap().is_empty(), "the listener did accept the connection");
}

fn org(id: &str) -> vigie_domain::NewEvent {
    vigie_journal::story::an_organisation(id)
}

/// PostgreSQL out of reach for five seconds: writes fail at once with `Unavailable` while health says why, reads
/// go on, and when the database is back writes resume without a restart, with nothing acknowledged lost and
/// nothing refused written.
#[test]
fn the_journal_survives_a_database_outage_without_restart() {
    let url = test_url();
    let schema = schema("outage");
    drop(store(&url, &schema));
    let pg: tokio_postgres::Config = url.parse().unwrap();
    let host = match &pg.get_hosts()[0] {
        tokio_postgres::config::Host::Tcp(h) => h.clone(),
        other => panic!("the test needs PostgreSQL over TCP, not {other:?}"),
    };
    let port = pg.get_ports().first().copied().unwrap_or(5432);
    let upstream = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port)).unwrap().next().unwrap();
    let proxy = Proxy::start(upstream);
    let dbname = pg.get_dbname().unwrap_or("postgres");
    let user = pg.get_user().unwrap_or("postgres");
    let via_proxy = format!("postgres://{user}@{}/{dbname}", proxy.addr);

    let opts = PgOptions { connect_timeout: Duration::from_secs(2), ..Default::default() };
    let journal = Journal::open(
        Box::new(PostgresStore::connect_with(&via_proxy, &schema, opts).unwrap()),
        JournalOptions { retry_max: Duration::from_millis(500), ..Default::default() },
    )
    .unwrap();
    let mut acked = Vec::new();
    for i in 0..20 {
        journal.append(vec![org(&format!("BEFORE-{i}"))]).unwrap();
        acked.push(format!("BEFORE-{i}"));
    }

    proxy.cut();
    let cut_at = std::time::Instant::now();
    let mut refused = Vec::new();
    let mut i = 0;
    // Writes during the cut: each one answered `Unavailable` (none waits for the database to come back).
    while cut_at.elapsed() < Duration::from_secs(5) {
        let id = format!("DURING-{i}");
        i += 1;
        match journal.append(vec![org(&id)]) {
            Err(JournalError::Unavailable { reason, retry_after_s }) => {
                assert!(retry_after_s >= 1);
                assert!(!reason.is_empty());
                refused.push(id);
            }
            other => panic!("a write during the cut: {other:?}"),
        }
        assert!(proxy.is_cut(), "answered while the database was still out of reach");
        match journal.health() {
            JournalHealth::Degraded { reason, .. } => assert!(reason.contains("postgres"), "{reason}"),
            JournalHealth::Ok => panic!("health should say degraded during the cut"),
        }
        // Reads answer from the state meanwhile.
        assert_eq!(journal.state().organizations.len(), 20);
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(refused.len() >= 5, "{refused:?}");
    proxy.restore();

    // Writes resume by themselves.
    let mut resumed = false;
    for _ in 0..200 {
        if journal.health().is_ok() {
            resumed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(resumed, "health never came back: {:?}", journal.health());
    for i in 0..5 {
        journal.append(vec![org(&format!("AFTER-{i}"))]).unwrap();
        acked.push(format!("AFTER-{i}"));
    }
    journal.shutdown();
    drop(journal);

    // Straight to the database: every acknowledged event, none of the refused, gap-free, chain intact.
    let reopened = Journal::open(Box::new(store(&url, &schema)), JournalOptions::default()).unwrap();
    let st = reopened.state();
    for id in &acked {
        assert!(st.organizations.contains_key(&vigie_domain::OrgId::parse(id).unwrap()), "{id} lost");
    }
    for id in &refused {
        assert!(!st.organizations.contains_key(&vigie_domain::OrgId::parse(id).unwrap()), "{id} was refused");
    }
    assert_eq!(st.last_seq, acked.len() as u64);
    drop(st);
    reopened.shutdown();
    PostgresStore::drop_schema(&url, &schema).unwrap();
}

/// A journal written before the chain (payloads in JSONB, no hash) is migrated: hashes computed, payloads kept.
#[test]
fn an_unchained_journal_is_migrated() {
    let url = test_url();
    let schema = schema("migrate");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&url, NoTls).await.unwrap();
        tokio::spawn(conn);
        client
            .batch_execute(&format!(
                "CREATE SCHEMA {schema}; SET search_path TO {schema};
                 CREATE TABLE vigie_migrations (version INT PRIMARY KEY);
                 {} INSERT INTO vigie_migrations VALUES (1);
                 INSERT INTO journal VALUES
                   (1, '0190a000-0000-7000-8000-000000000001', 1722000000000000, 'user:a', 'n', 'import',
                    'organization.upserted', '{{\"id\":\"A\",\"name\":\"A\",\"level\":\"tactical\"}}'),
                   (2, '0190a000-0000-7000-8000-000000000002', 1722000000000001, 'user:a', 'n', 'import',
                    'organization.upserted', '{{\"id\":\"B\",\"name\":\"B\",\"level\":\"strategic\"}}');",
                MIGRATIONS[0]
            ))
            .await
            .unwrap();
    });
    let mut s = store(&url, &schema);
    let v = vigie_journal::chain::verify(&mut s, None).unwrap();
    assert!(v.ok(), "{:?}", v.problem);
    assert_eq!(v.events, 2);
    let journal = Journal::open(Box::new(s), JournalOptions::default()).unwrap();
    assert_eq!(journal.state().organizations.len(), 2);
    let c = journal.append(vec![org("C")]).unwrap();
    assert_eq!(c.first_seq(), Some(3));
    journal.shutdown();
    let v = vigie_journal::chain::verify(&mut store(&url, &schema), None).unwrap();
    assert!(v.ok() && v.events == 3, "{v:?}");
    PostgresStore::drop_schema(&url, &schema).unwrap();
}
