//! HTTP_GET and SSL_GET: fetch each `url`, compare its status code and the MD5 digest of its body.
//!
//! The digest is the one keepalived's `genhash` prints: MD5 over the body bytes exactly as they
//! arrive after the header block (no de-chunking), so a digest made with either tool fits the
//! other. The body is hashed as it streams; `max_body` bounds how much is read, and
//! `connect_timeout` bounds the whole exchange, so a huge or trickling body cannot hurt us.
//! Only a URL with a `regex` keeps body bytes, and only the first `max_regex_body` of them
//! (64 KiB by default): the regex sees that prefix.

use std::fmt::{self, Write as _};
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::net::{Human, connect_tcp, within};
use crate::tcp::round_micros;
use crate::{CheckFuture, Checker, ConnectOptions, Error, Outcome};

/// The request line and connection header keepalived's `http_protocol` selects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum HttpProtocol {
    /// `1.0`: an HTTP/1.0 request (keepalived's default).
    #[default]
    Http10,
    /// `1.0C`: HTTP/1.0 with `Connection: close`.
    Http10Close,
    /// `1.1`: HTTP/1.1, which always sends `Connection: close`.
    Http11,
}

/// An inclusive range of status codes (`200`, `200-299`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StatusRange {
    /// Lowest accepted code.
    pub low: u16,
    /// Highest accepted code.
    pub high: u16,
}

impl StatusRange {
    /// keepalived's default: any 2xx.
    pub const SUCCESS: Self = Self {
        low: 200,
        high: 299,
    };

    /// Parses keepalived's `status_code` words: `200 301-302 400-499`.
    pub fn parse_list(words: &str) -> Result<Vec<Self>, Error> {
        words.split_whitespace().map(str::parse).collect()
    }

    /// True when `code` is in the range.
    pub fn contains(&self, code: u16) -> bool {
        (self.low..=self.high).contains(&code)
    }
}

impl std::str::FromStr for StatusRange {
    type Err = Error;

    /// keepalived's rule, from `keepalived_conf::value` (the one place it is written), so a
    /// configuration `lvskitd -t` accepts always builds its checker.
    fn from_str(word: &str) -> Result<Self, Error> {
        let range: keepalived_conf::model::StatusRange = word
            .parse()
            .map_err(|_| Error::StatusCode(word.to_owned()))?;
        Ok(Self {
            low: range.low,
            high: range.high,
        })
    }
}

impl fmt::Display for StatusRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.low == self.high {
            write!(f, "{}", self.low)
        } else {
            write!(f, "{}-{}", self.low, self.high)
        }
    }
}

/// One `url` block: what to fetch and what the answer must look like.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UrlCheck {
    /// `path`, as sent in the request line (`/`, `/health?deep=1`).
    pub path: String,
    /// `status_code`: the accepted codes (empty means keepalived's default, 200-299).
    pub status_code: Vec<StatusRange>,
    /// `digest`: the MD5 of the body, as `genhash` prints it.
    pub digest: Option<[u8; 16]>,
    /// `virtualhost` for this URL, overriding the checker's.
    pub virtualhost: Option<String>,
    /// `regex` (with `regex_no_match`, `regex_options`, `regex_min_offset`,
    /// `regex_max_offset`): what the body must (or must not) contain.
    pub regex: Option<BodyRegex>,
}

/// `regex` of a `url` block: a pattern searched for in the body.
///
/// The pattern is compiled by the `regex` crate, whose syntax is PCRE2's for what both have
/// (classes, repetition, alternation, anchors, `(?i)` flags); PCRE2-only constructs
/// (backreferences, look-around) are refused when the check is built, never at check time.
/// The match runs in time linear in the body, and the compiled program is bounded
/// ([`BodyRegex::SIZE_LIMIT`]), so `regex_stack` has nothing to size and is not needed.
#[derive(Clone, Debug)]
pub struct BodyRegex {
    pattern: String,
    options: Vec<String>,
    regex: regex::bytes::Regex,
    /// `regex_no_match`: the check fails when the pattern is found.
    pub no_match: bool,
    /// `regex_min_offset`: where in the body the search starts.
    pub min_offset: usize,
    /// `regex_max_offset`: the last body offset where a match may start.
    pub max_offset: Option<usize>,
}

