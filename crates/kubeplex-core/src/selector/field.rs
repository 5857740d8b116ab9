//! Field selectors (`?fieldSelector=metadata.name=web,status.phase!=Running`)
//! as `k8s.io/apimachinery/pkg/fields` parses them, the per-kind check of
//! which field names are selectable (the API server's field label conversion),
//! and matching over a caller-provided accessor.
//!
//! Only `=`, `==` and `!=` exist. Terms are split on unescaped commas and sorted
//! before parsing (so the first bad term in sorted order is the one reported);
//! values may escape `\\`, `\,` and `\=`. A field the object does not have
//! reads as the empty string: `f=` matches it, `f!=x` matches it.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use super::SelectorError;
use crate::names::go_quote;

/// The relation of a field requirement (`==` parses as `Equals`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldOperator {
    /// `f=v` or `f==v`
    Equals,
    /// `f!=v`
    NotEquals,
}

/// One term of a field selector, with its value unescaped.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldRequirement {
    /// The field path (`metadata.name`, `spec.nodeName`).
    pub field: String,
    /// `=` or `!=`.
    pub operator: FieldOperator,
    /// The value, unescaped.
    pub value: String,
}

impl FieldRequirement {
    fn matches(&self, actual: &str) -> bool {
        match self.operator {
            FieldOperator::Equals => actual == self.value,
            FieldOperator::NotEquals => actual != self.value,
        }
    }
}

impl fmt::Display for FieldRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.operator {
            FieldOperator::Equals => "=",
            FieldOperator::NotEquals => "!=",
        };
        write!(f, "{}{op}{}", self.field, escape_value(&self.value))
    }
}

/// A parsed field selector: requirements ANDed together. The default (and the
/// empty string) matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FieldSelector {
    requirements: Vec<FieldRequirement>,
}

/// How a kind words its refusal of a field it cannot select on. The API server
/// uses the kind's field label conversion function; these are the forms it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownFieldMessage<'a> {
    /// Kinds without their own conversion (`runtime.DefaultMetaV1FieldSelectorConversion`):
    /// `"foo.bar" is not a known field selector: only "metadata.name", "metadata.namespace"`.
    KnownFieldSelector,
    /// The core/v1 kinds (Pod, Node, Namespace, Secret, Service, Event,
    /// ReplicationController) and custom resources: `field label not supported: foo.bar`.
    NotSupported,
    /// Kinds that name themselves, e.g. batch/v1 Job with `batchv1.Job`:
    /// `field label "foo.bar" not supported for batchv1.Job`.
    NotSupportedFor(&'a str),
}

/// The field names a kind can select on, old names it renames (Pod's
/// `spec.host` becomes `spec.nodeName`), and its refusal text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldLabels<'a> {
    /// Selectable field paths.
    pub supported: &'a [&'a str],
    /// `(accepted name, name it is rewritten to)`.
    pub renamed: &'a [(&'a str, &'a str)],
    /// The message for any other field.
    pub unknown: UnknownFieldMessage<'a>,
}

impl FieldLabels<'static> {
    /// Every kind without its own list: `metadata.name` and `metadata.namespace`.
    pub const DEFAULT: FieldLabels<'static> = FieldLabels {
        supported: &["metadata.name", "metadata.namespace"],
        renamed: &[],
        unknown: UnknownFieldMessage::KnownFieldSelector,
    };
}

impl<'a> FieldLabels<'a> {
    /// The field name to use for `label`, or the kind's refusal text.
    pub fn convert(&self, label: &str) -> Result<&'a str, String> {
        if let Some(known) = self.supported.iter().find(|s| **s == label) {
            return Ok(known);
        }
        if let Some((_, to)) = self.renamed.iter().find(|(from, _)| *from == label) {
            return Ok(to);
        }
        Err(self.unknown_message(label))
    }

    /// The refusal text for `label`.
    pub fn unknown_message(&self, label: &str) -> String {
        match self.unknown {
            UnknownFieldMessage::KnownFieldSelector => format!(
                "{} is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
                go_quote(label)
            ),
            UnknownFieldMessage::NotSupported => format!("field label not supported: {label}"),
            UnknownFieldMessage::NotSupportedFor(kind) => {
                format!("field label {} not supported for {kind}", go_quote(label))
            }
        }
    }
}

impl FieldSelector {
    /// The selector that matches everything.
    pub fn everything() -> FieldSelector {
        FieldSelector::default()
    }

    /// A one-term `field=value` selector (`fields.OneTermEqualSelector`).
    pub fn equals(field: impl Into<String>, value: impl Into<String>) -> FieldSelector {
        FieldSelector {
            requirements: vec![FieldRequirement {
                field: field.into(),
                operator: FieldOperator::Equals,
                value: value.into(),
            }],
        }
    }

