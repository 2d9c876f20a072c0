//! Emits the Rust code of one message file: its structs, their `Encode`/`Decode` impls and,
//! behind the `proptest` feature, a strategy that makes values valid at a given version.

use std::fmt::Write;

use anyhow::{bail, Result};

use super::names::{doc_comment, field_ident};
use super::spec::{Field, Message, Struct, Type, Versions};

/// When something applies, as Rust code over `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    Always,
    Never,
    When(String),
}

impl Cond {
    /// The condition for `range` among the message's `valid` versions.
    pub fn of(range: Option<Versions>, valid: Versions) -> Cond {
        let Some(range) = range.and_then(|r| r.intersect(valid)) else {
            return Cond::Never;
        };
        match (range.min > valid.min, range.max < valid.max) {
            (false, false) => Cond::Always,
            (true, false) => Cond::When(format!("version >= {}", range.min)),
            (false, true) => Cond::When(format!("version <= {}", range.max)),
            (true, true) if range.min == range.max => {
                Cond::When(format!("version == {}", range.min))
            }
            (true, true) => Cond::When(format!(
                "({}..={}).contains(&version)",
                range.min, range.max
            )),
        }
    }

    pub(super) fn expr(&self) -> String {
        match self {
            Cond::Always => "true".into(),
            Cond::Never => "false".into(),
            Cond::When(code) => code.clone(),
        }
    }
}

/// Whether a type is `Copy` in the generated code.
fn is_copy(ty: &Type) -> bool {
    !matches!(
        ty,
        Type::String | Type::Bytes | Type::Records | Type::Struct(_) | Type::Array(_)
    )
}

/// How generated code names the value bound by `Some(value)` when matching `&Option<T>`:
/// dereferenced for `Copy` types, as the reference otherwise.
fn matched_value(ty: &Type) -> &'static str {
    if is_copy(ty) {
        "*value"
    } else {
        "value"
    }
}

/// Whether `ty` is `int32`: arrays of it decode into an inline `Int32Vec` (replica lists and
/// the like, usually short) instead of a `Vec`.
fn is_int32(ty: &Type) -> bool {
    matches!(ty, Type::Int32)
}

pub(super) fn fixed_size(ty: &Type) -> Option<usize> {
    Some(match ty {
        Type::Bool | Type::Int8 => 1,
        Type::Int16 | Type::Uint16 => 2,
        Type::Int32 | Type::Uint32 => 4,
        Type::Int64 | Type::Float64 => 8,
        Type::Uuid => 16,
        _ => return None,
    })
}

pub fn base_type(ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::Int8 => "i8".into(),
        Type::Int16 => "i16".into(),
        Type::Uint16 => "u16".into(),
        Type::Int32 => "i32".into(),
        Type::Uint32 => "u32".into(),
        Type::Int64 => "i64".into(),
        Type::Float64 => "f64".into(),
        Type::Uuid => "Uuid".into(),
        Type::String => "KafkaString".into(),
        Type::Bytes | Type::Records => "Bytes".into(),
        Type::Struct(name) => name.clone(),
        Type::Array(inner) if is_int32(inner) => "Int32Vec".into(),
        Type::Array(inner) => format!("Vec<{}>", base_type(inner)),
    }
}

fn rust_type(field: &Field) -> String {
    if field.nullable.is_some() {
        format!("Option<{}>", base_type(&field.ty))
    } else {
        base_type(&field.ty)
    }
}

pub(super) fn default_text(field: &Field) -> Option<String> {
    field.default.as_ref().map(|value| match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    })
}

fn parse_int(text: &str) -> Result<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let value = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => i128::from_str_radix(hex, 16)?,
        None => digits.parse::<i128>()?,
    };
    Ok(if negative { -value } else { value })
}

pub(super) fn base_default(ty: &Type, text: Option<&str>) -> Result<String> {
    let text = text.filter(|t| !t.is_empty());
    Ok(match ty {
        Type::Bool => match text {
            Some("true") => "true".into(),
            Some("false") | None => "false".into(),
            Some(other) => bail!("bad bool default {other:?}"),
        },
        Type::Int8 | Type::Int16 | Type::Uint16 | Type::Int32 | Type::Uint32 | Type::Int64 => {
            match text {
                Some(t) => parse_int(t)?.to_string(),
                None => "0".into(),
            }
        }
        Type::Float64 => match text {
            Some(t) => format!("{:?}", t.parse::<f64>()?),
            None => "0.0".into(),
        },
        Type::Uuid => "Uuid::ZERO".into(),
        Type::String => match text {
            Some(t) => format!("KafkaString::from_static({t:?})"),
            None => "KafkaString::from_static(\"\")".into(),
        },
        Type::Bytes | Type::Records => "Bytes::new()".into(),
        Type::Struct(name) => format!("{name}::default()"),
        Type::Array(inner) if is_int32(inner) => "Int32Vec::new()".into(),
        Type::Array(_) => "Vec::new()".into(),
    })
}

