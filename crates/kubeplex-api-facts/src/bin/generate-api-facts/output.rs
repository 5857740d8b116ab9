//! Writes the table as deterministic, diff-friendly JSON: one line per type header, one line per
//! field, one line per alias.

use kubeplex_api_facts::FactsFile;
use serde::Serialize;

fn compact<T: Serialize + ?Sized>(value: &T) -> Result<String, String> {
    serde_json::to_string(value).map_err(|e| e.to_string())
}

/// Renders the whole file.
pub fn render(file: &FactsFile) -> Result<String, String> {
    let mut out = String::from("{\n");
    out.push_str(&format!("  \"kubernetesVersion\": {},\n", compact(&file.kubernetes_version)?));
    out.push_str(&format!("  \"sources\": {},\n", compact(&file.sources)?));
    out.push_str("  \"types\": {\n");
    let mut entries = Vec::new();
    for (name, ty) in &file.types {
        let value = serde_json::to_value(ty).map_err(|e| e.to_string())?;
        let object = value.as_object().ok_or("a type did not serialize to an object")?;
        let mut header = Vec::new();
        for (key, v) in object {
            if key != "fields" {
                header.push(format!("{}: {}", compact(key)?, compact(v)?));
            }
        }
        let mut fields = Vec::new();
        for field in &ty.fields {
            fields.push(format!("      {}", compact(field)?));
        }
        let fields = if fields.is_empty() { "[]".to_owned() } else { format!("[\n{}\n    ]", fields.join(",\n")) };
        header.push(format!("\"fields\": {fields}"));
        entries.push(format!("    {}: {{{}}}", compact(name)?, header.join(", ")));
    }
    out.push_str(&entries.join(",\n"));
    out.push_str("\n  },\n  \"aliases\": {\n");
    let mut entries = Vec::new();
    for (name, alias) in &file.aliases {
        entries.push(format!("    {}: {}", compact(name)?, compact(alias)?));
    }
    out.push_str(&entries.join(",\n"));
    out.push_str("\n  }\n}\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use kubeplex_api_facts::{AliasFacts, ApiFacts, FieldFacts, Primitive, TypeFacts, TypeRef};

    use super::*;

    fn field(go: &str, json: &str) -> FieldFacts {
        FieldFacts {
            go: go.into(),
            json: Some(json.into()),
            omitempty: true,
            embedded: false,
            inline: false,
            pointer: false,
            ty: TypeRef::Primitive(Primitive::String),
            proto: None,
            patch_strategy: None,
            patch_merge_key: None,
            list_type: None,
            list_map_keys: Vec::new(),
            map_type: None,
            struct_type: None,
            optional: false,
            required: false,
            default: None,
            inlined_via: Vec::new(),
        }
    }

    #[test]
    fn renders_one_line_per_field_and_loads_back() {
        let mut a = TypeFacts::new("io.k8s.x.v1.A", "k8s.io/x/v1.A");
        a.fields = vec![field("Name", "name"), field("Kind", "kind")];
        let b = TypeFacts::new("io.k8s.x.v1.B", "k8s.io/x/v1.B");
        let file = FactsFile {
            kubernetes_version: "v1.36".into(),
            sources: BTreeMap::from([("k8s.io/x".to_owned(), "v0.36.3".to_owned())]),
            types: BTreeMap::from([("io.k8s.x.v1.A".to_owned(), a), ("io.k8s.x.v1.B".to_owned(), b)]),
            aliases: BTreeMap::from([(
                "io.k8s.x.v1.P".to_owned(),
                AliasFacts {
                    name: String::new(),
                    go: "k8s.io/x/v1.P".into(),
                    ty: TypeRef::Primitive(Primitive::String),
                    r#enum: true,
                    proto_wrapper: false,
                    list_type: None,
                    map_type: None,
                },
            )]),
        };
        let text = render(&file).expect("render");
        let expected = r#"{
  "kubernetesVersion": "v1.36",
  "sources": {"k8s.io/x":"v0.36.3"},
  "types": {
    "io.k8s.x.v1.A": {"go": "k8s.io/x/v1.A", "fields": [
      {"go":"Name","json":"name","omitempty":true,"type":"string"},
      {"go":"Kind","json":"kind","omitempty":true,"type":"string"}
    ]},
    "io.k8s.x.v1.B": {"go": "k8s.io/x/v1.B", "fields": []}
  },
  "aliases": {
    "io.k8s.x.v1.P": {"go":"k8s.io/x/v1.P","type":"string","enum":true}
  }
}
"#;
        assert_eq!(text, expected);
        let loaded = ApiFacts::from_json(&text).expect("load");
        assert_eq!(
            loaded.type_by_name("io.k8s.x.v1.A").and_then(|t| t.field("kind")).map(|f| f.go.as_str()),
            Some("Kind")
        );
        assert!(loaded.alias_by_name("io.k8s.x.v1.P").is_some_and(|a| a.r#enum));
    }
}
