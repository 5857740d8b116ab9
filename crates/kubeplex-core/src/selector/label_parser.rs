//! The label selector lexer and recursive-descent parser, token for token as
//! `k8s.io/apimachinery/pkg/labels/selector.go` scans and parses, so the same
//! inputs are accepted and the same error texts come out.
//!
//! Grammar (commas are AND; `in`/`notin` are keywords only where an operator is
//! expected, so `in in (in)` is a valid requirement):
//!
//! ```text
//! selector    ::= "" | requirement ("," requirement)*
//! requirement ::= ["!"] KEY [ ("in" | "notin") "(" values ")" | ("=" | "==" | "!=" | ">" | "<") [VALUE] ]
//! values      ::= VALUE? ("," VALUE?)*
//! ```
//!
//! Whitespace is space, tab, CR and LF. A NUL byte where a token starts ends
//! the input (upstream's lexer returns 0 at the end of input and for NUL alike).

use super::SelectorError;
use super::label::{Operator, Requirement, requirement_errors_message, validate_label_key};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Context {
    KeyAndOperator,
    Values,
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

fn special_token(text: &[u8]) -> Option<Token> {
    Some(match text {
        b")" => Token::ClosedPar,
        b"," => Token::Comma,
        b"!" => Token::DoesNotExist,
        b"==" => Token::DoubleEquals,
        b"=" => Token::Equals,
        b">" => Token::GreaterThan,
        b"<" => Token::LessThan,
        b"!=" => Token::NotEquals,
        b"(" => Token::OpenPar,
        _ => return None,
    })
}

struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Lexer<'_> {
    fn text(&self, start: usize, end: usize) -> String {
        String::from_utf8_lossy(&self.s[start..end]).into_owned()
    }

    fn lex(&mut self) -> (Token, String) {
        // skipWhiteSpaces(read()): a NUL byte or the end of input ends scanning.
        loop {
            match self.s.get(self.pos) {
                None => return (Token::EndOfString, String::new()),
                Some(0) => {
                    self.pos += 1;
                    return (Token::EndOfString, String::new());
                }
                Some(&b) if is_whitespace(b) => self.pos += 1,
                Some(&b) if is_special(b) => return self.scan_special(),
                Some(_) => return self.scan_identifier(),
            }
        }
    }

    /// Longest special-symbol token; a NUL right after it is swallowed, as upstream.
    fn scan_special(&mut self) -> (Token, String) {
        let start = self.pos;
        let mut last: Option<(Token, usize)> = None;
        while let Some(&b) = self.s.get(self.pos) {
            if b == 0 {
                self.pos += 1;
                break;
            }
            if !is_special(b) {
                break;
            }
            match special_token(&self.s[start..=self.pos]) {
                Some(tok) => {
                    self.pos += 1;
                    last = Some((tok, self.pos));
                }
                None if last.is_some() => break,
                None => self.pos += 1,
            }
        }
        match last {
            Some((tok, end)) => (tok, self.text(start, end)),
            // Unreachable: every special byte is a token on its own.
            None => (Token::EndOfString, String::new()),
        }
    }

    /// An identifier or keyword: everything up to whitespace, a special byte,
    /// a NUL (swallowed) or the end.
    fn scan_identifier(&mut self) -> (Token, String) {
        let start = self.pos;
        let mut end = self.s.len();
        while let Some(&b) = self.s.get(self.pos) {
            if b == 0 {
                end = self.pos;
                self.pos += 1;
                break;
            }
            if is_special(b) || is_whitespace(b) {
                end = self.pos;
                break;
            }
            self.pos += 1;
        }
        let text = self.text(start, end);
        let tok = match text.as_str() {
            "in" => Token::In,
            "notin" => Token::NotIn,
            _ => Token::Identifier,
        };
        (tok, text)
    }
}

struct Parser {
    items: Vec<(Token, String)>,
    position: usize,
}

fn err(msg: String) -> SelectorError {
    SelectorError::Label(msg)
}

impl Parser {
    fn item(&self, at: usize, ctx: Context) -> (Token, String) {
        let (tok, lit) = self.items.get(at).cloned().unwrap_or((Token::EndOfString, String::new()));
        let tok = match (ctx, tok) {
            (Context::Values, Token::In | Token::NotIn) => Token::Identifier,
            _ => tok,
        };
        (tok, lit)
    }

    fn lookahead(&self, ctx: Context) -> (Token, String) {
        self.item(self.position, ctx)
    }