/// The field's default value as a Rust expression.
pub fn default_expr(field: &Field) -> Result<String> {
    let text = default_text(field);
    if text.as_deref() == Some("null") {
        if field.nullable.is_none() {
            bail!("{}: default null on a non-nullable field", field.name);
        }
        return Ok("None".into());
    }
    let base = base_default(&field.ty, text.as_deref())?;
    Ok(if field.nullable.is_some() {
        format!("Some({base})")
    } else {
        base
    })
}

/// Whether `place` (a field of `self`) holds something other than the field's default, as a
/// Rust expression.
pub fn is_set(field: &Field, place: &str) -> Result<String> {
    let text = default_text(field);
    let default = default_expr(field)?;
    Ok(match (&field.ty, field.nullable.is_some()) {
        (_, true) if default == "None" => format!("{place}.is_some()"),
        (Type::Array(_) | Type::Bytes | Type::Records, true) => {
            format!("{place}.as_ref().is_none_or(|v| !v.is_empty())")
        }
        (Type::Array(_) | Type::Bytes | Type::Records, false) => format!("!{place}.is_empty()"),
        (Type::String, false) if text.as_deref().is_none_or(str::is_empty) => {
            format!("!{place}.is_empty()")
        }
        (Type::Bool, false) if default == "true" => format!("!{place}"),
        (Type::Bool, false) => place.to_string(),
        _ => format!("{place} != {default}"),
    })
}

/// `cond && is_set`, simplified.
fn present_and_set(cond: &Cond, field: &Field, place: &str) -> Result<String> {
    let set = is_set(field, place)?;
    Ok(match cond {
        Cond::Always => set,
        Cond::Never => "false".into(),
        Cond::When(c) => format!("{c} && {set}"),
    })
}

/// Whether the field's default is its type's `Default`, so the struct can derive `Default`.
fn has_type_default(field: &Field) -> Result<bool> {
    let default = default_expr(field)?;
    Ok(matches!(
        default.as_str(),
        "0" | "0.0"
            | "false"
            | "None"
            | "Vec::new()"
            | "Int32Vec::new()"
            | "Bytes::new()"
            | "Uuid::ZERO"
            | "KafkaString::from_static(\"\")"
    ) || default == format!("{}::default()", base_type(&field.ty)))
}

/// Code that writes a value of `ty`; `value` is an expression of the value (for `Copy` types)
/// or a reference to it.
fn write_value(ty: &Type, value: &str, compact: &str, what: &str) -> String {
    match ty {
        Type::Bool => format!("encoder::put_bool(buf, {value});"),
        Type::Int8 => format!("buf.put_i8({value});"),
        Type::Int16 => format!("buf.put_i16({value});"),
        Type::Uint16 => format!("buf.put_u16({value});"),
        Type::Int32 => format!("buf.put_i32({value});"),
        Type::Uint32 => format!("buf.put_u32({value});"),
        Type::Int64 => format!("buf.put_i64({value});"),
        Type::Float64 => format!("buf.put_f64({value});"),
        Type::Uuid => match value.strip_prefix('*') {
            Some(reference) => format!("buf.put_slice({reference}.as_bytes());"),
            None => format!("buf.put_slice({value}.as_bytes());"),
        },
        Type::String => format!(
            "encoder::put_nullable_string(buf, {what}, Some({value}.as_str()), {compact})?;"
        ),
        Type::Bytes | Type::Records => {
            format!("encoder::put_nullable_bytes(buf, {what}, Some(&{value}[..]), {compact})?;")
        }
        Type::Struct(_) => format!("{value}.write_to(buf, version)?;"),
        Type::Array(inner) if is_int32(inner) => {
            format!("encoder::put_int32_array(buf, {what}, Some({value}.as_slice()), {compact})?;")
        }
        Type::Array(inner) => {
            let item = if is_copy(inner) { "*item" } else { "item" };
            format!(
                "encoder::put_length(buf, {what}, Some({value}.len()), {compact}, true)?;\nfor item in {value}.iter() {{\n{}\n}}",
                write_value(inner, item, compact, what)
            )
        }
    }
}

fn write_null(ty: &Type, compact: &str, what: &str) -> String {
    match ty {
        Type::String => format!("encoder::put_nullable_string(buf, {what}, None, {compact})?;"),
        Type::Bytes | Type::Records => {
            format!("encoder::put_nullable_bytes(buf, {what}, None, {compact})?;")
        }
        Type::Array(_) => format!("encoder::put_length(buf, {what}, None, {compact}, true)?;"),
        Type::Struct(_) => "buf.put_i8(-1);".into(),
        _ => unreachable!("primitive types are never nullable"),
    }
}

