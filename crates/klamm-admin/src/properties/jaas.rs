//! `sasl.jaas.config` values: one JAAS login module line, `Module flag key="value" …;`, as Kafka
//! clients take it inline. Which modules and options mean what is decided by the loader
//! ([`from_properties`](crate::AdminConfig::from_properties)), not here.

use std::collections::BTreeMap;

use crate::AdminError;

/// The login module and options of a `sasl.jaas.config` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JaasConfig {
    /// The login module class, e.g. `org.apache.kafka.common.security.plain.PlainLoginModule`.
    pub login_module: String,
    /// `required`, `optional`, …
    pub flag: String,
    /// The `key="value"` options.
    pub options: BTreeMap<String, String>,
}

/// Parses `Module flag key="value" key2=value2;`.
pub fn parse_jaas_config(text: &str) -> Result<JaasConfig, AdminError> {
    let error = |reason: &str| AdminError::InvalidConfig {
        key: "sasl.jaas.config".into(),
        reason: reason.into(),
    };
    let text = text.trim();
    let text = text.strip_suffix(';').unwrap_or(text).trim();
    let mut rest = text;
    let next_word = |rest: &mut &str| -> Option<String> {
        let trimmed = rest.trim_start();
        let end = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
        let word = &trimmed[..end];
        *rest = &trimmed[end..];
        (!word.is_empty()).then(|| word.to_owned())
    };
    let login_module = next_word(&mut rest).ok_or_else(|| error("empty"))?;
    let flag = next_word(&mut rest).ok_or_else(|| error("no control flag (`required`)"))?;
    let mut options = BTreeMap::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let eq = rest.find('=').ok_or_else(|| error("option without `=`"))?;
        let key = rest[..eq].trim().to_owned();
        rest = rest[eq + 1..].trim_start();
        let value = if let Some(quoted) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((index, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = Some(index);
                        break;
                    }
                    c => value.push(c),
                }
            }
            let end = end.ok_or_else(|| error("unterminated quoted value"))?;
            rest = &quoted[end + 1..];
            value
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let value = rest[..end].to_owned();
            rest = &rest[end..];
            value
        };
        options.insert(key, value);
    }
    Ok(JaasConfig {
        login_module,
        flag,
        options,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaas_config_yields_module_and_quoted_options() {
        let jaas = parse_jaas_config(
            r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="a \"b\" c";"#,
        )
        .unwrap();
        assert!(jaas.login_module.ends_with("PlainLoginModule"));
        assert_eq!(jaas.flag, "required");
        assert_eq!(jaas.options["username"], "admin");
        assert_eq!(jaas.options["password"], "a \"b\" c");
    }
}