    fn consume(&mut self, ctx: Context) -> (Token, String) {
        let item = self.item(self.position, ctx);
        if self.position < self.items.len() {
            self.position += 1;
        }
        item
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, SelectorError> {
        let mut requirements = Vec::new();
        loop {
            let (tok, lit) = self.lookahead(Context::Values);
            match tok {
                Token::Identifier | Token::DoesNotExist => {
                    let r = self.parse_requirement().map_err(|e| err(format!("unable to parse requirement: {e}")))?;
                    requirements.push(r);
                    let (t, l) = self.consume(Context::Values);
                    match t {
                        Token::EndOfString => return Ok(requirements),
                        Token::Comma => {
                            let (t2, l2) = self.lookahead(Context::Values);
                            if t2 != Token::Identifier && t2 != Token::DoesNotExist {
                                return Err(err(format!("found '{l2}', expected: identifier after ','")));
                            }
                        }
                        _ => return Err(err(format!("found '{l}', expected: ',' or 'end of string'"))),
                    }
                }
                Token::EndOfString => return Ok(requirements),
                _ => return Err(err(format!("found '{lit}', expected: !, identifier, or 'end of string'"))),
            }
        }
    }

    /// Errors here are the inner text; [`Parser::parse`] adds the
    /// `unable to parse requirement: ` prefix.
    fn parse_requirement(&mut self) -> Result<Requirement, String> {
        let (key, inferred) = self.parse_key_and_infer_operator()?;
        if let Some(op) = inferred {
            return Requirement::new_inner(key, op, Vec::new(), false).map_err(|e| requirement_errors_message(&e));
        }
        let operator = self.parse_operator()?;
        let values = match operator {
            Operator::In | Operator::NotIn => self.parse_values()?,
            _ => self.parse_exact_value()?,
        };
        Requirement::new_inner(key, operator, values, false).map_err(|e| requirement_errors_message(&e))
    }

    /// The key and, for `k` and `!k`, the operator implied. A `!` followed by
    /// anything but the end or a comma still yields `DoesNotExist` (the caller
    /// then reports the unexpected token), as upstream.
    fn parse_key_and_infer_operator(&mut self) -> Result<(String, Option<Operator>), String> {
        let mut operator = None;
        let (mut tok, mut literal) = self.consume(Context::Values);
        if tok == Token::DoesNotExist {
            operator = Some(Operator::DoesNotExist);
            (tok, literal) = self.consume(Context::Values);
        }
        if tok != Token::Identifier {
            return Err(format!("found '{literal}', expected: identifier"));
        }
        if let Some(e) = validate_label_key(&literal, "<nil>") {
            return Err(e.to_string());
        }
        let (next, _) = self.lookahead(Context::Values);
        if (next == Token::EndOfString || next == Token::Comma) && operator.is_none() {
            operator = Some(Operator::Exists);
        }
        Ok((literal, operator))
    }

    fn parse_operator(&mut self) -> Result<Operator, String> {
        let (tok, lit) = self.consume(Context::KeyAndOperator);
        Ok(match tok {
            Token::In => Operator::In,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::GreaterThan => Operator::GreaterThan,
            Token::LessThan => Operator::LessThan,
            Token::NotIn => Operator::NotIn,
            Token::NotEquals => Operator::NotEquals,
            _ => return Err(format!("found '{lit}', expected: in, notin, =, ==, !=, gt, lt")),
        })
    }

    /// `(a,b)`: a sorted set of values; `()` is the set of the empty string.
    fn parse_values(&mut self) -> Result<Vec<String>, String> {
        let (tok, lit) = self.consume(Context::Values);
        if tok != Token::OpenPar {
            return Err(format!("found '{lit}' expected: '('"));
        }
        let (tok, lit) = self.lookahead(Context::Values);
        match tok {
            Token::Identifier | Token::Comma => {
                let set = self.parse_identifiers_list()?;
                let (closing, _) = self.consume(Context::Values);
                if closing != Token::ClosedPar {
                    return Err(format!("found '{lit}', expected: ')'"));
                }
                Ok(set)
            }
            Token::ClosedPar => {
                self.consume(Context::Values);
                Ok(vec![String::new()])
            }
            _ => Err(format!("found '{lit}', expected: ',', ')' or identifier")),
        }
    }

    fn parse_identifiers_list(&mut self) -> Result<Vec<String>, String> {
        let mut set: Vec<String> = Vec::new();
        let insert = |set: &mut Vec<String>, v: String| {
            if let Err(at) = set.binary_search(&v) {
                set.insert(at, v);
            }
        };
        loop {
            let (tok, lit) = self.consume(Context::Values);
            match tok {
                Token::Identifier => {
                    insert(&mut set, lit);
                    let (tok2, lit2) = self.lookahead(Context::Values);
                    match tok2 {
                        Token::Comma => continue,
                        Token::ClosedPar => return Ok(set),
                        _ => return Err(format!("found '{lit2}', expected: ',' or ')'")),
                    }
                }
                Token::Comma => {
                    if set.is_empty() {
                        insert(&mut set, String::new());
                    }
                    let (tok2, _) = self.lookahead(Context::Values);
                    if tok2 == Token::ClosedPar {
                        insert(&mut set, String::new());
                        return Ok(set);
                    }
                    if tok2 == Token::Comma {
                        insert(&mut set, String::new());
                    }
                }
                _ => return Err(format!("found '{lit}', expected: ',', or identifier")),
            }
        }
    }

    /// The value after `=`, `==`, `!=`, `>`, `<`; nothing before `,` or the end is `""`.
    fn parse_exact_value(&mut self) -> Result<Vec<String>, String> {
        let (tok, _) = self.lookahead(Context::Values);
        if tok == Token::EndOfString || tok == Token::Comma {
            return Ok(vec![String::new()]);
        }
        let (tok, lit) = self.consume(Context::Values);
        if tok == Token::Identifier { Ok(vec![lit]) } else { Err(format!("found '{lit}', expected: identifier")) }
    }
}

/// `labels.Parse` without the final sort (the caller orders by key).
pub(crate) fn parse(selector: &str) -> Result<Vec<Requirement>, SelectorError> {
    let mut lexer = Lexer { s: selector.as_bytes(), pos: 0 };
    let mut items = Vec::new();
    loop {
        let item = lexer.lex();
        let end = item.0 == Token::EndOfString;
        items.push(item);
        if end {
            break;
        }
    }
    Parser { items, position: 0 }.parse()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::{LabelSelector, Operator};

    const KEY_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    const VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

    fn err(s: &str) -> String {
        LabelSelector::parse(s).unwrap_err().to_string()
    }

    fn ok(s: &str) -> String {
        LabelSelector::parse(s).unwrap().to_string()
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn valid_selectors_and_their_strings() {
        let cases = [
            ("", ""),
            ("   ", ""),
            ("x=a", "x=a"),
            ("x==a", "x==a"),
            ("x!=a", "x!=a"),
            ("x", "x"),
            ("!x", "!x"),
            (" !x ", "!x"),
            ("x=a,y!=b", "x=a,y!=b"),
            ("y!=b,x=a", "x=a,y!=b"),
            ("x=", "x="),
            ("x= ", "x="),
            ("x=,z= ", "x=,z="),
            ("x in (a)", "x in (a)"),
            ("x in (b,a)", "x in (a,b)"),
            ("x in (a,a,b)", "x in (a,b)"),
            ("x notin (a)", "x notin (a)"),
            ("x in ()", "x in ()"),
            ("x in (,)", "x in ()"),
            ("x in (a,)", "x in (,a)"),
            ("x in (,a)", "x in (,a)"),
            ("x in (a,,b)", "x in (,a,b)"),
            ("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"),
            ("x>1", "x>1"),
            ("x<1", "x<1"),
            ("in in (in)", "in in (in)"),
            ("notin notin (notin)", "notin notin (notin)"),
            ("x=in", "x=in"),
            ("x\t=\ta", "x=a"),
            ("\nx\r=\na\n", "x=a"),
            ("x=a \u{0}garbage", "x=a"),
            ("example.com/app=web", "example.com/app=web"),
            ("a-b.c_d=E-f.G_h", "a-b.c_d=E-f.G_h"),
            ("app in (nginx,web),tier!=db,!legacy", "app in (nginx,web),!legacy,tier!=db"),
        ];
        for (input, want) in cases {
            assert_eq!(ok(input), want, "{input:?}");
        }
    }

    #[test]
    fn parse_then_match() {
        let s = LabelSelector::parse("app in (nginx,web),tier!=db,!legacy").unwrap();
        assert!(s.matches(&labels(&[("app", "web")])));
        assert!(s.matches(&labels(&[("app", "nginx"), ("tier", "fe")])));
        assert!(!s.matches(&labels(&[("app", "nginx"), ("tier", "db")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("legacy", "")])));
        assert!(!s.matches(&labels(&[("app", "other")])));
        assert!(LabelSelector::parse("x notin (a)").unwrap().matches(&labels(&[])));
        assert!(LabelSelector::parse("x=").unwrap().matches(&labels(&[("x", "")])));
        assert!(!LabelSelector::parse("x=").unwrap().matches(&labels(&[])));
        assert!(LabelSelector::parse("x in ()").unwrap().matches(&labels(&[("x", "")])));
        assert!(LabelSelector::parse("").unwrap().matches(&labels(&[("a", "b")])));
        assert!(LabelSelector::parse("").unwrap().is_empty());
        let parsed = LabelSelector::parse("x in (b,a)").unwrap();
        let r = &parsed.requirements()[0];
        assert_eq!(r.operator(), Operator::In);
        assert_eq!(r.values(), ["a", "b"]);
        assert_eq!(LabelSelector::parse("a=b,c in (d)").unwrap().requires_exact_match("c"), Some("d"));
    }

    #[test]
    fn upstream_error_texts() {
        let cases: Vec<(&str, String)> = vec![
            ("a in b", "unable to parse requirement: found 'b' expected: '('".to_owned()),
            ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt".to_owned()),
            ("x=a||y=b", format!("unable to parse requirement: values[0][x]: Invalid value: \"a||y\": {VALUE_MSG}")),
            ("x=a,", "found '', expected: identifier after ','".to_owned()),
            ("x=a,,y", "found ',', expected: identifier after ','".to_owned()),
            ("x=a y", "found 'y', expected: ',' or 'end of string'".to_owned()),
            (",x=a", "found ',', expected: !, identifier, or 'end of string'".to_owned()),
            ("=a", "found '=', expected: !, identifier, or 'end of string'".to_owned()),
            ("(", "found '(', expected: !, identifier, or 'end of string'".to_owned()),
            ("!", "unable to parse requirement: found '', expected: identifier".to_owned()),
            ("!=a", "found '!=', expected: !, identifier, or 'end of string'".to_owned()),
            ("!!x", "unable to parse requirement: found '!', expected: identifier".to_owned()),
            ("!x=a", "found '=', expected: ',' or 'end of string'".to_owned()),
            ("x in (a", "unable to parse requirement: found '', expected: ',' or ')'".to_owned()),
            ("x in (a,", "unable to parse requirement: found '', expected: ',', or identifier".to_owned()),
            ("x in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'".to_owned()),
            ("x in (", "unable to parse requirement: found '', expected: ',', ')' or identifier".to_owned()),
            ("x in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier".to_owned()),
            ("x in (a,=)", "unable to parse requirement: found '=', expected: ',', or identifier".to_owned()),
            ("x==(", "unable to parse requirement: found '(', expected: identifier".to_owned()),
            ("x===a", "unable to parse requirement: found '=', expected: identifier".to_owned()),
            ("x", "".to_owned()),
            ("x>a", "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer".to_owned()),
            ("x>", "unable to parse requirement: values[0]: Invalid value: \"\": for 'Gt', 'Lt' operators, the value must be an integer".to_owned()),
            (
                "x>-1",
                format!("unable to parse requirement: values[0][x]: Invalid value: \"-1\": {VALUE_MSG}"),
            ),
            ("app:web", format!("unable to parse requirement: <nil>: Invalid value: \"app:web\": {KEY_MSG}")),
            ("-ltier=postgres", format!("unable to parse requirement: <nil>: Invalid value: \"-ltier\": {KEY_MSG}")),
            ("*bar", format!("unable to parse requirement: <nil>: Invalid value: \"*bar\": {KEY_MSG}")),
            (
                "a/b/c ?=? def",
                "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".to_owned(),
            ),
            (
                "app.kubernetes_io/name=x",
                "unable to parse requirement: <nil>: Invalid value: \"app.kubernetes_io/name\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_owned(),
            ),
            (
                "x in (b@,a@)",
                format!("unable to parse requirement: [values[0][x]: Invalid value: \"a@\": {VALUE_MSG}, values[1][x]: Invalid value: \"b@\": {VALUE_MSG}]"),
            ),
            (
                "/a=b",
                "unable to parse requirement: <nil>: Invalid value: \"/a\": prefix part must be non-empty".to_owned(),
            ),
            (
                "a/=b",
                format!("unable to parse requirement: <nil>: Invalid value: \"a/\": name part must be non-empty; {KEY_MSG}"),
            ),
        ];
        for (input, want) in cases {
            if want.is_empty() {
                assert!(LabelSelector::parse(input).is_ok(), "{input:?}");
                continue;
            }
            assert_eq!(err(input), want, "{input:?}");
        }
    }

    #[test]
    fn too_long_values_and_keys() {
        let long = "v".repeat(64);
        assert_eq!(
            err(&format!("k={long}")),
            format!(
                "unable to parse requirement: values[0][k]: Invalid value: \"{long}\": must be no more than 63 bytes"
            )
        );
        assert_eq!(
            err(&format!("{long}=v")),
            format!(
                "unable to parse requirement: <nil>: Invalid value: \"{long}\": name part must be no more than 63 bytes"
            )
        );
    }

    fn tokens(s: &str) -> Vec<(super::Token, String)> {
        let mut lexer = super::Lexer { s: s.as_bytes(), pos: 0 };
        let mut out = Vec::new();
        loop {
            let item = lexer.lex();
            if item.0 == super::Token::EndOfString {
                return out;
            }
            out.push(item);
        }
    }

    #[test]
    fn lexer_tokens() {
        use super::Token::*;
        let singles = [
            (",", Comma),
            ("notin", NotIn),
            ("in", In),
            ("=", Equals),
            ("==", DoubleEquals),
            (">", GreaterThan),
            ("<", LessThan),
            ("!", DoesNotExist),
            ("!=", NotEquals),
            ("(", OpenPar),
            (")", ClosedPar),
            ("~", Identifier),
            ("||", Identifier),
        ];
        for (s, want) in singles {
            assert_eq!(tokens(s), vec![(want, s.to_owned())], "{s:?}");
        }
        assert!(tokens("").is_empty());
        let sequences: &[(&str, &[super::Token])] = &[
            ("key in ( value )", &[Identifier, In, OpenPar, Identifier, ClosedPar]),
            ("key notin ( value1, value2 )", &[Identifier, NotIn, OpenPar, Identifier, Comma, Identifier, ClosedPar]),
            ("!key", &[DoesNotExist, Identifier]),
            ("x in (),y", &[Identifier, In, OpenPar, ClosedPar, Comma, Identifier]),
            ("== != (), = notin", &[DoubleEquals, NotEquals, OpenPar, ClosedPar, Comma, Equals, NotIn]),
            ("key>2", &[Identifier, GreaterThan, Identifier]),
            ("===!==", &[DoubleEquals, Equals, NotEquals, Equals]),
        ];
        for (s, want) in sequences {
            let got: Vec<super::Token> = tokens(s).into_iter().map(|(t, _)| t).collect();
            assert_eq!(&got, want, "{s:?}");
        }
    }

    #[test]
    fn upstream_good_and_bad_strings() {
        for good in ["x=a,y=b,z=c", "", "x!=a,y=b", "x=", "x= ", "x=,z= ", "x= ,z= ", "!x", "x>1", "x>1,z<5"] {
            assert_eq!(ok(good), good.replace(' ', ""), "{good:?}");
        }
        for bad in ["x=a||y=b", "x==a==b", "!x=a", "x<a"] {
            assert!(LabelSelector::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(err("x==a==b"), "found '==', expected: ',' or 'end of string'");
        assert_eq!(ok("x=a,a=x"), ok("a=x,x=a"));
        assert!(LabelSelector::parse("notin=in").unwrap().matches(&labels(&[("notin", "in")])));
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_errs(text in "[a-z!=<>(), \t\u{0}in]{0,24}|\\PC{0,16}") {
            if let Ok(s) = LabelSelector::parse(&text) {
                // What parses prints as something that parses to the same selector.
                let again = LabelSelector::parse(&s.to_string()).unwrap();
                proptest::prop_assert_eq!(again.to_string(), s.to_string());
            }
        }
    }

    #[test]
    fn non_ascii_and_nul_bytes() {
        assert!(err("é=1").starts_with("unable to parse requirement: <nil>: Invalid value: \"é\": name part"));
        // A NUL glued to a token is swallowed; one starting a token ends the input.
        assert_eq!(ok("a=\u{0}b"), "a=b");
        assert_eq!(ok("a\u{0}=b"), "a=b");
        assert_eq!(ok("a=b \u{0}c"), "a=b");
        assert_eq!(err("a=b\u{0}c"), "found 'c', expected: ',' or 'end of string'");
        assert_eq!(err("a=b, \u{0}c"), "found '', expected: identifier after ','");
        assert!(LabelSelector::parse("a=b,\u{0}").is_err());
    }
}
