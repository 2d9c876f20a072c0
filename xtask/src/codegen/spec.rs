//! Kafka's JSON message specs, read into a model the emitters walk.
//!
//! The specs are JSON with `//` comments; see `common/message/README.md` in kafka-clients for the
//! format. Only what code generation needs is kept.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;

/// An inclusive range of versions; `None` where a spec says `"none"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versions {
    pub min: i16,
    pub max: i16,
}

impl Versions {
    /// Parses `"3"`, `"1-4"`, `"2+"` or `"none"`.
    pub fn parse(text: &str) -> Result<Option<Versions>> {
        let text = text.trim();
        if text == "none" {
            return Ok(None);
        }
        let number = |s: &str| {
            s.trim()
                .parse::<i16>()
                .map_err(|_| anyhow!("bad version range {text:?}"))
        };
        let range = if let Some(min) = text.strip_suffix('+') {
            Versions {
                min: number(min)?,
                max: i16::MAX,
            }
        } else if let Some((min, max)) = text.split_once('-') {
            Versions {
                min: number(min)?,
                max: number(max)?,
            }
        } else {
            let v = number(text)?;
            Versions { min: v, max: v }
        };
        if range.min > range.max {
            bail!("empty version range {text:?}");
        }
        Ok(Some(range))
    }

    pub fn intersect(self, other: Versions) -> Option<Versions> {
        let min = self.min.max(other.min);
        let max = self.max.min(other.max);
        (min <= max).then_some(Versions { min, max })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessage {
    api_key: Option<i16>,
    #[serde(rename = "type")]
    kind: String,
    name: String,
    valid_versions: String,
    flexible_versions: Option<String>,
    #[serde(default)]
    fields: Vec<RawField>,
    #[serde(default)]
    common_structs: Vec<RawStruct>,
    #[serde(default)]
    latest_version_unstable: bool,
    #[serde(default)]
    listeners: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStruct {
    name: String,
    fields: Vec<RawField>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawField {
    name: String,
    #[serde(rename = "type")]
    ty: String,
    versions: String,
    nullable_versions: Option<String>,
    tagged_versions: Option<String>,
    tag: Option<u32>,
    default: Option<serde_json::Value>,
    #[serde(default)]
    ignorable: bool,
    about: Option<String>,
    #[serde(default)]
    fields: Option<Vec<RawField>>,
    flexible_versions: Option<String>,
}

/// A field's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    Bool,
    Int8,
    Int16,
    Uint16,
    Int32,
    Uint32,
    Int64,
    Float64,
    Uuid,
    String,
    Bytes,
    Records,
    Struct(String),
    Array(Box<Type>),
}

impl Type {
    fn parse(text: &str) -> Type {
        if let Some(element) = text.strip_prefix("[]") {
            return Type::Array(Box::new(Type::parse(element)));
        }
        match text {
            "bool" => Type::Bool,
            "int8" => Type::Int8,
            "int16" => Type::Int16,
            "uint16" => Type::Uint16,
            "int32" => Type::Int32,
            "uint32" => Type::Uint32,
            "int64" => Type::Int64,
            "float64" => Type::Float64,
            "uuid" => Type::Uuid,
            "string" => Type::String,
            "bytes" => Type::Bytes,
            "records" => Type::Records,
            name => Type::Struct(name.to_owned()),
        }
    }
}

/// One field of a struct.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub ty: Type,
    /// Versions that carry the field, within the message's valid versions.
    pub versions: Option<Versions>,
    pub nullable: Option<Versions>,
    /// The tag, and the versions in which the field is tagged.
    pub tagged: Option<(u32, Versions)>,
    pub default: Option<serde_json::Value>,
    pub ignorable: bool,
    pub about: String,
    /// False where the field keeps the classic encoding even in flexible versions.
    pub flexible: bool,
}

/// A struct: a message's top level, an inline struct or a common struct.
#[derive(Debug, Clone)]
pub struct Struct {
    pub name: String,
    pub about: String,
    pub fields: Vec<Field>,
}

/// One spec file.
#[derive(Debug, Clone)]
pub struct Message {
    pub name: String,
    pub kind: String,
    pub api_key: Option<i16>,
    pub valid: Versions,
    pub flexible: Option<Versions>,
    pub latest_version_unstable: bool,
    pub listeners: Vec<String>,
    /// The top-level struct first, then every nested struct, in spec order.
    pub structs: Vec<Struct>,
}

/// Removes `//` comments, leaving `//` inside string literals alone.
pub(crate) fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_string = false;
        let mut escaped = false;
        let mut end = line.len();
        let bytes = line.as_bytes();
        for (index, &byte) in bytes.iter().enumerate() {
            match byte {
                _ if escaped => escaped = false,
                b'\\' if in_string => escaped = true,
                b'"' => in_string = !in_string,
                b'/' if !in_string && bytes.get(index + 1) == Some(&b'/') => {
                    end = index;
                    break;
                }
                _ => {}
            }
        }
        out.push_str(&line[..end]);
        out.push('\n');
    }
    out
}

