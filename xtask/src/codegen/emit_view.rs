//! Emits a struct's zero-copy view (see `klamm_protocol::view`): a checking `scan` that records
//! where each field starts, an accessor per field that reads it from the frame, `to_message`,
//! and for the top-level struct the `View` impl.

use std::collections::BTreeSet;
use std::fmt::Write;

use anyhow::{bail, Result};

use super::emit_struct::{
    base_default, base_type, default_text, fixed_size, presence, tag_pattern, what_const, Cond,
    Context,
};
use super::names::{doc_comment, field_ident};
use super::spec::{Field, Message, Struct, Type};

/// The name of a struct's view type.
pub fn view_name(name: &str) -> String {
    format!("{name}View")
}

/// Methods every view has, which no accessor may shadow.
const RESERVED: &[&str] = &[
    "scan",
    "locate",
    "absent",
    "to_message",
    "unknown_tagged_fields",
];

/// The structs of `message` whose view some accessor needs `absent` for: those held directly
/// (not in an array) by a field that a version can lack.
pub fn directly_held(message: &Message) -> Result<BTreeSet<String>> {
    let mut held = BTreeSet::new();
    for field in message.structs.iter().flat_map(|st| &st.fields) {
        if let Type::Struct(name) = &field.ty {
            if view_default(field)?.contains("::absent(") {
                held.insert(name.clone());
            }
        }
    }
    Ok(held)
}

/// The type an array view of `ty` yields.
fn element_type(ty: &Type) -> Result<String> {
    Ok(match ty {
        Type::Int8 | Type::Int16 | Type::Int32 | Type::Int64 | Type::Uuid => base_type(ty),
        Type::String => "&'a str".into(),
        Type::Struct(name) => format!("{}<'a>", view_name(name)),
        other => bail!("no view for arrays of {other:?}"),
    })
}

/// The type an accessor of a non-null `ty` returns: the owned type for numbers and UUIDs,
/// borrowed or viewed for the rest.
fn base_view_type(ty: &Type) -> Result<String> {
    Ok(match ty {
        Type::String => "&'a str".into(),
        Type::Bytes | Type::Records => "&'a [u8]".into(),
        Type::Struct(name) => format!("{}<'a>", view_name(name)),
        Type::Array(inner) => format!("ArrayView<'a, {}>", element_type(inner)?),
        scalar => base_type(scalar),
    })
}

fn view_type(field: &Field) -> Result<String> {
    let base = base_view_type(&field.ty)?;
    Ok(if field.nullable.is_some() {
        format!("Option<{base}>")
    } else {
        base
    })
}

/// What an accessor returns for a field its version does not have.
fn view_default(field: &Field) -> Result<String> {
    let text = default_text(field);
    if text.as_deref() == Some("null") {
        return Ok("None".into());
    }
    let base = match &field.ty {
        Type::String => format!("{:?}", text.unwrap_or_default()),
        Type::Bytes | Type::Records => "&[]".into(),
        Type::Struct(name) => format!("{}::absent(version)", view_name(name)),
        Type::Array(_) => "ArrayView::empty(version)".into(),
        ty => base_default(ty, text.as_deref())?,
    };
    Ok(if field.nullable.is_some() {
        format!("Some({base})")
    } else {
        base
    })
}

/// Code that skips a value of `ty` at `cursor` (checking it, for the decoder), as a
/// statement; `nullable` is the expression saying whether the version allows null.
fn scan_value(ty: &Type, compact: &str, what: &str, nullable: &str) -> Result<String> {
    if let Some(size) = fixed_size(ty) {
        return Ok(format!("cursor.skip_fixed({what}, {size})?;"));
    }
    Ok(match ty {
        Type::String => format!("cursor.skip_string({what}, {compact}, {nullable})?;"),
        Type::Bytes | Type::Records => {
            format!("cursor.skip_bytes({what}, {compact}, {nullable})?;")
        }
        Type::Struct(name) => {
            let plain = format!("{}::scan(cursor, version)?;", view_name(name));
            match nullable {
                "false" => plain,
                "true" => format!("if cursor.marker({what})? >= 0 {{ {plain} }}"),
                c => format!(
                    "if {c} {{ if cursor.marker({what})? >= 0 {{ {plain} }} }} else {{ {plain} }}"
                ),
            }
        }
        Type::Array(inner) => format!(
            "ArrayView::<{}>::scan(cursor, {what}, {compact}, {nullable}, {}, version)?;",
            element_type(inner)?,
            fixed_size(inner).unwrap_or(1)
        ),
        _ => bail!("no scan for {ty:?}"),
    })
}

