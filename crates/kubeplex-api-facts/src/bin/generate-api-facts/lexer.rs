//! A small Go lexer: enough of the language to find declarations in API type files.
//!
//! Produces identifiers, literals, single-character punctuation, comments (with the lines they
//! span) and newlines. Operators are not combined (`:=` is `:` then `=`); the parser does not need them.

use std::fmt;

/// One token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// Identifier or keyword.
    Ident(String),
    /// String literal, interpreted ("…", unescaped) or raw (`…`).
    Str(String),
    /// Rune literal (content not kept).
    Char,
    /// Number literal, verbatim.
    Number(String),
    /// Any other single character.
    Punct(char),
    /// A `//` comment's text after the slashes.
    Comment(String),
    /// A `/* */` comment's inside.
    BlockComment(String),
    /// End of line.
    Newline,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Ident(s) => write!(f, "identifier {s}"),
            Tok::Str(s) => write!(f, "string {s:?}"),
            Tok::Char => f.write_str("rune literal"),
            Tok::Number(n) => write!(f, "number {n}"),
            Tok::Punct(c) => write!(f, "'{c}'"),
            Tok::Comment(_) | Tok::BlockComment(_) => f.write_str("comment"),
            Tok::Newline => f.write_str("newline"),
        }
    }
}

/// A token with the (1-based) lines where it starts and ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    pub line: u32,
    pub end_line: u32,
}

