//! Whether a request's `Accept` header asks for a Table, decided as upstream's
//! content negotiation does (`handlers/negotiation`): clauses ordered by
//! quality (wildcards last among equals), the first clause the server can
//! answer wins, and a clause with `as=Table;g=meta.k8s.io;v=v1|v1beta1` can
//! be answered for `application/json` and `application/yaml` (and through
//! `*/*` or `application/*`).

/// The version of `meta.k8s.io` a Table is asked in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TableVersion {
    /// `meta.k8s.io/v1`, what kubectl asks first.
    #[default]
    V1,
    /// `meta.k8s.io/v1beta1`, kubectl's fallback.
    V1beta1,
}

impl TableVersion {
    /// `meta.k8s.io/v1` or `meta.k8s.io/v1beta1`.
    pub fn api_version(self) -> &'static str {
        match self {
            TableVersion::V1 => "meta.k8s.io/v1",
            TableVersion::V1beta1 => "meta.k8s.io/v1beta1",
        }
    }
}

/// The media types the API server encodes, in its order of preference.
const SERIALIZERS: &[(&str, &str)] =
    &[("application", "json"), ("application", "yaml"), ("application", "vnd.kubernetes.protobuf")];

/// One clause of an Accept header.
#[derive(Debug, PartialEq)]
struct Clause {
    type_: String,
    subtype: String,
    q: f32,
    params: Vec<(String, String)>,
}

