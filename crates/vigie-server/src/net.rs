//! Serving connections with limits (HTTP/1.1 through hyper, plain or TLS), so that idle, half-sent or slow clients
//! cannot take the server from the others:
//!
//! - **Header timeout**: from the moment the server waits for a request (the connection opened, or the first byte
//!   of a request arrived after an idle pause), its head must be complete within `header_timeout`; otherwise the
//!   connection is closed. A TLS handshake, done in the connection's own task off the accept path, gets as long.
//! - **Keep-alive timeout**: a connection with no request in flight that moves no byte for `keep_alive` is closed;
//!   so is one whose client leaves its answer unread that long (a write waiting on a full socket).
//! - **Body timeout**: a request body must be received within `body_timeout`, and, after its first `header_timeout`,
//!   at an average of at least `body_min_rate` bytes per second since it began (a slow-loris upload is cut early,
//!   a large import on a slow link is not). A late body is answered 408 and its connection closed. The clock
//!   starts when the handler begins to read the body.
//! - **Connection bound**: at most `max_connections` at once (lowered to what the file-descriptor limit allows);
//!   beyond it a new connection is closed at once, so the file descriptors stay bounded and a client learns it
//!   straight away instead of waiting unseen in the listen queue; the timeouts above free the slots of idle and
//!   half-sent connections.
//! - **Graceful shutdown**: stop accepting, let requests in flight finish (live streams end on their own when the
//!   server's stop signal flips), close idle connections, and return once every connection has ended.
//!
//! - **A body left unread**: when a request is answered before its body was read to its end (no route, a path or
//!   content type refused, a body over the limit), the rest of the body is read and dropped if it is small
//!   ([`DRAIN_MAX`] bytes within [`DRAIN_WITHIN`]), so the connection serves the next request; otherwise the answer
//!   says `connection: close` and the connection is closed after it (without the header, a client would reuse the
//!   connection for its next request and lose it).
//!
//! Handlers get the peer's address as `ConnectInfo<access::Peer>`, as with `axum::serve`.

use crate::access::Peer;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::time::{Instant, Sleep};

/// The limits of [`serve`] (from `ServerOptions`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub header_timeout: Duration,
    pub keep_alive: Duration,
    pub body_timeout: Duration,
    /// Bytes per second; 0: no minimum rate.
    pub body_min_rate: u64,
    pub max_connections: usize,
}

/// File descriptors kept for everything but client connections (the journal, plugins' pipes, outbound checks).
const FD_RESERVE: u64 = 512;

/// The soft limit of open files, if it can be read.
pub fn fd_limit() -> Option<u64> {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into the struct it is given.
    #[allow(clippy::unnecessary_cast)]
    (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } == 0).then_some(r.rlim_cur as u64)
}

/// Raises the soft limit of open files to the hard limit; returns the limit before and after.
#[allow(clippy::unnecessary_cast)]
pub fn raise_fd_limit() -> io::Result<(u64, u64)> {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit read or write the struct they are given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let before = r.rlim_cur;
    let target = if r.rlim_max == libc::RLIM_INFINITY { 1 << 20 } else { r.rlim_max };
    if target > r.rlim_cur {
        r.rlim_cur = target;
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &r) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok((before as u64, r.rlim_cur as u64))
}

/// The connection bound that the file-descriptor limit allows.
fn connection_bound(configured: usize) -> usize {
    let configured = configured.clamp(1, u32::MAX as usize);
    let Some(fds) = fd_limit() else { return configured };
    let room = fds.saturating_sub(FD_RESERVE).max(64);
    if (configured as u64) > room {
        tracing::warn!(
            configured,
            allowed = room,
            fd_limit = fds,
            "[server] max_connections lowered to what the file-descriptor limit allows"
        );
        room as usize
    } else {
        configured
    }
}

/// Accepts connections until `shutdown` completes, then drains them (see the module's doc).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let bound = connection_bound(limits.max_connections);
    let slots = Arc::new(Semaphore::new(bound));
    let (stop_tx, stop) = watch::channel(false);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let mut shutdown = pin!(shutdown);
    let mut refusals = Refusals::default();
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors, most likely: the connection waits in the listen queue.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refusals.note(bound, peer);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (router, stop) = (router.clone(), stop.clone());
        match &acceptor {
            None => tokio::spawn(async move {
                connection(stream, peer, router, limits, stop).await;
                drop(slot);
            }),
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Some(tls) = crate::tls::handshake(&acceptor, stream, peer, limits.header_timeout).await {
                        connection(tls, peer, router, limits, stop).await;
                    }
                    drop(slot);
                })
            }
        };
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a slot until it ends.
    let _ = slots.acquire_many(bound as u32).await;
    Ok(())
}