/// The encoded size of a value of `ty`, as a Rust expression.
fn value_len(ty: &Type, value: &str, compact: &str) -> String {
    if let Some(size) = fixed_size(ty) {
        return size.to_string();
    }
    match ty {
        Type::String => format!("encoder::nullable_string_len(Some({value}.len()), {compact})"),
        Type::Bytes | Type::Records => {
            format!("encoder::nullable_bytes_len(Some(&{value}[..]), {compact})")
        }
        Type::Struct(_) => format!("{value}.encoded_len(version)"),
        Type::Array(inner) => {
            let prefix = format!("encoder::length_len(Some({value}.len()), {compact}, true)");
            match fixed_size(inner) {
                Some(1) => format!("{prefix} + {value}.len()"),
                Some(size) => format!("{prefix} + {value}.len() * {size}"),
                None => format!(
                    "{prefix} + {value}.iter().map(|item| {}).sum::<usize>()",
                    value_len(inner, "item", compact)
                ),
            }
        }
        _ => unreachable!(),
    }
}

fn null_len(ty: &Type, compact: &str) -> String {
    match ty {
        Type::String => format!("encoder::nullable_string_len(None, {compact})"),
        Type::Bytes | Type::Records => format!("encoder::nullable_bytes_len(None, {compact})"),
        Type::Array(_) => format!("encoder::length_len(None, {compact}, true)"),
        Type::Struct(_) => "1".into(),
        _ => unreachable!(),
    }
}

fn read_value(ty: &Type, compact: &str, what: &str) -> String {
    match ty {
        Type::Bool => format!("decoder.boolean({what})?"),
        Type::Int8 => format!("decoder.int8({what})?"),
        Type::Int16 => format!("decoder.int16({what})?"),
        Type::Uint16 => format!("decoder.uint16({what})?"),
        Type::Int32 => format!("decoder.int32({what})?"),
        Type::Uint32 => format!("decoder.uint32({what})?"),
        Type::Int64 => format!("decoder.int64({what})?"),
        Type::Float64 => format!("decoder.float64({what})?"),
        Type::Uuid => format!("decoder.uuid({what})?"),
        Type::String => format!("decoder.string({what}, {compact})?"),
        Type::Bytes | Type::Records => format!("decoder.bytes({what}, {compact})?"),
        Type::Struct(name) => format!("{name}::decode(decoder, version)?"),
        Type::Array(inner) if is_int32(inner) => {
            format!("decoder.int32_array({what}, {compact})?")
        }
        Type::Array(inner) => format!(
            "decoder.array({what}, {compact}, {}, |decoder| {})?",
            fixed_size(inner).unwrap_or(1),
            element_read(inner, compact, what)
        ),
    }
}

/// The body of an array's element closure: the element's read, returning its `Result`.
fn element_read(ty: &Type, compact: &str, what: &str) -> String {
    let read = read_value(ty, compact, what);
    match read.strip_suffix('?') {
        Some(result) => result.to_owned(),
        None => format!("Ok({read})"),
    }
}

fn read_nullable(ty: &Type, compact: &str, what: &str) -> String {
    match ty {
        Type::String => format!("decoder.nullable_string({what}, {compact})?"),
        Type::Bytes | Type::Records => format!("decoder.nullable_bytes({what}, {compact})?"),
        Type::Array(inner) if is_int32(inner) => {
            format!("decoder.nullable_int32_array({what}, {compact})?")
        }
        Type::Array(inner) => format!(
            "decoder.nullable_array({what}, {compact}, {}, |decoder| {})?",
            fixed_size(inner).unwrap_or(1),
            element_read(inner, compact, what)
        ),
        Type::Struct(name) => format!(
            "if decoder.int8({what})? < 0 {{ None }} else {{ Some({name}::decode(decoder, version)?) }}"
        ),
        _ => unreachable!(),
    }
}

/// Everything the emitter needs to know about the message a struct belongs to.
pub struct Context<'a> {
    pub message: &'a Message,
    /// `flexible` as a Rust expression over `version` (or a literal).
    pub flexible: Cond,
}

impl Context<'_> {
    pub(super) fn compact(&self, field: &Field) -> String {
        if !field.flexible {
            return "false".into();
        }
        match self.flexible {
            Cond::Always => "true".into(),
            Cond::Never => "false".into(),
            Cond::When(_) => "flexible".into(),
        }
    }

    pub(super) fn has_tagged_section(&self) -> bool {
        self.flexible != Cond::Never
    }

    pub(super) fn flexible_binding(&self) -> String {
        match &self.flexible {
            Cond::When(code) => format!("let flexible = {code};\n"),
            _ => String::new(),
        }
    }

    fn flexible_test(&self) -> String {
        self.flexible.expr()
    }
}

/// Field presence: where it is written as a regular field, and where as a tagged one.
pub(super) fn presence(field: &Field, valid: Versions) -> Result<(Cond, Cond)> {
    match field.tagged {
        None => Ok((Cond::of(field.versions, valid), Cond::Never)),
        Some((_, tagged)) => {
            if field.versions != Some(tagged) {
                bail!("{}: tagged in only some of its versions", field.name);
            }
            Ok((Cond::Never, Cond::of(Some(tagged), valid)))
        }
    }
}

