//! An admin client configured the way a Java client is for Kerberos — a `.properties` file with
//! `sasl.mechanism=GSSAPI` and a `Krb5LoginModule` keytab login — against the harness's single
//! broker and its MIT KDC (realm `KLAMM.TEST`). Needs the `gssapi` feature (`--all-features`).
//!
//! The Kerberos library reads `KRB5_CONFIG` from the process environment, so this file is its
//! own test process and sets it once, before the first GSS-API call. The broker is reached as
//! 127.0.0.1 while its principal is `kafka/localhost`, hence `sasl.kerberos.domain.name`.
#![cfg(feature = "gssapi")]

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use common::{run, unique};
use klamm_admin::{Admin, AdminConfig, AdminError, CreateTopicsOptions, ErrorCode, NewTopic};
use klamm_test_harness::{shared, ClusterEnv, KerberosEnv, Profile};

/// The shared broker, with the process environment pointed at its KDC.
fn env() -> &'static ClusterEnv {
    static READY: OnceLock<&'static ClusterEnv> = OnceLock::new();
    READY.get_or_init(|| {
        let env = shared(Profile::Single);
        // Every test calls env() first and no GSS-API call happens before this point, so no
        // other thread reads the environment meanwhile.
        std::env::set_var("KRB5_CONFIG", &kerberos(env).krb5_conf);
        env
    })
}

fn kerberos(env: &ClusterEnv) -> &KerberosEnv {
    env.kerberos
        .as_ref()
        .expect("the single profile runs a KDC")
}

/// A Java-style client `.properties` file logging in as `principal` with the client keytab, in
/// the profile's state directory (which the next start wipes).
fn properties_file(env: &ClusterEnv, purpose: &str, principal: &str) -> PathBuf {
    let kerberos = kerberos(env);
    let path = kerberos
        .krb5_conf
        .with_file_name(format!("{}.properties", unique(purpose)));
    let text = format!(
        "bootstrap.servers={bootstrap}\n\
         security.protocol=SASL_PLAINTEXT\n\
         sasl.mechanism=GSSAPI\n\
         sasl.kerberos.service.name={service}\n\
         sasl.kerberos.domain.name={host}\n\
         sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required \\\n    \
             useKeyTab=true \\\n    \
             storeKey=true \\\n    \
             keyTab=\"{keytab}\" \\\n    \
             principal=\"{principal}\";\n\
         request.timeout.ms=15000\n\
         default.api.timeout.ms=30000\n",
        bootstrap = env.bootstrap_sasl_plaintext.as_deref().unwrap(),
        service = kerberos.service_name,
        host = kerberos.service_host,
        keytab = kerberos.client_keytab.display(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn keytab_login_from_a_properties_file_describes_the_cluster_as_the_client_principal() {
    let env = env();
    let path = properties_file(env, "gssapi", &kerberos(env).client_principal);
    let config = AdminConfig::from_properties_file(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    run(async {
        let admin = Admin::connect(config)
            .await
            .unwrap_or_else(|error| panic!("GSSAPI connect: {error}"));
        let cluster = admin
            .describe_cluster(klamm_admin::DescribeClusterOptions::default())
            .await
            .unwrap();
        assert_eq!(cluster.cluster_id.as_deref(), Some(env.cluster_id.as_str()));
        let ids: Vec<i32> = cluster.brokers.iter().map(|b| b.id).collect();
        assert_eq!(ids, vec![env.broker_ids[0] as i32], "{cluster:?}");

        // Authenticated as User:klamm-client, who has no ACLs (not as the ANONYMOUS super
        // user of the PLAINTEXT listener): creating a topic is refused.
        let created = admin
            .create_topics(
                &[NewTopic::new(unique("gssapi-denied"), 1, 1)],
                CreateTopicsOptions::default(),
            )
            .await
            .unwrap();
        let (_, outcome) = created.iter().next().unwrap();
        let code = outcome.as_ref().err().and_then(AdminError::error_code);
        assert_eq!(
            code,
            Some(ErrorCode::TopicAuthorizationFailed),
            "{outcome:?}"
        );
        admin.close();
    });
}

#[test]
fn principal_without_a_key_in_the_keytab_fails_to_connect_naming_it() {
    let env = env();
    let keyless = &kerberos(env).keyless_principal;
    let path = properties_file(env, "gssapi-keyless", keyless);
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let config =
        AdminConfig::from_properties(&format!("{text}default.api.timeout.ms=8000\n")).unwrap();
    run(async {
        let Err(error) = Admin::connect(config).await else {
            panic!("connected as {keyless}, whose key the keytab lacks");
        };
        assert!(matches!(error, AdminError::Cluster(_)), "{error:?}");
        let text = error.to_string();
        assert!(
            text.contains(keyless.as_str()) && text.contains("no Kerberos credentials"),
            "{text}"
        );
    });
}
