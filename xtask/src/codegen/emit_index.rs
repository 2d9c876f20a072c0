//! Emits the files that tie the messages together: the module index, `ApiKey`, `ErrorCode`,
//! the any-request/any-response dispatch and the round-trip tests.

use std::collections::BTreeMap;
use std::fmt::Write;

use anyhow::{bail, Result};

use super::header;
use super::names::{camel_from_screaming, doc_comment, snake_case};
use super::spec::{ErrorCode, Message};

/// One API: its request and response specs.
struct Api<'a> {
    key: i16,
    name: String,
    request: &'a Message,
}

fn apis(messages: &[Message]) -> Result<Vec<Api<'_>>> {
    let mut requests = BTreeMap::new();
    let mut responses = BTreeMap::new();
    for message in messages {
        let Some(key) = message.api_key else { continue };
        match message.kind.as_str() {
            "request" => requests.insert(key, message),
            "response" => responses.insert(key, message),
            _ => None,
        };
    }
    let mut apis = Vec::new();
    for (key, request) in requests {
        if !responses.contains_key(&key) {
            bail!("API key {key} has a request but no response");
        }
        apis.push(Api {
            key,
            name: request.name.trim_end_matches("Request").to_owned(),
            request,
        });
    }
    Ok(apis)
}

pub fn module_index(messages: &[Message]) -> String {
    let mut out = header("every message spec");
    out.push_str("//! Every message of the Kafka protocol, one module per spec. The modules are private:\n//! [`messages`] is the one public path to each type.\n\n");
    out.push_str("mod any_message;\nmod api_key;\n#[cfg(any(test, feature = \"proptest\"))]\npub mod catalog;\nmod error_code;\npub mod messages;\n");
    out.push_str("#[cfg(test)]\nmod round_trip_tests;\n\n");
    for message in messages {
        let module = snake_case(&message.name);
        writeln!(
            out,
            "mod {module};\n#[cfg(feature = \"view\")]\nmod {module}_view;"
        )
        .expect("write to string");
    }
    out.push_str("\npub use any_message::{AnyRequest, AnyResponse};\n");
    out.push_str("pub use api_key::ApiKey;\npub use error_code::ErrorCode;\n");
    for message in messages {
        writeln!(
            out,
            "pub use {}::{};",
            snake_case(&message.name),
            message.name
        )
        .expect("write to string");
    }
    out
}

/// The public index of the messages: each top-level message by its name, and a module per
/// spec with the structures nested in it (and its views), so each type has one path.
pub fn messages_index(messages: &[Message]) -> String {
    let mut out = header("every message spec");
    out.push_str("//! The public paths of the messages: `messages::MetadataRequest`, and its nested\n//! structures under `messages::metadata_request`.\n\n");
    out.push_str("#[cfg(any(test, feature = \"proptest\"))]\npub use super::catalog;\n");
    for message in messages {
        writeln!(out, "pub use super::{};", message.name).expect("write to string");
    }
    for message in messages {
        let module = snake_case(&message.name);
        let nested: Vec<&str> = message.structs[1..]
            .iter()
            .map(|st| st.name.as_str())
            .collect();
        let views: Vec<String> = message
            .structs
            .iter()
            .map(|st| super::emit_view::view_name(&st.name))
            .collect();
        // A spec with no nested structures has a module only for its view.
        let gate = if nested.is_empty() {
            "#[cfg(feature = \"view\")]\n"
        } else {
            ""
        };
        writeln!(
            out,
            "\n/// The structures nested in [`{0}`](super::{0}), and (with the `view` feature) the views\n/// of them all.\n{gate}pub mod {module} {{",
            message.name
        )
        .expect("write to string");
        if !nested.is_empty() {
            writeln!(
                out,
                "    pub use crate::generated::{module}::{{{}}};",
                nested.join(", ")
            )
            .expect("write to string");
        }
        writeln!(
            out,
            "    #[cfg(feature = \"view\")]\n    pub use crate::generated::{module}_view::{{{}}};",
            views.join(", ")
        )
        .expect("write to string");
        out.push_str("}\n");
    }
    out
}

