//! Reads the messages of a package's `generated.proto`: names, numbers, types and labels of fields.
//! Used for the types whose protobuf form is hand-written (Time, Quantity) and to cross-check the
//! Go struct tags.

use std::collections::BTreeMap;

/// One field of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtoField {
    /// `optional`, `repeated`, `required`, or `map` for map fields.
    pub label: String,
    /// The field's type (`int64`, `string`, `k8s.io.api.core.v1.PodSpec`, `map<string, string>`).
    pub proto_type: String,
    pub name: String,
    pub number: u32,
}

/// Messages by name.
pub type ProtoMessages = BTreeMap<String, Vec<ProtoField>>;

/// Parses the top-level messages of a proto2 file as go-to-protobuf writes them.
pub fn parse_proto(text: &str) -> Result<ProtoMessages, String> {
    let mut messages = BTreeMap::new();
    let mut current: Option<(String, Vec<ProtoField>)> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let at = || format!("generated.proto line {}", index + 1);
        if let Some(rest) = line.strip_prefix("message ") {
            if current.is_some() {
                return Err(format!("{}: nested messages are not expected", at()));
            }
            let name = rest.trim_end_matches('{').trim();
            current = Some((name.to_owned(), Vec::new()));
            continue;
        }
        let Some((_, fields)) = current.as_mut() else { continue };
        if line == "}" {
            if let Some((name, fields)) = current.take() {
                messages.insert(name, fields);
            }
            continue;
        }
        let Some(body) = line.strip_suffix(';') else {
            return Err(format!("{}: unexpected {line:?}", at()));
        };
        let Some((decl, number)) = body.rsplit_once('=') else {
            return Err(format!("{}: unexpected {line:?}", at()));
        };
        let number: u32 = number.trim().parse().map_err(|_| format!("{}: bad field number", at()))?;
        let decl = decl.trim();
        let (label, proto_type, name) = if let Some(rest) = decl.strip_prefix("map<") {
            let (inner, name) = rest.split_once('>').ok_or_else(|| format!("{}: bad map field", at()))?;
            ("map".to_owned(), format!("map<{inner}>"), name.trim().to_owned())
        } else {
            let words: Vec<&str> = decl.split_whitespace().collect();
            match words.as_slice() {
                [label, ty, name] => ((*label).to_owned(), (*ty).to_owned(), (*name).to_owned()),
                [ty, name] => ("optional".to_owned(), (*ty).to_owned(), (*name).to_owned()),
                _ => return Err(format!("{}: unexpected field {line:?}", at())),
            }
        };
        fields.push(ProtoField { label, proto_type, name, number });
    }
    if let Some((name, _)) = current {
        return Err(format!("generated.proto: message {name} is not closed"));
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_messages() {
        let text = r#"
syntax = "proto2";

package k8s.io.apimachinery.pkg.apis.meta.v1;

// Time is a wrapper around time.Time.
//
// +protobuf.options.marshal=false
message Time {
  // Represents seconds of UTC time since Unix epoch
  optional int64 seconds = 1;

  optional int32 nanos = 2;
}

message ObjectMeta {
  optional string name = 1;
  map<string, string> labels = 11;
  repeated string finalizers = 14;
}
"#;
        let messages = parse_proto(text).expect("parse");
        assert_eq!(messages.len(), 2);
        assert_eq!(
            messages["Time"],
            vec![
                ProtoField { label: "optional".into(), proto_type: "int64".into(), name: "seconds".into(), number: 1 },
                ProtoField { label: "optional".into(), proto_type: "int32".into(), name: "nanos".into(), number: 2 },
            ]
        );
        let meta = &messages["ObjectMeta"];
        assert_eq!(meta[1].label, "map");
        assert_eq!(meta[1].proto_type, "map<string, string>");
        assert_eq!((meta[1].name.as_str(), meta[1].number), ("labels", 11));
        assert_eq!(meta[2].label, "repeated");
    }

    #[test]
    fn rejects_garbage_inside_messages() {
        assert!(parse_proto("message A {\n  optional string a = x;\n}\n").is_err());
        assert!(parse_proto("message A {\n  optional string a = 1;\n").is_err());
        assert!(parse_proto("message A {\n  what\n}\n").is_err());
    }
}
