//! The lease and the wake-ups of cluster mode on PostgreSQL (see `vigie_journal::cluster`).
//!
//! - `vigie_lease` holds one row: the epoch (the fencing token every append checks under a share lock), the holder,
//!   its address and when it last renewed. A leader renews it every tick on a connection of its own, which also
//!   holds a **session advisory lock**: when the leader dies its connection closes and the lock is free at once, so a
//!   follower that obtains the lock takes the lease without waiting. A leader that is alive but silent (paused, cut
//!   off) keeps its lock; once its lease is older than the ttl a follower ends that node's sessions (every
//!   connection of a node is named `vigie/NODE`) and takes the lease by bumping the epoch.
//! - Appends `NOTIFY` the channel `SCHEMA_journal` with their last sequence; followers `LISTEN` on a connection of
//!   their own and read by sequence when woken.
//! - `vigie_nodes` lists the nodes with their role and position (`vigie cluster status`); `vigie_cluster` holds the
//!   secret the nodes share to trust each other's forwarded requests.

use crate::{application_name, err, pg_config, within, Fail, PgOptions, PostgresStore};
use chrono::{DateTime, Utc};
use std::time::Duration;
use tokio_postgres::{AsyncMessage, Client, NoTls};
use vigie_journal::cluster::{Leader, Lease, LeaseRound, NodeSeen, Waker};
use vigie_journal::StoreError;

/// The channel followers listen on.
pub fn channel(schema: &str) -> String {
    format!("{schema}_journal")
}