pub fn api_keys(messages: &[Message]) -> Result<String> {
    let apis = apis(messages)?;
    let mut out = header("every request and response spec");
    out.push_str("//! [`ApiKey`]: every Kafka API with its versions and header versions.\n\n");
    out.push_str("use crate::{DecodeError, DecodeErrorKind, VersionRange};\n\n");
    out.push_str("/// A Kafka API, identified on the wire by its 16-bit key.\n");
    out.push_str("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]\n#[non_exhaustive]\n#[repr(i16)]\npub enum ApiKey {\n");
    for api in &apis {
        writeln!(out, "    /// `{}` (key {}).", api.name, api.key)?;
        writeln!(out, "    {} = {},", api.name, api.key)?;
    }
    out.push_str("}\n\nimpl ApiKey {\n");
    out.push_str("    /// Every API, in key order.\n    pub const ALL: &'static [ApiKey] = &[\n");
    for api in &apis {
        writeln!(out, "        ApiKey::{},", api.name)?;
    }
    out.push_str("    ];\n\n");
    out.push_str("    /// The API with this key, if any.\n    pub const fn from_key(key: i16) -> Option<ApiKey> {\n        match key {\n");
    for api in &apis {
        writeln!(
            out,
            "            {} => Some(ApiKey::{}),",
            api.key, api.name
        )?;
    }
    out.push_str("            _ => None,\n        }\n    }\n\n");
    out.push_str("    /// The key sent on the wire.\n    pub const fn key(self) -> i16 {\n        self as i16\n    }\n\n");
    out.push_str("    /// The API's name, as Kafka spells it (e.g. `\"Metadata\"`).\n    pub const fn name(self) -> &'static str {\n        match self {\n");
    for api in &apis {
        writeln!(out, "            ApiKey::{0} => \"{0}\",", api.name)?;
    }
    out.push_str("        }\n    }\n\n");
    out.push_str("    /// The versions of the API this build can write and read.\n    pub const fn versions(self) -> VersionRange {\n        match self {\n");
    for api in &apis {
        let v = api.request.valid;
        writeln!(
            out,
            "            ApiKey::{} => VersionRange::new({}, {}),",
            api.name, v.min, v.max
        )?;
    }
    out.push_str("        }\n    }\n\n");
    out.push_str("    /// The versions that use compact encodings and tagged fields.\n    pub const fn flexible_versions(self) -> Option<VersionRange> {\n        match self {\n");
    for api in &apis {
        match api.request.flexible {
            Some(f) => writeln!(
                out,
                "            ApiKey::{} => Some(VersionRange::new({}, {})),",
                api.name,
                f.min,
                f.max.min(api.request.valid.max)
            )?,
            None => writeln!(out, "            ApiKey::{} => None,", api.name)?,
        }
    }
    out.push_str("        }\n    }\n\n");
    out.push_str("    /// Whether the newest version is still unstable (brokers only accept it when told to).\n    pub const fn latest_version_unstable(self) -> bool {\n        matches!(self, ");
    let unstable: Vec<String> = apis
        .iter()
        .filter(|a| a.request.latest_version_unstable)
        .map(|a| format!("ApiKey::{}", a.name))
        .collect();
    if unstable.is_empty() {
        out.push_str("_ if false");
    } else {
        out.push_str(&unstable.join(" | "));
    }
    out.push_str(")\n    }\n\n");
    out.push_str("    /// The kinds of listener that serve the API (`broker`, `controller`).\n    pub const fn listeners(self) -> &'static [&'static str] {\n        match self {\n");
    for api in &apis {
        let listeners: Vec<String> = api
            .request
            .listeners
            .iter()
            .map(|l| format!("{l:?}"))
            .collect();
        writeln!(
            out,
            "            ApiKey::{} => &[{}],",
            api.name,
            listeners.join(", ")
        )?;
    }
    out.push_str("        }\n    }\n\n");
    // Request headers: v2 in flexible versions, else v1. (Only ControlledShutdown v0 used header
    // v0, and that API is gone since Kafka 4.0.)
    out.push_str("    /// The request header version to use with `version` of this API.\n    pub const fn request_header_version(self, version: i16) -> i16 {\n");
    out.push_str("        match self.flexible_versions() {\n            Some(flexible) if flexible.contains(version) => 2,\n            _ => 1,\n        }\n    }\n\n");
    // Response headers: v1 in flexible versions, else v0; ApiVersions always v0 so that a client
    // can read the answer before it knows which versions the broker speaks.
    out.push_str("    /// The response header version that comes with `version` of this API.\n    pub const fn response_header_version(self, version: i16) -> i16 {\n        match self {\n");
    out.push_str("            ApiKey::ApiVersions => 0,\n");
    out.push_str("            _ => match self.flexible_versions() {\n                Some(flexible) if flexible.contains(version) => 1,\n                _ => 0,\n            },\n        }\n    }\n}\n\n");
    out.push_str("impl TryFrom<i16> for ApiKey {\n    type Error = DecodeError;\n\n    fn try_from(key: i16) -> Result<Self, Self::Error> {\n        ApiKey::from_key(key).ok_or_else(|| DecodeErrorKind::UnknownApiKey { api_key: key }.into())\n    }\n}\n\n");
    out.push_str("impl std::fmt::Display for ApiKey {\n    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {\n        f.write_str(self.name())\n    }\n}\n");
    Ok(out)
}

