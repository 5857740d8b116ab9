//! Struct tags (`json:"…" protobuf:"…"`) and comment markers (`// +listType=map`).

use kubeplex_api_facts::{ProtoLabel, ProtoTag, WireType};

/// Looks up `key` in a Go struct tag, as `reflect.StructTag.Lookup` does.
pub fn tag_lookup(tag: &str, key: &str) -> Result<Option<String>, String> {
    for (k, v) in parse_struct_tag(tag)? {
        if k == key {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// Splits a struct tag into `key:"value"` pairs (values unquoted).
pub fn parse_struct_tag(tag: &str) -> Result<Vec<(String, String)>, String> {
    let chars: Vec<char> = tag.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < chars.len() && chars[i] == ' ' {
            i += 1;
        }
        if i >= chars.len() {
            return Ok(out);
        }
        let key_start = i;
        while i < chars.len() && chars[i] > ' ' && chars[i] != ':' && chars[i] != '"' && chars[i] != '\u{7f}' {
            i += 1;
        }
        if i == key_start || i + 1 >= chars.len() || chars[i] != ':' || chars[i + 1] != '"' {
            return Err(format!("malformed struct tag {tag:?}"));
        }
        let key: String = chars[key_start..i].iter().collect();
        i += 2;
        let mut value = String::new();
        loop {
            match chars.get(i) {
                None => return Err(format!("unterminated value in struct tag {tag:?}")),
                Some('"') => break,
                Some('\\') => {
                    let escaped = chars.get(i + 1).ok_or_else(|| format!("bad escape in struct tag {tag:?}"))?;
                    value.push(match escaped {
                        'n' => '\n',
                        't' => '\t',
                        other => *other,
                    });
                    i += 2;
                }
                Some(c) => {
                    value.push(*c);
                    i += 1;
                }
            }
        }
        i += 1;
        out.push((key, value));
    }
}

/// A parsed `json:"name,opts"` tag.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JsonTag {
    /// `json:"-"`: not in JSON.
    pub skip: bool,
    /// The name part (may be empty).
    pub name: String,
    pub omitempty: bool,
    /// The Kubernetes convention `,inline` (Go's encoding/json ignores it; an embedded field with no
    /// name is flattened either way).
    pub inline: bool,
}

/// Parses a `json` tag value.
pub fn parse_json_tag(value: &str) -> JsonTag {
    if value == "-" {
        return JsonTag { skip: true, ..JsonTag::default() };
    }
    let mut parts = value.split(',');
    let name = parts.next().unwrap_or_default().to_owned();
    let mut tag = JsonTag { name, ..JsonTag::default() };
    for option in parts {
        match option {
            "omitempty" => tag.omitempty = true,
            "inline" => tag.inline = true,
            _ => {}
        }
    }
    tag
}

/// Parses a `protobuf` tag value; `Ok(None)` for `protobuf:"-"`.
pub fn parse_protobuf_tag(value: &str) -> Result<Option<ProtoTag>, String> {
    if value == "-" {
        return Ok(None);
    }
    let mut parts = value.split(',');
    let wire: WireType =
        parts.next().unwrap_or_default().parse().map_err(|e| format!("protobuf tag {value:?}: {e}"))?;
    let number: u32 =
        parts.next().and_then(|n| n.parse().ok()).ok_or_else(|| format!("protobuf tag {value:?}: bad field number"))?;
    let mut parts = parts.peekable();
    // The label is missing from some recent tags (`bytes,1,name=name`); generated.proto has the truth.
    let label = match parts.peek() {
        Some(part) if !part.contains('=') => {
            let label = part.parse().map_err(|e| format!("protobuf tag {value:?}: {e}"))?;
            parts.next();
            label
        }
        _ => ProtoLabel::Opt,
    };
    let mut tag = ProtoTag { number, wire, label, name: None, casttype: None, castkey: None, castvalue: None };
    for part in parts {
        let Some((key, v)) = part.split_once('=') else {
            return Err(format!("protobuf tag {value:?}: bad option {part:?}"));
        };
        let v = Some(v.to_owned());
        match key {
            "name" => tag.name = v,
            "casttype" => tag.casttype = v,
            "castkey" => tag.castkey = v,
            "castvalue" => tag.castvalue = v,
            // Options such as `json=` or `def=` carry nothing the table needs.
            _ => {}
        }
    }
    Ok(Some(tag))
}

/// The `+key[=value]` markers of some comment lines, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Markers(pub Vec<(String, String)>);

impl Markers {
    /// Collects markers: lines whose text (after `//` and spaces) starts with `+`.
    pub fn from_comments(lines: &[String]) -> Markers {
        let mut out = Vec::new();
        for line in lines {
            let text = line.trim();
            let Some(marker) = text.strip_prefix('+') else { continue };
            if marker.is_empty() || marker.starts_with('-') || marker.starts_with(' ') {
                continue;
            }
            let (key, value) = marker.split_once('=').unwrap_or((marker, ""));
            out.push((key.trim().to_owned(), value.trim().to_owned()));
        }
        Markers(out)
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
    }

    /// True if `key` is present (with any value).
    pub fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_struct_tag_keys() {
        let tag = r#"json:"ports,omitempty" patchStrategy:"merge" patchMergeKey:"containerPort" protobuf:"bytes,6,rep,name=ports""#;
        assert_eq!(tag_lookup(tag, "json").unwrap().as_deref(), Some("ports,omitempty"));
        assert_eq!(tag_lookup(tag, "patchMergeKey").unwrap().as_deref(), Some("containerPort"));
        assert_eq!(tag_lookup(tag, "yaml").unwrap(), None);
        assert_eq!(tag_lookup(r#"a:"x\"y""#, "a").unwrap().as_deref(), Some("x\"y"));
        assert!(parse_struct_tag(r#"json:"x" broken"#).is_err());
        assert!(parse_struct_tag(r#"json:"x"#).is_err());
    }

    #[test]
    fn parses_json_tags() {
        assert_eq!(
            parse_json_tag("metadata,omitempty"),
            JsonTag { skip: false, name: "metadata".into(), omitempty: true, inline: false }
        );
        assert_eq!(
            parse_json_tag(",inline"),
            JsonTag { skip: false, name: String::new(), omitempty: false, inline: true }
        );
        assert!(parse_json_tag("-").skip);
        assert!(!parse_json_tag("-,").skip, "`-,` names a field \"-\"");
    }

    #[test]
    fn parses_protobuf_tags() {
        let tag =
            parse_protobuf_tag("bytes,1,rep,name=limits,casttype=ResourceList,castkey=ResourceName").unwrap().unwrap();
        assert_eq!(tag.number, 1);
        assert_eq!(tag.wire, WireType::Bytes);
        assert_eq!(tag.label, ProtoLabel::Rep);
        assert_eq!(tag.name.as_deref(), Some("limits"));
        assert_eq!(tag.casttype.as_deref(), Some("ResourceList"));
        assert_eq!(tag.castkey.as_deref(), Some("ResourceName"));
        let embedded = parse_protobuf_tag("bytes,1,req").unwrap().unwrap();
        assert_eq!((embedded.label, embedded.name), (ProtoLabel::Req, None));
        assert_eq!(parse_protobuf_tag("-").unwrap(), None);
        assert!(parse_protobuf_tag("bytes,x,opt").is_err());
        assert!(parse_protobuf_tag("float,1,opt").is_err());
        let no_label = parse_protobuf_tag("bytes,1,name=name").unwrap().unwrap();
        assert_eq!((no_label.label, no_label.name.as_deref()), (ProtoLabel::Opt, Some("name")));
        assert!(parse_protobuf_tag("bytes").is_err());
        assert!(parse_protobuf_tag("bytes,1,sometimes").is_err());
    }

    #[test]
    fn collects_markers() {
        let lines: Vec<String> = [
            " Ports to expose.",
            " +optional",
            " +listType=map",
            " +listMapKey=containerPort",
            " +listMapKey=protocol",
            " +k8s:alpha(since: \"1.36\")=+k8s:listMapKey=name",
            " +---",
            " +default=\"TCP\"",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let markers = Markers::from_comments(&lines);
        assert!(markers.has("optional"));
        assert_eq!(markers.get("listType"), Some("map"));
        assert_eq!(markers.all("listMapKey"), ["containerPort", "protocol"]);
        assert_eq!(markers.get("default"), Some("\"TCP\""));
        assert!(!markers.has("k8s:listMapKey"));
        assert_eq!(markers.0.len(), 6);
    }
}