/// Errors of one connection that `accept` reports: the next one may be fine.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// Connections closed at the bound, logged at most once a minute.
#[derive(Default)]
struct Refusals {
    since_note: u64,
    noted: Option<Instant>,
}

impl Refusals {
    fn note(&mut self, bound: usize, peer: SocketAddr) {
        self.since_note += 1;
        if self.noted.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
            tracing::warn!(
                bound,
                closed = self.since_note,
                last_peer = %peer,
                "connection limit reached ([server] max_connections): new connections are closed"
            );
            self.noted = Some(Instant::now());
            self.since_note = 0;
        }
    }
}

/// Where a connection stands, and since when.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for a request's head (the connection is new, or a request has begun to arrive).
    Head,
    /// Between requests, nothing arriving.
    Idle,
    /// Requests in flight (their answers not yet sent).
    Busy(u32),
}

#[derive(Debug, Clone, Copy)]
struct Now {
    phase: Phase,
    since: Instant,
    /// Since when a write waits for the client to read (none: writes go through).
    write_blocked: Option<Instant>,
}

struct Activity(Mutex<Now>);

impl Activity {
    fn new() -> Activity {
        Activity(Mutex::new(Now { phase: Phase::Head, since: Instant::now(), write_blocked: None }))
    }

    fn set(&self, f: impl FnOnce(&mut Now)) {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// Bytes arrived: an idle connection now waits for a head.
    fn read(&self) {
        self.set(|n| {
            if let Phase::Idle = n.phase {
                (n.phase, n.since) = (Phase::Head, Instant::now());
            }
        });
    }

    /// A write went through (`true`) or waits for the client to read.
    fn wrote(&self, through: bool) {
        self.set(|n| match (through, n.write_blocked) {
            (true, _) => n.write_blocked = None,
            (false, None) => n.write_blocked = Some(Instant::now()),
            (false, Some(_)) => {}
        });
    }

    /// A request's head arrived; busy until the returned guard (kept by its answer's body) is dropped.
    fn begin(self: &Arc<Self>) -> InFlight {
        self.set(|n| {
            n.phase = match n.phase {
                Phase::Busy(k) => Phase::Busy(k + 1),
                _ => Phase::Busy(1),
            }
        });
        InFlight(self.clone())
    }

    /// When the connection is to be closed, unless something happens: and why.
    fn deadline(&self, limits: &Limits) -> Option<(Instant, &'static str)> {
        let n = *self.0.lock().unwrap_or_else(|p| p.into_inner());
        match n.phase {
            Phase::Head => Some((n.since + limits.header_timeout, "request head not received in time")),
            Phase::Idle => Some((n.since + limits.keep_alive, "idle")),
            Phase::Busy(_) => n.write_blocked.map(|t| (t + limits.keep_alive, "the client does not read its answer")),
        }
    }
}

struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.set(|n| match n.phase {
            Phase::Busy(k) if k > 1 => n.phase = Phase::Busy(k - 1),
            _ => (n.phase, n.since) = (Phase::Idle, Instant::now()),
        });
    }
}

/// A connection's stream, telling its [`Activity`] when bytes arrive and when writes wait.
struct Watched<T> {
    io: T,
    activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        self.activity.wrote(r.is_ready());
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.activity.wrote(r.is_ready());
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let r = Pin::new(&mut self.io).poll_flush(cx);
        self.activity.wrote(r.is_ready());
        r
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Serves one connection until it ends, times out, or the server stops.
async fn connection<I>(io: I, peer: SocketAddr, router: Router, limits: Limits, mut stop: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |req| request(router.clone(), peer, limits, activity.begin(), req))
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    // hyper's own head timeout, a backstop to ours: it runs from the moment hyper waits for a head, idle time
    // included.
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout + limits.keep_alive);
    let io = TokioIo::new(Watched { io, activity: activity.clone() });
    let mut conn = pin!(builder.serve_connection(io, service));
    let mut draining = false;
    // The phase changes without waking this loop: look again at least this often (never later than a deadline
    // set meanwhile, since none is shorter).
    let every = limits.header_timeout.min(limits.keep_alive).max(Duration::from_millis(100));
    loop {
        let soon = Instant::now() + every;
        let wake = activity.deadline(&limits).map_or(soon, |(t, _)| t.min(soon));
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(%peer, error = %e, "connection ended");
                }
                return;
            }
            _ = stop.wait_for(|s| *s), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = tokio::time::sleep_until(wake) => {
                if let Some((t, why)) = activity.deadline(&limits) {
                    if Instant::now() >= t {
                        tracing::debug!(%peer, why, "connection closed");
                        return;
                    }
                }
            }
        }
    }
}