/// A tagged field's pattern in a tagged-section `match`: its tag, guarded by the versions that
/// have it (a tag outside them is unknown there).
pub(super) fn tag_pattern(field: &Field, valid: Versions) -> Result<String> {
    let Some((tag, _)) = field.tagged else {
        bail!("{}: not a tagged field", field.name);
    };
    let (_, cond) = presence(field, valid)?;
    Ok(match cond {
        Cond::Always => tag.to_string(),
        other => format!("{tag} if {}", other.expr()),
    })
}

pub(super) fn what_const(owner: &str, field: &Field) -> String {
    format!("\"{owner}.{}\"", field.name)
}

/// Emits one struct: definition, `Default`, `Encode`, `Decode` and (if top-level) `Message`.
pub fn emit_struct(out: &mut String, ctx: &Context<'_>, st: &Struct, top: bool) -> Result<()> {
    let message = ctx.message;
    let valid = message.valid;
    let name = &st.name;
    let tagged_section = ctx.has_tagged_section();

    // Definition.
    let about = if top {
        format!(
            "The {} message (versions {}).",
            name,
            version_text(Some(valid))
        )
    } else if st.about.is_empty() {
        format!("The {name} structure.")
    } else {
        st.about.clone()
    };
    out.push_str(&doc_comment(&about, ""));
    let mut derivable = true;
    for field in &st.fields {
        derivable &= has_type_default(field)?;
    }
    if derivable {
        out.push_str("#[derive(Debug, Clone, Default, PartialEq)]\n");
    } else {
        out.push_str("#[derive(Debug, Clone, PartialEq)]\n");
    }
    // A newer spec may add fields: outside this crate a value is made through `Default` and the
    // `with_*` setters, so adding one is not a breaking change.
    out.push_str("#[non_exhaustive]\n");
    writeln!(out, "pub struct {name} {{")?;
    for field in &st.fields {
        let mut doc = field.about.clone();
        let _ = write!(doc, "\n\nVersions: {}", version_text(field.versions));
        if let Some(nullable) = field.nullable {
            let _ = write!(doc, "; nullable in {}", version_text(Some(nullable)));
        }
        if let Some((tag, _)) = field.tagged {
            let _ = write!(doc, "; tagged field {tag}");
        }
        if field.ignorable {
            doc.push_str("; ignorable");
        }
        doc.push('.');
        out.push_str(&doc_comment(&doc, "    "));
        writeln!(
            out,
            "    pub {}: {},",
            field_ident(&field.name),
            rust_type(field)
        )?;
    }
    if tagged_section {
        out.push_str("    /// Tagged fields this build does not know, kept to be written back.\n");
        out.push_str("    pub unknown_tagged_fields: UnknownTaggedFields,\n");
    }
    out.push_str("}\n\n");

    // Default.
    if !derivable {
        writeln!(out, "impl Default for {name} {{")?;
        out.push_str("    fn default() -> Self {\n        Self {\n");
        for field in &st.fields {
            writeln!(
                out,
                "            {}: {},",
                field_ident(&field.name),
                default_expr(field)?
            )?;
        }
        if tagged_section {
            out.push_str("            unknown_tagged_fields: UnknownTaggedFields::default(),\n");
        }
        out.push_str("        }\n    }\n}\n\n");
    }

    emit_setters(out, st, tagged_section)?;

    // Encode.
    writeln!(out, "impl Encode for {name} {{")?;
    push_inline_unless_top(out, top);
    let start = out.len();
    out.push_str(
        "    fn write_to(&self, buf: &mut Writer<'_>, version: i16) -> Result<(), EncodeError> {\n",
    );
    if top {
        // The nested structs' writes are inlined into the message's, all through a writer
        // held in a local, which stays in registers.
        out.push_str("        buf.in_place(|buf| {\n");
        out.push_str("        if !Self::VERSIONS.contains(version) {\n            return Err(EncodeError::UnsupportedVersion { message: Self::NAME, version, valid: Self::VERSIONS });\n        }\n");
    }
    out.push_str(&ctx.flexible_binding());
    let mut tagged: Vec<&Field> = Vec::new();
    for field in &st.fields {
        let (regular, tag_cond) = presence(field, valid)?;
        if tag_cond != Cond::Never {
            tagged.push(field);
        }
        let ident = field_ident(&field.name);
        let what = what_const(name, field);
        let compact = ctx.compact(field);
        let write = if field.nullable.is_some() {
            let nullable = Cond::of(field.nullable, valid);
            let prefix = if matches!(field.ty, Type::Struct(_)) {
                match &nullable {
                    Cond::Always => "buf.put_i8(1);\n".to_string(),
                    Cond::Never => String::new(),
                    Cond::When(c) => format!("if {c} {{ buf.put_i8(1); }}\n"),
                }
            } else {
                String::new()
            };
            let inner = matched_value(&field.ty);
            let null = match &nullable {
                Cond::Always => write_null(&field.ty, &compact, &what),
                Cond::Never => format!(
                    "return Err(EncodeError::NullNotAllowed {{ field: {what}, version }});"
                ),
                Cond::When(c) => format!(
                    "if {c} {{ {} }} else {{ return Err(EncodeError::NullNotAllowed {{ field: {what}, version }}); }}",
                    write_null(&field.ty, &compact, &what)
                ),
            };
            format!(
                "match &self.{ident} {{\nSome(value) => {{ {prefix}{} }}\nNone => {{ {null} }}\n}}",
                write_value(&field.ty, inner, &compact, &what)
            )
        } else {
            write_value(&field.ty, &format!("self.{ident}"), &compact, &what)
        };
        let absent = if field.ignorable || tag_cond != Cond::Never {
            None
        } else {
            Some(format!(
                "if {} {{ return Err(EncodeError::FieldNotInVersion {{ field: {what}, version }}); }}",
                is_set(field, &format!("self.{ident}"))?
            ))
        };
        match (&regular, &tag_cond) {
            (Cond::Always, _) => writeln!(out, "{write}")?,
            (Cond::When(c), _) => match &absent {
                Some(check) => writeln!(out, "if {c} {{\n{write}\n}} else {{ {check} }}")?,
                None => writeln!(out, "if {c} {{\n{write}\n}}")?,
            },
            (Cond::Never, Cond::Never) => {
                if let Some(check) = &absent {
                    writeln!(out, "{check}")?;
                }
            }
            (Cond::Never, _) => {}
        }
    }
    tagged.sort_by_key(|f| f.tagged.map(|(tag, _)| tag));
    if tagged_section && tagged.is_empty() {
        let section = "encoder::put_unknown_tagged_fields(buf, &self.unknown_tagged_fields);\n";
        push_when_flexible(out, ctx, section)?;
    } else if tagged_section {
        let mut section = String::new();
        section.push_str("let mut tagged_count = self.unknown_tagged_fields.len();\n");
        let mut writes = String::new();
        for field in &tagged {
            let (tag, _) = field.tagged.expect("tagged");
            let (_, cond) = presence(field, valid)?;
            let ident = field_ident(&field.name);
            let what = what_const(name, field);
            let compact = ctx.compact(field);
            let test = present_and_set(&cond, field, &format!("self.{ident}"))?;
            writeln!(section, "if {test} {{ tagged_count += 1; }}")?;
            let (value_code, size_code) = tagged_value_code(field, &ident, &compact, &what, valid);
            writeln!(
                writes,
                "if {test} {{\nunknown.write_before(buf, {tag});\nencoder::put_unsigned_varint(buf, {tag});\nlet size = {size_code};\nencoder::put_unsigned_varint(buf, size as u32);\n{value_code}\n}}"
            )?;
        }
        section.push_str("encoder::put_unsigned_varint(buf, tagged_count as u32);\n");
        section.push_str("let mut unknown = UnknownTagWriter::new(&self.unknown_tagged_fields);\n");
        section.push_str(&writes);
        section.push_str("unknown.finish(buf);\n");
        push_when_flexible(out, ctx, &section)?;
    }
    out.push_str(if top {
        "Ok(())\n})\n}\n\n"
    } else {
        "Ok(())\n}\n\n"
    });
    tidy_function(out, start);

    // Encoded length.
    push_inline_unless_top(out, top);
    let start = out.len();
    out.push_str("    fn encoded_len(&self, version: i16) -> usize {\n");
    out.push_str(&ctx.flexible_binding());
    out.push_str("let mut len = 0;\n");
    for field in &st.fields {
        let (regular, _) = presence(field, valid)?;
        if regular == Cond::Never {
            continue;
        }
        let ident = field_ident(&field.name);
        let compact = ctx.compact(field);
        let size = field_len(field, &ident, &compact, valid);
        match &regular {
            Cond::Always => writeln!(out, "len += {size};")?,
            Cond::When(c) => writeln!(out, "if {c} {{ len += {size}; }}")?,
            Cond::Never => {}
        }
    }
    if tagged_section && tagged.is_empty() {
        let section = "len += encoder::unknown_tagged_fields_len(&self.unknown_tagged_fields);\n";
        push_when_flexible(out, ctx, section)?;
    } else if tagged_section {
        let mut section = String::from(
            "let mut tagged_count = self.unknown_tagged_fields.len();\nlet mut tagged_len = self.unknown_tagged_fields.encoded_len();\n",
        );
        for field in &tagged {
            let (tag, _) = field.tagged.expect("tagged");
            let (_, cond) = presence(field, valid)?;
            let ident = field_ident(&field.name);
            let compact = ctx.compact(field);
            let what = what_const(name, field);
            let (_, size_code) = tagged_value_code(field, &ident, &compact, &what, valid);
            writeln!(
                section,
                "if {} {{ tagged_count += 1; tagged_len += encoder::tagged_field_len({tag}, {size_code}); }}",
                present_and_set(&cond, field, &format!("self.{ident}"))?
            )?;
        }
        section
            .push_str("len += encoder::unsigned_varint_len(tagged_count as u32) + tagged_len;\n");
        push_when_flexible(out, ctx, &section)?;
    }
    out.push_str("len\n}\n");
    tidy_function(out, start);
    out.push_str("}\n\n");

    // Decode.
    writeln!(out, "impl Decode for {name} {{")?;
    push_inline_unless_top(out, top);
    let start = out.len();
    out.push_str(
        "    fn decode(decoder: &mut Decoder<'_>, version: i16) -> Result<Self, DecodeError> {\n",
    );
    if top {
        // As for writing: the nested structs' reads go through a decoder held in a local.
        out.push_str("        decoder.in_place(|decoder| {\n");
        out.push_str("        if !Self::VERSIONS.contains(version) {\n            return Err(DecodeErrorKind::UnsupportedVersion { message: Self::NAME, version, valid: Self::VERSIONS }.into());\n        }\n");
    }
    out.push_str(&ctx.flexible_binding());
    for field in &st.fields {
        let (regular, tag_cond) = presence(field, valid)?;
        let ident = field_ident(&field.name);
        let what = what_const(name, field);
        let compact = ctx.compact(field);
        let default = default_expr(field)?;
        let read = field_read(field, &compact, &what, valid);
        let mutable = if tag_cond != Cond::Never { "mut " } else { "" };
        let local = local_name(&ident);
        match &regular {
            Cond::Always => writeln!(out, "let {mutable}{local} = {read};")?,
            Cond::When(c) => writeln!(
                out,
                "let {mutable}{local} = if {c} {{ {read} }} else {{ {default} }};"
            )?,
            Cond::Never => writeln!(out, "let {mutable}{local} = {default};")?,
        }
    }
    if tagged_section {
        let mut arms = String::new();
        for field in &tagged {
            let pattern = tag_pattern(field, valid)?;
            let ident = field_ident(&field.name);
            let what = what_const(name, field);
            let compact = ctx.compact(field);
            let read = field_read(field, &compact, &what, valid);
            writeln!(
                arms,
                "{pattern} => {{ {} = {read}; Ok(true) }}",
                local_name(&ident)
            )?;
        }
        let closure = if arms.is_empty() {
            "|_, _| Ok(false)".to_string()
        } else {
            format!("|tag, decoder| match tag {{\n{arms}_ => Ok(false),\n}}")
        };
        let read = format!("decoder.tagged_fields(\"{name}\", {closure})?");
        match &ctx.flexible {
            Cond::Always => writeln!(out, "let unknown_tagged_fields = {read};")?,
            _ => writeln!(
                out,
                "let unknown_tagged_fields = if flexible {{ {read} }} else {{ UnknownTaggedFields::default() }};"
            )?,
        }
    }
    out.push_str("Ok(Self {\n");
    for field in &st.fields {
        let ident = field_ident(&field.name);
        let local = local_name(&ident);
        if local == ident {
            writeln!(out, "{ident},")?;
        } else {
            writeln!(out, "{ident}: {local},")?;
        }
    }
    if tagged_section {
        out.push_str("unknown_tagged_fields,\n");
    }
    out.push_str(if top { "})\n})\n}\n" } else { "})\n}\n" });
    tidy_function(out, start);
    out.push_str("}\n\n");

    if top {
        writeln!(out, "impl Message for {name} {{")?;
        writeln!(out, "    const NAME: &'static str = \"{name}\";")?;
        writeln!(
            out,
            "    const VERSIONS: VersionRange = VersionRange::new({}, {});",
            valid.min, valid.max
        )?;
        match message.flexible {
            Some(f) => writeln!(
                out,
                "    const FLEXIBLE_VERSIONS: Option<VersionRange> = Some(VersionRange::new({}, {}));",
                f.min,
                f.max.min(valid.max)
            )?,
            None => {
                out.push_str("    const FLEXIBLE_VERSIONS: Option<VersionRange> = None;\n")
            }
        }
        writeln!(
            out,
            "    #[cfg(feature = \"view\")]\n    type View<'a> = super::{}_view::{}<'a>;",
            super::names::snake_case(&message.name),
            super::emit_view::view_name(name)
        )?;
        out.push_str("}\n\n");
    }

    emit_strategy(out, ctx, st)?;
    Ok(())
}