impl BodyRegex {
    /// The most memory the compiled pattern may take.
    pub const SIZE_LIMIT: usize = 1 << 20;

    /// Compiles `pattern` with keepalived's `regex_options` words. `caseless`, `multiline`,
    /// `dotall`, `extended`, `ungreedy`, `utf`, `ucp`, `never_utf`, `never_ucp` change the
    /// match; `no_auto_capture`, `no_auto_possess`, `no_dotstar_anchor`, `no_start_optimize`,
    /// `dupnames`, `auto_callout`, `use_offset_limit` only tune PCRE2 and are accepted; the
    /// others are refused.
    pub fn new(pattern: &str, options: &[String]) -> Result<Self, Error> {
        let mut builder = regex::bytes::RegexBuilder::new(pattern);
        builder
            .size_limit(Self::SIZE_LIMIT)
            .dfa_size_limit(Self::SIZE_LIMIT);
        for option in options {
            match option.as_str() {
                "caseless" => builder.case_insensitive(true),
                "multiline" => builder.multi_line(true),
                "dotall" => builder.dot_matches_new_line(true),
                "extended" => builder.ignore_whitespace(true),
                "ungreedy" => builder.swap_greed(true),
                "utf" | "ucp" => builder.unicode(true),
                "never_utf" | "never_ucp" => builder.unicode(false),
                "no_auto_capture" | "no_auto_possess" | "no_dotstar_anchor"
                | "no_start_optimize" | "dupnames" | "auto_callout" | "use_offset_limit" => {
                    &mut builder
                }
                other => {
                    return Err(Error::Regex(format!(
                        "regex_options {other} is not supported"
                    )));
                }
            };
        }
        let regex = builder
            .build()
            .map_err(|e| Error::Regex(format!("{pattern:?}: {e}")))?;
        Ok(Self {
            pattern: pattern.to_owned(),
            options: options.to_vec(),
            regex,
            no_match: false,
            min_offset: 0,
            max_offset: None,
        })
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether `body` passes: the pattern found (not found with `no_match`) at a start between
    /// `min_offset` and `max_offset`.
    pub fn passes(&self, body: &[u8]) -> bool {
        let found = body.len() >= self.min_offset
            && self
                .regex
                .find_at(body, self.min_offset)
                .is_some_and(|m| self.max_offset.is_none_or(|max| m.start() <= max));
        found != self.no_match
    }
}

impl PartialEq for BodyRegex {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern
            && self.options == other.options
            && self.no_match == other.no_match
            && self.min_offset == other.min_offset
            && self.max_offset == other.max_offset
    }
}

impl Eq for BodyRegex {}

impl Hash for BodyRegex {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.pattern.hash(state);
        self.options.hash(state);
        self.no_match.hash(state);
        self.min_offset.hash(state);
        self.max_offset.hash(state);
    }
}