/// Splits Go source into tokens.
pub fn lex(src: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1u32;
    while i < chars.len() {
        let c = chars[i];
        let start_line = line;
        match c {
            '\n' => {
                out.push(Token { tok: Tok::Newline, line, end_line: line });
                line += 1;
                i += 1;
            }
            ' ' | '\t' | '\r' | '\u{feff}' => i += 1,
            '/' if chars.get(i + 1) == Some(&'/') => {
                let end = chars[i..].iter().position(|&c| c == '\n').map_or(chars.len(), |p| i + p);
                let text: String = chars[i + 2..end].iter().collect();
                out.push(Token { tok: Tok::Comment(text), line, end_line: line });
                i = end;
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                let mut j = i + 2;
                while j + 1 < chars.len() && !(chars[j] == '*' && chars[j + 1] == '/') {
                    j += 1;
                }
                if j + 1 >= chars.len() {
                    return Err(format!("line {line}: unterminated block comment"));
                }
                let text: String = chars[i + 2..j].iter().collect();
                line += text.matches('\n').count() as u32;
                out.push(Token { tok: Tok::BlockComment(text), line: start_line, end_line: line });
                i = j + 2;
            }
            '"' => {
                let mut value = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None | Some('\n') => return Err(format!("line {line}: unterminated string")),
                        Some('"') => break,
                        Some('\\') => {
                            let (ch, used) = unescape(&chars[j..]).ok_or_else(|| format!("line {line}: bad escape"))?;
                            value.push(ch);
                            j += used;
                        }
                        Some(&ch) => {
                            value.push(ch);
                            j += 1;
                        }
                    }
                }
                out.push(Token { tok: Tok::Str(value), line, end_line: line });
                i = j + 1;
            }
            '`' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '`')
                    .map(|p| i + 1 + p)
                    .ok_or_else(|| format!("line {line}: unterminated raw string"))?;
                let value: String = chars[i + 1..end].iter().filter(|&&c| c != '\r').collect();
                line += value.matches('\n').count() as u32;
                out.push(Token { tok: Tok::Str(value), line: start_line, end_line: line });
                i = end + 1;
            }
            '\'' => {
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None | Some('\n') => return Err(format!("line {line}: unterminated rune literal")),
                        Some('\'') => break,
                        Some('\\') => j += 2,
                        Some(_) => j += 1,
                    }
                }
                out.push(Token { tok: Tok::Char, line, end_line: line });
                i = j + 1;
            }
            c if c.is_alphabetic() || c == '_' => {
                let end =
                    chars[i..].iter().position(|&c| !(c.is_alphanumeric() || c == '_')).map_or(chars.len(), |p| i + p);
                out.push(Token { tok: Tok::Ident(chars[i..end].iter().collect()), line, end_line: line });
                i = end;
            }
            c if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) => {
                let mut j = i;
                while j < chars.len() {
                    let d = chars[j];
                    let exponent_sign =
                        (d == '+' || d == '-') && j > i && matches!(chars[j - 1], 'e' | 'E' | 'p' | 'P');
                    if d.is_ascii_alphanumeric() || d == '.' || d == '_' || exponent_sign {
                        j += 1;
                    } else {
                        break;
                    }
                }
                out.push(Token { tok: Tok::Number(chars[i..j].iter().collect()), line, end_line: line });
                i = j;
            }
            other => {
                out.push(Token { tok: Tok::Punct(other), line, end_line: line });
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Unescapes the escape sequence at the start of `chars` (which begins with a backslash); returns the
/// character and how many chars were used.
fn unescape(chars: &[char]) -> Option<(char, usize)> {
    let kind = *chars.get(1)?;
    let simple = match kind {
        'n' => Some('\n'),
        't' => Some('\t'),
        'r' => Some('\r'),
        'a' => Some('\u{7}'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        'v' => Some('\u{b}'),
        '\\' => Some('\\'),
        '"' => Some('"'),
        '\'' => Some('\''),
        _ => None,
    };
    if let Some(ch) = simple {
        return Some((ch, 2));
    }
    let (digits, radix, skip) = match kind {
        'x' => (2, 16, 2),
        'u' => (4, 16, 2),
        'U' => (8, 16, 2),
        '0'..='7' => (3, 8, 1),
        _ => return None,
    };
    let text: String = chars.get(skip..skip + digits)?.iter().collect();
    let value = u32::from_str_radix(&text, radix).ok()?;
    Some((char::from_u32(value)?, skip + digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        lex(src).expect("lex").into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn lexes_struct_field_with_tag() {
        let t = toks("Name string `json:\"name\"` // trailing\n");
        assert_eq!(
            t,
            vec![
                Tok::Ident("Name".into()),
                Tok::Ident("string".into()),
                Tok::Str("json:\"name\"".into()),
                Tok::Comment(" trailing".into()),
                Tok::Newline,
            ]
        );
    }

    #[test]
    fn tracks_lines_through_block_comments_and_raw_strings() {
        let tokens = lex("/* a\nb */ x `c\nd` y\nz").expect("lex");
        let lines: Vec<(String, u32)> = tokens
            .iter()
            .filter_map(|t| match &t.tok {
                Tok::Ident(s) => Some((s.clone(), t.line)),
                _ => None,
            })
            .collect();
        assert_eq!(lines, vec![("x".into(), 2), ("y".into(), 3), ("z".into(), 4)]);
    }

    #[test]
    fn unescapes_interpreted_strings_and_skips_runes() {
        assert_eq!(toks(r#""a\"b\x41\n""#), vec![Tok::Str("a\"bA\n".into())]);
        assert_eq!(toks(r"'\'' '}' x"), vec![Tok::Char, Tok::Char, Tok::Ident("x".into())]);
    }

    #[test]
    fn lexes_numbers_and_punctuation() {
        assert_eq!(
            toks("a := 1e-3 + 0x1F"),
            vec![
                Tok::Ident("a".into()),
                Tok::Punct(':'),
                Tok::Punct('='),
                Tok::Number("1e-3".into()),
                Tok::Punct('+'),
                Tok::Number("0x1F".into()),
            ]
        );
    }

    #[test]
    fn reports_unterminated_literals() {
        assert!(lex("\"abc\nd\"").is_err());
        assert!(lex("`abc").is_err());
        assert!(lex("/* x").is_err());
    }
}