/// Emits a `with_<field>` setter per field: how code outside the crate builds a value of a
/// `#[non_exhaustive]` struct, starting from `Default`.
fn emit_setters(out: &mut String, st: &Struct, tagged_section: bool) -> Result<()> {
    let name = &st.name;
    writeln!(out, "impl {name} {{")?;
    let mut setters: Vec<(String, String)> = st
        .fields
        .iter()
        .map(|field| (field_ident(&field.name), rust_type(field)))
        .collect();
    if tagged_section {
        setters.push(("unknown_tagged_fields".into(), "UnknownTaggedFields".into()));
    }
    for (ident, ty) in setters {
        let plain = ident.trim_start_matches("r#");
        writeln!(
            out,
            "    /// Sets [`{plain}`](Self::{ident}).\n    pub fn with_{plain}(mut self, value: {ty}) -> Self {{\n        self.{ident} = value;\n        self\n    }}\n"
        )?;
    }
    out.push_str("}\n\n");
    Ok(())
}

/// The code writing a tagged field's value and the expression of its size.
/// Marks a nested struct's codec functions `#[inline]`: they run in a loop of their parent's,
/// and inlined there each value is built or written in place instead of going through a
/// returned `Result`.
fn push_inline_unless_top(out: &mut String, top: bool) {
    if !top {
        out.push_str("    #[inline]\n");
    }
}