impl UrlCheck {
    /// A URL checked for a 2xx status only.
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            status_code: Vec::new(),
            digest: None,
            virtualhost: None,
            regex: None,
        }
    }

    /// Sets `status_code` from keepalived's words (`200`, `200-299 401`).
    pub fn status_code(mut self, words: &str) -> Result<Self, Error> {
        self.status_code = StatusRange::parse_list(words)?;
        Ok(self)
    }

    /// Sets `digest` from its 32 hex digits.
    pub fn digest(mut self, hex: &str) -> Result<Self, Error> {
        self.digest = Some(parse_digest(hex)?);
        Ok(self)
    }

    /// Sets `virtualhost`.
    #[must_use]
    pub fn virtualhost(mut self, host: impl Into<String>) -> Self {
        self.virtualhost = Some(host.into());
        self
    }

    fn accepts(&self, code: u16) -> bool {
        if self.status_code.is_empty() {
            StatusRange::SUCCESS.contains(code)
        } else {
            self.status_code.iter().any(|r| r.contains(code))
        }
    }

    fn expected(&self) -> String {
        let ranges = if self.status_code.is_empty() {
            std::slice::from_ref(&StatusRange::SUCCESS)
        } else {
            &self.status_code[..]
        };
        ranges
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Parses 32 hex digits into an MD5 sum.
pub fn parse_digest(hex: &str) -> Result<[u8; 16], Error> {
    let bad = || Error::Digest(hex.to_owned());
    if hex.len() != 32 || !hex.is_ascii() {
        return Err(bad());
    }
    let mut digest = [0; 16];
    for (i, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(digest)
}

/// An MD5 sum in lower-case hex, as `genhash` prints it.
pub fn digest_hex(digest: &[u8; 16]) -> String {
    digest.iter().fold(String::with_capacity(32), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// TLS for SSL_GET, with rustls.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TlsOptions {
    /// `enable_sni`: send the virtual host name as SNI in the handshake.
    pub enable_sni: bool,
    /// Verify the server's certificate chain and name. Off by default, as in keepalived, where
    /// real servers commonly carry certificates for the public name, not for their own address.
    pub verify: bool,
    /// PEM file of trusted CAs for `verify` (default: /etc/ssl/certs/ca-certificates.crt).
    pub ca_file: Option<PathBuf>,
    config: ConfigCache,
}

impl TlsOptions {
    /// keepalived's SSL_GET defaults: no SNI, no verification.
    pub fn new() -> Self {
        Self::default()
    }

    /// The rustls client configuration, built once per options value.
    fn client_config(&self) -> Result<Arc<ClientConfig>, String> {
        self.config
            .0
            .get_or_init(|| build_client_config(self))
            .clone()
    }
}

/// Caches the rustls configuration; ignored when comparing options.
#[derive(Clone, Default)]
struct ConfigCache(Arc<OnceLock<Result<Arc<ClientConfig>, String>>>);

impl PartialEq for ConfigCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for ConfigCache {}

impl Hash for ConfigCache {
    fn hash<H: Hasher>(&self, _: &mut H) {}
}

impl fmt::Debug for ConfigCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConfigCache")
    }
}

fn build_client_config(options: &TlsOptions) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up: {e}"))?;
    let mut config = if options.verify {
        let path = options
            .ca_file
            .clone()
            .unwrap_or_else(|| PathBuf::from("/etc/ssl/certs/ca-certificates.crt"));
        let failed = |reason: String| {
            Error::CaFile {
                path: path.display().to_string(),
                reason,
            }
            .to_string()
        };
        let mut roots = RootCertStore::empty();
        let certs = CertificateDer::pem_file_iter(&path).map_err(|e| failed(e.to_string()))?;
        for cert in certs {
            let cert = cert.map_err(|e| failed(e.to_string()))?;
            roots.add(cert).map_err(|e| failed(e.to_string()))?;
        }
        if roots.is_empty() {
            return Err(failed("no certificate in it".into()));
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(
                provider.signature_verification_algorithms,
            )))
            .with_no_client_auth()
    };
    config.enable_sni = options.enable_sni;
    Ok(Arc::new(config))
}

/// Accepts any certificate (keepalived's default), still checking the handshake signatures.
#[derive(Debug)]
struct AnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// HTTP_GET (or SSL_GET when `tls` is set): every `url` must answer with an accepted status and,
/// where a digest is given, a body with that MD5.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HttpGet {
    /// Where to connect and how; `connect_timeout` bounds each URL's whole exchange.
    pub connect: ConnectOptions,
    /// The `url` blocks, checked in order; the first that fails fails the attempt.
    pub urls: Vec<UrlCheck>,
    /// `virtualhost` for URLs that do not set their own (default: the connect address).
    pub virtualhost: Option<String>,
    /// `http_protocol`.
    pub http_protocol: HttpProtocol,
    /// TLS (SSL_GET); `None` for HTTP_GET.
    pub tls: Option<TlsOptions>,
    /// The most header bytes read before giving up (default 16 KiB).
    pub max_header: usize,
    /// The most body bytes read for a digest or a regex before giving up (default 1 MiB).
    pub max_body: u64,
    /// The most body bytes kept for a `regex` (default 64 KiB): the regex sees this prefix.
    pub max_regex_body: usize,
}

/// What one URL answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// MD5 of the body (of nothing, when the body was not read).
    pub digest: [u8; 16],
    /// Body bytes read.
    pub body_len: u64,
    /// The first body bytes, kept when the URL has a `regex`.
    pub body: Vec<u8>,
}

pub(crate) const DEFAULT_MAX_HEADER: usize = 16 * 1024;
pub(crate) const DEFAULT_MAX_BODY: u64 = 1024 * 1024;
pub(crate) const DEFAULT_MAX_REGEX_BODY: usize = 64 * 1024;