/// The advisory lock's key: one per schema (FNV-1a of its name), so that journals in other schemas of the same
/// database do not share a leader.
fn lock_key(schema: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in schema.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// The lease, on a connection of its own.
pub struct PgLease {
    db: PostgresStore,
    node: String,
    address: String,
    ttl: Duration,
    key: i64,
    /// Whether this connection holds the advisory lock.
    locked: bool,
}

impl PgLease {
    pub fn connect(
        url: &str,
        schema: &str,
        opts: PgOptions,
        node: &str,
        address: &str,
        ttl: Duration,
    ) -> Result<PgLease, StoreError> {
        let db = PostgresStore::connect_node(url, schema, opts, Some(node))?;
        Ok(PgLease {
            db,
            node: node.to_string(),
            address: address.to_string(),
            ttl,
            key: lock_key(schema),
            locked: false,
        })
    }

    fn round_inner(&mut self, held: Option<u64>, position: u64) -> Result<LeaseRound, StoreError> {
        let (me, addr, ttl_s, key, was_locked) =
            (self.node.clone(), self.address.clone(), self.ttl.as_secs_f64(), self.key, self.locked);
        let db = &mut self.db;
        let (held, locked, leader, head) = on_conn!(db, |c, limit| {
            let cl = &c.client;
            let (mut held, mut locked) = (held, was_locked);
            if let Some(epoch) = held {
                let renewed = within(
                    "renewing the lease",
                    limit,
                    cl.query_opt(
                        "UPDATE vigie_lease SET renewed_at = clock_timestamp()
                         WHERE id = 1 AND epoch = $1 AND holder = $2 RETURNING epoch",
                        &[&(epoch as i64), &me],
                    ),
                )
                .await?;
                if renewed.is_none() {
                    held = None;
                    if locked {
                        within("unlocking", limit, cl.execute("SELECT pg_advisory_unlock_all()", &[])).await?;
                        locked = false;
                    }
                }
            }
            if !locked {
                let row = within("locking", limit, cl.query_one("SELECT pg_try_advisory_lock($1)", &[&key])).await?;
                locked = row.get(0);
            }
            if held.is_none() {
                let row = within(
                    "reading the lease",
                    limit,
                    cl.query_one(
                        "SELECT epoch, holder, EXTRACT(EPOCH FROM clock_timestamp() - renewed_at)::float8
                         FROM vigie_lease WHERE id = 1",
                        &[],
                    ),
                )
                .await?;
                let (epoch, holder, age): (i64, String, f64) = (row.get(0), row.get(1), row.get(2));
                // With the lock, nobody else holds it: the holder's connection is gone (or there was none). Without
                // it, the holder is connected but has not renewed within the ttl: paused or cut off.
                if locked || (age > ttl_s && holder != me) {
                    if !holder.is_empty() && holder != me {
                        // No transaction of the deposed node may outlive the takeover (its share lock on the lease
                        // row would hold the takeover up, and it must not commit after it).
                        within(
                            "ending the deposed node's sessions",
                            limit,
                            cl.execute(
                                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                                 WHERE application_name = $1 AND pid <> pg_backend_pid()",
                                &[&application_name(&holder)],
                            ),
                        )
                        .await?;
                    }
                    let taken = within(
                        "taking the lease",
                        limit,
                        cl.query_opt(
                            "UPDATE vigie_lease SET epoch = epoch + 1, holder = $1, address = $2,
                                                    renewed_at = clock_timestamp()
                             WHERE id = 1 AND epoch = $3 RETURNING epoch",
                            &[&me, &addr, &epoch],
                        ),
                    )
                    .await?;
                    held = taken.map(|r| r.get::<_, i64>(0) as u64);
                }
            }
            let row = within(
                "reading the lease",
                limit,
                cl.query_one(
                    "SELECT l.epoch, l.holder, l.address, (SELECT COALESCE(MAX(seq), 0) FROM journal)
                     FROM vigie_lease l WHERE l.id = 1",
                    &[],
                ),
            )
            .await?;
            let holder: String = row.get(1);
            let leader = (!holder.is_empty()).then(|| Leader {
                name: holder,
                address: row.get(2),
                epoch: row.get::<_, i64>(0) as u64,
            });
            let head = row.get::<_, i64>(3) as u64;
            let role = if held.is_some() { "leader" } else { "follower" };
            within(
                "registering the node",
                limit,
                cl.execute(
                    "INSERT INTO vigie_nodes (name, address, role, position, seen_at)
                     VALUES ($1, $2, $3, $4, clock_timestamp())
                     ON CONFLICT (name) DO UPDATE SET address = EXCLUDED.address, role = EXCLUDED.role,
                         position = EXCLUDED.position, seen_at = EXCLUDED.seen_at",
                    &[&me, &addr, &role, &(position as i64)],
                ),
            )
            .await?;
            Ok::<_, Fail>((held, locked, leader, head))
        })?;
        self.locked = locked;
        Ok(LeaseRound { held, leader, head })
    }
}

impl Lease for PgLease {
    fn round(&mut self, held: Option<u64>, position: u64) -> Result<LeaseRound, StoreError> {
        let r = self.round_inner(held, position);
        if r.is_err() {
            // A round that failed half-way may hold the lock without the lease: the session goes, and the lock
            // with it.
            self.db.conn = None;
            self.locked = false;
        }
        r
    }

    fn resign(&mut self, held: u64) {
        let me = self.node.clone();
        let r = self.resign_inner(held, me);
        if let Err(e) = r {
            tracing::warn!(error = %e, "could not give the lease back; it expires by itself");
        }
        self.locked = false;
    }

    fn secret(&mut self) -> Result<String, StoreError> {
        self.secret_inner()
    }
}

impl PgLease {
    fn resign_inner(&mut self, held: u64, me: String) -> Result<(), StoreError> {
        let db = &mut self.db;
        on_conn!(db, |c, limit| {
            within(
                "resigning",
                limit,
                c.client.execute(
                    "UPDATE vigie_lease SET renewed_at = 'epoch' WHERE id = 1 AND epoch = $1 AND holder = $2",
                    &[&(held as i64), &me],
                ),
            )
            .await?;
            within("unlocking", limit, c.client.execute("SELECT pg_advisory_unlock_all()", &[])).await?;
            Ok::<_, Fail>(())
        })
    }

    fn secret_inner(&mut self) -> Result<String, StoreError> {
        let db = &mut self.db;
        on_conn!(db, |c, limit| {
            within(
                "creating the cluster's secret",
                limit,
                c.client.execute(
                    "INSERT INTO vigie_cluster (id, secret)
                     VALUES (1, replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))
                     ON CONFLICT (id) DO NOTHING",
                    &[],
                ),
            )
            .await?;
            let row = within(
                "reading the cluster's secret",
                limit,
                c.client.query_one("SELECT secret FROM vigie_cluster WHERE id = 1", &[]),
            )
            .await?;
            Ok::<String, Fail>(row.get(0))
        })
    }
}

/// What `vigie cluster status` reads from the database.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClusterView {
    pub leader: Option<Leader>,
    /// Seconds since the lease was renewed.
    pub lease_age_s: f64,
    pub head: u64,
    pub nodes: Vec<NodeSeen>,
}

