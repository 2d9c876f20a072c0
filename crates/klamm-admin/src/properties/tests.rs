//! The `.properties` reader: syntax, each family of keys, refusals and warnings.
use super::*;

#[test]
fn an_escaped_space_before_the_separator_stays_in_the_key() {
    let properties = parse_properties("a\\ =1\nb\\\\ =2\nc\\ d = 3\n");
    assert_eq!(properties.get("a "), Some(&"1".to_owned()));
    // An escaped backslash does not escape the space after it.
    assert_eq!(properties.get("b\\"), Some(&"2".to_owned()));
    assert_eq!(properties.get("c d"), Some(&"3".to_owned()));
}

#[test]
fn properties_parse_separators_comments_continuations_and_escapes() {
    let parsed = parse_properties(
        "# comment\n! other\n a = 1\nb:2\nc 3\nlong=x\\\n    y\nesc=tab\\there\\u0041\nempty=\n",
    );
    assert_eq!(parsed["a"], "1");
    assert_eq!(parsed["b"], "2");
    assert_eq!(parsed["c"], "3");
    assert_eq!(parsed["long"], "xy");
    assert_eq!(parsed["esc"], "tab\there\u{41}");
    assert_eq!(parsed["empty"], "");
    assert_eq!(parsed.len(), 6);
}

#[test]
fn sasl_and_timeouts_are_applied() {
    let config = AdminConfig::from_properties(
        "bootstrap.servers=h1:9092,h2:9092\nclient.id=ops\nsecurity.protocol=SASL_PLAINTEXT\n\
         sasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"p\";\n\
         request.timeout.ms=1234\ndefault.api.timeout.ms=5000\n",
    )
    .unwrap();
    let connection = &config.cluster.connection;
    assert_eq!(connection.client_id, "ops");
    assert_eq!(
        connection.security_protocol,
        SecurityProtocol::SaslPlaintext
    );
    assert!(connection.sasl.is_some());
    assert_eq!(connection.request_timeout, Duration::from_millis(1234));
    assert_eq!(config.cluster.default_api_timeout, Duration::from_secs(5));
    assert_eq!(config.cluster.bootstrap_servers.addresses().len(), 2);
}

#[test]
fn jks_truststore_is_a_store_read_when_connecting() {
    let loaded = AdminSettings::from_properties(
        "ssl.truststore.location=/etc/kafka/trust.jks\nssl.truststore.password=changeit\n",
    )
    .unwrap();
    match loaded.settings.trust {
        Some(TrustSource::Store(store)) => {
            assert_eq!(store.kind, StoreKind::Jks);
            assert_eq!(store.password, Some(Secret::new("changeit")));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn oauthbearer_client_credentials_and_token_file_are_read() {
    let loaded = AdminSettings::from_properties(
        "security.protocol=SASL_SSL\nsasl.mechanism=OAUTHBEARER\n\
         sasl.oauthbearer.token.endpoint.url=https://idp.example/token\n\
         sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.\
         OAuthBearerLoginCallbackHandler\n\
         sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule \
         required clientId=\"ops\" clientSecret=\"s3cret\" scope=\"kafka\";\n\
         sasl.login.refresh.buffer.seconds=30\nsasl.oauthbearer.expected.audience=kafka\n",
    )
    .unwrap();
    let oauth = loaded.settings.oauth.clone().unwrap();
    assert_eq!(oauth.refresh.buffer, Duration::from_secs(30));
    assert_eq!(
        oauth.source,
        Some(OAuthSource::ClientCredentials {
            url: "https://idp.example/token".into(),
            client_id: "ops".into(),
            client_secret: Secret::new("s3cret"),
            scope: Some("kafka".into()),
        })
    );
    let keys: Vec<_> = loaded.warnings.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(keys, ["sasl.oauthbearer.expected.audience"]);
    let config = loaded.settings.into_config().unwrap();
    assert_eq!(
        config.cluster.connection.sasl.as_ref().unwrap().mechanism(),
        SaslMechanism::OAuthBearer
    );
    let file = AdminSettings::from_properties(
        "sasl.mechanism=OAUTHBEARER\nsasl.oauthbearer.token.endpoint.url=file:///run/token\n",
    )
    .unwrap();
    assert_eq!(
        file.settings.oauth.unwrap().source,
        Some(OAuthSource::TokenFile("/run/token".into()))
    );
    let error = AdminSettings::from_properties(
        "sasl.mechanism=OAUTHBEARER\nsasl.oauthbearer.token.endpoint.url=https://idp/t\n",
    )
    .unwrap_err();
    assert!(error.to_string().contains("clientSecret"), "{error}");
}

#[test]
fn every_ignored_key_is_a_warning() {
    let loaded = AdminSettings::from_properties(
        "group.id=g\nlinger.mz=5\nsasl.kerberos.service.name=kafka\nssl.truststore.type=PEM\n\
         ssl.truststore.location=/ca.pem\nssl.truststore.password=x\n",
    )
    .unwrap();
    let keys: Vec<_> = loaded.warnings.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "group.id",
            "linger.mz",
            "ssl.truststore.password",
            "sasl.kerberos.service.name"
        ]
    );
    assert!(loaded.warnings[1].reason.contains("unknown"));
}

#[test]
fn pem_truststore_sets_the_ca_file() {
    let config = AdminConfig::from_properties(
        "security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location=/tmp/ca.pem\n",
    )
    .unwrap();
    assert_eq!(
        config.cluster.connection.security_protocol,
        SecurityProtocol::Ssl
    );
}

#[cfg(not(feature = "gssapi"))]
#[test]
fn gssapi_without_the_feature_is_unsupported_naming_the_feature() {
    let jaas = "sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required \
                useKeyTab=true keyTab=\"/etc/ops.keytab\" principal=\"ops@EXAMPLE.COM\";\n";
    for (text, expected_key) in [
        (
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=GSSAPI\n".to_owned(),
            "sasl.mechanism",
        ),
        (
            format!("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=GSSAPI\n{jaas}"),
            "sasl.mechanism",
        ),
        // Java's default mechanism with a Kerberos login is GSSAPI.
        (
            format!("security.protocol=SASL_PLAINTEXT\n{jaas}"),
            "sasl.jaas.config",
        ),
        (jaas.to_owned(), "sasl.jaas.config"),
    ] {
        match AdminConfig::from_properties(&text) {
            Err(AdminError::UnsupportedProperty { key, reason }) => {
                assert_eq!(key, expected_key, "{text}");
                assert!(reason.contains("`gssapi` cargo feature"), "{reason}");
            }
            other => panic!("{text}: expected UnsupportedProperty, got {other:?}"),
        }
    }
    // Kerberos keys beside another mechanism are ignored, as in Java.
    let config = AdminConfig::from_properties(
        "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n\
         sasl.kerberos.service.name=kafka\n\
         sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \
         username=\"u\" password=\"p\";\n",
    )
    .unwrap();
    assert!(config.cluster.connection.sasl.is_some());
}

#[test]
fn custom_login_classes_and_a_mismatched_login_module_are_unsupported() {
    for text in [
        "sasl.login.callback.handler.class=com.example.Handler",
        "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=\
         org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
    ] {
        assert!(
            matches!(
                AdminConfig::from_properties(text),
                Err(AdminError::UnsupportedProperty { .. })
            ),
            "{text}"
        );
    }
}

#[test]
fn bad_number_names_the_key() {
    let error = AdminConfig::from_properties("request.timeout.ms=soon").unwrap_err();
    assert!(error.to_string().contains("request.timeout.ms"), "{error}");
}
