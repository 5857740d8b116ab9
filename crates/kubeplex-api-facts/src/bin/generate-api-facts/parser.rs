//! A small parser for Go declarations: package clause, imports, type declarations (structs with
//! embedded fields and tags, defined types, aliases) and method receivers. Function bodies,
//! variables and constants are skipped.
//!
//! Comments are kept by line so that each declaration and struct field gets its doc comment (the
//! comment lines directly above it) and the comment group before that (where Kubernetes puts markers
//! such as `+genclient` on types).

use std::collections::HashMap;

use crate::lexer::{Tok, Token, lex};

/// A parsed Go file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GoFile {
    pub package: String,
    pub imports: Vec<Import>,
    pub types: Vec<TypeDecl>,
    pub methods: Vec<Method>,
    /// Every `//` comment line of the file (for package-level markers in doc.go).
    pub comment_lines: Vec<String>,
    /// The `//go:build` expression, if any.
    pub build_constraint: Option<String>,
}

/// One import spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// Explicit name (`metav1`), if any.
    pub alias: Option<String>,
    pub path: String,
}

/// A method declaration's receiver base type and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Method {
    pub receiver: String,
    pub name: String,
}

/// `type Name T` or `type Name = T`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDecl {
    pub name: String,
    /// `type Name = T` (a true alias rather than a defined type).
    pub is_alias: bool,
    pub ty: TypeExpr,
    /// Doc comment lines followed by the comment group above them (markers live in both).
    pub comments: Vec<String>,
    pub line: u32,
}

/// A Go type expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeExpr {
    /// `Name` or `pkg.Name`.
    Named {
        pkg: Option<String>,
        name: String,
    },
    Pointer(Box<TypeExpr>),
    Slice(Box<TypeExpr>),
    Array(String, Box<TypeExpr>),
    Map(Box<TypeExpr>, Box<TypeExpr>),
    Struct(Vec<Field>),
    /// `interface{…}`; true when empty (`interface{}`).
    Interface(bool),
    Func,
    Chan(Box<TypeExpr>),
    /// An instantiated generic type (`unique.Handle[string]`), with its arguments' tokens.
    Generic(Box<TypeExpr>, Vec<String>),
}

/// A struct field (several names share one type; no names means embedded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub names: Vec<String>,
    pub ty: TypeExpr,
    /// The raw struct tag, unquoted.
    pub tag: Option<String>,
    /// Doc comment lines (text after `//`).
    pub comments: Vec<String>,
    pub line: u32,
}

#[derive(Debug)]
struct Comment {
    text: String,
    line: u32,
    end_line: u32,
    /// Nothing but whitespace precedes it on its line.
    alone: bool,
    line_comment: bool,
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    comments: Vec<Comment>,
    /// end line → index into comments, for comments alone on their line.
    by_end_line: HashMap<u32, usize>,
}

/// Parses a Go source file.
pub fn parse_file(src: &str) -> Result<GoFile, String> {
    let all = lex(src)?;
    let mut toks = Vec::with_capacity(all.len());
    let mut comments = Vec::new();
    let mut last_code_line = 0u32;
    for token in all {
        let line_comment = matches!(token.tok, Tok::Comment(_));
        match token.tok {
            Tok::Comment(text) | Tok::BlockComment(text) => {
                comments.push(Comment {
                    text,
                    line: token.line,
                    end_line: token.end_line,
                    alone: last_code_line != token.line,
                    line_comment,
                });
            }
            Tok::Newline => toks.push(token),
            _ => {
                last_code_line = token.end_line;
                toks.push(token);
            }
        }
    }
    let by_end_line =
        comments.iter().enumerate().filter(|(_, c)| c.alone).map(|(i, c)| (c.end_line, i)).collect::<HashMap<_, _>>();
    let mut parser = Parser { toks, pos: 0, comments, by_end_line };
    let mut file = parser.parse_top()?;
    file.comment_lines = parser.comments.iter().filter(|c| c.line_comment).map(|c| c.text.clone()).collect();
    file.build_constraint =
        file.comment_lines.iter().find_map(|c| c.strip_prefix("go:build ")).map(|c| c.trim().to_owned());
    Ok(file)
}