fn convert_fields(
    raw: &[RawField],
    valid: Versions,
    owner: &str,
    structs: &mut Vec<Struct>,
) -> Result<Vec<Field>> {
    let mut fields = Vec::new();
    for field in raw {
        let versions = Versions::parse(&field.versions)?.and_then(|v| v.intersect(valid));
        let nullable = match &field.nullable_versions {
            Some(text) => Versions::parse(text)?.and_then(|v| v.intersect(valid)),
            None => None,
        };
        let tagged = match (field.tag, &field.tagged_versions) {
            (Some(tag), Some(text)) => Versions::parse(text)?
                .and_then(|v| v.intersect(valid))
                .map(|v| (tag, v)),
            (None, None) => None,
            _ => bail!("{owner}.{}: tag and taggedVersions go together", field.name),
        };
        let ty = Type::parse(&field.ty);
        if let Some(children) = &field.fields {
            let element = match &ty {
                Type::Struct(name) => name.clone(),
                Type::Array(inner) => match inner.as_ref() {
                    Type::Struct(name) => name.clone(),
                    _ => bail!("{owner}.{}: fields on a non-struct type", field.name),
                },
                _ => bail!("{owner}.{}: fields on a non-struct type", field.name),
            };
            let index = structs.len();
            structs.push(Struct {
                name: element.clone(),
                about: field.about.clone().unwrap_or_default(),
                fields: Vec::new(),
            });
            let converted = convert_fields(children, valid, &element, structs)?;
            structs[index].fields = converted;
        }
        let flexible = match &field.flexible_versions {
            Some(text) => Versions::parse(text)?.is_some(),
            None => true,
        };
        fields.push(Field {
            name: field.name.clone(),
            ty,
            versions,
            nullable,
            tagged,
            default: field.default.clone(),
            ignorable: field.ignorable,
            about: field
                .about
                .clone()
                .unwrap_or_else(|| format!("The {} field.", field.name)),
            flexible,
        });
    }
    Ok(fields)
}

/// Reads one spec file; `None` for an API that has no versions left.
pub fn load(path: &Path) -> Result<Option<Message>> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    let raw: RawMessage = serde_json::from_str(&strip_comments(&text))
        .with_context(|| format!("parsing {}", path.display()))?;
    // APIs removed from Kafka (e.g. ControlledShutdown in 4.0) keep a spec with no versions.
    let Some(valid) = Versions::parse(&raw.valid_versions)? else {
        return Ok(None);
    };
    let flexible = match &raw.flexible_versions {
        Some(text) => Versions::parse(text)?.and_then(|v| v.intersect(valid)),
        None => None,
    };
    let mut structs = vec![Struct {
        name: raw.name.clone(),
        about: String::new(),
        fields: Vec::new(),
    }];
    let top = convert_fields(&raw.fields, valid, &raw.name, &mut structs)?;
    structs[0].fields = top;
    for common in &raw.common_structs {
        let index = structs.len();
        structs.push(Struct {
            name: common.name.clone(),
            about: format!("The {} structure.", common.name),
            fields: Vec::new(),
        });
        let converted = convert_fields(&common.fields, valid, &common.name, &mut structs)?;
        structs[index].fields = converted;
    }
    let mut seen = BTreeMap::new();
    for s in &structs {
        if seen.insert(s.name.clone(), ()).is_some() {
            bail!("{}: struct {} is defined twice", raw.name, s.name);
        }
    }
    Ok(Some(Message {
        name: raw.name,
        kind: raw.kind,
        api_key: raw.api_key,
        valid,
        flexible,
        latest_version_unstable: raw.latest_version_unstable,
        listeners: raw.listeners,
        structs,
    }))
}

/// Reads every spec in a directory, sorted by name.
pub fn load_all(dir: &Path) -> Result<Vec<Message>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| dir.display().to_string())?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut messages = Vec::new();
    for path in &paths {
        messages.extend(load(path)?);
    }
    Ok(messages)
}

/// One row of Kafka's error table.
#[derive(Debug, Deserialize)]
pub struct ErrorCode {
    pub code: i16,
    pub name: String,
    pub retriable: bool,
    pub message: String,
}

/// Reads the exported error table.
pub fn load_errors(path: &Path) -> Result<Vec<ErrorCode>> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    Ok(serde_json::from_str(&text)?)
}
