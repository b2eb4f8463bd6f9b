//! The thin HTTP/1.1 layer: parse a request, hand it to the [`World`], write its answer — or cut the
//! connection, or answer late, when a fault says so. Hand-written on tokio rather than on hyper so
//! faults can misbehave at the byte level (a connection closed without an answer).
//!
//! [`Emulator::start`] binds 127.0.0.1:0 on its own thread and runtime and stops on drop.

use crate::tls::TestCa;
use crate::world::{Request, Response, World};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Largest request head and body accepted (uploads of the upload issue are bigger than any API call).
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 256 * 1024 * 1024;

/// A running emulator. Dropping it stops the server and joins its thread.
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    ca: Option<TestCa>,
    world: Arc<Mutex<World>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Starts an empty world with the default scenario on 127.0.0.1 (a free port).
    pub fn start() -> Self {
        Self::start_with(World::default())
    }

    /// Starts `world` on 127.0.0.1 (a free port).
    ///
    /// # Panics
    /// If no loopback port can be bound (the machine is out of ports).
    pub fn start_with(world: World) -> Self {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0)), world).expect("bind 127.0.0.1:0")
    }

    /// Starts `world` on `addr` (the served mode's `--port`).
    pub fn bind(addr: SocketAddr, world: World) -> io::Result<Self> {
        Self::bind_with(addr, world, None)
    }

    /// Starts `world` on `addr`, also acting as an HTTPS proxy that ends TLS itself with a test CA's
    /// certificate for the WeChat hosts (for the real `miniprogram-ci`: `HTTPS_PROXY` + the CA in
    /// `NODE_EXTRA_CA_CERTS`).
    pub fn bind_with_tls(addr: SocketAddr, world: World) -> io::Result<Self> {
        let ca = TestCa::generate().map_err(io::Error::other)?;
        Self::bind_with(addr, world, Some(ca))
    }

    /// The test CA certificate (PEM), when started with TLS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca.as_ref().map(|c| c.ca_pem.as_str())
    }

    fn bind_with(addr: SocketAddr, world: World, ca: Option<TestCa>) -> io::Result<Self> {
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let world = Arc::new(Mutex::new(world));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let shared = Arc::clone(&world);
        let tls = ca
            .as_ref()
            .map(|c| tokio_rustls::TlsAcceptor::from(Arc::clone(&c.config)));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("wechat-emulator".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = TcpListener::from_std(std_listener) else {
                        return;
                    };
                    tokio::spawn(pusher(Arc::clone(&shared)));
                    serve(listener, shared, rx, tls).await;
                });
            })?;
        Ok(Self {
            addr,
            ca,
            world,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, the base URL to give clients.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The world, for set-up, control and the journal. Do not hold it while a client waits.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Blocks until the server stops (served mode; it stops when the process is ended).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Sends the world's pushes (scenario `push`) as WeChat does: a POST of the encrypted XML to the
/// platform's URL, answered `success`. Plain HTTP to the URL's host and port; the receiver's status
/// is logged in the world (0 when it could not be reached).
async fn pusher(world: Arc<Mutex<World>>) {
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        let pushes = world
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take_pushes();
        for p in pushes {
            let status = post(&p.url, &p.body).await.unwrap_or(0);
            world
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .record_push(&p.what, status);
        }
    }
}

async fn post(url: &str, body: &str) -> Option<u16> {
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut stream = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tokio::net::TcpStream::connect(host),
    )
    .await
    .ok()?
    .ok()?;
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut answer),
    )
    .await
    .ok()?
    .ok()?;
    let head = String::from_utf8_lossy(&answer);
    head.split_whitespace().nth(1)?.parse().ok()
}

async fn serve(
    listener: TcpListener,
    world: Arc<Mutex<World>>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    loop {
        tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let _ = stream.set_nodelay(true);
                let peer = stream.peer_addr().ok().map(|a| a.ip().to_string());
                tokio::spawn(connection(stream, peer, Arc::clone(&world), tls.clone()));
            }
        }
    }
}

/// One connection: plain HTTP, or (when TLS is on) a `CONNECT` tunnel whose TLS the emulator ends
/// itself, then the same requests inside it.
async fn connection(
    stream: tokio::net::TcpStream,
    peer: Option<String>,
    world: Arc<Mutex<World>>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let Some(reader) = requests(
        BufReader::new(stream),
        peer.as_deref(),
        &world,
        tls.is_some(),
    )
    .await
    else {
        return;
    };
    let Some(acceptor) = tls else { return };
    // The client waits for the 200 before its ClientHello, so nothing is buffered yet.
    let Ok(session) = acceptor.accept(reader.into_inner()).await else {
        return;
    };
    let _ = requests(BufReader::new(session), peer.as_deref(), &world, false).await;
}