    /// A selector of these requirements, in the order given.
    pub fn from_requirements(requirements: Vec<FieldRequirement>) -> FieldSelector {
        FieldSelector { requirements }
    }

    /// `fields.ParseSelector`. Errors are upstream's texts:
    /// `invalid selector: 'x'; can't understand 'x'`,
    /// `invalid field selector: invalid escape sequence: \q`,
    /// `invalid field selector: unescaped character in value: 61` (the code point, as upstream).
    pub fn parse(selector: &str) -> Result<FieldSelector, SelectorError> {
        let mut parts = split_terms(selector);
        parts.sort_unstable();
        let mut requirements = Vec::new();
        for part in parts {
            if part.is_empty() {
                continue;
            }
            let Some((lhs, operator, rhs)) = split_term(part) else {
                return Err(SelectorError::Field(format!("invalid selector: '{selector}'; can't understand '{part}'")));
            };
            let value = unescape_value(rhs)?.into_owned();
            requirements.push(FieldRequirement { field: lhs.to_owned(), operator, value });
        }
        Ok(FieldSelector { requirements })
    }

    /// `Selector.Transform`: maps every `(field, value)`; a pair mapped to two
    /// empty strings is dropped; the first error fails the whole selector (as
    /// [`SelectorError::UnknownField`] with the function's text).
    pub fn transform<F>(&self, mut f: F) -> Result<FieldSelector, SelectorError>
    where
        F: FnMut(&str, &str) -> Result<(String, String), String>,
    {
        let mut requirements = Vec::with_capacity(self.requirements.len());
        for r in &self.requirements {
            let (field, value) = f(&r.field, &r.value).map_err(SelectorError::UnknownField)?;
            if field.is_empty() && value.is_empty() {
                continue;
            }
            requirements.push(FieldRequirement { field, operator: r.operator, value });
        }
        Ok(FieldSelector { requirements })
    }

    /// The API server's field label conversion for a kind: every field must be
    /// one `labels` supports (renamed ones are rewritten); the first other one
    /// is refused with the kind's text, for a 400.
    pub fn convert_labels(&self, labels: &FieldLabels<'_>) -> Result<FieldSelector, SelectorError> {
        self.transform(|field, value| labels.convert(field).map(|f| (f.to_owned(), value.to_owned())))
    }

    /// Whether an object matches, given `get(field path)` for its field values
    /// (`None` reads as the empty string, as upstream's `fields.Set`).
    pub fn matches<F, V>(&self, mut get: F) -> bool
    where
        F: FnMut(&str) -> Option<V>,
        V: AsRef<str>,
    {
        self.requirements.iter().all(|r| match get(&r.field) {
            Some(v) => r.matches(v.as_ref()),
            None => r.matches(""),
        })
    }

    /// True when the selector restricts nothing.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The requirements, in parse order (terms sorted).
    pub fn requirements(&self) -> &[FieldRequirement] {
        &self.requirements
    }

    /// `RequiresExactMatch`: the value of the first `field=value` term on
    /// `field` (`metadata.name=web` for a name lookup instead of a scan).
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.requirements
            .iter()
            .find(|r| r.field == field && r.operator == FieldOperator::Equals)
            .map(|r| r.value.as_str())
    }
}

impl fmt::Display for FieldSelector {
    /// Upstream `String()`: `f=v` / `f!=v` with values escaped, joined by `,`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl FromStr for FieldSelector {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FieldSelector::parse(s)
    }
}

/// `fields.EscapeValue`: `\` → `\\`, `,` → `\,`, `=` → `\=`.
pub fn escape_value(value: &str) -> Cow<'_, str> {
    if !value.contains(['\\', ',', '=']) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 4);
    for c in value.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    Cow::Owned(out)
}

/// `fields.UnescapeValue`: undoes [`escape_value`]; any other escape, an
/// unescaped `,` or `=`, or a trailing `\` is an error with upstream's text.
pub fn unescape_value(value: &str) -> Result<Cow<'_, str>, SelectorError> {
    if !value.contains(['\\', ',', '=']) {
        return Ok(Cow::Borrowed(value));
    }
    let mut out = String::with_capacity(value.len());
    let mut in_slash = false;
    for c in value.chars() {
        if in_slash {
            match c {
                '\\' | ',' | '=' => out.push(c),
                other => {
                    return Err(SelectorError::Field(format!(
                        "invalid field selector: invalid escape sequence: \\{other}"
                    )));
                }
            }
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            ',' | '=' => {
                return Err(SelectorError::Field(format!(
                    "invalid field selector: unescaped character in value: {}",
                    u32::from(c)
                )));
            }
            other => out.push(other),
        }
    }
    if in_slash {
        return Err(SelectorError::Field("invalid field selector: invalid escape sequence: \\".to_owned()));
    }
    Ok(Cow::Owned(out))
}