impl PostgresStore {
    /// The cluster as the database holds it: the lease, the journal's head and every node seen.
    pub fn cluster_view(&mut self) -> Result<ClusterView, StoreError> {
        on_conn!(self, |c, limit| {
            let l = within(
                "reading the lease",
                limit,
                c.client.query_one(
                    "SELECT epoch, holder, address, EXTRACT(EPOCH FROM clock_timestamp() - renewed_at)::float8,
                            (SELECT COALESCE(MAX(seq), 0) FROM journal)
                     FROM vigie_lease WHERE id = 1",
                    &[],
                ),
            )
            .await?;
            let holder: String = l.get(1);
            let leader = (!holder.is_empty()).then(|| Leader {
                name: holder,
                address: l.get(2),
                epoch: l.get::<_, i64>(0) as u64,
            });
            let rows = within(
                "reading the nodes",
                limit,
                c.client.query(
                    "SELECT name, address, role, position, EXTRACT(EPOCH FROM seen_at)::float8
                     FROM vigie_nodes ORDER BY name",
                    &[],
                ),
            )
            .await?;
            let nodes = rows
                .iter()
                .map(|r| NodeSeen {
                    name: r.get(0),
                    address: r.get(1),
                    role: r.get(2),
                    position: r.get::<_, i64>(3) as u64,
                    seen_at: DateTime::<Utc>::from_timestamp_micros((r.get::<_, f64>(4) * 1e6) as i64)
                        .unwrap_or_default(),
                })
                .collect();
            Ok::<_, Fail>(ClusterView { leader, lease_age_s: l.get(3), head: l.get::<_, i64>(4) as u64, nodes })
        })
    }

    /// Removes a node from the list (`vigie cluster forget`): a drained node stops appearing.
    pub fn forget_node(&mut self, name: &str) -> Result<u64, StoreError> {
        on_conn!(self, |c, limit| {
            within("forgetting the node", limit, c.client.execute("DELETE FROM vigie_nodes WHERE name = $1", &[&name]))
                .await
        })
    }
}

/// Wakes a follower when the leader appends: `LISTEN` on a connection of its own.
pub struct PgWaker {
    rt: tokio::runtime::Runtime,
    config: tokio_postgres::Config,
    channel: String,
    limit: Duration,
    conn: Option<(Client, tokio::sync::mpsc::UnboundedReceiver<u64>)>,
}

impl PgWaker {
    pub fn connect(url: &str, schema: &str, opts: PgOptions, node: &str) -> Result<PgWaker, StoreError> {
        let (config, _) = pg_config(url, schema, opts, Some(node))?;
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(err)?;
        Ok(PgWaker { rt, config, channel: channel(schema), limit: opts.connect_timeout, conn: None })
    }

    fn listen(&mut self) -> Result<(), StoreError> {
        let (cfg, channel, limit) = (self.config.clone(), self.channel.clone(), self.limit);
        let opened = self.rt.block_on(async move {
            let fut = async move {
                let (client, mut connection) = cfg.connect(NoTls).await?;
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                tokio::spawn(async move {
                    // Drives the connection and hands its notifications over; ends (dropping `tx`) with it.
                    while let Some(m) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                        match m {
                            Ok(AsyncMessage::Notification(n)) => {
                                if tx.send(n.payload().parse().unwrap_or(0)).is_err() {
                                    break;
                                }
                            }
                            Ok(_) => {}
                            Err(_) => break,
                        }
                    }
                });
                client.batch_execute(&format!("LISTEN {channel}")).await?;
                Ok((client, rx))
            };
            within("listening", limit, fut).await
        });
        match opened {
            Ok(c) => {
                self.conn = Some(c);
                Ok(())
            }
            Err(Fail::Pg(e)) => Err(err(crate::describe(&e))),
            Err(Fail::TimedOut(what, d)) => Err(err(format!("no answer within {} s ({what})", d.as_secs_f64()))),
            Err(Fail::Store(e)) => Err(e),
        }
    }
}

impl Waker for PgWaker {
    fn wait(&mut self, timeout: Duration) -> Result<bool, StoreError> {
        if self.conn.as_ref().is_none_or(|(c, _)| c.is_closed()) {
            self.conn = None;
            self.listen()?;
        }
        let (_, rx) = self.conn.as_mut().expect("listening");
        let got = self.rt.block_on(async { tokio::time::timeout(timeout, rx.recv()).await });
        match got {
            Ok(Some(_)) => {
                while rx.try_recv().is_ok() {}
                Ok(true)
            }
            Ok(None) => {
                self.conn = None;
                Err(err("the listening connection closed"))
            }
            Err(_) => Ok(false),
        }
    }
}
