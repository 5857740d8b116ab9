//! Reads kind registrations from a package's `register.go`:
//! `scheme.AddKnownTypes(SchemeGroupVersion, &Pod{}, …)`, `AddUnversionedTypes(…)`,
//! `AddKnownTypeWithName(gv.WithKind("X"), &T{})`, with group versions declared as
//! `schema.GroupVersion{Group: GroupName, Version: "v1"}`, lists declared as
//! `[]runtime.Object{…}` and the `groupVersion` parameter of `metav1.AddToGroupVersion`
//! standing for every group version.

use std::collections::HashMap;

use crate::lexer::{Tok, lex};

/// Where a registration applies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GroupVersion {
    /// One group version.
    One { group: String, version: String },
    /// Every group version that calls `metav1.AddToGroupVersion`.
    Every,
}

/// One registered type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Registration {
    pub gv: GroupVersion,
    pub kind: String,
    /// The import qualifier used (`metav1`), or None for the package's own type.
    pub qualifier: Option<String>,
    pub type_name: String,
}

/// Parses registrations. Unresolvable group versions (other than the known parameter) are errors.
pub fn parse_register(src: &str) -> Result<Vec<Registration>, String> {
    let toks: Vec<Tok> = lex(src)?
        .into_iter()
        .map(|t| t.tok)
        .filter(|t| !matches!(t, Tok::Comment(_) | Tok::BlockComment(_) | Tok::Newline))
        .collect();

    // `NAME = "value"` and `NAME type = "value"` (constants and string variables).
    let mut strings: HashMap<String, String> = HashMap::new();
    for w in toks.windows(3) {
        if let [Tok::Ident(name), Tok::Punct('='), Tok::Str(value)] = w {
            strings.insert(name.clone(), value.clone());
        }
    }
    for w in toks.windows(4) {
        if let [Tok::Ident(name), Tok::Ident(_), Tok::Punct('='), Tok::Str(value)] = w {
            strings.insert(name.clone(), value.clone());
        }
    }
    let string_value = |tok: &Tok| -> Option<String> {
        match tok {
            Tok::Str(s) => Some(s.clone()),
            Tok::Ident(name) => strings.get(name).cloned(),
            _ => None,
        }
    };

    // `NAME = schema.GroupVersion{Group: …, Version: …}` and `NAME = []runtime.Object{…}`.
    let mut gvs: HashMap<String, GroupVersion> = HashMap::new();
    let mut lists: HashMap<String, Vec<(Option<String>, String)>> = HashMap::new();
    for i in 0..toks.len() {
        let (Tok::Ident(name), Some(Tok::Punct('='))) = (&toks[i], toks.get(i + 1)) else { continue };
        if is_seq(&toks[i + 2..], &["schema", ".", "GroupVersion", "{"]) {
            let body = balanced(&toks, i + 6, '{', '}');
            let mut group = None;
            let mut version = None;
            for part in split_commas(body) {
                if let [Tok::Ident(key), Tok::Punct(':'), value] = part {
                    match key.as_str() {
                        "Group" => group = string_value(value),
                        "Version" => version = string_value(value),
                        _ => {}
                    }
                }
            }
            if let (Some(group), Some(version)) = (group, version) {
                gvs.insert(name.clone(), GroupVersion::One { group, version });
            }
        } else if is_seq(&toks[i + 2..], &["[", "]", "runtime", ".", "Object", "{"]) {
            let body = balanced(&toks, i + 8, '{', '}');
            let items = split_commas(body).into_iter().filter_map(object_literal).collect();
            lists.insert(name.clone(), items);
        }
    }
    gvs.insert("groupVersion".to_owned(), GroupVersion::Every);

    let mut out = Vec::new();
    for i in 0..toks.len() {
        let Tok::Ident(func) = &toks[i] else { continue };
        if toks.get(i + 1) != Some(&Tok::Punct('(')) {
            continue;
        }
        let args = split_commas(balanced(&toks, i + 2, '(', ')'));
        match func.as_str() {
            "AddKnownTypes" | "AddUnversionedTypes" => {
                let Some((first, rest)) = args.split_first() else { continue };
                let gv = match first {
                    [Tok::Ident(name)] => {
                        gvs.get(name).cloned().ok_or_else(|| format!("unknown group version {name}"))?
                    }
                    // A literal or computed group version (only in test helpers): not a served registration.
                    _ => continue,
                };
                for arg in rest {
                    if let Some((qualifier, type_name)) = object_literal(arg) {
                        out.push(Registration { gv: gv.clone(), kind: type_name.clone(), qualifier, type_name });
                    } else if let [Tok::Ident(list), Tok::Punct('.'), Tok::Punct('.'), Tok::Punct('.')] = arg {
                        let items = lists.get(list).ok_or_else(|| format!("unknown object list {list}"))?;
                        for (qualifier, type_name) in items {
                            out.push(Registration {
                                gv: gv.clone(),
                                kind: type_name.clone(),
                                qualifier: qualifier.clone(),
                                type_name: type_name.clone(),
                            });
                        }
                    } else {
                        return Err(format!("unexpected argument to {func}: {arg:?}"));
                    }
                }
            }
            "AddKnownTypeWithName" => {
                let [target, object] = args.as_slice() else { continue };
                // `gv.WithKind(K)`; other forms (the internal version) are not served kinds.
                let [
                    Tok::Ident(gv_name),
                    Tok::Punct('.'),
                    Tok::Ident(with_kind),
                    Tok::Punct('('),
                    kind,
                    Tok::Punct(')'),
                ] = target
                else {
                    continue;
                };
                if with_kind != "WithKind" {
                    continue;
                }
                let gv = gvs.get(gv_name).cloned().ok_or_else(|| format!("unknown group version {gv_name}"))?;
                let kind = string_value(kind).ok_or_else(|| format!("unknown kind constant {kind:?}"))?;
                let (qualifier, type_name) =
                    object_literal(object).ok_or_else(|| format!("unexpected object {object:?}"))?;
                out.push(Registration { gv, kind, qualifier, type_name });
            }
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn is_seq(toks: &[Tok], words: &[&str]) -> bool {
    words.len() <= toks.len()
        && words.iter().zip(toks).all(|(w, t)| match t {
            Tok::Ident(s) => s == w,
            Tok::Punct(c) => w.len() == 1 && w.starts_with(*c),
            _ => false,
        })
}

/// Tokens from `start` (just after an opening bracket) up to its partner, exclusive.
fn balanced(toks: &[Tok], start: usize, open: char, close: char) -> &[Tok] {
    let mut depth = 1;
    for (offset, tok) in toks.iter().enumerate().skip(start) {
        if *tok == Tok::Punct(open) {
            depth += 1;
        } else if *tok == Tok::Punct(close) {
            depth -= 1;
            if depth == 0 {
                return &toks[start..offset];
            }
        }
    }
    &toks[start.min(toks.len())..]
}

/// Splits at commas outside brackets, dropping empty parts.
fn split_commas(toks: &[Tok]) -> Vec<&[Tok]> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, tok) in toks.iter().enumerate() {
        match tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => depth -= 1,
            Tok::Punct(',') if depth == 0 => {
                parts.push(&toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&toks[start..]);
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// `&Name{}` or `&pkg.Name{}`.
fn object_literal(toks: &[Tok]) -> Option<(Option<String>, String)> {
    match toks {
        [Tok::Punct('&'), Tok::Ident(name), Tok::Punct('{'), Tok::Punct('}')] => Some((None, name.clone())),
        [Tok::Punct('&'), Tok::Ident(pkg), Tok::Punct('.'), Tok::Ident(name), Tok::Punct('{'), Tok::Punct('}')] => {
            Some((Some(pkg.clone()), name.clone()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(group: &str, version: &str) -> GroupVersion {
        GroupVersion::One { group: group.into(), version: version.into() }
    }

    #[test]
    fn reads_api_group_registrations() {
        let src = r#"
package v1

// GroupName is the group name use in this package
const GroupName = "apps"

var SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: "v1"}

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(SchemeGroupVersion,
		&Deployment{},
		&DeploymentList{},
	)
	scheme.AddKnownTypes(SchemeGroupVersion, &metav1.Status{})
	metav1.AddToGroupVersion(scheme, SchemeGroupVersion)
	return nil
}
"#;
        let regs = parse_register(src).expect("parse");
        assert_eq!(
            regs,
            vec![
                Registration {
                    gv: one("apps", "v1"),
                    kind: "Deployment".into(),
                    qualifier: None,
                    type_name: "Deployment".into()
                },
                Registration {
                    gv: one("apps", "v1"),
                    kind: "DeploymentList".into(),
                    qualifier: None,
                    type_name: "DeploymentList".into()
                },
                Registration {
                    gv: one("apps", "v1"),
                    kind: "Status".into(),
                    qualifier: Some("metav1".into()),
                    type_name: "Status".into()
                },
            ]
        );
    }

    #[test]
    fn reads_meta_registrations() {
        let src = r#"
const GroupName = "meta.k8s.io"
var SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: "v1"}
var Unversioned = schema.GroupVersion{Group: "", Version: "v1"}
const WatchEventKind = "WatchEvent"
var optionsTypes = []runtime.Object{
	&ListOptions{},
	&DeleteOptions{},
}
func AddToGroupVersion(scheme *runtime.Scheme, groupVersion schema.GroupVersion) {
	scheme.AddKnownTypeWithName(groupVersion.WithKind(WatchEventKind), &WatchEvent{})
	scheme.AddKnownTypeWithName(
		schema.GroupVersion{Group: groupVersion.Group, Version: runtime.APIVersionInternal}.WithKind(WatchEventKind),
		&InternalEvent{},
	)
	scheme.AddKnownTypes(groupVersion, optionsTypes...)
	scheme.AddUnversionedTypes(Unversioned,
		&Status{},
	)
}
func init() {
	scheme.AddUnversionedTypes(SchemeGroupVersion, optionsTypes...)
}
"#;
        let regs = parse_register(src).expect("parse");
        let summary: Vec<(GroupVersion, String)> = regs.iter().map(|r| (r.gv.clone(), r.kind.clone())).collect();
        assert_eq!(
            summary,
            vec![
                (one("", "v1"), "Status".into()),
                (one("meta.k8s.io", "v1"), "DeleteOptions".into()),
                (one("meta.k8s.io", "v1"), "ListOptions".into()),
                (GroupVersion::Every, "DeleteOptions".into()),
                (GroupVersion::Every, "ListOptions".into()),
                (GroupVersion::Every, "WatchEvent".into()),
            ]
        );
    }

    #[test]
    fn rejects_unknown_group_versions() {
        assert!(parse_register("func f() { scheme.AddKnownTypes(Mystery, &A{}) }").is_err());
    }
}