/// Appends `section`, wrapped in `if flexible { .. }` unless every version is flexible.
fn push_when_flexible(out: &mut String, ctx: &Context<'_>, section: &str) -> Result<()> {
    match &ctx.flexible {
        Cond::Always => out.push_str(section),
        _ => writeln!(out, "if flexible {{\n{section}}}")?,
    }
    Ok(())
}

fn tagged_value_code(
    field: &Field,
    ident: &str,
    compact: &str,
    what: &str,
    valid: Versions,
) -> (String, String) {
    let size = field_len(field, ident, compact, valid);
    let write = if field.nullable.is_some() {
        // Only non-default (so, for a null default, non-null) values reach the tagged section,
        // but a non-null default can still leave a null to write.
        let prefix = if matches!(field.ty, Type::Struct(_)) {
            "buf.put_i8(1);\n"
        } else {
            ""
        };
        let inner = matched_value(&field.ty);
        format!(
            "match &self.{ident} {{\nSome(value) => {{ {prefix}{} }}\nNone => {{ {} }}\n}}",
            write_value(&field.ty, inner, compact, what),
            write_null(&field.ty, compact, what)
        )
    } else {
        write_value(&field.ty, &format!("self.{ident}"), compact, what)
    };
    (write, size)
}

/// The encoded size of a field present in the version, as an expression.
fn field_len(field: &Field, ident: &str, compact: &str, valid: Versions) -> String {
    if field.nullable.is_none() {
        return value_len(&field.ty, &format!("self.{ident}"), compact);
    }
    let nullable = Cond::of(field.nullable, valid);
    let prefix = if matches!(field.ty, Type::Struct(_)) {
        match &nullable {
            Cond::Always => "1 + ".to_string(),
            Cond::Never => String::new(),
            Cond::When(c) => format!("usize::from({c}) + "),
        }
    } else {
        String::new()
    };
    let value = matched_value(&field.ty);
    format!(
        "match &self.{ident} {{ Some(value) => {prefix}{}, None => {} }}",
        value_len(&field.ty, value, compact),
        null_len(&field.ty, compact)
    )
}