impl Clause {
    fn param(&self, key: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Parses one `type/subtype; k=v` clause as `mime.ParseMediaType` would; `None`
/// for one that does not parse (upstream skips it).
fn parse_clause(part: &str) -> Option<Clause> {
    let mut pieces = part.split(';');
    let media = pieces.next()?.trim().to_ascii_lowercase();
    let (type_, subtype) = match media.split_once('/') {
        Some((t, s)) if is_token(t) && is_token(s) => (t.to_owned(), s.to_owned()),
        None if media == "*" => ("*".to_owned(), "*".to_owned()),
        _ => return None,
    };
    let mut clause = Clause { type_, subtype, q: 1.0, params: Vec::new() };
    for piece in pieces {
        let piece = piece.trim();
        if piece.is_empty() {
            continue;
        }
        let (key, value) = piece.split_once('=')?;
        let key = key.trim().to_ascii_lowercase();
        let value = value.trim();
        let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
        if !is_token(&key) || clause.params.iter().any(|(k, _)| *k == key) {
            return None;
        }
        if key == "q" {
            // A bad quality reads as 0 (`strconv.ParseFloat` error ignored).
            clause.q = value.parse().unwrap_or(0.0);
        } else {
            clause.params.push((key, value.to_owned()));
        }
    }
    Some(clause)
}

/// An RFC 2045 token.
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
}

/// goautoneg's order: higher quality first, then concrete types before
/// wildcards (an insertion sort, as Go's sort of a short slice).
fn sorted(mut clauses: Vec<Clause>) -> Vec<Clause> {
    let less = |a: &Clause, b: &Clause| {
        a.q > b.q || (a.type_ != "*" && b.type_ == "*") || (a.subtype != "*" && b.subtype == "*")
    };
    for i in 1..clauses.len() {
        let mut j = i;
        while j > 0 && less(&clauses[j], &clauses[j - 1]) {
            clauses.swap(j, j - 1);
            j -= 1;
        }
    }
    clauses
}

/// What the first acceptable clause asks for.
#[derive(Debug, PartialEq)]
enum Choice {
    Table(TableVersion),
    Other,
}

/// Whether `clause` can be answered with the serializer `(type_, subtype)`,
/// and with what (upstream's `acceptMediaTypeOptions` + `AllowsConversion`).
fn acceptable(clause: &Clause, type_: &str, subtype: &str) -> Option<Choice> {
    let (kind, group, version) = (clause.param("as"), clause.param("g"), clause.param("v"));
    if kind.is_none() && group.is_none() && version.is_none() {
        return Some(Choice::Other);
    }
    let version = match (group.unwrap_or(""), version.unwrap_or("")) {
        ("meta.k8s.io", "v1") => TableVersion::V1,
        ("meta.k8s.io", "v1beta1") => TableVersion::V1beta1,
        _ => return None,
    };
    match kind.unwrap_or("") {
        "Table" if type_ == "application" && (subtype == "json" || subtype == "yaml") => Some(Choice::Table(version)),
        "PartialObjectMetadata" | "PartialObjectMetadataList" => Some(Choice::Other),
        _ => None,
    }
}

/// The Table version the `Accept` header asks for, or `None` when the
/// response is not a Table (plain JSON, YAML, protobuf, PartialObjectMetadata,
/// or nothing acceptable). kubectl's `get` sends
/// `application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json`.
pub fn table_version(accept: &str) -> Option<TableVersion> {
    if accept.trim().is_empty() {
        return None;
    }
    let clauses = sorted(accept.split(',').filter_map(parse_clause).collect());
    for clause in &clauses {
        for &(type_, subtype) in SERIALIZERS {
            let matches = (clause.type_ == type_ && (clause.subtype == subtype || clause.subtype == "*"))
                || (clause.type_ == "*" && clause.subtype == "*");
            if !matches {
                continue;
            }
            match acceptable(clause, type_, subtype) {
                Some(Choice::Table(version)) => return Some(version),
                Some(Choice::Other) => return None,
                None => {}
            }
        }
    }
    None
}

/// Whether the `Accept` header asks for a `meta.k8s.io` Table (v1 or v1beta1).
pub fn wants_table(accept: &str) -> bool {
    table_version(accept).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBECTL: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

    #[test]
    fn kubectl_get_asks_for_v1_tables() {
        assert_eq!(table_version(KUBECTL), Some(TableVersion::V1));
        assert!(wants_table(KUBECTL));
        let beta_first = "application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json";
        assert_eq!(table_version(beta_first), Some(TableVersion::V1beta1));
        assert_eq!(TableVersion::V1beta1.api_version(), "meta.k8s.io/v1beta1");
    }

    #[test]
    fn plain_requests_are_not_tables() {
        for accept in [
            "",
            "application/json",
            "application/json, */*",
            "application/vnd.kubernetes.protobuf,application/json",
            "application/yaml",
            "*/*",
            "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json",
            "text/html",
        ] {
            assert_eq!(table_version(accept), None, "{accept}");
        }
    }

    #[test]
    fn unusable_table_clauses_are_skipped() {
        // A Table of an unknown version, group or kind is not acceptable; the
        // next clause decides.
        assert_eq!(table_version("application/json;as=Table;v=v2;g=meta.k8s.io,application/json"), None);
        assert_eq!(
            table_version("application/json;as=Table;v=v1,application/json;as=Table;v=v1beta1;g=meta.k8s.io"),
            Some(TableVersion::V1beta1)
        );
        assert_eq!(table_version("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io"), None);
        assert_eq!(table_version("application/json;as=Nope;v=v1;g=meta.k8s.io"), None);
    }

    #[test]
    fn wildcards_params_and_quality() {
        assert_eq!(table_version("*/*;as=Table;v=v1;g=meta.k8s.io"), Some(TableVersion::V1));
        assert_eq!(table_version("application/*;as=Table;v=v1;g=meta.k8s.io"), Some(TableVersion::V1));
        assert_eq!(table_version("application/yaml;as=Table;v=v1;g=meta.k8s.io"), Some(TableVersion::V1));
        assert_eq!(table_version("Application/JSON; AS=Table; v=\"v1\"; g=meta.k8s.io"), Some(TableVersion::V1));
        // Higher quality wins regardless of order.
        assert_eq!(
            table_version("application/json;q=0.5,application/json;as=Table;v=v1;g=meta.k8s.io"),
            Some(TableVersion::V1)
        );
        assert_eq!(table_version("application/json;as=Table;v=v1;g=meta.k8s.io;q=0.5,application/json"), None);
        // Concrete types before wildcards of the same quality.
        assert_eq!(table_version("*/*,application/json;as=Table;v=v1;g=meta.k8s.io"), Some(TableVersion::V1));
        // Clauses that do not parse are ignored.
        assert_eq!(table_version("garbage;;x,application/json;as=Table;v=v1;g=meta.k8s.io"), Some(TableVersion::V1));
    }

    #[test]
    fn clause_parsing() {
        let c = parse_clause(" application/json ; as=Table ; q=0.9").unwrap();
        assert_eq!((c.type_.as_str(), c.subtype.as_str(), c.q), ("application", "json", 0.9));
        assert_eq!(c.param("as"), Some("Table"));
        assert_eq!(parse_clause("application/json;q=bad").unwrap().q, 0.0);
        assert!(parse_clause("application").is_none());
        assert!(parse_clause("application/json;novalue").is_none());
        assert!(parse_clause("application/json;a=1;a=2").is_none());
        assert_eq!(parse_clause("*").map(|c| (c.type_, c.subtype)), Some(("*".to_owned(), "*".to_owned())));
    }
}