impl HttpGet {
    /// HTTP_GET of these URLs.
    pub fn new(connect: ConnectOptions, urls: Vec<UrlCheck>) -> Self {
        Self {
            connect,
            urls,
            virtualhost: None,
            http_protocol: HttpProtocol::default(),
            tls: None,
            max_header: DEFAULT_MAX_HEADER,
            max_body: DEFAULT_MAX_BODY,
            max_regex_body: DEFAULT_MAX_REGEX_BODY,
        }
    }

    /// SSL_GET of these URLs.
    pub fn ssl(connect: ConnectOptions, urls: Vec<UrlCheck>, tls: TlsOptions) -> Self {
        Self {
            tls: Some(tls),
            ..Self::new(connect, urls)
        }
    }

    /// A checker for one URL written `http://HOST[:PORT]/PATH` or `https://...`, as `genhash`
    /// takes it. A host name is resolved here (blocking) and used as virtual host and SNI.
    pub fn from_url(url: &str) -> Result<Self, Error> {
        let bad = || Error::Url(url.to_owned());
        let (tls, rest) = if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else {
            return Err(bad());
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let default_port = if tls { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(bad)?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad())?,
                None if after.is_empty() => default_port,
                None => return Err(bad()),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((host, p)) => (host, p.parse().map_err(|_| bad())?),
                None => (authority, default_port),
            }
        };
        if host.is_empty() {
            return Err(bad());
        }
        let (ip, name) = match host.parse::<IpAddr>() {
            Ok(ip) => (ip, None),
            Err(_) => {
                let ip = (host, port)
                    .to_socket_addrs()
                    .ok()
                    .and_then(|mut addrs| addrs.next())
                    .ok_or_else(bad)?
                    .ip();
                (ip, Some(host.to_owned()))
            }
        };
        let connect = ConnectOptions::new(SocketAddr::new(ip, port));
        let mut check = Self::new(connect, vec![UrlCheck::new(path)]);
        check.virtualhost = name.clone();
        if tls {
            check.tls = Some(TlsOptions {
                enable_sni: name.is_some(),
                ..TlsOptions::default()
            });
        }
        Ok(check)
    }

    fn host_for(&self, url: &UrlCheck) -> String {
        url.virtualhost
            .clone()
            .or_else(|| self.virtualhost.clone())
            .unwrap_or_else(|| self.connect.target().to_string())
    }

    fn request(&self, url: &UrlCheck) -> String {
        let (version, connection) = match self.http_protocol {
            HttpProtocol::Http10 => ("1.0", ""),
            HttpProtocol::Http10Close => ("1.0", "Connection: close\r\n"),
            HttpProtocol::Http11 => ("1.1", "Connection: close\r\n"),
        };
        format!(
            "GET {} HTTP/{version}\r\nUser-Agent: lvskit-healthcheck\r\nHost: {}\r\n{connection}\r\n",
            url.path,
            self.host_for(url)
        )
    }

    /// Fetches one URL under `connect_timeout`; reads and hashes the body when `read_body` or
    /// when the URL has a `regex` (then its first `max_regex_body` bytes are kept).
    /// `genhash` is this with `read_body` set.
    pub async fn fetch(&self, url: &UrlCheck, read_body: bool) -> Result<Response, String> {
        let target = self.connect.target();
        let keep = if url.regex.is_some() {
            self.max_regex_body
        } else {
            0
        };
        let read_body = read_body || url.regex.is_some();
        within(self.connect.connect_timeout, async {
            let stream = connect_tcp(&self.connect).await?;
            let request = self.request(url);
            match &self.tls {
                None => {
                    exchange(
                        stream,
                        &request,
                        read_body,
                        self.max_header,
                        self.max_body,
                        keep,
                    )
                    .await
                }
                Some(tls) => {
                    let config = tls.client_config()?;
                    let name = match url.virtualhost.as_ref().or(self.virtualhost.as_ref()) {
                        Some(host) if tls.enable_sni || tls.verify => {
                            ServerName::try_from(host.clone()).map_err(|e| {
                                format!("virtualhost {host:?} is not a TLS server name: {e}")
                            })?
                        }
                        _ => ServerName::IpAddress(self.connect.connect_ip.into()),
                    };
                    let stream = tokio_rustls::TlsConnector::from(config)
                        .connect(name, stream)
                        .await
                        .map_err(|e| format!("TLS handshake with {target} failed: {e}"))?;
                    exchange(
                        stream,
                        &request,
                        read_body,
                        self.max_header,
                        self.max_body,
                        keep,
                    )
                    .await
                }
            }
        })
        .await
        .map_err(|reason| format!("GET {} on {target}: {reason}", url.path))
    }

    async fn run(&self) -> Outcome {
        let started = Instant::now();
        let mut passed = Vec::with_capacity(self.urls.len());
        for url in &self.urls {
            let response = match self.fetch(url, url.digest.is_some()).await {
                Ok(response) => response,
                Err(reason) => return Outcome::down(reason),
            };
            let target = self.connect.target();
            if !url.accepts(response.status) {
                return Outcome::down(format!(
                    "GET {} on {target}: status {}, expected {}",
                    url.path,
                    response.status,
                    url.expected()
                ));
            }
            if let Some(expected) = &url.digest
                && *expected != response.digest
            {
                return Outcome::down(format!(
                    "GET {} on {target}: body digest {}, expected {}",
                    url.path,
                    digest_hex(&response.digest),
                    digest_hex(expected)
                ));
            }
            if let Some(regex) = &url.regex
                && !regex.passes(&response.body)
            {
                return Outcome::down(format!(
                    "GET {} on {target}: body {} /{}/",
                    url.path,
                    if regex.no_match {
                        "matches"
                    } else {
                        "does not match"
                    },
                    regex.pattern()
                ));
            }
            passed.push(format!("{} {}", url.path, response.status));
        }
        Outcome::up(format!(
            "GET on {}: {} in {}",
            self.connect.target(),
            passed.join(", "),
            Human(round_micros(started.elapsed()))
        ))
    }
}