/// Code that skips a field present in the version, mirroring the owned decoder's reads.
fn scan_field(field: &Field, compact: &str, what: &str, ctx: &Context<'_>) -> Result<String> {
    let nullable = match field.nullable {
        None => Cond::Never,
        Some(_) => Cond::of(field.nullable, ctx.message.valid),
    };
    scan_value(&field.ty, compact, what, &nullable.expr())
}

/// The expression reading a field from `field` (a `Reader` at its start in a checked frame),
/// of the accessor's type; `default` stands in for a null the field cannot hold.
fn read_field(field: &Field, compact: &str, ctx: &Context<'_>, default: &str) -> Result<String> {
    let nullable = field.nullable.is_some();
    Ok(match &field.ty {
        Type::Bool => "field.boolean()".into(),
        Type::Int8 => "field.int8()".into(),
        Type::Int16 => "field.int16()".into(),
        Type::Uint16 => "field.uint16()".into(),
        Type::Int32 => "field.int32()".into(),
        Type::Uint32 => "field.uint32()".into(),
        Type::Int64 => "field.int64()".into(),
        Type::Float64 => "field.float64()".into(),
        Type::Uuid => "field.uuid()".into(),
        Type::String if nullable => format!("field.str({compact})"),
        Type::String => format!("field.str({compact}).unwrap_or({default})"),
        Type::Bytes | Type::Records if nullable => format!("field.bytes({compact})"),
        Type::Bytes | Type::Records => format!("field.bytes({compact}).unwrap_or(&[])"),
        Type::Struct(name) if nullable => {
            let view = view_name(name);
            let marked = format!(
                "if field.int8() < 0 {{ None }} else {{ Some({view}::locate(&mut field, version)) }}"
            );
            match Cond::of(field.nullable, ctx.message.valid) {
                Cond::Always => marked,
                Cond::Never => format!("Some({view}::locate(&mut field, version))"),
                Cond::When(c) => format!(
                    "if {c} {{ {marked} }} else {{ Some({view}::locate(&mut field, version)) }}"
                ),
            }
        }
        Type::Struct(name) => format!("{}::locate(&mut field, version)", view_name(name)),
        Type::Array(_) if nullable => format!("ArrayView::read(&mut field, {compact}, version)"),
        Type::Array(_) => format!(
            "ArrayView::read(&mut field, {compact}, version).unwrap_or(ArrayView::empty(version))"
        ),
    })
}

/// The expression turning an accessor's value (`value`) into the owned field's value.
fn to_owned_value(ty: &Type, value: &str) -> String {
    match ty {
        Type::String => format!("KafkaString::from({value})"),
        Type::Bytes | Type::Records => format!("view::shared_bytes(self.frame, {value})"),
        Type::Struct(_) => format!("{value}.to_message()"),
        Type::Array(inner) => match inner.as_ref() {
            Type::Int32 => format!("{value}.iter().collect::<Int32Vec>()"),
            Type::String => format!("{value}.iter().map(KafkaString::from).collect()"),
            Type::Struct(_) => format!("{value}.iter().map(|item| item.to_message()).collect()"),
            _ => format!("{value}.iter().collect()"),
        },
        _ => value.to_string(),
    }
}

