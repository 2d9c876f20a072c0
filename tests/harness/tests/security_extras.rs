//! Delegation tokens and OAUTHBEARER on the `single` profile, proved with Kafka's own tools and
//! Java client and with kafka-python.

mod common;

use std::time::Duration;

use common::{java_program_json, kafka_python, kafka_tool, unique};
use klamm_test_harness::{java::Java, shared, ClusterEnv, Profile};

fn scram_jaas(user: &str, password: &str, token: bool) -> String {
    format!(
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"{user}\" password=\"{password}\"{};",
        if token { " tokenauth=\"true\"" } else { "" }
    )
}

/// `(token id, HMAC)` from `DelegationTokenCommand --create` output.
fn created_token(output: &str) -> (String, String) {
    let id = output
        .lines()
        .find_map(|line| line.split("tokenId : ").nth(1))
        .unwrap_or_else(|| panic!("no token id in {output}"))
        .trim()
        .to_owned();
    let hmac = output
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{id} ")))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no HMAC for {id} in {output}"))
        .to_owned();
    (id, hmac)
}

#[test]
fn delegation_token_from_the_tool_logs_a_scram_client_in() {
    let env = shared(Profile::Single);
    let sasl = env.sasl.as_ref().unwrap();
    assert_eq!(
        env.delegation_token_mechanisms,
        ["SCRAM-SHA-256", "SCRAM-SHA-512"]
    );
    let bootstrap = env.bootstrap_sasl_plaintext.as_deref().unwrap();
    let config = env
        .state_dir
        .join(format!("{}.properties", unique("admin-client")));
    std::fs::write(
        &config,
        format!(
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n{}\n",
            scram_jaas(&sasl.admin_user, &sasl.admin_password, false)
        ),
    )
    .unwrap();
    let output = kafka_tool(
        env,
        "org.apache.kafka.tools.DelegationTokenCommand",
        &[
            "--bootstrap-server",
            bootstrap,
            "--command-config",
            config.to_str().unwrap(),
            "--create",
            "--max-life-time-period",
            "-1",
        ],
    );
    std::fs::remove_file(&config).ok();
    let (id, hmac) = created_token(&output);

    for mechanism in &env.delegation_token_mechanisms {
        let login = |password: &str| {
            java_program_json(
                Java::new(&env.version),
                "ClientProbe.java",
                &[
                    bootstrap.to_owned(),
                    "describe-cluster".to_owned(),
                    "security.protocol=SASL_PLAINTEXT".to_owned(),
                    format!("sasl.mechanism={mechanism}"),
                    scram_jaas(&id, password, true),
                    "request.timeout.ms=3000".to_owned(),
                    "default.api.timeout.ms=6000".to_owned(),
                ],
            )
        };
        let verdict = login(&hmac);
        assert_eq!(verdict["ok"], true, "{mechanism}: {verdict}");
        assert_eq!(verdict["cluster_id"], env.cluster_id.as_str());
        // The same login with another HMAC is refused: the token's HMAC is the password.
        let verdict = login("bm90IHRoZSBobWFj");
        assert_eq!(verdict["ok"], false, "{mechanism}: {verdict}");
    }
}

fn oauth_bootstrap(env: &ClusterEnv) -> &str {
    env.bootstrap_sasl_oauthbearer
        .as_deref()
        .expect("single has an OAUTHBEARER listener")
}

#[test]
fn kafka_python_logs_in_with_a_token_from_the_endpoint_and_the_principal_is_its_sub() {
    let env = shared(Profile::Single);
    let oauth = env.oauth.as_ref().unwrap();
    let endpoint = env.start_token_endpoint(Duration::from_secs(300)).unwrap();
    let url = endpoint.url();
    let conn = |client: &str, secret: &str, action: &str, topic: Option<&str>| {
        let mut args = vec![
            "--bootstrap",
            oauth_bootstrap(env),
            "--security-protocol",
            "SASL_PLAINTEXT",
            "--mechanism",
            "OAUTHBEARER",
            "--token-endpoint",
            &url,
            "--user",
            client,
            "--password",
            secret,
            "--timeout-ms",
            "8000",
        ];
        if let Some(topic) = topic {
            args.extend(["--topic", topic]);
        }
        kafka_python(action, &args)
    };
    // The admin client's principal, User:klamm-admin, is a super user...
    let topic = unique("oauth");
    let verdict = conn(
        &oauth.client_id,
        &oauth.client_secret,
        "create-topic",
        Some(&topic),
    );
    assert_eq!(verdict["ok"], true, "{verdict}");
    // kafka-python asks its token provider once per connection.
    assert!(endpoint.tokens_issued() >= 1);
    // ...the ordinary one has no ACLs: it authenticates but sees no topics.
    let verdict = conn(
        &oauth.user_client_id,
        &oauth.user_client_secret,
        "list-topics",
        None,
    );
    assert_eq!(verdict["ok"], true, "{verdict}");
    assert_eq!(verdict["topics"], serde_json::json!([]), "{verdict}");
    // A wrong secret gets no token (401), so no login either.
    let verdict = conn(&oauth.client_id, "wrong", "list-topics", None);
    assert_eq!(verdict["ok"], false, "{verdict}");
    assert!(verdict.to_string().contains("401"), "{verdict}");
    assert!(endpoint.refused() >= 1);
}

#[test]
fn java_client_fetches_refreshes_and_reauthenticates_with_endpoint_tokens() {
    let env = shared(Profile::Single);
    if !env.version.is_4x() {
        // 3.9's OAuthBearerLoginCallbackHandler validates tokens with a fixed validator that
        // wants a signature; sasl.oauthbearer.jwt.validator.class arrived in 4.1.
        eprintln!(
            "skipped on Kafka {}: no client JWT validator hook",
            env.version
        );
        return;
    }
    let oauth = env.oauth.as_ref().unwrap();
    // Four-second tokens: Kafka's login refreshes at 80-85 % of the lifetime, and the broker
    // (connections.max.reauth.ms on the listener) ends a session when its token expires unless
    // the client re-authenticates with a fresh one.
    let endpoint = env.start_token_endpoint(Duration::from_secs(4)).unwrap();
    let java = Java::new(&env.version)
        .jvm_arg(format!(
            "-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls={}",
            endpoint.url()
        ))
        .with_classes_of("UnsecuredJwsValidator.java");
    let verdict = java_program_json(
        java,
        "ClientProbe.java",
        &[
            oauth_bootstrap(env).to_owned(),
            "hold:12".to_owned(),
            "security.protocol=SASL_PLAINTEXT".to_owned(),
            "sasl.mechanism=OAUTHBEARER".to_owned(),
            "sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;".to_owned(),
            "sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler".to_owned(),
            format!("sasl.oauthbearer.token.endpoint.url={}", endpoint.url()),
            format!("sasl.oauthbearer.client.credentials.client.id={}", oauth.client_id),
            format!("sasl.oauthbearer.client.credentials.client.secret={}", oauth.client_secret),
            "sasl.oauthbearer.jwt.validator.class=UnsecuredJwsValidator".to_owned(),
        ],
    );
    assert_eq!(verdict["ok"], true, "{verdict}");
    assert_eq!(verdict["cluster_id"], env.cluster_id.as_str());
    assert!(verdict["calls"].as_u64().unwrap() >= 10, "{verdict}");
    // Twelve seconds of four-second tokens: the client asked again before each expired.
    assert!(
        endpoint.tokens_issued() >= 3,
        "only {} tokens issued: no refresh",
        endpoint.tokens_issued()
    );
    assert_eq!(endpoint.refused(), 0);
}
