//! Unit tests of the connection settings: defaults and consistency checks.
use super::*;

#[test]
fn defaults_mirror_kafka_python() {
    let config = ConnectionConfig::default();
    assert!(config.client_id.starts_with("klamm-"));
    assert_eq!(config.request_timeout, Duration::from_millis(30_000));
    assert_eq!(config.max_in_flight_requests_per_connection, 5);
    assert_eq!(config.connections_max_idle, Duration::from_millis(540_000));
    assert_eq!(config.reconnect_backoff, Duration::from_millis(50));
    assert_eq!(config.reconnect_backoff_max, Duration::from_millis(1000));
    assert_eq!(config.receive_buffer_bytes, None);
    assert_eq!(config.socket_options, vec![SocketOption::NoDelay(true)]);
    assert_eq!(config.security_protocol, SecurityProtocol::Plaintext);
    assert!(config.tls.check_hostname);
    config.validate().unwrap();
}

#[test]
fn sasl_protocol_without_credentials_is_rejected() {
    let error = ConnectionConfig::builder()
        .security_protocol(SecurityProtocol::SaslPlaintext)
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("sasl_mechanism"), "{error}");
    let error = ConnectionConfig::builder()
        .security_protocol(SecurityProtocol::SaslPlaintext)
        .sasl_mechanism(SaslMechanism::ScramSha256)
        .sasl_plain_username("u")
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("sasl_plain_password"), "{error}");
}

#[test]
fn sasl_credentials_without_sasl_protocol_are_rejected() {
    let error = ConnectionConfig::builder()
        .sasl_mechanism(SaslMechanism::Plain)
        .sasl_plain_username("u")
        .sasl_plain_password("p")
        .build()
        .unwrap_err();
    assert!(matches!(error, NetError::InvalidConfig { .. }));
}

#[cfg(feature = "gssapi")]
#[test]
fn gssapi_builds_from_kerberos_settings_without_a_password() {
    let config = ConnectionConfig::builder()
        .security_protocol(SecurityProtocol::SaslPlaintext)
        .sasl_mechanism(SaslMechanism::Gssapi)
        .sasl_kerberos_service_name("kfk")
        .sasl_kerberos_domain_name("broker.example")
        .sasl_kerberos_principal("ops@EXAMPLE.COM")
        .sasl_kerberos_keytab("/etc/ops.keytab")
        .build()
        .unwrap();
    let sasl = config.sasl.as_ref().unwrap();
    assert_eq!(sasl.mechanism(), SaslMechanism::Gssapi);
    let kerberos = sasl.kerberos().unwrap();
    assert_eq!(kerberos.service_principal("10.1.1.1"), "kfk@broker.example");
    assert_eq!(kerberos.principal.as_deref(), Some("ops@EXAMPLE.COM"));
    let error = ConnectionConfig::builder()
        .security_protocol(SecurityProtocol::SaslPlaintext)
        .sasl_mechanism(SaslMechanism::Gssapi)
        .sasl_kerberos_service_name("kafka/broker")
        .build()
        .unwrap_err();
    assert!(
        error.to_string().contains("sasl_kerberos_service_name"),
        "{error}"
    );
}

#[test]
fn protocol_names_round_trip() {
    for protocol in [
        SecurityProtocol::Plaintext,
        SecurityProtocol::Ssl,
        SecurityProtocol::SaslPlaintext,
        SecurityProtocol::SaslSsl,
    ] {
        assert_eq!(
            protocol.name().parse::<SecurityProtocol>().unwrap(),
            protocol
        );
    }
    assert!("TLS".parse::<SecurityProtocol>().is_err());
}