pub fn error_codes(errors: &[ErrorCode]) -> String {
    let mut out = header("org.apache.kafka.common.protocol.Errors");
    out.push_str("//! [`ErrorCode`]: every error code Kafka defines, with its name, message and retriability.\n\n");
    out.push_str("/// An error code from a Kafka response.\n///\n/// Codes this build does not know are kept as [`ErrorCode::Unrecognized`].\n///\n/// ```\n/// use klamm_protocol::ErrorCode;\n///\n/// let error = ErrorCode::from_code(3);\n/// assert_eq!(error, ErrorCode::UnknownTopicOrPartition);\n/// assert_eq!(error.name(), \"UNKNOWN_TOPIC_OR_PARTITION\");\n/// assert!(error.is_retriable());\n/// ```\n");
    out.push_str("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\n#[non_exhaustive]\npub enum ErrorCode {\n");
    for error in errors {
        out.push_str(&doc_comment(
            &format!("`{}` ({}): {}", error.name, error.code, error.message),
            "    ",
        ));
        writeln!(out, "    {},", camel_from_screaming(&error.name)).expect("write");
    }
    out.push_str("    /// A code this build does not know.\n    Unrecognized(i16),\n}\n\n");
    out.push_str("impl ErrorCode {\n");
    out.push_str("    /// The error with this code.\n    pub const fn from_code(code: i16) -> ErrorCode {\n        match code {\n");
    for error in errors {
        writeln!(
            out,
            "            {} => ErrorCode::{},",
            error.code,
            camel_from_screaming(&error.name)
        )
        .expect("write");
    }
    out.push_str("            other => ErrorCode::Unrecognized(other),\n        }\n    }\n\n");
    out.push_str("    /// The code sent on the wire.\n    pub const fn code(self) -> i16 {\n        match self {\n");
    for error in errors {
        writeln!(
            out,
            "            ErrorCode::{} => {},",
            camel_from_screaming(&error.name),
            error.code
        )
        .expect("write");
    }
    out.push_str("            ErrorCode::Unrecognized(code) => code,\n        }\n    }\n\n");
    out.push_str("    /// Kafka's name for the error, e.g. `UNKNOWN_TOPIC_OR_PARTITION`.\n    pub const fn name(self) -> &'static str {\n        match self {\n");
    for error in errors {
        writeln!(
            out,
            "            ErrorCode::{} => \"{}\",",
            camel_from_screaming(&error.name),
            error.name
        )
        .expect("write");
    }
    out.push_str(
        "            ErrorCode::Unrecognized(_) => \"UNRECOGNIZED\",\n        }\n    }\n\n",
    );
    out.push_str("    /// Kafka's description of the error.\n    pub const fn message(self) -> &'static str {\n        match self {\n");
    for error in errors {
        writeln!(
            out,
            "            ErrorCode::{} => {:?},",
            camel_from_screaming(&error.name),
            error.message
        )
        .expect("write");
    }
    out.push_str("            ErrorCode::Unrecognized(_) => \"An error code this client does not know.\",\n        }\n    }\n\n");
    out.push_str("    /// Whether retrying the same request may succeed (Kafka's `RetriableException`).\n    pub const fn is_retriable(self) -> bool {\n        matches!(self, ");
    let retriable: Vec<String> = errors
        .iter()
        .filter(|e| e.retriable)
        .map(|e| format!("ErrorCode::{}", camel_from_screaming(&e.name)))
        .collect();
    out.push_str(&retriable.join(" | "));
    out.push_str(")\n    }\n\n");
    out.push_str("    /// Whether this is an error at all (anything but `NONE`).\n    pub const fn is_error(self) -> bool {\n        !matches!(self, ErrorCode::None)\n    }\n}\n\n");
    out.push_str("impl std::fmt::Display for ErrorCode {\n    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {\n        write!(f, \"{} ({}): {}\", self.name(), self.code(), self.message())\n    }\n}\n\n");
    out.push_str("impl From<i16> for ErrorCode {\n    fn from(code: i16) -> Self {\n        ErrorCode::from_code(code)\n    }\n}\n");
    out
}