const KEYWORDS: &[&str] = &["package", "import", "type", "func", "var", "const"];

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    fn peek_at(&self, offset: usize) -> Option<&Tok> {
        self.toks.get(self.pos + offset).map(|t| &t.tok)
    }

    fn line(&self) -> u32 {
        self.toks.get(self.pos).map_or(0, |t| t.line)
    }

    fn next(&mut self) -> Option<Tok> {
        let tok = self.toks.get(self.pos).map(|t| t.tok.clone());
        if tok.is_some() {
            self.pos += 1;
        }
        tok
    }

    fn error(&self, what: &str) -> String {
        match self.peek() {
            Some(tok) => format!("line {}: {what}, found {tok}", self.line()),
            None => format!("end of file: {what}"),
        }
    }

    fn expect_punct(&mut self, c: char) -> Result<(), String> {
        if self.peek() == Some(&Tok::Punct(c)) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected '{c}'")))
        }
    }

    fn expect_ident(&mut self) -> Result<String, String> {
        match self.peek() {
            Some(Tok::Ident(name)) => {
                let name = name.clone();
                self.pos += 1;
                Ok(name)
            }
            _ => Err(self.error("expected an identifier")),
        }
    }

    fn skip_newlines(&mut self) {
        while matches!(self.peek(), Some(Tok::Newline) | Some(Tok::Punct(';'))) {
            self.pos += 1;
        }
    }

    /// The comment group ending on the line above `line`, and the group above that one (separated by
    /// a single blank line), closest first.
    fn comments_above(&self, line: u32, with_second_group: bool) -> Vec<String> {
        let group = |end: u32| -> (Vec<String>, Option<u32>) {
            let mut lines = Vec::new();
            let mut first = None;
            let mut at = end;
            while let Some(&i) = self.by_end_line.get(&at) {
                let c = &self.comments[i];
                if c.line_comment {
                    lines.push(c.text.clone());
                }
                first = Some(c.line);
                if c.line == 0 {
                    break;
                }
                at = c.line - 1;
            }
            lines.reverse();
            (lines, first)
        };
        let (mut doc, first) = group(line.saturating_sub(1));
        if with_second_group {
            let above = first.unwrap_or(line).saturating_sub(2);
            let (second, _) = group(above);
            doc.extend(second);
        }
        doc
    }

    fn parse_top(&mut self) -> Result<GoFile, String> {
        let mut file = GoFile::default();
        loop {
            self.skip_newlines();
            let Some(tok) = self.peek().cloned() else { break };
            match tok {
                Tok::Ident(word) if word == "package" => {
                    self.pos += 1;
                    file.package = self.expect_ident()?;
                }
                Tok::Ident(word) if word == "import" => {
                    self.pos += 1;
                    self.parse_imports(&mut file.imports)?;
                }
                Tok::Ident(word) if word == "type" => {
                    let line = self.line();
                    self.pos += 1;
                    if self.peek() == Some(&Tok::Punct('(')) {
                        self.pos += 1;
                        loop {
                            self.skip_newlines();
                            if self.peek() == Some(&Tok::Punct(')')) {
                                self.pos += 1;
                                break;
                            }
                            if self.peek().is_none() {
                                return Err(self.error("unterminated type group"));
                            }
                            let spec_line = self.line();
                            if let Some(decl) = self.parse_type_spec(spec_line)? {
                                file.types.push(decl);
                            }
                        }
                    } else if let Some(decl) = self.parse_type_spec(line)? {
                        file.types.push(decl);
                    }
                }
                Tok::Ident(word) if word == "func" => {
                    self.pos += 1;
                    if let Some(method) = self.parse_func()? {
                        file.methods.push(method);
                    }
                }
                Tok::Ident(word) if word == "var" || word == "const" => {
                    self.pos += 1;
                    self.skip_decl();
                }
                _ => self.skip_statement(),
            }
        }
        Ok(file)
    }

    fn parse_imports(&mut self, imports: &mut Vec<Import>) -> Result<(), String> {
        let grouped = self.peek() == Some(&Tok::Punct('('));
        if grouped {
            self.pos += 1;
        }
        loop {
            self.skip_newlines();
            if grouped && self.peek() == Some(&Tok::Punct(')')) {
                self.pos += 1;
                return Ok(());
            }
            let alias = match self.peek().cloned() {
                Some(Tok::Ident(name)) => {
                    self.pos += 1;
                    Some(name)
                }
                Some(Tok::Punct(c @ ('.' | '_'))) => {
                    self.pos += 1;
                    Some(c.to_string())
                }
                _ => None,
            };
            match self.next() {
                Some(Tok::Str(path)) => imports.push(Import { alias, path }),
                _ => return Err(self.error("expected an import path")),
            }
            if !grouped {
                return Ok(());
            }
        }
    }

    /// `Name [=] Type`; generic declarations are skipped (None).
    fn parse_type_spec(&mut self, doc_line: u32) -> Result<Option<TypeDecl>, String> {
        let line = self.line();
        let name = self.expect_ident()?;
        let is_generic = self.peek() == Some(&Tok::Punct('['))
            && !matches!(self.peek_at(1), Some(Tok::Punct(']')) | Some(Tok::Number(_)));
        if is_generic {
            self.skip_decl();
            return Ok(None);
        }
        let is_alias = self.peek() == Some(&Tok::Punct('='));
        if is_alias {
            self.pos += 1;
        }
        let ty = self.parse_type()?;
        let comments = self.comments_above(doc_line, true);
        Ok(Some(TypeDecl { name, is_alias, ty, comments, line }))
    }

    fn parse_type(&mut self) -> Result<TypeExpr, String> {
        match self.next() {
            Some(Tok::Punct('*')) => Ok(TypeExpr::Pointer(Box::new(self.parse_type()?))),
            Some(Tok::Punct('(')) => {
                let inner = self.parse_type()?;
                self.expect_punct(')')?;
                Ok(inner)
            }
            Some(Tok::Punct('[')) => {
                if self.peek() == Some(&Tok::Punct(']')) {
                    self.pos += 1;
                    return Ok(TypeExpr::Slice(Box::new(self.parse_type()?)));
                }
                let mut len = String::new();
                loop {
                    match self.next() {
                        Some(Tok::Punct(']')) => break,
                        Some(Tok::Number(n)) | Some(Tok::Ident(n)) => len.push_str(&n),
                        Some(Tok::Punct(c)) => len.push(c),
                        _ => return Err(self.error("bad array length")),
                    }
                }
                Ok(TypeExpr::Array(len, Box::new(self.parse_type()?)))
            }
            Some(Tok::Punct('<')) => {
                self.expect_punct('-')?;
                match self.next() {
                    Some(Tok::Ident(word)) if word == "chan" => Ok(TypeExpr::Chan(Box::new(self.parse_type()?))),
                    _ => Err(self.error("expected chan")),
                }
            }
            Some(Tok::Ident(word)) => match word.as_str() {
                "map" => {
                    self.expect_punct('[')?;
                    let key = self.parse_type()?;
                    self.expect_punct(']')?;
                    let value = self.parse_type()?;
                    Ok(TypeExpr::Map(Box::new(key), Box::new(value)))
                }
                "struct" => Ok(TypeExpr::Struct(self.parse_struct_body()?)),
                "interface" => {
                    self.expect_punct('{')?;
                    let start = self.pos;
                    self.skip_balanced('{', '}');
                    let empty = self.toks[start..self.pos - 1].iter().all(|t| t.tok == Tok::Newline);
                    Ok(TypeExpr::Interface(empty))
                }
                "func" => {
                    self.expect_punct('(')?;
                    self.skip_balanced('(', ')');
                    match self.peek() {
                        Some(Tok::Punct('(')) => {
                            self.pos += 1;
                            self.skip_balanced('(', ')');
                        }
                        Some(Tok::Punct('*' | '[')) => {
                            self.parse_type()?;
                        }
                        Some(Tok::Ident(w)) if !KEYWORDS.contains(&w.as_str()) => {
                            self.parse_type()?;
                        }
                        _ => {}
                    }
                    Ok(TypeExpr::Func)
                }
                "chan" => {
                    if self.peek() == Some(&Tok::Punct('<')) {
                        self.pos += 2;
                    }
                    Ok(TypeExpr::Chan(Box::new(self.parse_type()?)))
                }
                _ => {
                    let named = if self.peek() == Some(&Tok::Punct('.')) {
                        self.pos += 1;
                        let name = self.expect_ident()?;
                        TypeExpr::Named { pkg: Some(word), name }
                    } else {
                        TypeExpr::Named { pkg: None, name: word }
                    };
                    if self.peek() == Some(&Tok::Punct('[')) {
                        // Type arguments of a generic type (`unique.Handle[string]`).
                        self.pos += 1;
                        let args_start = self.pos;
                        self.skip_balanced('[', ']');
                        let args = self.toks[args_start..self.pos - 1].iter().map(|t| t.tok.to_string()).collect();
                        return Ok(TypeExpr::Generic(Box::new(named), args));
                    }
                    Ok(named)
                }
            },
            Some(other) => {
                self.pos -= 1;
                Err(self.error(&format!("expected a type, not {other}")))
            }
            None => Err(self.error("expected a type")),
        }
    }

    /// After `struct`: `{ fields }`.
    fn parse_struct_body(&mut self) -> Result<Vec<Field>, String> {
        self.expect_punct('{')?;
        let mut fields = Vec::new();
        loop {
            self.skip_newlines();
            match self.peek() {
                Some(Tok::Punct('}')) => {
                    self.pos += 1;
                    return Ok(fields);
                }
                None => return Err(self.error("unterminated struct")),
                _ => {}
            }
            let line = self.line();
            let (names, ty) = match self.peek().cloned() {
                Some(Tok::Punct('*')) => (Vec::new(), self.parse_type()?),
                Some(Tok::Ident(first)) => match self.peek_at(1) {
                    Some(Tok::Punct('.')) => (Vec::new(), self.parse_type()?),
                    Some(Tok::Newline) | Some(Tok::Punct(';')) | Some(Tok::Punct('}')) | Some(Tok::Str(_)) => {
                        self.pos += 1;
                        (Vec::new(), TypeExpr::Named { pkg: None, name: first })
                    }
                    _ => {
                        let mut names = vec![self.expect_ident()?];
                        while self.peek() == Some(&Tok::Punct(',')) {
                            self.pos += 1;
                            self.skip_newlines();
                            names.push(self.expect_ident()?);
                        }
                        (names, self.parse_type()?)
                    }
                },
                _ => return Err(self.error("expected a struct field")),
            };
            let tag = match self.peek() {
                Some(Tok::Str(tag)) => {
                    let tag = tag.clone();
                    self.pos += 1;
                    Some(tag)
                }
                _ => None,
            };
            match self.peek() {
                Some(Tok::Newline) | Some(Tok::Punct(';')) | Some(Tok::Punct('}')) => {}
                _ => return Err(self.error("expected the end of a struct field")),
            }
            let comments = self.comments_above(line, false);
            fields.push(Field { names, ty, tag, comments, line });
        }
    }

    /// After `func`: notes a method's receiver, skips signature and body.
    fn parse_func(&mut self) -> Result<Option<Method>, String> {
        let mut receiver = None;
        if self.peek() == Some(&Tok::Punct('(')) {
            self.pos += 1;
            let start = self.pos;
            self.skip_balanced('(', ')');
            let mut depth = 0i32;
            for token in &self.toks[start..self.pos.saturating_sub(1)] {
                match &token.tok {
                    Tok::Punct('[') => depth += 1,
                    Tok::Punct(']') => depth -= 1,
                    Tok::Ident(name) if depth == 0 => receiver = Some(name.clone()),
                    _ => {}
                }
            }
        }
        let name = self.expect_ident()?;
        let mut depth = 0i32;
        let mut previous: Option<Tok> = None;
        while let Some(tok) = self.next() {
            match &tok {
                Tok::Punct('(' | '[') => depth += 1,
                Tok::Punct(')' | ']') => depth -= 1,
                Tok::Punct('{') => {
                    self.skip_balanced('{', '}');
                    let is_type_literal = matches!(&previous, Some(Tok::Ident(w)) if w == "struct" || w == "interface");
                    if depth == 0 && !is_type_literal {
                        break;
                    }
                }
                Tok::Newline if depth == 0 => break,
                _ => {}
            }
            previous = Some(tok);
        }
        Ok(receiver.map(|receiver| Method { receiver, name }))
    }

    /// Skips a `var`/`const` declaration (grouped or single).
    fn skip_decl(&mut self) {
        if self.peek() == Some(&Tok::Punct('(')) {
            self.pos += 1;
            self.skip_balanced('(', ')');
        } else {
            self.skip_statement();
        }
    }

    /// Skips to the end of the line, keeping brackets balanced.
    fn skip_statement(&mut self) {
        let mut depth = 0i32;
        while let Some(tok) = self.peek() {
            match tok {
                Tok::Punct('(' | '[' | '{') => depth += 1,
                Tok::Punct(')' | ']' | '}') => depth -= 1,
                Tok::Newline | Tok::Punct(';') if depth <= 0 => return,
                _ => {}
            }
            self.pos += 1;
        }
    }

    /// Called after an opening bracket: skips to just past its partner.
    fn skip_balanced(&mut self, open: char, close: char) {
        let mut depth = 1;
        while let Some(tok) = self.next() {
            if tok == Tok::Punct(open) {
                depth += 1;
            } else if tok == Tok::Punct(close) {
                depth -= 1;
                if depth == 0 {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"/*
Copyright The Kubernetes Authors.
*/

package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	_ "embed"
)

import "fmt"

// +genclient
// +k8s:prerelease-lifecycle-gen:introduced=1.9

// Deployment enables declarative updates.
// +structType=granular
type Deployment struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object's metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Specification.
	// +optional
	Spec DeploymentSpec `json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"` // trailing comment
	// +listType=map
	// +listMapKey=containerPort
	// +listMapKey=protocol
	Ports []*ContainerPort `json:"ports,omitempty" patchStrategy:"merge" patchMergeKey:"containerPort" protobuf:"bytes,6,rep,name=ports"`
	Labels map[string]string
	A, B int32
	Nested struct {
		X intstr.IntOrString `json:"x"`
	}
	*Embedded
	Fn func(a, b int) (string, error) `json:"-"`
	Cells []interface{}
	private int
}

// Protocol defines network protocols.
// +enum
type Protocol string

type (
	// ResourceList is a set.
	ResourceList map[ResourceName]resource.Quantity
	Same = Protocol
)

func (in *Deployment) DeepCopyInto(out *Deployment) {
	x := struct{ a int }{1}
	if x.a > 0 { out.Spec = in.Spec }
}

func (d Deployment) String() interface{} { return nil }

func helper() (a, b int) { return 1, 2 }

var x = []string{
	"a", "}",
}

const (
	A Protocol = "TCP"
)

type Generic[T any] struct{ V T }

// Last comment.
type Empty struct{}
"#;

    #[test]
    fn parses_package_imports_and_methods() {
        let file = parse_file(SAMPLE).expect("parse");
        assert_eq!(file.package, "v1");
        assert_eq!(
            file.imports,
            vec![
                Import { alias: Some("metav1".into()), path: "k8s.io/apimachinery/pkg/apis/meta/v1".into() },
                Import { alias: None, path: "k8s.io/apimachinery/pkg/util/intstr".into() },
                Import { alias: Some("_".into()), path: "embed".into() },
                Import { alias: None, path: "fmt".into() },
            ]
        );
        assert_eq!(
            file.methods,
            vec![
                Method { receiver: "Deployment".into(), name: "DeepCopyInto".into() },
                Method { receiver: "Deployment".into(), name: "String".into() },
            ]
        );
        let names: Vec<&str> = file.types.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["Deployment", "Protocol", "ResourceList", "Same", "Empty"]);
    }

    #[test]
    fn parses_struct_fields_tags_and_comments() {
        let file = parse_file(SAMPLE).expect("parse");
        let deployment = &file.types[0];
        assert!(deployment.comments.iter().any(|c| c.contains("+structType=granular")));
        assert!(deployment.comments.iter().any(|c| c.contains("+genclient")), "{:?}", deployment.comments);
        let TypeExpr::Struct(fields) = &deployment.ty else { panic!("not a struct") };
        let summary: Vec<(Vec<String>, Option<String>)> =
            fields.iter().map(|f| (f.names.clone(), f.tag.clone())).collect();
        assert_eq!(summary.len(), 11, "{summary:#?}");
        assert!(fields[0].names.is_empty());
        assert_eq!(fields[0].ty, TypeExpr::Named { pkg: Some("metav1".into()), name: "TypeMeta".into() });
        assert_eq!(fields[0].tag.as_deref(), Some("json:\",inline\""));
        assert!(fields[0].comments.is_empty());
        assert_eq!(fields[1].comments, [" Standard object's metadata.", " +optional"]);
        assert_eq!(fields[2].names, ["Spec"]);
        assert_eq!(fields[2].comments, [" Specification.", " +optional"]);
        assert_eq!(fields[3].comments, [" +listType=map", " +listMapKey=containerPort", " +listMapKey=protocol"]);
        assert_eq!(
            fields[3].ty,
            TypeExpr::Slice(Box::new(TypeExpr::Pointer(Box::new(TypeExpr::Named {
                pkg: None,
                name: "ContainerPort".into()
            }))))
        );
        assert!(fields[4].comments.is_empty(), "a trailing comment is not the next field's doc");
        assert_eq!(
            fields[4].ty,
            TypeExpr::Map(
                Box::new(TypeExpr::Named { pkg: None, name: "string".into() }),
                Box::new(TypeExpr::Named { pkg: None, name: "string".into() })
            )
        );
        assert_eq!(fields[5].names, ["A", "B"]);
        assert!(matches!(&fields[6].ty, TypeExpr::Struct(inner) if inner.len() == 1));
        assert_eq!(fields[7].ty, TypeExpr::Pointer(Box::new(TypeExpr::Named { pkg: None, name: "Embedded".into() })));
        assert!(fields[7].names.is_empty());
        assert_eq!(fields[8].ty, TypeExpr::Func);
        assert_eq!(fields[9].ty, TypeExpr::Slice(Box::new(TypeExpr::Interface(true))));
        assert_eq!(fields[10].names, ["private"]);
    }

    #[test]
    fn parses_defined_types_and_aliases() {
        let file = parse_file(SAMPLE).expect("parse");
        let protocol = &file.types[1];
        assert_eq!(protocol.ty, TypeExpr::Named { pkg: None, name: "string".into() });
        assert!(!protocol.is_alias);
        assert!(protocol.comments.contains(&" +enum".to_owned()));
        let list = &file.types[2];
        assert!(matches!(list.ty, TypeExpr::Map(..)));
        assert_eq!(list.comments, [" ResourceList is a set."]);
        assert!(file.types[3].is_alias);
        assert_eq!(file.types[4].comments, [" Last comment."]);
    }

    #[test]
    fn collects_comment_lines_for_package_markers() {
        let file = parse_file("// +groupName=apps\n/* +ignored=yes */\npackage v1\n").expect("parse");
        assert_eq!(file.comment_lines, [" +groupName=apps"]);
        assert_eq!(file.package, "v1");
    }

    #[test]
    fn parses_generic_instantiations_and_build_constraints() {
        let file = parse_file(
            "//go:build fieldsv1string\n\npackage v1\n\ntype F struct {\n\thandle unique.Handle[string]\n}\n",
        )
        .expect("parse");
        assert_eq!(file.build_constraint.as_deref(), Some("fieldsv1string"));
        let TypeExpr::Struct(fields) = &file.types[0].ty else { panic!("not a struct") };
        assert_eq!(
            fields[0].ty,
            TypeExpr::Generic(
                Box::new(TypeExpr::Named { pkg: Some("unique".into()), name: "Handle".into() }),
                vec!["identifier string".into()]
            )
        );
    }

    #[test]
    fn reports_syntax_errors() {
        assert!(parse_file("package x\ntype T struct {\n  A \n").is_err());
        assert!(parse_file("package x\ntype T map[string\n").is_err());
    }
}