/// The expression reading a field present in the version.
fn field_read(field: &Field, compact: &str, what: &str, valid: Versions) -> String {
    if field.nullable.is_none() {
        return read_value(&field.ty, compact, what);
    }
    match Cond::of(field.nullable, valid) {
        Cond::Always => read_nullable(&field.ty, compact, what),
        Cond::Never => format!("Some({})", read_value(&field.ty, compact, what)),
        Cond::When(c) => format!(
            "if {c} {{ {} }} else {{ Some({}) }}",
            read_nullable(&field.ty, compact, what),
            read_value(&field.ty, compact, what)
        ),
    }
}

fn base_strategy(ty: &Type) -> String {
    match ty {
        Type::Bool => "any::<bool>().boxed()".into(),
        Type::Int8 => "any::<i8>().boxed()".into(),
        Type::Int16 => "any::<i16>().boxed()".into(),
        Type::Uint16 => "any::<u16>().boxed()".into(),
        Type::Int32 => "any::<i32>().boxed()".into(),
        Type::Uint32 => "any::<u32>().boxed()".into(),
        Type::Int64 => "any::<i64>().boxed()".into(),
        Type::Float64 => "arbitrary::float64()".into(),
        Type::Uuid => "arbitrary::uuid()".into(),
        Type::String => "arbitrary::string()".into(),
        Type::Bytes | Type::Records => "arbitrary::bytes()".into(),
        Type::Struct(name) => format!("{name}::strategy(version)"),
        Type::Array(inner) if matches!(inner.as_ref(), Type::Struct(_)) => {
            format!("arbitrary::vec({})", base_strategy(inner))
        }
        Type::Array(inner) if is_int32(inner) => format!(
            "arbitrary::long_vec({}).prop_map(Int32Vec::from).boxed()",
            base_strategy(inner)
        ),
        Type::Array(inner) => format!("arbitrary::long_vec({})", base_strategy(inner)),
    }
}