pub fn dispatch(messages: &[Message]) -> String {
    let Ok(apis) = apis(messages) else {
        return String::new();
    };
    let mut out = header("every request and response spec");
    out.push_str("//! [`AnyRequest`] and [`AnyResponse`]: one value for any API, chosen by key at run time.\n\n");
    out.push_str("use bytes::BytesMut;\n\nuse super::ApiKey;\nuse crate::primitives::Decoder;\nuse crate::{Decode, DecodeError, Encode, EncodeError};\n\n");
    for (kind, suffix) in [("AnyRequest", "Request"), ("AnyResponse", "Response")] {
        writeln!(
            out,
            "/// Any {} body, for code that handles APIs chosen at run time.",
            suffix.to_lowercase()
        )
        .expect("write");
        out.push_str("#[derive(Debug, Clone, PartialEq)]\n#[non_exhaustive]\n");
        writeln!(out, "pub enum {kind} {{").expect("write");
        for api in &apis {
            writeln!(out, "    /// A `{}{suffix}`.", api.name).expect("write");
            writeln!(out, "    {0}(super::{0}{suffix}),", api.name).expect("write");
        }
        out.push_str("}\n\n");
        writeln!(out, "impl {kind} {{").expect("write");
        out.push_str("    /// The API this body belongs to.\n    pub fn api_key(&self) -> ApiKey {\n        match self {\n");
        for api in &apis {
            writeln!(out, "            {kind}::{0}(_) => ApiKey::{0},", api.name).expect("write");
        }
        out.push_str("        }\n    }\n\n");
        out.push_str("    /// Decodes a body of `api_key` at `version`.\n    pub fn decode(api_key: ApiKey, decoder: &mut Decoder<'_>, version: i16) -> Result<Self, DecodeError> {\n        Ok(match api_key {\n");
        for api in &apis {
            writeln!(out, "            ApiKey::{0} => {kind}::{0}(super::{0}{suffix}::decode(decoder, version)?),", api.name).expect("write");
        }
        out.push_str("        })\n    }\n\n");
        out.push_str("    /// Writes the body at `version`.\n    pub fn encode(&self, buf: &mut BytesMut, version: i16) -> Result<(), EncodeError> {\n        match self {\n");
        for api in &apis {
            writeln!(
                out,
                "            {kind}::{}(body) => body.encode(buf, version),",
                api.name
            )
            .expect("write");
        }
        out.push_str("        }\n    }\n\n");
        out.push_str("    /// The bytes [`encode`](Self::encode) writes.\n    pub fn encoded_len(&self, version: i16) -> usize {\n        match self {\n");
        for api in &apis {
            writeln!(
                out,
                "            {kind}::{}(body) => body.encoded_len(version),",
                api.name
            )
            .expect("write");
        }
        out.push_str("        }\n    }\n}\n\n");
        writeln!(out, "#[cfg(feature = \"view\")]\nimpl {kind} {{").expect("write");
        out.push_str("    /// Reads a whole body of `api_key` at `version` through its message's zero-copy\n    /// [view](crate::view) into the owned value. The frame is checked as `decode` checks it,\n    /// plus nothing may be left over; the value is the one `decode` gives. A second decoder,\n    /// for cross-checks such as fuzzing: not API.\n    #[doc(hidden)]\n    pub fn decode_through_view(api_key: ApiKey, frame: &bytes::Bytes, version: i16) -> Result<Self, DecodeError> {\n        use crate::view::View;\n\n        Ok(match api_key {\n");
        for api in &apis {
            writeln!(out, "            ApiKey::{0} => {kind}::{0}(<super::{0}{suffix} as crate::Message>::View::parse(frame, version)?.to_message()),", api.name).expect("write");
        }
        out.push_str("        })\n    }\n}\n\n");
        for api in &apis {
            writeln!(out, "impl From<super::{0}{suffix}> for {kind} {{\n    fn from(body: super::{0}{suffix}) -> Self {{\n        {kind}::{0}(body)\n    }}\n}}\n", api.name).expect("write");
        }
    }
    out
}

