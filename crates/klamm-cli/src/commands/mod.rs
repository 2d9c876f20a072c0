//! One module per command family; this one connects the admin client and dispatches.

use std::time::Duration;

use clap::CommandFactory;
use klamm_admin::{Admin, AdminConfig};

use crate::cli::{Cli, Command, Global, DEFAULT_BOOTSTRAP};
use crate::output::{Failure, Format, Status};

pub mod acl;
pub mod cluster;
pub mod config;
pub mod group;
pub mod partition;
pub mod records;
pub mod topic;

/// What every command runs with.
pub struct Context {
    /// The connected client.
    pub admin: Admin,
    /// The `--output` format.
    pub format: Format,
    /// The `--timeout`, if given.
    pub timeout: Option<Duration>,
}

impl Context {
    /// Whether JSON was asked for.
    pub fn json(&self) -> bool {
        self.format == Format::Json
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<Status, Failure> {
    if let Command::Completions { shell } = cli.command {
        let mut command = Cli::command();
        clap_complete::generate(shell, &mut command, "klamm", &mut std::io::stdout());
        return Ok(Status::Success);
    }
    let context = connect(&cli.global).await?;
    let status = match cli.command {
        Command::Topic(command) => topic::run(&context, command).await,
        Command::Config(command) => config::run(&context, command).await,
        Command::Acl(command) => acl::run(&context, command).await,
        Command::Group(command) => group::run(&context, command).await,
        Command::Cluster(command) => cluster::run(&context, command).await,
        Command::Records(command) => records::run(&context, command).await,
        Command::Partition(command) => partition::run(&context, command).await,
        Command::Completions { .. } => unreachable!("handled above"),
    };
    context.admin.close();
    status
}

async fn connect(global: &Global) -> Result<Context, Failure> {
    let config = admin_config(global)?;
    let servers = config.cluster.bootstrap_servers.to_string();
    let admin = Admin::connect(config)
        .await
        .map_err(|error| Failure::admin(format!("connecting to {servers}"), &error))?;
    Ok(Context {
        admin,
        format: global.output,
        timeout: global.timeout.map(Duration::from_millis),
    })
}

/// The client settings: the `--command-config` file if any, with `-b`, `--timeout` and the
/// `--sasl-kerberos-*` flags on top.
fn admin_config(global: &Global) -> Result<AdminConfig, Failure> {
    let kerberos = global.kerberos.given();
    if let (Some((flag, _, _)), false) = (kerberos.first(), cfg!(feature = "gssapi")) {
        return Err(Failure::new(
            *flag,
            "Kerberos needs a klamm built with the `gssapi` feature \
             (cargo install klamm-cli --features gssapi)",
        ));
    }
    let mut text = match &global.command_config {
        Some(path) => std::fs::read_to_string(path).map_err(|error| {
            Failure::new(format!("reading {}", path.display()), error.to_string())
        })?,
        None => String::new(),
    };
    let bootstrap = match &global.bootstrap_server {
        Some(servers) => Some(servers.as_str()),
        None if names_bootstrap(&text) => None,
        None => Some(DEFAULT_BOOTSTRAP),
    };
    // Later keys win in a properties file, so flags are appended as overrides.
    if let Some(servers) = bootstrap {
        text.push_str(&format!("\nbootstrap.servers={servers}\n"));
    }
    if let Some(ms) = global.timeout {
        text.push_str(&format!("\ndefault.api.timeout.ms={ms}\n"));
    }
    for (_, key, value) in &kerberos {
        text.push_str(&format!("\n{key}={}\n", escape_value(value)));
    }
    let what = match &global.command_config {
        Some(path) => format!("client config {}", path.display()),
        None => "client config".to_owned(),
    };
    let config =
        AdminConfig::from_properties(&text).map_err(|error| Failure::admin(what, &error))?;
    // Without GSSAPI the loader ignores Kerberos keys (as Java does); a flag is not ignored.
    let gssapi = config
        .cluster
        .connection
        .sasl
        .as_ref()
        .is_some_and(|sasl| sasl.mechanism().name() == "GSSAPI");
    if let (Some((flag, _, _)), false) = (kerberos.first(), gssapi) {
        return Err(Failure::new(
            *flag,
            "needs SASL/GSSAPI: security.protocol=SASL_PLAINTEXT or SASL_SSL and \
             sasl.mechanism=GSSAPI in the --command-config file",
        ));
    }
    Ok(config)
}

/// `value` as a `.properties` value, so that a `\` in a path is not read as an escape.
fn escape_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            c => escaped.push(c),
        }
    }
    escaped
}

