//! A local OAuth 2.0 token endpoint for the OAUTHBEARER listener of the `single` profile: the
//! client-credentials grant of KIP-768 (`POST grant_type=client_credentials`), answering with
//! unsigned JWTs (`alg: none`) that the broker's unsecured validator accepts.
//!
//! It is a thread in the test process, std-only HTTP/1.1 on 127.0.0.1, not a child process: the
//! tokens carry everything the broker checks, so the broker never calls the endpoint and its
//! lifetime need not match the brokers'. Each test starts its own ([`TokenEndpoint::start`] or
//! [`crate::ClusterEnv::start_token_endpoint`]), so its token lifetime and request counter are
//! its own, and it stops when dropped. `cargo xtask kafka oauth-endpoint` runs one in the
//! foreground for a shell.
//!
//! A request is accepted when the client id and secret (HTTP Basic auth, or `client_id` and
//! `client_secret` form fields) match a configured client; a wrong or missing secret gets 401
//! `invalid_client`, another grant type 400 `unsupported_grant_type`. The answer is
//! `{"access_token": …, "token_type": "bearer", "expires_in": N, "scope": …}`; the token's
//! claims are `sub` (the client id, so the broker's principal is `User:<client id>`), `iat`,
//! `exp` (`iat + N`), `scope` (the requested scope, else the default) and `jti`.
//!
//! ```no_run
//! use std::time::Duration;
//! use klamm_test_harness::{shared, Profile};
//!
//! let env = shared(Profile::Single);
//! let endpoint = env.start_token_endpoint(Duration::from_secs(5))?;
//! // sasl.oauthbearer.token.endpoint.url = endpoint.url(), client id/secret from env.oauth
//! // … after a while: a client that refreshes before expiry has asked again.
//! assert!(endpoint.tokens_issued() >= 2);
//! # Ok::<(), klamm_test_harness::HarnessError>(())
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::env::ClusterEnv;
use crate::error::{HarnessError, IoContext, Result};
use crate::layout::base64_url;

/// The scope a token gets when the request names none (`OAUTH_SCOPE`).
pub const DEFAULT_SCOPE: &str = "klamm";
/// The path the endpoint serves; [`TokenEndpoint::url`] includes it.
pub const TOKEN_PATH: &str = "/oauth2/token";
/// A request larger than this is refused: the endpoint serves tests, not uploads.
const MAX_REQUEST_BYTES: usize = 64 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// What a [`TokenEndpoint`] accepts and hands out.
#[derive(Debug, Clone)]
pub struct TokenEndpointConfig {
    /// `(client id, client secret)` pairs that may ask for a token.
    pub clients: Vec<(String, String)>,
    /// `expires_in` of every token (whole seconds, at least 1).
    pub expires_in: Duration,
    /// The scope of a token whose request names none.
    pub default_scope: String,
}

impl TokenEndpointConfig {
    /// One client, tokens valid for `expires_in`, scope [`DEFAULT_SCOPE`].
    pub fn new(client_id: &str, client_secret: &str, expires_in: Duration) -> Self {
        TokenEndpointConfig {
            clients: vec![(client_id.to_owned(), client_secret.to_owned())],
            expires_in,
            default_scope: DEFAULT_SCOPE.to_owned(),
        }
    }
}

/// Request counters, shared with the serving thread.
#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    issued: AtomicU64,
    refused: AtomicU64,
}