/// Terms separated by unescaped commas (the backslashes stay in the terms).
fn split_terms(selector: &str) -> Vec<&str> {
    if selector.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in selector.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&selector[start..i]);
            start = i + 1;
        }
    }
    terms.push(&selector[start..]);
    terms
}

/// Splits at the first operator: at each position `!=`, then `==`, then `=`.
fn split_term(term: &str) -> Option<(&str, FieldOperator, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for (op, operator) in
            [("!=", FieldOperator::NotEquals), ("==", FieldOperator::Equals), ("=", FieldOperator::Equals)]
        {
            if let Some(rhs) = rest.strip_prefix(op) {
                return Some((&term[..i], operator, rhs));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const POD: FieldLabels<'static> = FieldLabels {
        supported: &[
            "metadata.name",
            "metadata.namespace",
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName",
        ],
        renamed: &[("spec.host", "spec.nodeName")],
        unknown: UnknownFieldMessage::NotSupported,
    };

    fn fields(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn parse_and_print() {
        let cases = [
            ("", ""),
            ("a=b", "a=b"),
            ("a==b", "a=b"),
            ("a!=b", "a!=b"),
            ("b=1,a=2", "a=2,b=1"),
            ("a=b,,c=d,", "a=b,c=d"),
            ("a=", "a="),
            ("x=a\\,b", "x=a\\,b"),
            ("x=a\\=b\\\\c", "x=a\\=b\\\\c"),
            ("metadata.name=web", "metadata.name=web"),
            ("a b=c d", "a b=c d"),
            ("a!b=c", "a!b=c"),
        ];
        for (input, want) in cases {
            assert_eq!(FieldSelector::parse(input).unwrap().to_string(), want, "{input:?}");
        }
        let s = FieldSelector::parse("x=a\\,b").unwrap();
        assert_eq!(s.requirements()[0].value, "a,b");
        let s = FieldSelector::parse("a!=b").unwrap();
        assert_eq!(s.requirements()[0].operator, FieldOperator::NotEquals);
        assert!(FieldSelector::parse("").unwrap().is_empty());
        assert_eq!("a=b".parse::<FieldSelector>().unwrap(), FieldSelector::equals("a", "b"));
    }

    #[test]
    fn upstream_error_texts() {
        let e = |s: &str| FieldSelector::parse(s).unwrap_err().to_string();
        assert_eq!(e("foo"), "invalid selector: 'foo'; can't understand 'foo'");
        assert_eq!(e("b=c,foo"), "invalid selector: 'b=c,foo'; can't understand 'foo'");
        assert_eq!(e("a=b=c"), "invalid field selector: unescaped character in value: 61");
        assert_eq!(e("a=b\\q"), "invalid field selector: invalid escape sequence: \\q");
        assert_eq!(e("a=b\\"), "invalid field selector: invalid escape sequence: \\");
        // Terms are sorted before parsing: "a" sorts before "z=x\q".
        assert_eq!(e("z=x\\q,a"), "invalid selector: 'z=x\\q,a'; can't understand 'a'");
    }

    #[test]
    fn term_splitting() {
        let cases: &[(&str, &[&str])] = &[
            ("a", &["a"]),
            ("a=avalue,b==bvalue,c!=cvalue", &["a=avalue", "b==bvalue", "c!=cvalue"]),
            ("", &[]),
            ("a=a,", &["a=a", ""]),
            (",a=a", &["", "a=a"]),
            ("k=\\,,k2=v2", &["k=\\,", "k2=v2"]),
            ("k=\\\\,k2=v2", &["k=\\\\", "k2=v2"]),
            ("k=\\a\\b\\", &["k=\\a\\b\\"]),
            ("함=수,목=록", &["함=수", "목=록"]),
        ];
        for (selector, want) in cases {
            assert_eq!(split_terms(selector), *want, "{selector:?}");
        }
        assert_eq!(split_term("b==value"), Some(("b", FieldOperator::Equals, "value")));
        assert_eq!(split_term("c!=value"), Some(("c", FieldOperator::NotEquals, "value")));
        assert_eq!(split_term("k=\\="), Some(("k", FieldOperator::Equals, "\\=")));
        assert_eq!(split_term("함=수"), Some(("함", FieldOperator::Equals, "수")));
        assert_eq!(split_term(""), None);
        assert_eq!(split_term("a"), None);
    }

    #[test]
    fn escaping() {
        assert_eq!(escape_value("plain"), "plain");
        assert_eq!(escape_value("a\\b,c=d"), "a\\\\b\\,c\\=d");
        for v in ["", "a", "a,b", "=", "\\", "\\,=x,,", "ünï=cødé"] {
            assert_eq!(unescape_value(&escape_value(v)).unwrap(), v);
            let s = FieldSelector::equals("f", v);
            assert_eq!(FieldSelector::parse(&s.to_string()).unwrap(), s, "{v:?}");
        }
    }

    #[test]
    fn matching() {
        let pod = fields(&[("metadata.name", "web"), ("status.phase", "Running")]);
        let get = |f: &str| pod.get(f).map(String::as_str);
        assert!(FieldSelector::parse("metadata.name=web").unwrap().matches(get));
        assert!(!FieldSelector::parse("metadata.name=db").unwrap().matches(get));
        assert!(FieldSelector::parse("status.phase!=Pending").unwrap().matches(get));
        assert!(!FieldSelector::parse("status.phase!=Running").unwrap().matches(get));
        assert!(FieldSelector::parse("spec.nodeName=").unwrap().matches(get));
        assert!(FieldSelector::parse("spec.nodeName!=n1").unwrap().matches(get));
        assert!(!FieldSelector::parse("spec.nodeName=n1").unwrap().matches(get));
        assert!(FieldSelector::parse("metadata.name=web,status.phase=Running").unwrap().matches(get));
        assert!(!FieldSelector::parse("metadata.name=web,status.phase=Failed").unwrap().matches(get));
        assert!(FieldSelector::everything().matches(get));
        // Owned values work too.
        assert!(FieldSelector::equals("x", "1").matches(|_| Some(String::from("1"))));
    }

    #[test]
    fn exact_match_for_indexing() {
        let s = FieldSelector::parse("metadata.name!=a,metadata.name=web,metadata.namespace=ns").unwrap();
        assert_eq!(s.requires_exact_match("metadata.name"), Some("web"));
        assert_eq!(s.requires_exact_match("metadata.namespace"), Some("ns"));
        assert_eq!(s.requires_exact_match("status.phase"), None);
        assert_eq!(FieldSelector::parse("a!=b").unwrap().requires_exact_match("a"), None);
        assert_eq!(s.requirements().len(), 3);
    }

    #[test]
    fn kind_field_labels() {
        let s = FieldSelector::parse("foo.bar=x").unwrap();
        assert_eq!(
            s.convert_labels(&FieldLabels::DEFAULT).unwrap_err().to_string(),
            "\"foo.bar\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
        );
        assert_eq!(s.convert_labels(&POD).unwrap_err().to_string(), "field label not supported: foo.bar");
        let job = FieldLabels {
            supported: &["metadata.name", "metadata.namespace", "status.successful"],
            renamed: &[],
            unknown: UnknownFieldMessage::NotSupportedFor("batchv1.Job"),
        };
        assert_eq!(
            FieldSelector::parse("status.succeeded=1").unwrap().convert_labels(&job).unwrap_err().to_string(),
            "field label \"status.succeeded\" not supported for batchv1.Job"
        );
        let ok = FieldSelector::parse("metadata.name=a,spec.host=n1").unwrap().convert_labels(&POD).unwrap();
        assert_eq!(ok.to_string(), "metadata.name=a,spec.nodeName=n1");
        assert!(FieldSelector::parse("metadata.namespace=x").unwrap().convert_labels(&FieldLabels::DEFAULT).is_ok());
        // Whitespace is not trimmed: "metadata.name " is unknown.
        assert_eq!(
            FieldSelector::parse("metadata.name =x")
                .unwrap()
                .convert_labels(&FieldLabels::DEFAULT)
                .unwrap_err()
                .to_string(),
            "\"metadata.name \" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
        );
        // The first unknown field in sorted order is reported.
        let two = FieldSelector::parse("z.z=1,b.b=2").unwrap();
        assert_eq!(two.convert_labels(&POD).unwrap_err().to_string(), "field label not supported: b.b");
        assert!(matches!(two.convert_labels(&POD), Err(SelectorError::UnknownField(_))));
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_errs(text in "[a-z=!,\\\\ ]{0,24}|\\PC{0,16}") {
            if let Ok(s) = FieldSelector::parse(&text) {
                // Printing normalizes `==` to `=`, which can reorder terms: compare as sets.
                let again = FieldSelector::parse(&s.to_string()).unwrap();
                let terms = |x: &FieldSelector| {
                    let mut t: Vec<String> = x.requirements().iter().map(ToString::to_string).collect();
                    t.sort();
                    t
                };
                proptest::prop_assert_eq!(terms(&again), terms(&s));
            }
        }
    }

    #[test]
    fn transform_drops_emptied_terms() {
        let s = FieldSelector::parse("a=1,b=2").unwrap();
        let t = s
            .transform(
                |f, v| if f == "a" { Ok((String::new(), String::new())) } else { Ok((f.to_owned(), v.to_owned())) },
            )
            .unwrap();
        assert_eq!(t.to_string(), "b=2");
        assert_eq!(s.transform(|_, _| Err("no".to_owned())).unwrap_err().to_string(), "no");
    }
}