fn names_bootstrap(properties: &str) -> bool {
    properties.lines().any(|line| {
        let line = line.trim_start();
        line.strip_prefix("bootstrap.servers")
            .is_some_and(|rest| rest.trim_start().starts_with(['=', ':']))
    })
}

/// `"name"` as the CLI names a resource in messages.
pub fn quoted(kind: &str, name: &str) -> String {
    format!("{kind} \"{name}\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Kerberos;

    fn global(bootstrap: Option<&str>, timeout: Option<u64>) -> Global {
        Global {
            bootstrap_server: bootstrap.map(str::to_owned),
            command_config: None,
            output: Format::Table,
            timeout,
            kerberos: Kerberos::default(),
        }
    }

    #[test]
    fn flags_override_defaults_in_client_config() {
        let config = admin_config(&global(Some("k1:9093,k2:9093"), Some(1500))).unwrap();
        assert_eq!(config.default_api_timeout(), Duration::from_millis(1500));
        assert_eq!(
            config.cluster.bootstrap_servers.to_string(),
            "k1:9093,k2:9093"
        );
    }

    fn keytab_flags() -> Kerberos {
        Kerberos {
            sasl_kerberos_principal: Some("cli@EXAMPLE.COM".into()),
            sasl_kerberos_keytab: Some("/tmp/back\\slash.keytab".into()),
            sasl_kerberos_domain_name: Some("localhost".into()),
            ..Kerberos::default()
        }
    }

    /// A `--command-config` file with `text`, in the temporary directory.
    #[cfg(feature = "gssapi")]
    fn command_config(name: &str, text: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "klamm-cli-{name}-{}.properties",
            std::process::id()
        ));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[cfg(feature = "gssapi")]
    #[test]
    fn kerberos_flags_override_the_command_config_login() {
        let path = command_config(
            "kerberos-flags",
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=GSSAPI\n\
             sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required \
             useKeyTab=true storeKey=true keyTab=\"/etc/file.keytab\" principal=\"file@EXAMPLE.COM\";\n",
        );
        let global = Global {
            command_config: Some(path.clone()),
            kerberos: keytab_flags(),
            ..global(Some("k1:9092"), None)
        };
        let config = admin_config(&global);
        let _ = std::fs::remove_file(path);
        let config = config.unwrap();
        let sasl = config.cluster.connection.sasl.as_ref().unwrap();
        let kerberos = sasl.kerberos().unwrap();
        assert_eq!(kerberos.principal.as_deref(), Some("cli@EXAMPLE.COM"));
        assert_eq!(
            kerberos.keytab.as_deref(),
            Some(std::path::Path::new("/tmp/back\\slash.keytab"))
        );
        assert_eq!(kerberos.service_principal("127.0.0.1"), "kafka@localhost");
    }

    #[cfg(feature = "gssapi")]
    #[test]
    fn kerberos_flags_without_gssapi_in_the_command_config_fail_naming_the_flag() {
        let global = Global {
            kerberos: keytab_flags(),
            ..global(Some("k1:9092"), None)
        };
        let failure = admin_config(&global).expect_err("a failure");
        assert_eq!(failure.what, "--sasl-kerberos-domain-name");
        assert!(failure.why.contains("sasl.mechanism=GSSAPI"), "{failure}");
    }

    #[cfg(not(feature = "gssapi"))]
    #[test]
    fn kerberos_flags_without_the_feature_fail_naming_it() {
        let global = Global {
            kerberos: keytab_flags(),
            ..global(Some("k1:9092"), None)
        };
        let failure = admin_config(&global).expect_err("a failure");
        assert_eq!(failure.what, "--sasl-kerberos-domain-name");
        assert!(failure.why.contains("`gssapi` feature"), "{failure}");
    }

    #[test]
    fn escaped_values_read_back_unchanged() {
        let value = "C:\\keytabs\\ops.keytab";
        let parsed = klamm_admin::properties::parse_properties(&format!(
            "sasl.kerberos.keytab={}",
            escape_value(value)
        ));
        assert_eq!(parsed["sasl.kerberos.keytab"], value);
    }

    #[test]
    fn bootstrap_in_properties_is_detected() {
        assert!(names_bootstrap("# x\nbootstrap.servers = a:1\n"));
        assert!(!names_bootstrap("bootstrap.servers.extra=1"));
    }
}