impl Checker for HttpGet {
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(self.run())
    }

    fn timeout(&self) -> Duration {
        self.connect.connect_timeout * u32::try_from(self.urls.len().max(1)).unwrap_or(u32::MAX)
    }
}

/// Sends the request and reads the answer: the status line, the headers, and (when asked) the
/// body, hashed as it arrives, its first `keep` bytes kept.
pub(crate) async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: &str,
    read_body: bool,
    max_header: usize,
    max_body: u64,
    keep: usize,
) -> Result<Response, String> {
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("sending the request: {e}"))?;
    stream
        .flush()
        .await
        .map_err(|e| format!("sending the request: {e}"))?;
    let mut buf = vec![0u8; 4096];
    let mut head: Vec<u8> = Vec::new();
    // Where the search for the blank line resumes: only the bytes a read added (and the three
    // before them) are looked at, so a header trickled in byte by byte costs linear time.
    let mut searched = 0;
    let header_end = loop {
        if let Some(end) = find(&head[searched..], b"\r\n\r\n") {
            break searched + end + 4;
        }
        searched = head.len().saturating_sub(3);
        if head.len() > max_header {
            return Err(format!("response headers larger than {max_header} bytes"));
        }
        let n = read_some(&mut stream, &mut buf).await?;
        if n == 0 {
            return Err(if head.is_empty() {
                "connection closed without a response".into()
            } else {
                "connection closed inside the response headers".into()
            });
        }
        head.extend_from_slice(&buf[..n]);
    };
    let text = String::from_utf8_lossy(&head[..header_end]);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = parse_status_line(status_line)
        .ok_or_else(|| format!("not an HTTP status line: {:?}", truncate(status_line, 80)))?;
    let mut content_length = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse::<u64>().ok();
        }
    }
    let mut hasher = Md5::new();
    let mut body_len = 0u64;
    let mut body = Vec::new();
    if read_body {
        let mut chunk: &[u8] = &head[header_end..];
        loop {
            if let Some(length) = content_length {
                let room = usize::try_from(length - body_len).unwrap_or(usize::MAX);
                chunk = &chunk[..chunk.len().min(room)];
            }
            body_len += chunk.len() as u64;
            if body_len > max_body {
                return Err(format!("body larger than {max_body} bytes, the read limit"));
            }
            hasher.update(chunk);
            let room = keep.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if content_length.is_some_and(|length| body_len >= length) {
                break;
            }
            let n = read_some(&mut stream, &mut buf).await?;
            if n == 0 {
                if let Some(length) = content_length {
                    return Err(format!(
                        "connection closed after {body_len} of {length} body bytes"
                    ));
                }
                break;
            }
            chunk = &buf[..n];
        }
    }
    Ok(Response {
        status,
        digest: hasher.finalize().into(),
        body_len,
        body,
    })
}