/// One request: the peer's address for the handlers, a timed body, the router; a late body makes a 408.
async fn request(
    mut router: Router,
    peer: SocketAddr,
    limits: Limits,
    in_flight: InFlight,
    req: Request<Incoming>,
) -> Result<Response<Tracked>, Infallible> {
    let late = Arc::new(AtomicBool::new(false));
    let (mut parts, body) = req.into_parts();
    parts.extensions.insert(ConnectInfo(Peer(peer)));
    let ended = Arc::new(AtomicBool::new(http_body::Body::is_end_stream(&body)));
    let (back, mut unread) = tokio::sync::oneshot::channel();
    let body = TimedBody {
        inner: Some(body),
        limits,
        started: None,
        received: 0,
        timer: None,
        late: late.clone(),
        ended: ended.clone(),
        back: Some(back),
    };
    let req = Request::from_parts(parts, Body::new(body));
    std::future::poll_fn(|cx| tower_service::Service::<Request<Body>>::poll_ready(&mut router, cx)).await?;
    let mut response = tower_service::Service::call(&mut router, req).await?;
    if late.load(Ordering::Relaxed) {
        response = (StatusCode::REQUEST_TIMEOUT, "the request body did not arrive in time\n").into_response();
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    } else if !ended.load(Ordering::Relaxed) {
        // The handler left the body unread (and dropped it): read the rest if it is small, else close.
        let drained = match unread.try_recv() {
            Ok(body) => drain(body).await,
            Err(_) => false,
        };
        if !drained {
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
    }
    Ok(response.map(|inner| Tracked { inner, _in_flight: in_flight }))
}

/// The most of a body left unread by its handler that is read and dropped to keep the connection.
pub const DRAIN_MAX: u64 = 1 << 20;
/// How long the rest of such a body may take to arrive.
pub const DRAIN_WITHIN: Duration = Duration::from_secs(1);

/// Reads the rest of a body and drops it: whether it ended within [`DRAIN_MAX`] bytes and [`DRAIN_WITHIN`].
async fn drain(mut body: Incoming) -> bool {
    if http_body::Body::size_hint(&body).lower() > DRAIN_MAX {
        return false;
    }
    let read = async {
        let mut n = 0u64;
        while let Some(frame) = std::future::poll_fn(|cx| http_body::Body::poll_frame(Pin::new(&mut body), cx)).await {
            match frame {
                Ok(f) => {
                    n += f.data_ref().map_or(0, |d| d.len() as u64);
                    if n > DRAIN_MAX {
                        return false;
                    }
                }
                Err(_) => return false,
            }
        }
        true
    };
    tokio::time::timeout(DRAIN_WITHIN, read).await.unwrap_or(false)
}

/// A request body that must arrive in time (see the module's doc).
struct TimedBody {
    /// `None` once dropped.
    inner: Option<Incoming>,
    limits: Limits,
    started: Option<Instant>,
    received: u64,
    timer: Option<Pin<Box<Sleep>>>,
    late: Arc<AtomicBool>,
    /// Read to its end.
    ended: Arc<AtomicBool>,
    /// Where the body goes back when its handler drops it unread.
    back: Option<tokio::sync::oneshot::Sender<Incoming>>,
}

impl Drop for TimedBody {
    fn drop(&mut self) {
        if let (Some(inner), Some(back)) = (self.inner.take(), self.back.take()) {
            if !self.ended.load(Ordering::Relaxed) {
                let _ = back.send(inner);
            }
        }
    }
}

impl TimedBody {
    /// When the body is late unless more arrives.
    fn due(&self, started: Instant) -> Instant {
        let all = started + self.limits.body_timeout;
        if self.limits.body_min_rate == 0 {
            return all;
        }
        let earned = Duration::from_secs_f64(self.received as f64 / self.limits.body_min_rate as f64);
        all.min(started + self.limits.header_timeout + earned)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct LateBody;

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let started = *this.started.get_or_insert_with(Instant::now);
        if this.late.load(Ordering::Relaxed) {
            return Poll::Ready(Some(Err(LateBody.into())));
        }
        let Some(inner) = this.inner.as_mut() else { return Poll::Ready(None) };
        match Pin::new(&mut *inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                }
                if inner.is_end_stream() {
                    this.ended.store(true, Ordering::Relaxed);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => {
                this.ended.store(true, Ordering::Relaxed);
                Poll::Ready(None)
            }
            Poll::Pending => loop {
                let due = this.due(started);
                if Instant::now() >= due {
                    this.late.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(LateBody.into())));
                }
                let timer = this.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(due)));
                if timer.deadline() != due {
                    timer.as_mut().reset(due);
                }
                if timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.as_ref().map_or_else(|| SizeHint::with_exact(0), |b| b.size_hint())
    }
}

/// An answer's body, holding its request in flight until it is sent (or dropped).
struct Tracked {
    inner: Body,
    _in_flight: InFlight,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