/// Serves keep-alive requests in sequence until the client closes or asks to. Returns the stream
/// when a `CONNECT` was accepted (the caller starts TLS on it).
async fn requests<S>(
    mut reader: BufReader<S>,
    peer: Option<&str>,
    world: &Arc<Mutex<World>>,
    allow_connect: bool,
) -> Option<BufReader<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        let parsed = match read_request(&mut reader).await {
            Ok(Some(p)) => p,
            Ok(None) => return None,
            Err(_) => {
                let _ = reader.get_mut().write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
                return None;
            }
        };
        let (mut req, close) = parsed;
        req.peer = peer.map(str::to_owned);
        if req.method == "CONNECT" {
            if !allow_connect {
                let _ = reader.get_mut().write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
                return None;
            }
            reader
                .get_mut()
                .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                .await
                .ok()?;
            return Some(reader);
        }
        // The lock is held only while the world computes the answer, never across an await.
        let (resp, latency) = {
            let mut w = world.lock().unwrap_or_else(PoisonError::into_inner);
            let resp = w.handle(&req);
            (resp, w.scenario().latency_ms)
        };
        if latency > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
        }
        if let Some(d) = resp.delay {
            tokio::time::sleep(d).await;
        }
        if resp.cut {
            return None;
        }
        if reader
            .get_mut()
            .write_all(&encode(&resp, close))
            .await
            .is_err()
            || close
        {
            return None;
        }
    }
}

/// Reads one request; `Ok(None)` when the client closed between requests.
async fn read_request<S: AsyncRead + AsyncWrite + Unpin>(
    r: &mut BufReader<S>,
) -> io::Result<Option<(Request, bool)>> {
    let mut head = Vec::new();
    loop {
        let n = r.read_until(b'\n', &mut head).await?;
        if n == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        if head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n") || head == b"\r\n" {
            if head == b"\r\n" {
                head.clear();
                continue;
            }
            break;
        }
        if head.len() > MAX_HEAD {
            return Err(io::ErrorKind::InvalidData.into());
        }
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.lines();
    let mut first = lines.next().unwrap_or_default().split_whitespace();
    let (method, target, version) = (
        first.next().unwrap_or_default(),
        first.next().unwrap_or_default(),
        first.next().unwrap_or_default(),
    );
    if method.is_empty() || target.is_empty() {
        return Err(io::ErrorKind::InvalidData.into());
    }
    let mut length = 0usize;
    let mut chunked = false;
    let mut close = version == "HTTP/1.0";
    let mut expect_continue = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => {
                length = value
                    .parse()
                    .map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
            }
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            "connection" => {
                close = value.eq_ignore_ascii_case("close")
                    || (close && !value.eq_ignore_ascii_case("keep-alive"));
            }
            "expect" => expect_continue = value.eq_ignore_ascii_case("100-continue"),
            _ => {}
        }
    }
    if expect_continue {
        r.get_mut()
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .await?;
    }
    let body = if chunked {
        read_chunked(r).await?
    } else {
        if length > MAX_BODY {
            return Err(io::ErrorKind::InvalidData.into());
        }
        let mut b = vec![0; length];
        r.read_exact(&mut b).await?;
        b
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    Ok(Some((
        Request {
            method: method.to_owned(),
            path: percent_decode(path),
            query,
            body,
            peer: None,
        },
        close,
    )))
}

async fn read_chunked<S: AsyncRead + AsyncWrite + Unpin>(
    r: &mut BufReader<S>,
) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut line = String::new();
        r.read_line(&mut line).await?;
        let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
        if body.len() + size > MAX_BODY {
            return Err(io::ErrorKind::InvalidData.into());
        }
        let mut chunk = vec![0; size + 2];
        if size == 0 {
            // Trailers, then the empty line.
            loop {
                line.clear();
                r.read_line(&mut line).await?;
                if line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        r.read_exact(&mut chunk).await?;
        body.extend_from_slice(&chunk[..size]);
    }
}

fn percent_decode(s: &str) -> String {
    let hex = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                b.get(i + 1).and_then(|c| hex(*c)),
                b.get(i + 2).and_then(|c| hex(*c)),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn encode(resp: &Response, close: bool) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n",
        resp.status,
        reason(resp.status),
        resp.content_type,
        resp.body.len(),
        if close { "close" } else { "keep-alive" },
    );
    for (k, v) in &resp.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(&resp.body);
    out
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn decodes_queries() {
        assert_eq!(
            percent_decode("page%2Findex%3Faction%3D1"),
            "page/index?action=1"
        );
        assert_eq!(percent_decode("a+b%"), "a b%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%E4%BD%93"), "体");
    }
}