/// One read; a TLS peer that closes without close_notify counts as a clean end.
async fn read_some<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut [u8]) -> Result<usize, String> {
    match stream.read(buf).await {
        Ok(n) => Ok(n),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(0),
        Err(e) => Err(format!("reading the response: {e}")),
    }
}

fn parse_status_line(line: &str) -> Option<u16> {
    let mut words = line.split_whitespace();
    let version = words.next()?;
    if !version.starts_with("HTTP/") {
        return None;
    }
    // Three digits, 100 to 999 (RFC 9110 §15): not "044", "+44" or " 44", which `parse` takes.
    let code = words.next()?;
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) || code.starts_with('0') {
        return None;
    }
    code.parse().ok()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_regex_offsets_options_and_refusals() {
        let regex = BodyRegex::new("ok", &[]).unwrap();
        assert!(regex.passes(b"all ok"));
        assert!(!regex.passes(b"all fine"));
        let mut late = regex.clone();
        late.max_offset = Some(3);
        assert!(!late.passes(b"all ok"), "the match starts at 4");
        assert!(late.passes(b"ok"));
        late.min_offset = 1;
        assert!(!late.passes(b"ok"), "the search starts after the match");
        assert!(late.passes(b" ok"));
        let dotall = BodyRegex::new("a.b", &["dotall".into()]).unwrap();
        assert!(dotall.passes(b"a\nb"));
        assert!(!BodyRegex::new("a.b", &[]).unwrap().passes(b"a\nb"));
        assert!(
            BodyRegex::new("(a)\\1", &[]).is_err(),
            "backreferences are PCRE2 only"
        );
        assert!(BodyRegex::new("a", &["firstline".into()]).is_err());
        // Equal when written the same: a reload keeps the check.
        assert_eq!(regex, BodyRegex::new("ok", &[]).unwrap());
        assert_ne!(regex, late);
    }

    #[test]
    fn status_words() {
        let ranges = StatusRange::parse_list("200 301-302").unwrap();
        assert_eq!(
            ranges,
            [
                StatusRange {
                    low: 200,
                    high: 200
                },
                StatusRange {
                    low: 301,
                    high: 302
                }
            ]
        );
        assert!(matches!(
            StatusRange::parse_list("200 3x"),
            Err(Error::StatusCode(w)) if w == "3x"
        ));
        assert!("299-200".parse::<StatusRange>().is_err());
    }

    #[test]
    fn digest_round_trip() {
        let hex = "9b3a0c85a887a256d6939da88aabd8cd";
        assert_eq!(digest_hex(&parse_digest(hex).unwrap()), hex);
        assert!(parse_digest("9b3a").is_err());
    }

    #[test]
    fn urls() {
        let check = HttpGet::from_url("https://127.0.0.1:8443/x?y").unwrap();
        assert_eq!(check.connect.target(), "127.0.0.1:8443".parse().unwrap());
        assert_eq!(check.urls[0].path, "/x?y");
        assert!(check.tls.is_some());
        let check = HttpGet::from_url("http://[::1]").unwrap();
        assert_eq!(check.connect.target(), "[::1]:80".parse().unwrap());
        assert_eq!(check.urls[0].path, "/");
        assert!(HttpGet::from_url("ftp://x/").is_err());
    }

    #[test]
    fn request_names_the_virtual_host() {
        let mut check = HttpGet::from_url("http://127.0.0.1:81/a").unwrap();
        assert!(
            check
                .request(&check.urls[0])
                .contains("Host: 127.0.0.1:81\r\n")
        );
        check.virtualhost = Some("www.example.com".into());
        check.http_protocol = HttpProtocol::Http11;
        let request = check.request(&check.urls[0]);
        assert!(request.starts_with("GET /a HTTP/1.1\r\n"));
        assert!(request.contains("Host: www.example.com\r\nConnection: close\r\n\r\n"));
    }
}