/// A running token endpoint; dropping it stops the thread.
#[derive(Debug)]
pub struct TokenEndpoint {
    address: SocketAddr,
    counters: Arc<Counters>,
    config: Arc<Mutex<TokenEndpointConfig>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TokenEndpoint {
    /// Binds a free port on 127.0.0.1 and serves on a thread of this process.
    pub fn start(config: TokenEndpointConfig) -> Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .context(|| "binding the OAuth token endpoint on 127.0.0.1".to_owned())?;
        let address = listener
            .local_addr()
            .context(|| "reading the token endpoint's address".to_owned())?;
        let counters = Arc::new(Counters::default());
        let config = Arc::new(Mutex::new(config));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (counters, config, stop) = (counters.clone(), config.clone(), stop.clone());
            std::thread::Builder::new()
                .name("klamm-oauth-endpoint".to_owned())
                .spawn(move || serve(&listener, &counters, &config, &stop))
                .context(|| "starting the token endpoint thread".to_owned())?
        };
        Ok(TokenEndpoint {
            address,
            counters,
            config,
            stop,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:<port>/oauth2/token`, for `sasl.oauthbearer.token.endpoint.url`.
    pub fn url(&self) -> String {
        format!("http://{}{TOKEN_PATH}", self.address)
    }

    /// The address the endpoint listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// HTTP requests received so far, whatever their outcome.
    pub fn requests(&self) -> u64 {
        self.counters.requests.load(Ordering::SeqCst)
    }

    /// Tokens handed out so far: a client that refreshed before expiry has been given more
    /// than one.
    pub fn tokens_issued(&self) -> u64 {
        self.counters.issued.load(Ordering::SeqCst)
    }

    /// Requests refused so far (wrong credentials, grant type, method or path).
    pub fn refused(&self) -> u64 {
        self.counters.refused.load(Ordering::SeqCst)
    }

    /// Changes the lifetime of tokens issued from now on.
    pub fn set_expires_in(&self, expires_in: Duration) {
        self.config
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .expires_in = expires_in;
    }
}

impl Drop for TokenEndpoint {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect_timeout(&self.address, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl ClusterEnv {
    /// A [`TokenEndpoint`] that accepts this profile's OAuth clients (`OAUTH_CLIENT_ID` and
    /// `OAUTH_USER_CLIENT_ID` with their secrets) and issues tokens valid for `expires_in`.
    pub fn start_token_endpoint(&self, expires_in: Duration) -> Result<TokenEndpoint> {
        let oauth = self
            .oauth
            .as_ref()
            .ok_or(HarnessError::NotRunning(self.profile.name()))?;
        TokenEndpoint::start(TokenEndpointConfig {
            clients: vec![
                (oauth.client_id.clone(), oauth.client_secret.clone()),
                (
                    oauth.user_client_id.clone(),
                    oauth.user_client_secret.clone(),
                ),
            ],
            expires_in,
            default_scope: oauth.scope.clone(),
        })
    }
}

fn serve(
    listener: &TcpListener,
    counters: &Counters,
    config: &Mutex<TokenEndpointConfig>,
    stop: &AtomicBool,
) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(mut stream) = stream else { continue };
        // One request per connection (`Connection: close`), handled in turn: tests ask for a
        // token now and then, never under load.
        let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
        let _ = stream.set_write_timeout(Some(READ_TIMEOUT));
        let config = config.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let response = match read_request(&mut stream) {
            Ok(request) => {
                counters.requests.fetch_add(1, Ordering::SeqCst);
                let response = answer(&request, &config, counters.issued.load(Ordering::SeqCst));
                let counter = if response.status == 200 {
                    &counters.issued
                } else {
                    &counters.refused
                };
                counter.fetch_add(1, Ordering::SeqCst);
                response
            }
            Err(reason) => Response::error(400, "invalid_request", &reason),
        };
        let _ = stream.write_all(&response.to_bytes());
        let _ = stream.flush();
    }
}

/// An HTTP request as far as the endpoint cares.
#[derive(Debug, Default, PartialEq, Eq)]
struct Request {
    method: String,
    path: String,
    /// Header names lowercased.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

fn read_request(stream: &mut TcpStream) -> Result<Request, String> {
    let mut reader = BufReader::new(stream.take(MAX_REQUEST_BYTES as u64));
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(|e| format!("reading the request line: {e}"))?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err("malformed request line".to_owned());
    };
    let mut request = Request {
        method: method.to_owned(),
        path: target.split('?').next().unwrap_or(target).to_owned(),
        ..Request::default()
    };
    loop {
        let mut header = String::new();
        let read = reader
            .read_line(&mut header)
            .map_err(|e| format!("reading headers: {e}"))?;
        let header = header.trim_end_matches(['\r', '\n']);
        if read == 0 || header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            request
                .headers
                .push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length: usize = request
        .header("content-length")
        .map(|value| value.parse().map_err(|_| "bad Content-Length".to_owned()))
        .transpose()?
        .unwrap_or(0);
    if length > MAX_REQUEST_BYTES {
        return Err("request body too large".to_owned());
    }
    request.body = vec![0; length];
    reader
        .read_exact(&mut request.body)
        .map_err(|e| format!("reading the body: {e}"))?;
    Ok(request)
}

/// An HTTP response with a JSON body.
#[derive(Debug, PartialEq, Eq)]
struct Response {
    status: u16,
    body: String,
    www_authenticate: bool,
}

impl Response {
    fn error(status: u16, error: &str, description: &str) -> Self {
        Response {
            status,
            body: format!(
                "{{\"error\":{},\"error_description\":{}}}",
                json_string(error),
                json_string(description)
            ),
            www_authenticate: status == 401,
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let reason = match self.status {
            200 => "OK",
            400 => "Bad Request",
            401 => "Unauthorized",
            404 => "Not Found",
            405 => "Method Not Allowed",
            _ => "Error",
        };
        let mut head = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\nConnection: close\r\n",
            self.status,
            self.body.len()
        );
        if self.www_authenticate {
            head.push_str("WWW-Authenticate: Basic realm=\"klamm\"\r\n");
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(self.body.as_bytes());
        bytes
    }
}

/// Decides one request; `serial` numbers the token (`jti`).
fn answer(request: &Request, config: &TokenEndpointConfig, serial: u64) -> Response {
    if request.path != TOKEN_PATH {
        return Response::error(404, "not_found", &format!("no such path {}", request.path));
    }
    if request.method != "POST" {
        return Response::error(405, "invalid_request", "use POST");
    }
    let form = parse_form(&String::from_utf8_lossy(&request.body));
    let field = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    if field("grant_type") != Some("client_credentials") {
        return Response::error(
            400,
            "unsupported_grant_type",
            "only grant_type=client_credentials is supported",
        );
    }
    let credentials = request
        .header("authorization")
        .and_then(basic_credentials)
        .or_else(|| {
            Some((
                field("client_id")?.to_owned(),
                field("client_secret")?.to_owned(),
            ))
        });
    let Some((client_id, secret)) = credentials else {
        return Response::error(401, "invalid_client", "no client credentials");
    };
    if !config
        .clients
        .iter()
        .any(|(id, known)| *id == client_id && *known == secret)
    {
        return Response::error(401, "invalid_client", "unknown client or wrong secret");
    }
    let scope = field("scope")
        .filter(|scope| !scope.trim().is_empty())
        .unwrap_or(&config.default_scope)
        .to_owned();
    let expires_in = config.expires_in.as_secs().max(1);
    let issued_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let token = unsigned_jwt(&client_id, issued_at, expires_in, &scope, serial);
    Response {
        status: 200,
        body: format!(
            "{{\"access_token\":{},\"token_type\":\"bearer\",\"expires_in\":{expires_in},\"scope\":{}}}",
            json_string(&token),
            json_string(&scope)
        ),
        www_authenticate: false,
    }
}

/// An unsecured JWS (RFC 7515 appendix A.5): `base64url(header).base64url(claims).` with an
/// empty signature, as Kafka's `OAuthBearerUnsecuredJws` requires.
fn unsigned_jwt(
    subject: &str,
    issued_at: u64,
    expires_in: u64,
    scope: &str,
    serial: u64,
) -> String {
    let scopes: Vec<String> = scope.split_whitespace().map(json_string).collect();
    let header = r#"{"alg":"none","typ":"JWT"}"#;
    let claims = format!(
        "{{\"sub\":{},\"iat\":{issued_at},\"exp\":{},\"scope\":[{}],\"jti\":\"klamm-{serial}\"}}",
        json_string(subject),
        issued_at + expires_in,
        scopes.join(",")
    );
    format!(
        "{}.{}.",
        base64_url(header.as_bytes()),
        base64_url(claims.as_bytes())
    )
}

/// `Basic base64(id:secret)`; id and secret may be form-urlencoded (RFC 6749 2.3.1).
fn basic_credentials(header: &str) -> Option<(String, String)> {
    let encoded = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))?;
    let decoded = String::from_utf8(base64_decode(encoded.trim())?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((percent_decode(id), percent_decode(secret)))
}

/// `application/x-www-form-urlencoded` pairs.
fn parse_form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 1 < bytes.len() => {
                match (hex(bytes[i + 1]), bytes.get(i + 2).copied().and_then(hex)) {
                    (Some(high), Some(low)) => {
                        out.push(high << 4 | low);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Standard base64 with or without padding; `None` on anything else.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    };
    let digits: Vec<u8> = text.bytes().filter(|&c| c != b'=').collect();
    if digits.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

/// A JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> TokenEndpointConfig {
        TokenEndpointConfig::new("alice", "s3cret:x", Duration::from_secs(30))
    }

    fn post(body: &str, authorization: Option<&str>) -> Request {
        let mut headers = vec![(
            "content-type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        )];
        if let Some(value) = authorization {
            headers.push(("authorization".to_owned(), value.to_owned()));
        }
        Request {
            method: "POST".into(),
            path: TOKEN_PATH.into(),
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    fn claims_of(response: &Response) -> String {
        let token = response
            .body
            .split("\"access_token\":\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "{token}");
        assert_eq!(parts[2], "", "an unsecured JWS has an empty signature");
        String::from_utf8(base64_decode(parts[1]).unwrap()).unwrap()
    }

    #[test]
    fn basic_auth_client_gets_an_unsigned_token_with_its_claims() {
        // base64("alice:s3cret%3Ax"): the secret form-urlencoded, as RFC 6749 asks.
        let auth = "Basic YWxpY2U6czNjcmV0JTNBeA==";
        let response = answer(
            &post("grant_type=client_credentials&scope=a+b", Some(auth)),
            &config(),
            7,
        );
        assert_eq!(response.status, 200, "{}", response.body);
        assert!(response.body.contains("\"token_type\":\"bearer\""));
        assert!(response.body.contains("\"expires_in\":30"));
        let claims = claims_of(&response);
        assert!(claims.contains("\"sub\":\"alice\""), "{claims}");
        assert!(claims.contains("\"scope\":[\"a\",\"b\"]"), "{claims}");
        assert!(claims.contains("\"jti\":\"klamm-7\""), "{claims}");
        let number = |name: &str| -> u64 {
            let rest = claims.split(&format!("\"{name}\":")).nth(1).unwrap();
            rest.split([',', '}']).next().unwrap().parse().unwrap()
        };
        assert_eq!(number("exp") - number("iat"), 30);
    }

    #[test]
    fn form_credentials_work_and_the_default_scope_applies() {
        let body = "grant_type=client_credentials&client_id=alice&client_secret=s3cret%3Ax";
        let response = answer(&post(body, None), &config(), 0);
        assert_eq!(response.status, 200, "{}", response.body);
        assert!(claims_of(&response).contains("\"scope\":[\"klamm\"]"));
    }

    #[test]
    fn wrong_secret_and_wrong_grant_are_refused() {
        let body = "grant_type=client_credentials&client_id=alice&client_secret=nope";
        let response = answer(&post(body, None), &config(), 0);
        assert_eq!(response.status, 401);
        assert!(response.body.contains("invalid_client"));
        assert!(String::from_utf8(response.to_bytes())
            .unwrap()
            .contains("WWW-Authenticate: Basic"));
        let response = answer(&post("client_id=alice", None), &config(), 0);
        assert_eq!(response.status, 400);
        let response = answer(&post("grant_type=client_credentials", None), &config(), 0);
        assert_eq!(response.status, 401, "no credentials at all");
        let mut get = post("grant_type=client_credentials", None);
        get.method = "GET".into();
        assert_eq!(answer(&get, &config(), 0).status, 405);
    }

    #[test]
    fn endpoint_serves_over_http_and_counts_requests() {
        let endpoint = TokenEndpoint::start(config()).unwrap();
        let exchange = |body: &str| {
            let mut stream = TcpStream::connect(endpoint.address()).unwrap();
            write!(
                stream,
                "POST {TOKEN_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            let mut text = String::new();
            stream.read_to_string(&mut text).unwrap();
            text
        };
        let ok = exchange("grant_type=client_credentials&client_id=alice&client_secret=s3cret:x");
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        let refused = exchange("grant_type=client_credentials&client_id=alice&client_secret=no");
        assert!(refused.starts_with("HTTP/1.1 401 "), "{refused}");
        assert_eq!(endpoint.requests(), 2);
        assert_eq!(endpoint.tokens_issued(), 1);
        assert_eq!(endpoint.refused(), 1);
        assert!(endpoint.url().ends_with(TOKEN_PATH));
    }

    #[test]
    fn decoders_handle_their_edge_cases() {
        assert_eq!(base64_decode("Zm9vYg==").unwrap(), b"foob");
        assert_eq!(base64_decode("Zm9vYg").unwrap(), b"foob");
        assert!(base64_decode("Z").is_none());
        assert!(base64_decode("Zm9v!").is_none());
        assert_eq!(percent_decode("a%20b+c%"), "a b c%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(json_string("a\"b\\\n"), "\"a\\\"b\\\\\\u000a\"");
    }
}
