//! Merging layers and turning settings into a configuration.

use super::*;

#[test]
fn a_higher_layer_wins_field_by_field() {
    let file = AdminSettings::from_properties(
        "bootstrap.servers=file:9092\nclient.id=file-id\nsecurity.protocol=SASL_SSL\n\
         sasl.mechanism=SCRAM-SHA-256\nsasl.jaas.config=org.apache.kafka.common.security.scram.\
         ScramLoginModule required username=\"file-user\" password=\"file-pw\";\n",
    )
    .unwrap()
    .settings;
    let flags = AdminSettings {
        bootstrap_servers: Some("flag:9092".into()),
        sasl_login: Some(("flag-user".into(), Secret::new("flag-pw"))),
        ..AdminSettings::default()
    };
    let merged = file.clone().merge(flags);
    assert_eq!(merged.bootstrap_servers.as_deref(), Some("flag:9092"));
    assert_eq!(merged.client_id.as_deref(), Some("file-id"));
    assert_eq!(merged.sasl_login.as_ref().unwrap().0, "flag-user");
    let config = merged.into_config().unwrap();
    let sasl = config.cluster.connection.sasl.as_ref().unwrap();
    assert_eq!(sasl.username(), "flag-user");
    assert_eq!(sasl.mechanism(), SaslMechanism::ScramSha256);
    // An empty layer changes nothing.
    assert_eq!(file.clone().merge(AdminSettings::default()), file);
}

#[test]
fn oauthbearer_without_a_token_source_names_the_key() {
    let settings = AdminSettings {
        security_protocol: Some(SecurityProtocol::SaslPlaintext),
        sasl_mechanism: Some(MechanismSetting::Named(SaslMechanism::OAuthBearer)),
        ..AdminSettings::default()
    };
    let error = settings.into_config().unwrap_err();
    assert!(
        error
            .to_string()
            .contains("sasl.oauthbearer.token.endpoint.url"),
        "{error}"
    );
}
