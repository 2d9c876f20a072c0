//! The caching provider under paused time, JWT lifetimes, and the client-credentials grant
//! against the harness's local token endpoint (no broker needed).

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use klamm_test_harness::oauth::{TokenEndpoint, TokenEndpointConfig};

use super::*;

/// Hands out `token-1`, `token-2`, … valid for `lifetime`, failing when `failing` is set.
struct Counting {
    fetches: Arc<AtomicU32>,
    failing: Arc<std::sync::atomic::AtomicBool>,
    lifetime: Duration,
}

impl TokenSource for Counting {
    fn fetch(&self) -> BoxFuture<'_, Result<FetchedToken, BoxError>> {
        Box::pin(async move {
            if self.failing.load(Ordering::SeqCst) {
                return Err("endpoint down".into());
            }
            let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(FetchedToken {
                token: Secret::new(format!("token-{n}")),
                lifetime: self.lifetime,
            })
        })
    }
}

#[tokio::test(start_paused = true)]
async fn provider_caches_then_refreshes_before_expiry_and_survives_a_failed_refresh() {
    let fetches = Arc::new(AtomicU32::new(0));
    let failing = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let source = Counting {
        fetches: fetches.clone(),
        failing: failing.clone(),
        lifetime: Duration::from_secs(3600),
    };
    let provider = OAuthTokenProvider::new(source, RefreshConfig::default()).unwrap();
    let token = |provider: &OAuthTokenProvider| {
        let provider = provider.clone();
        async move { provider.token().await.map(|t| t.expose().to_owned()) }
    };
    assert_eq!(token(&provider).await.unwrap(), "token-1");
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(token(&provider).await.unwrap(), "token-1");
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    // Past 85 % of the hour (the window plus the largest jitter): a fresh token.
    tokio::time::sleep(Duration::from_secs(3000)).await;
    assert_eq!(token(&provider).await.unwrap(), "token-2");
    // A refresh that fails while the token is still valid keeps it; once it has expired, the
    // failure is the caller's.
    failing.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(3100)).await;
    assert_eq!(token(&provider).await.unwrap(), "token-2");
    tokio::time::sleep(Duration::from_secs(600)).await;
    let error = token(&provider).await.unwrap_err();
    assert!(error.to_string().contains("endpoint down"), "{error}");
}

fn jwt(exp_from_now: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let encode = |json: String| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    format!(
        "{}.{}.",
        encode(r#"{"alg":"none"}"#.to_owned()),
        encode(format!(r#"{{"sub":"ops","exp":{}}}"#, now + exp_from_now))
    )
}

#[test]
fn jwt_lifetime_comes_from_exp_and_bad_tokens_say_why() {
    let lifetime = jwt_lifetime(&jwt(600)).unwrap();
    assert!(lifetime <= Duration::from_secs(600) && lifetime > Duration::from_secs(590));
    assert!(jwt_lifetime(&jwt(-5)).unwrap_err().contains("expired"));
    assert!(jwt_lifetime("opaque").unwrap_err().contains("not a JWT"));
}

#[tokio::test]
async fn token_file_is_read_at_each_refresh() {
    let path = std::env::temp_dir().join(format!("klamm-token-{}", std::process::id()));
    std::fs::write(&path, format!("{}\n", jwt(600))).unwrap();
    let fetched = TokenFile::new(&path).fetch().await.unwrap();
    assert!(!fetched.token.expose().ends_with('\n'));
    std::fs::write(&path, "not a token").unwrap();
    let error = TokenFile::new(&path).fetch().await.unwrap_err();
    assert!(error.to_string().contains("not a JWT"), "{error}");
    std::fs::remove_file(&path).unwrap();
    let error = TokenFile::new(&path).fetch().await.unwrap_err();
    assert!(
        error.to_string().contains("reading the token file"),
        "{error}"
    );
}

#[tokio::test]
async fn client_credentials_fetch_a_token_and_a_wrong_secret_is_the_endpoints_answer() {
    let endpoint = TokenEndpoint::start(TokenEndpointConfig::new(
        "ops",
        "it's secret",
        Duration::from_secs(30),
    ))
    .unwrap();
    let fetched = ClientCredentials::new(endpoint.url(), "ops", "it's secret")
        .scope("kafka admin")
        .fetch()
        .await
        .unwrap();
    assert!(fetched.lifetime <= Duration::from_secs(30));
    assert!(fetched.lifetime > Duration::from_secs(20));
    assert_eq!(endpoint.tokens_issued(), 1);

    let error = ClientCredentials::new(endpoint.url(), "ops", "wrong-secret")
        .fetch()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("401") && error.contains("invalid_client"),
        "{error}"
    );
    assert!(!error.contains("wrong-secret"), "{error}");
    assert_eq!(endpoint.refused(), 1);
}
