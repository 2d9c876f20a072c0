//! Naming and doc-comment helpers shared by the emitters.

/// `ApiVersionsRequest` → `api_versions_request`; `ISRNodes` → `isr_nodes`.
pub fn snake_case(name: &str) -> String {
    // "KRaft" is one word, not "K" and "Raft".
    let name = name.replace("KRaft", "Kraft");
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (index, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let previous = index.checked_sub(1).map(|i| chars[i]);
            let next = chars.get(index + 1);
            let boundary = match previous {
                None => false,
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_uppercase() => next.is_some_and(|n| n.is_lowercase()),
                _ => false,
            };
            if boundary {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `SCREAMING_SNAKE` → `ScreamingSnake`.
pub fn camel_from_screaming(name: &str) -> String {
    name.split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let lower = part.to_lowercase();
            let mut chars = lower.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// Whether `word` occurs in `code` as a whole identifier.
pub fn uses(code: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(word).any(|(index, _)| {
        let before = code[..index].chars().next_back();
        let after = code[index + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while",
    "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro", "override",
    "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// The Rust field name of a spec field, a raw identifier where it is a keyword.
pub fn field_ident(name: &str) -> String {
    let snake = snake_case(name);
    if KEYWORDS.contains(&snake.as_str()) {
        format!("r#{snake}")
    } else {
        snake
    }
}

/// A `///` doc comment, each line prefixed by `indent`; text is escaped for rustdoc.
pub fn doc_comment(text: &str, indent: &str) -> String {
    let mut out = String::new();
    for line in text.trim().lines() {
        let line = line.trim_end();
        // Keep rustdoc from reading spec text as links, HTML or code.
        let line = line
            .replace('[', "\\[")
            .replace(']', "\\]")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('`', "'");
        if line.is_empty() {
            out.push_str(&format!("{indent}///\n"));
        } else {
            out.push_str(&format!("{indent}/// {line}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_cases_kafka_names() {
        assert_eq!(snake_case("ApiVersionsRequest"), "api_versions_request");
        assert_eq!(snake_case("TopicId"), "topic_id");
        assert_eq!(snake_case("ISRNodes"), "isr_nodes");
        assert_eq!(snake_case("LeaderEpoch"), "leader_epoch");
        assert_eq!(snake_case("Type"), "type");
        assert_eq!(snake_case("KRaftVersionRecord"), "kraft_version_record");
        assert_eq!(field_ident("Type"), "r#type");
        assert_eq!(
            camel_from_screaming("UNKNOWN_TOPIC_OR_PARTITION"),
            "UnknownTopicOrPartition"
        );
    }
}