pub fn round_trip_tests(messages: &[Message]) -> String {
    let mut out = header("every message spec");
    out.push_str("//! Property tests: every message, at every version, encodes to `encoded_len` bytes (sized up\n//! front or in one pass) and decodes back to the same value, owned and (with the `view`\n//! feature) through its view.\n\n");
    out.push_str("use proptest::prelude::*;\nuse proptest::test_runner::TestCaseError;\n\n#[cfg(feature = \"view\")]\nuse crate::view::View;\nuse crate::Message;\n\n");
    out.push_str("fn with_version<M: Message>(\n    strategy: fn(i16) -> BoxedStrategy<M>,\n) -> impl Strategy<Value = (i16, M)> {\n    (M::VERSIONS.min..=M::VERSIONS.max).prop_flat_map(move |version| (Just(version), strategy(version)))\n}\n\n");
    out.push_str("fn round_trip<M: Message>(version: i16, message: &M) -> Result<(), TestCaseError> {\n    let bytes = message.to_bytes(version).map_err(|e| TestCaseError::fail(e.to_string()))?;\n    prop_assert_eq!(bytes.len(), message.encoded_len(version));\n    let decoded = M::from_bytes(&bytes, version).map_err(|e| TestCaseError::fail(e.to_string()))?;\n    prop_assert_eq!(&decoded, message);\n    for room in [bytes.len(), bytes.len() / 2] {\n        let mut buf = bytes::BytesMut::with_capacity(room);\n        message.encode_single_pass(&mut buf, version).map_err(|e| TestCaseError::fail(e.to_string()))?;\n        prop_assert_eq!(&buf[..], &bytes[..], \"single pass into {} bytes\", room);\n    }\n    #[cfg(feature = \"view\")]\n    {\n        let view = M::View::parse(&bytes, version).map_err(|e| TestCaseError::fail(e.to_string()))?;\n        prop_assert_eq!(&view.to_message(), message);\n    }\n    Ok(())\n}\n\n");
    out.push_str("proptest! {\n    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]\n\n");
    for message in messages {
        writeln!(
            out,
            "    #[test]\n    fn {}_round_trips((version, message) in with_version(super::{}::strategy)) {{\n        round_trip(version, &message)?;\n    }}\n",
            snake_case(&message.name),
            message.name
        )
        .expect("write");
    }
    out.push_str("}\n");
    out
}

pub fn catalog(messages: &[Message]) -> String {
    let mut out = header("every message spec");
    out.push_str("//! A visitor over every message type, for tools that check all of them (such as the\n//! conformance run against Kafka's own codec). Needs the `proptest` feature.\n\n");
    out.push_str(
        "use proptest::strategy::BoxedStrategy;\n\nuse super::ApiKey;\nuse crate::Message;\n\n",
    );
    out.push_str("/// What a message spec describes.\n#[derive(Debug, Clone, Copy, PartialEq, Eq)]\npub enum MessageKind {\n    /// The request of an API.\n    Request(ApiKey),\n    /// The response of an API.\n    Response(ApiKey),\n    /// A request or response header.\n    Header,\n    /// Another schema, such as the consumer protocol's subscription.\n    Data,\n}\n\n");
    out.push_str("/// Called once per message type by [`visit_all`].\npub trait MessageVisitor {\n    /// Visits message type `M`, with a strategy making its values at a version.\n    fn visit<M: Message + 'static>(&mut self, kind: MessageKind, strategy: fn(i16) -> BoxedStrategy<M>);\n}\n\n");
    out.push_str("/// Visits every message type, in spec-name order.\npub fn visit_all(visitor: &mut impl MessageVisitor) {\n");
    for message in messages {
        let kind = match (message.kind.as_str(), message.api_key) {
            ("request", Some(_)) => format!(
                "MessageKind::Request(ApiKey::{})",
                message.name.trim_end_matches("Request")
            ),
            ("response", Some(_)) => format!(
                "MessageKind::Response(ApiKey::{})",
                message.name.trim_end_matches("Response")
            ),
            ("header", _) => "MessageKind::Header".to_string(),
            _ => "MessageKind::Data".to_string(),
        };
        writeln!(
            out,
            "    visitor.visit({kind}, super::{}::strategy);",
            message.name
        )
        .expect("write");
    }
    out.push_str("}\n");
    out
}