fn emit_strategy(out: &mut String, ctx: &Context<'_>, st: &Struct) -> Result<()> {
    let valid = ctx.message.valid;
    let name = &st.name;
    out.push_str("#[cfg(any(test, feature = \"proptest\"))]\n");
    writeln!(out, "impl {name} {{")?;
    out.push_str("    /// A proptest strategy making values that can be written at `version`.\n");
    let start = out.len();
    out.push_str(
        "    pub fn strategy(version: i16) -> proptest::strategy::BoxedStrategy<Self> {\n",
    );
    out.push_str("use proptest::prelude::*;\n");
    let mut vars = Vec::new();
    for (index, field) in st.fields.iter().enumerate() {
        let present = Cond::of(field.versions, valid);
        let base = base_strategy(&field.ty);
        let value = if field.nullable.is_some() {
            match Cond::of(field.nullable, valid) {
                Cond::Always => format!("proptest::option::of({base}).boxed()"),
                Cond::Never => format!("{base}.prop_map(Some).boxed()"),
                Cond::When(c) => format!(
                    "if {c} {{ proptest::option::of({base}).boxed() }} else {{ {base}.prop_map(Some).boxed() }}"
                ),
            }
        } else {
            base
        };
        let default = default_expr(field)?;
        let code = match &present {
            Cond::Always => value,
            Cond::Never => format!("Just({default}).boxed()"),
            Cond::When(c) => format!("if {c} {{ {value} }} else {{ Just({default}).boxed() }}"),
        };
        let var = format!("f{index}");
        writeln!(out, "let {var} = {code};")?;
        vars.push(var);
    }
    let tagged_section = ctx.has_tagged_section();
    if tagged_section {
        let first_free = st
            .fields
            .iter()
            .filter_map(|f| f.tagged.map(|(tag, _)| tag + 1))
            .max()
            .unwrap_or(0);
        let code = format!("arbitrary::unknown_tagged_fields({first_free})");
        match &ctx.flexible {
            Cond::Always => writeln!(out, "let unknown = {code};")?,
            _ => writeln!(
                out,
                "let unknown = if {} {{ {code} }} else {{ Just(UnknownTaggedFields::default()).boxed() }};",
                ctx.flexible_test()
            )?,
        }
    } else {
        out.push_str("let unknown = Just(());\n");
    }
    if vars.is_empty() {
        vars.push("_empty".into());
        out.push_str("let _empty = Just(());\n");
    }
    let chunks: Vec<&[String]> = vars.chunks(10).collect();
    if chunks.len() > 11 {
        bail!("{name} has too many fields for the strategy tuple");
    }
    let tuple_of = |chunk: &[String]| format!("({},)", chunk.join(", "));
    let strategies: Vec<String> = chunks.iter().map(|c| tuple_of(c)).collect();
    let pattern = if strategies.len() == 1 {
        strategies[0].clone()
    } else {
        format!("({})", strategies.join(", "))
    };
    writeln!(
        out,
        "({pattern}, unknown).prop_map(|({pattern}, unknown)| {{ let _ = &unknown; Self {{"
    )?;
    for (field, var) in st.fields.iter().zip(&vars) {
        writeln!(out, "{}: {var},", field_ident(&field.name))?;
    }
    if tagged_section {
        out.push_str("unknown_tagged_fields: unknown,\n");
    }
    out.push_str("}}).boxed()\n}\n");
    tidy_function(out, start);
    out.push_str("}\n\n");
    Ok(())
}

/// The local variable a decoder binds a field to: the field's name, unless that would shadow
/// one of the decoder's own bindings.
fn local_name(ident: &str) -> String {
    const TAKEN: &[&str] = &[
        "version",
        "decoder",
        "flexible",
        "tag",
        "unknown_tagged_fields",
    ];
    if TAKEN.contains(&ident) {
        format!("{ident}_field")
    } else {
        ident.to_owned()
    }
}

/// Tidies the function that starts at `start` in `out`: renames an unused `version`
/// parameter to `_version` and drops `mut` from bindings that are never changed.
pub(super) fn tidy_function(out: &mut String, start: usize) {
    let mut function = out.split_off(start);
    let (signature, body) = function.split_at(function.find('\n').map_or(0, |i| i + 1));
    let mut body = body.to_owned();
    // `version: f0` in a struct literal names a field, not the parameter.
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let reads_version = body.match_indices("version").any(|(index, _)| {
        let before = body[..index].chars().next_back();
        let after = body[index + "version".len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(|c| is_ident(c) || c == ':')
    });
    let signature = if reads_version {
        signature.to_owned()
    } else {
        signature.replace("version: i16", "_version: i16")
    };
    for (binding, changed_by) in [
        ("len", "len +="),
        ("tagged_count", "tagged_count +="),
        ("tagged_len", "tagged_len +="),
        ("unknown", "unknown.write_before"),
    ] {
        if !body.contains(changed_by) {
            body = body.replace(&format!("let mut {binding} "), &format!("let {binding} "));
        }
    }
    function = signature + &body;
    out.push_str(&function);
}

/// Describes a version range for docs.
pub fn version_text(range: Option<Versions>) -> String {
    match range {
        None => "none".into(),
        Some(r) if r.max == i16::MAX => format!("{}+", r.min),
        Some(r) if r.min == r.max => r.min.to_string(),
        Some(r) => format!("{}-{}", r.min, r.max),
    }
}