/// Emits the view of `st`, after its owned struct.
pub fn emit_view(
    out: &mut String,
    ctx: &Context<'_>,
    st: &Struct,
    top: bool,
    held: &BTreeSet<String>,
) -> Result<()> {
    let name = &st.name;
    let view = view_name(name);
    let valid = ctx.message.valid;
    let tagged_section = ctx.has_tagged_section();
    let slots = st.fields.len() + usize::from(tagged_section);
    let section_slot = st.fields.len();
    for field in &st.fields {
        if RESERVED.contains(&field_ident(&field.name).as_str()) {
            bail!("{name}.{}: accessor shadows a view method", field.name);
        }
    }
    if ctx.message.structs.iter().any(|other| other.name == view) {
        bail!("{view}: a struct of that name exists");
    }
    // The flexible test and compactness over the view's own `version`.
    let flexible_binding = ctx.flexible_binding();

    // The scan's body, without its signature and the view it returns.
    let mut scan = flexible_binding.clone();
    let at_binding = if slots == 0 { "let at" } else { "let mut at" };
    writeln!(scan, "{at_binding} = [view::ABSENT; {slots}];")?;
    let mut tagged: Vec<(usize, &Field)> = Vec::new();
    for (index, field) in st.fields.iter().enumerate() {
        let (regular, tag_cond) = presence(field, valid)?;
        if tag_cond != Cond::Never {
            tagged.push((index, field));
        }
        let what = what_const(name, field);
        let compact = ctx.compact(field);
        let skip = scan_field(field, &compact, &what, ctx)?;
        match &regular {
            Cond::Always => writeln!(scan, "at[{index}] = cursor.position();\n{skip}")?,
            Cond::When(c) => writeln!(
                scan,
                "if {c} {{\nat[{index}] = cursor.position();\n{skip}\n}}"
            )?,
            Cond::Never => {}
        }
    }
    tagged.sort_by_key(|(_, f)| f.tagged.map(|(tag, _)| tag));
    if tagged_section {
        let mut arms = String::new();
        for (index, field) in &tagged {
            let pattern = tag_pattern(field, valid)?;
            let what = what_const(name, field);
            let compact = ctx.compact(field);
            writeln!(
                arms,
                "{pattern} => {{ at[{index}] = cursor.position(); {} Ok(true) }}",
                scan_field(field, &compact, &what, ctx)?
            )?;
        }
        let known = if arms.is_empty() {
            "|_, _| Ok(false)".to_string()
        } else {
            format!("|tag, cursor| match tag {{\n{arms}_ => Ok(false),\n}}")
        };
        let section = format!(
            "at[{section_slot}] = cursor.position();\ncursor.tagged_fields(\"{name}\", {known})?;\n"
        );
        match &ctx.flexible {
            Cond::Always => scan.push_str(&section),
            _ => writeln!(scan, "if flexible {{\n{section}}}")?,
        }
    }

    // The accessors, `unknown_tagged_fields` and `to_message`. The view keeps its version only
    // where one of them reads it.
    let mut methods = String::new();
    // Accessors.
    for (index, field) in st.fields.iter().enumerate() {
        let ident = field_ident(&field.name);
        let compact = ctx.compact(field);
        let default = view_default(field)?;
        let string_default = match &field.ty {
            Type::String => format!("{:?}", default_text(field).unwrap_or_default()),
            _ => String::new(),
        };
        let read = read_field(field, &compact, ctx, &string_default)?;
        let binding = if super::names::uses(&read, "flexible") {
            flexible_binding.clone()
        } else {
            String::new()
        };
        let mut doc = field.about.clone();
        if doc.is_empty() {
            doc = format!("The {} field.", field.name);
        }
        methods.push_str(&doc_comment(&doc, "    "));
        methods.push_str("    #[inline]\n");
        writeln!(
            methods,
            "    pub fn {ident}(&self) -> {} {{",
            view_type(field)?
        )?;
        let body = if default == "None" {
            format!(
                "{binding}let mut field = view::field(self.frame, self.at[{index}])?;\n{read}\n}}\n\n"
            )
        } else {
            format!(
                "{binding}let Some(mut field) = view::field(self.frame, self.at[{index}]) else {{\nreturn {default};\n}};\n{read}\n}}\n\n"
            )
        };
        // Bind `version` only where something reads it.
        if super::names::uses(&body, "version") {
            methods.push_str("let version = self.version;\n");
        }
        methods.push_str(&body);
    }

    // Unknown tagged fields.
    if tagged_section {
        let mut arms = String::new();
        for (_, field) in &tagged {
            writeln!(
                arms,
                "{} => {{ decoder.skip_rest(); true }}",
                tag_pattern(field, valid)?
            )?;
        }
        let known = if arms.is_empty() {
            "|_, _| Ok(false)".to_string()
        } else {
            format!("|tag, decoder| Ok(match tag {{\n{arms}_ => false,\n}})")
        };
        methods.push_str("    /// Tagged fields this build does not know.\n");
        methods.push_str("    pub fn unknown_tagged_fields(&self) -> UnknownTaggedFields {\n");
        if arms.contains("version") {
            methods.push_str("let version = self.version;\n");
        }
        writeln!(
            methods,
            "if self.at[{section_slot}] == view::ABSENT {{\nreturn UnknownTaggedFields::default();\n}}\nDecoder::at(self.frame, self.at[{section_slot}]).tagged_fields(\"{name}\", {known}).unwrap_or_default()\n}}\n"
        )?;
    }

    // To the owned struct.
    writeln!(
        methods,
        "    /// Reads every field into an owned [`{name}`]."
    )?;
    writeln!(
        methods,
        "    pub fn to_message(&self) -> {name} {{\n{name} {{"
    )?;
    for field in &st.fields {
        let ident = field_ident(&field.name);
        let accessor = format!("self.{ident}()");
        let value = if field.nullable.is_some() {
            let converted = to_owned_value(&field.ty, "value");
            if converted == "value" {
                accessor
            } else if let Some(function) = converted.strip_suffix("(value)") {
                format!("{accessor}.map({function})")
            } else {
                format!("{accessor}.map(|value| {converted})")
            }
        } else {
            to_owned_value(&field.ty, &accessor)
        };
        writeln!(methods, "{ident}: {value},")?;
    }
    if tagged_section {
        methods.push_str("unknown_tagged_fields: self.unknown_tagged_fields(),\n");
    }
    methods.push_str("}\n}\n");

    let keeps_version = reads_own_version(&methods);
    let (version_field, version_init, version_param) = if keeps_version {
        ("    version: i16,\n", "version, ", "version")
    } else {
        ("", "", "_version")
    };

    // Definition.
    out.push_str(&doc_comment(
        &format!("A checked [`{name}`] read in place from its frame: see [`crate::view`]."),
        "",
    ));
    out.push_str("#[derive(Clone, Copy)]\n");
    writeln!(out, "pub struct {view}<'a> {{")?;
    writeln!(out, "    frame: &'a Bytes,\n{version_field}    /// Where each field starts in `frame` (the tagged section last), or `view::ABSENT`.")?;
    writeln!(out, "    at: [u32; {slots}],")?;
    out.push_str("}\n\n");
    writeln!(out, "impl<'a> {view}<'a> {{")?;

    // Scan.
    out.push_str("    /// Skips the struct at `cursor` (checking it, for the decoder), noting where each\n    /// field starts.\n");
    // Inlined into the loops of the arrays holding the struct, so a skip computes no offsets.
    out.push_str(if top {
        "    #[inline]\n"
    } else {
        "    #[inline(always)]\n"
    });
    let scan_param = if keeps_version || super::names::uses(&scan, "version") {
        "version"
    } else {
        "_version"
    };
    writeln!(
        out,
        "    fn scan<C: view::Cursor<'a>>(cursor: &mut C, {scan_param}: i16) -> Result<Self, C::Error> {{"
    )?;
    out.push_str(&scan);
    writeln!(
        out,
        "Ok({view} {{ frame: cursor.frame(), {version_init}at }})\n}}\n"
    )?;

    if !top {
        out.push_str("    /// Finds the fields of the struct at `reader`, in a checked frame.\n");
        out.push_str("    #[inline]\n");
        out.push_str("    fn locate(reader: &mut view::Reader<'a>, version: i16) -> Self {\n        view::infallible(Self::scan(reader, version))\n    }\n\n");
    }

    // The view of a field the version does not have.
    if held.contains(name) {
        out.push_str("    /// The view of a struct field absent from `version`: every accessor gives its default.\n");
        writeln!(
            out,
            "    fn absent({version_param}: i16) -> Self {{\n        {view} {{ frame: view::empty_frame(), {version_init}at: [view::ABSENT; {slots}] }}\n    }}\n"
        )?;
    }

    out.push_str(&methods);
    out.push_str("}\n\n");

    // Debug, through the accessors.
    writeln!(out, "impl fmt::Debug for {view}<'_> {{")?;
    out.push_str("    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {\n");
    writeln!(out, "f.debug_struct(\"{view}\")")?;
    for field in &st.fields {
        let ident = field_ident(&field.name);
        writeln!(
            out,
            ".field(\"{}\", &self.{ident}())",
            ident.trim_start_matches("r#")
        )?;
    }
    out.push_str(".finish()\n}\n}\n\n");

    // As an array element, or as the message.
    if !top {
        writeln!(out, "impl<'a> view::Element<'a> for {view}<'a> {{")?;
        out.push_str("    #[inline]\n    fn skip<C: view::Cursor<'a>>(cursor: &mut C, _what: &'static str, version: i16, _compact: bool) -> Result<(), C::Error> {\n        Self::scan(cursor, version).map(drop)\n    }\n\n");
        out.push_str("    #[inline]\n    fn read(reader: &mut view::Reader<'a>, version: i16, _compact: bool) -> Self {\n        Self::locate(reader, version)\n    }\n}\n\n");
    } else {
        writeln!(out, "impl<'a> View<'a> for {view}<'a> {{")?;
        writeln!(out, "    type Message = {name};\n")?;
        out.push_str(
            "    fn parse(frame: &'a Bytes, version: i16) -> Result<Self, DecodeError> {\n",
        );
        writeln!(
            out,
            "if !{name}::VERSIONS.contains(version) {{\n    return Err(DecodeErrorKind::UnsupportedVersion {{ message: {name}::NAME, version, valid: {name}::VERSIONS }}.into());\n}}"
        )?;
        out.push_str("        let mut decoder = view::decoder(frame)?;\n        let view = Self::scan(&mut decoder, version)?;\n");
        writeln!(
            out,
            "        decoder.finish({name}::NAME)?;\n        Ok(view)\n    }}\n"
        )?;
        writeln!(
            out,
            "    fn to_message(&self) -> {name} {{\n        {view}::to_message(self)\n    }}\n}}\n"
        )?;
    }
    Ok(())
}

/// Whether `code` reads the view's `version` field (not an accessor named `version`).
fn reads_own_version(code: &str) -> bool {
    code.match_indices("self.version")
        .any(|(index, found)| !code[index + found.len()..].starts_with('('))
}
