//! Names and keys as Kubernetes validates them, with the exact upstream
//! message texts (`k8s.io/apimachinery/pkg/util/validation`,
//! `pkg/api/validate/content`, `pkg/api/validation`), and `generateName`.
//!
//! ```text
//!  object name ──► name_is_dns_subdomain / name_is_dns_label / name_is_dns1035_label
//!                  / validate_path_segment_name          (Vec<String> of details)
//!  label key   ──► is_qualified_name ─┐
//!  label value ──► is_label_value ────┴► validate_labels / validate_annotations
//!                                         (Vec<FieldError>, `field: Invalid value: "x": detail`)
//! ```
//!
//! Two upstream families differ in one word: the object-name checks of
//! `util/validation` say "must be no more than 63 characters", the label-key and
//! label-value checks of `validate/content` say "must be no more than 63 bytes".
//! Both are reproduced as upstream has them at v0.36.

use std::fmt;

/// Longest DNS-1123 label (RFC 1123).
pub const DNS1123_LABEL_MAX_LENGTH: usize = 63;
/// Longest DNS-1123 subdomain (RFC 1123).
pub const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;
/// Longest DNS-1035 label.
pub const DNS1035_LABEL_MAX_LENGTH: usize = 63;
/// Longest label value.
pub const LABEL_VALUE_MAX_LENGTH: usize = 63;
/// Longest name part of a label key / qualified name.
pub const QUALIFIED_NAME_MAX_LENGTH: usize = 63;
/// Limit on the sum of the lengths of all annotation keys and values (256 KiB).
pub const TOTAL_ANNOTATION_SIZE_LIMIT_B: usize = 256 * 1024;
/// Longest prefix `generate_name` keeps before appending its random suffix.
pub const MAX_GENERATED_NAME_PREFIX_LENGTH: usize = 63 - GENERATED_SUFFIX_LENGTH;
/// Number of random characters `generate_name` appends.
pub const GENERATED_SUFFIX_LENGTH: usize = 5;
/// The alphabet of generated name suffixes (no vowels, no confusable digits).
pub const GENERATED_NAME_ALPHABET: &[u8; 27] = b"bcdfghjklmnpqrstvwxz2456789";

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const LABEL_KEY_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_KEY_ERR: &str =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/// Upstream `RegexError`: `msg (e.g. 'a',  or 'b', regex used for validation is 're')`
/// (the doubled space before "or" is upstream's).
pub fn regex_error(msg: &str, re: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{re}')");
    }
    let mut out = format!("{msg} (e.g. ");
    for (i, example) in examples.iter().enumerate() {
        if i > 0 {
            out.push_str(" or ");
        }
        out.push('\'');
        out.push_str(example);
        out.push_str("', ");
    }
    out.push_str("regex used for validation is '");
    out.push_str(re);
    out.push_str("')");
    out
}

/// `util/validation.MaxLenError` ("characters"), used by the DNS name checks.
fn max_len_characters(n: usize) -> String {
    format!("must be no more than {n} characters")
}

/// `validate/content.MaxLenError` ("bytes"), used by label keys and values.
fn max_len_bytes(n: usize) -> String {
    format!("must be no more than {n} bytes")
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
fn matches_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&first), Some(&last)) => {
            is_lower_alnum(first) && is_lower_alnum(last) && b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
        }
        _ => false,
    }
}

/// `^<label>(\.<label>)*$`
fn matches_dns1123_subdomain(s: &str) -> bool {
    s.split('.').all(matches_dns1123_label)
}

/// `^[a-z]([-a-z0-9]*[a-z0-9])?$`
fn matches_dns1035_label(s: &str) -> bool {
    matches_dns1123_label(s) && s.as_bytes()[0].is_ascii_lowercase()
}

/// `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`
fn matches_label_key_name(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// `IsDNS1123Label`: details of what is wrong, empty when valid.
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(max_len_characters(DNS1123_LABEL_MAX_LENGTH));
    }
    if !matches_dns1123_label(value) {
        if matches_dns1123_subdomain(value) {
            errs.push("must not contain dots".to_owned());
        } else {
            errs.push(regex_error(DNS1123_LABEL_ERR, DNS1123_LABEL_FMT, &["my-name", "123-abc"]));
        }
    }
    errs
}

/// `IsDNS1123Subdomain` (of `util/validation`, "characters").
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    dns1123_subdomain_errors(value, max_len_characters(DNS1123_SUBDOMAIN_MAX_LENGTH))
}

/// `content.IsDNS1123Subdomain` ("bytes"), used for label-key prefixes.
fn dns1123_subdomain_content(value: &str) -> Vec<String> {
    dns1123_subdomain_errors(value, max_len_bytes(DNS1123_SUBDOMAIN_MAX_LENGTH))
}

fn dns1123_subdomain_errors(value: &str, too_long: String) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(too_long);
    }
    if !matches_dns1123_subdomain(value) {
        errs.push(regex_error(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, &["example.com"]));
    }
    errs
}

/// `IsDNS1035Label`.
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1035_LABEL_MAX_LENGTH {
        errs.push(max_len_characters(DNS1035_LABEL_MAX_LENGTH));
    }
    if !matches_dns1035_label(value) {
        errs.push(regex_error(DNS1035_LABEL_ERR, DNS1035_LABEL_FMT, &["my-name", "abc-123"]));
    }
    errs
}

/// `IsQualifiedName` / `content.IsLabelKey`: an optional DNS-1123 subdomain prefix
/// and `/`, then a name of at most 63 bytes. Used for label keys, annotation keys
/// (lower-cased first) and finalizer names.
pub fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_owned());
            } else {
                errs.extend(dns1123_subdomain_content(prefix).into_iter().map(|m| format!("prefix part {m}")));
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a valid label key {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(LABEL_KEY_ERR, LABEL_KEY_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_owned());
    } else if name.len() > QUALIFIED_NAME_MAX_LENGTH {
        errs.push(format!("name part {}", max_len_bytes(QUALIFIED_NAME_MAX_LENGTH)));
    }
    if !matches_label_key_name(name) {
        errs.push(format!(
            "name part {}",
            regex_error(LABEL_KEY_ERR, LABEL_KEY_FMT, &["MyName", "my.name", "123-abc"])
        ));
    }
    errs
}

/// `IsValidLabelValue` / `content.IsLabelValue`: empty, or at most 63 bytes of
/// `[-A-Za-z0-9_.]` starting and ending alphanumeric.
pub fn is_label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_VALUE_MAX_LENGTH {
        errs.push(max_len_bytes(LABEL_VALUE_MAX_LENGTH));
    }
    if !value.is_empty() && !matches_label_key_name(value) {
        errs.push(regex_error(LABEL_VALUE_ERR, LABEL_VALUE_FMT, &["MyValue", "my_value", "12345"]));
    }
    errs
}

/// `IsPathSegmentName`: not `.` or `..`, no `/` or `%` (empty names and length
/// are not checked, as upstream).
pub fn is_path_segment_name(name: &str) -> Vec<String> {
    for illegal in [".", ".."] {
        if name == illegal {
            return vec![format!("may not be '{illegal}'")];
        }
    }
    is_path_segment_prefix(name)
}

/// `IsPathSegmentPrefix`: no `/` or `%`.
pub fn is_path_segment_prefix(name: &str) -> Vec<String> {
    ["/", "%"].iter().filter(|s| name.contains(*s)).map(|s| format!("may not contain '{s}'")).collect()
}

/// A `ValidateNameFunc`: `(name, prefix)` to details; `prefix` is true when the
/// value is a `generateName` that will get characters appended.
pub type NameValidator = fn(&str, bool) -> Vec<String>;

/// Upstream `maskTrailingDash`: for a generateName prefix longer than one byte
/// ending in `-`, validate as if it ended in `a`. Upstream drops the last *two*
/// bytes before appending `a` (`"ab-"` is checked as `"aa"`); reproduced.
pub fn mask_trailing_dash(name: &str) -> std::borrow::Cow<'_, str> {
    if name.len() > 1 && name.ends_with('-') {
        let cut = name.len() - 2;
        match name.get(..cut) {
            Some(head) => std::borrow::Cow::Owned(format!("{head}a")),
            // A multi-byte character before the dash: the masked value is
            // invalid either way, keep the name as is.
            None => std::borrow::Cow::Borrowed(name),
        }
    } else {
        std::borrow::Cow::Borrowed(name)
    }
}

/// `NameIsDNSSubdomain`: names of most kinds (ConfigMap, Secret, Deployment, Pod, ...).
pub fn name_is_dns_subdomain(name: &str, prefix: bool) -> Vec<String> {
    if prefix { is_dns1123_subdomain(&mask_trailing_dash(name)) } else { is_dns1123_subdomain(name) }
}

/// `NameIsDNSLabel`: Namespace names (`ValidateNamespaceName`) and a few others.
pub fn name_is_dns_label(name: &str, prefix: bool) -> Vec<String> {
    if prefix { is_dns1123_label(&mask_trailing_dash(name)) } else { is_dns1123_label(name) }
}

/// `NameIsDNS1035Label`: Service names (`ValidateServiceName`).
pub fn name_is_dns1035_label(name: &str, prefix: bool) -> Vec<String> {
    if prefix { is_dns1035_label(&mask_trailing_dash(name)) } else { is_dns1035_label(name) }
}

/// `path.ValidatePathSegmentName`: kinds whose names only need to be safe as a
/// path segment (RBAC roles and bindings, for example).
pub fn validate_path_segment_name(name: &str, prefix: bool) -> Vec<String> {
    if prefix { is_path_segment_prefix(name) } else { is_path_segment_name(name) }
}

/// `names.SimpleNameGenerator.GenerateName` with a caller-provided random source:
/// `prefix` cut to 58 bytes, then 5 characters of [`GENERATED_NAME_ALPHABET`].
///
/// Upstream cuts at a byte offset; a cut inside a multi-byte character moves back
/// to the character boundary here (such a prefix is not a valid name anyway).
pub fn generate_name_with<R: rand::Rng + ?Sized>(prefix: &str, rng: &mut R) -> String {
    let mut cut = prefix.len().min(MAX_GENERATED_NAME_PREFIX_LENGTH);
    while !prefix.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut name = String::with_capacity(cut + GENERATED_SUFFIX_LENGTH);
    name.push_str(&prefix[..cut]);
    for _ in 0..GENERATED_SUFFIX_LENGTH {
        let i = rng.random_range(0..GENERATED_NAME_ALPHABET.len());
        name.push(char::from(GENERATED_NAME_ALPHABET[i]));
    }
    name
}

/// [`generate_name_with`] on the thread-local random generator.
pub fn generate_name(prefix: &str) -> String {
    generate_name_with(prefix, &mut rand::rng())
}

/// A field-level validation error in the shape of upstream's `field.Error`:
/// `Display` is `field: body`, [`FieldError::body`] the `ErrorBody()` that goes
/// into a `StatusCause.message`, [`FieldError::reason`] its `CauseType`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// `FieldValueInvalid`, `FieldValueRequired`, `FieldValueForbidden`,
    /// `FieldValueTooLong`, `FieldValueNotSupported`.
    pub reason: &'static str,
    /// The field path (`metadata.labels`, `spec.selector.matchExpressions[0].key`);
    /// `<nil>` where upstream has no path.
    pub field: String,
    /// The message without the field: `Invalid value: "x": detail`.
    pub body: String,
}

impl FieldError {
    /// `field.Invalid` with a string value (quoted as Go's `%q`).
    pub fn invalid(field: impl Into<String>, value: &str, detail: &str) -> Self {
        Self::invalid_rendered(field, &go_quote(value), detail)
    }

    /// `field.Invalid` with a value already rendered (JSON for lists and maps,
    /// plain digits for numbers).
    pub fn invalid_rendered(field: impl Into<String>, rendered: &str, detail: &str) -> Self {
        let body = if detail.is_empty() {
            format!("Invalid value: {rendered}")
        } else {
            format!("Invalid value: {rendered}: {detail}")
        };
        FieldError { reason: "FieldValueInvalid", field: field.into(), body }
    }

    /// `field.Required`.
    pub fn required(field: impl Into<String>, detail: &str) -> Self {
        let body = if detail.is_empty() { "Required value".to_owned() } else { format!("Required value: {detail}") };
        FieldError { reason: "FieldValueRequired", field: field.into(), body }
    }

    /// `field.Forbidden`.
    pub fn forbidden(field: impl Into<String>, detail: &str) -> Self {
        let body = if detail.is_empty() { "Forbidden".to_owned() } else { format!("Forbidden: {detail}") };
        FieldError { reason: "FieldValueForbidden", field: field.into(), body }
    }

    /// `field.TooLong` with a byte limit: `Too long: may not be more than N bytes`.
    pub fn too_long(field: impl Into<String>, max_bytes: usize) -> Self {
        let unit = if max_bytes == 1 { "byte" } else { "bytes" };
        FieldError {
            reason: "FieldValueTooLong",
            field: field.into(),
            body: format!("Too long: may not be more than {max_bytes} {unit}"),
        }
    }

    /// `field.NotSupported` with a string value.
    pub fn not_supported(field: impl Into<String>, value: &str, supported: &[&str]) -> Self {
        let mut body = format!("Unsupported value: {}", go_quote(value));
        if !supported.is_empty() {
            let list: Vec<String> = supported.iter().map(|s| go_quote(s)).collect();
            body.push_str(": supported values: ");
            body.push_str(&list.join(", "));
        }
        FieldError { reason: "FieldValueNotSupported", field: field.into(), body }
    }

    /// The message without the field path.
    pub fn body(&self) -> &str {
        &self.body
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body)
    }
}

/// The text of `ErrorList.ToAggregate().Error()`: duplicates dropped, one error
/// as is, several as `[a, b]`. Empty for an empty list.
pub fn aggregate_message(errors: &[FieldError]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for err in errors {
        let msg = err.to_string();
        if !seen.contains(&msg) {
            seen.push(msg);
        }
    }
    match seen.len() {
        0 => String::new(),
        1 => seen.remove(0),
        _ => format!("[{}]", seen.join(", ")),
    }
}

/// `ValidateLabels`: every key a qualified name, every value a label value.
/// Errors name `field` itself (`metadata.labels`), as upstream. Keys are visited
/// in sorted order (upstream's map order is random).
pub fn validate_labels<'a, I>(labels: I, field: &str) -> Vec<FieldError>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut pairs: Vec<(&str, &str)> = labels.into_iter().collect();
    pairs.sort_unstable();
    let mut errs = Vec::new();
    for (k, v) in pairs {
        errs.extend(validate_label_name(k, field));
        errs.extend(is_label_value(v).iter().map(|m| FieldError::invalid(field, v, m)));
    }
    errs
}

/// `ValidateLabelName`: `field: Invalid value: "key": detail` per problem.
pub fn validate_label_name(key: &str, field: &str) -> Vec<FieldError> {
    is_qualified_name(key).iter().map(|m| FieldError::invalid(field, key, m)).collect()
}

/// The size `ValidateAnnotationsSize` counts: sum of key and value lengths in bytes.
pub fn annotations_size<'a, I>(annotations: I) -> usize
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    annotations.into_iter().map(|(k, v)| k.len() + v.len()).sum()
}

/// `ValidateAnnotations`: keys are qualified names once lower-cased, and keys
/// plus values total at most 256 KiB (`field: Too long: may not be more than
/// 262144 bytes`).
pub fn validate_annotations<'a, I>(annotations: I, field: &str) -> Vec<FieldError>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut pairs: Vec<(&str, &str)> = annotations.into_iter().collect();
    pairs.sort_unstable();
    let mut errs = Vec::new();
    for (k, _) in &pairs {
        errs.extend(is_qualified_name(&go_to_lower(k)).iter().map(|m| FieldError::invalid(field, k, m)));
    }
    if annotations_size(pairs.iter().copied()) > TOTAL_ANNOTATION_SIZE_LIMIT_B {
        errs.push(FieldError::too_long(field, TOTAL_ANNOTATION_SIZE_LIMIT_B));
    }
    errs
}

/// Go's `strings.ToLower`: one rune to one rune (U+0130 becomes `i`).
fn go_to_lower(s: &str) -> String {
    s.chars().map(|c| if c == '\u{130}' { 'i' } else { c.to_lowercase().next().unwrap_or(c) }).collect()
}

/// Go's `strconv.Quote` (`%q`): double quotes, `\"` and `\\`, the short escapes
/// `\a \b \f \n \r \t \v`, `\xNN` for other control bytes, `\uNNNN` /
/// `\UNNNNNNNN` for other non-printable characters.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            ' '..='~' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `unicode.IsPrint` for non-ASCII characters:
/// letters, marks, numbers, punctuation and symbols. Uses the standard library's
/// own printable table (through `escape_debug`, with a leading `a` so combining
/// marks are not escaped) and excludes separators and format characters.
fn is_go_printable(c: char) -> bool {
    if c.is_control() || c.is_whitespace() || is_format_char(c) {
        return false;
    }
    let probe: String = ['a', c].iter().collect();
    probe.escape_debug().eq(probe.chars())
}

fn is_format_char(c: char) -> bool {
    matches!(c as u32,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x890..=0x891 | 0x8E2 | 0x180E | 0x200B..=0x200F
        | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD
        | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F
        | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    const SUBDOMAIN_REGEX_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const LABEL_REGEX_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const NAME_PART_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    const VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

    #[test]
    fn dns1123_label() {
        assert!(is_dns1123_label("a").is_empty());
        assert!(is_dns1123_label("0-a-9").is_empty());
        assert!(is_dns1123_label(&"a".repeat(63)).is_empty());
        assert_eq!(is_dns1123_label("Foo"), vec![LABEL_REGEX_MSG.to_owned()]);
        assert_eq!(is_dns1123_label("a.b"), vec!["must not contain dots".to_owned()]);
        assert_eq!(is_dns1123_label(""), vec![LABEL_REGEX_MSG.to_owned()]);
        assert_eq!(is_dns1123_label("-a"), vec![LABEL_REGEX_MSG.to_owned()]);
        assert_eq!(is_dns1123_label("a-"), vec![LABEL_REGEX_MSG.to_owned()]);
        assert_eq!(is_dns1123_label(&"a".repeat(64)), vec!["must be no more than 63 characters".to_owned()]);
        // Too long and with dots: both details.
        let long_dotted = format!("{}.b", "a".repeat(63));
        assert_eq!(
            is_dns1123_label(&long_dotted),
            vec!["must be no more than 63 characters".to_owned(), "must not contain dots".to_owned()]
        );
    }

    #[test]
    fn dns1123_subdomain() {
        for ok in ["a", "a.b", "a-b.c-d", "0.1.2", "example.com"] {
            assert!(is_dns1123_subdomain(ok).is_empty(), "{ok}");
        }
        for bad in ["", ".a", "a.", "a..b", "A", "a_b", "a.-b", "ü"] {
            assert_eq!(is_dns1123_subdomain(bad), vec![SUBDOMAIN_REGEX_MSG.to_owned()], "{bad}");
        }
        let long = format!("{}.{}.{}.{}", "a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(61));
        assert_eq!(long.len(), 253);
        assert!(is_dns1123_subdomain(&long).is_empty());
        assert_eq!(is_dns1123_subdomain(&format!("{long}e")), vec!["must be no more than 253 characters".to_owned()]);
    }

    #[test]
    fn dns1035_label() {
        assert!(is_dns1035_label("web").is_empty());
        assert!(is_dns1035_label("a1-b").is_empty());
        let msg = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
        assert_eq!(is_dns1035_label("1abc"), vec![msg.to_owned()]);
        assert_eq!(is_dns1035_label("a.b"), vec![msg.to_owned()]);
        assert_eq!(is_dns1035_label(""), vec![msg.to_owned()]);
    }

    #[test]
    fn qualified_names() {
        for ok in ["a", "A", "a.b_c-d", "example.com/MyName", "kubernetes.io/metadata.name", "a/b", "1"] {
            assert!(is_qualified_name(ok).is_empty(), "{ok}");
        }
        assert_eq!(is_qualified_name("a b"), vec![NAME_PART_MSG.to_owned()]);
        assert_eq!(is_qualified_name(""), vec!["name part must be non-empty".to_owned(), NAME_PART_MSG.to_owned()]);
        assert_eq!(is_qualified_name("/a"), vec!["prefix part must be non-empty".to_owned()]);
        assert_eq!(is_qualified_name("a/"), vec!["name part must be non-empty".to_owned(), NAME_PART_MSG.to_owned()]);
        assert_eq!(
            is_qualified_name("a/b/c"),
            vec!["a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".to_owned()]
        );
        assert_eq!(is_qualified_name("Example.com/a"), vec![format!("prefix part {SUBDOMAIN_REGEX_MSG}")]);
        assert_eq!(is_qualified_name(&"a".repeat(64)), vec!["name part must be no more than 63 bytes".to_owned()]);
        assert!(is_qualified_name(&"a".repeat(63)).is_empty());
        let long_prefix = format!("{}/a", "a".repeat(254));
        assert_eq!(is_qualified_name(&long_prefix), vec!["prefix part must be no more than 253 bytes".to_owned()]);
        let long_bad_prefix = format!("{}/a", "A".repeat(254));
        assert_eq!(
            is_qualified_name(&long_bad_prefix),
            vec!["prefix part must be no more than 253 bytes".to_owned(), format!("prefix part {SUBDOMAIN_REGEX_MSG}")]
        );
    }

    #[test]
    fn label_values() {
        for ok in ["", "a", "A-b_c.d", &"x".repeat(63)] {
            assert!(is_label_value(ok).is_empty(), "{ok}");
        }
        assert_eq!(is_label_value("-a"), vec![VALUE_MSG.to_owned()]);
        assert_eq!(is_label_value("a b"), vec![VALUE_MSG.to_owned()]);
        assert_eq!(is_label_value(&"x".repeat(64)), vec!["must be no more than 63 bytes".to_owned()]);
    }

    #[test]
    fn path_segments() {
        assert_eq!(is_path_segment_name("."), vec!["may not be '.'".to_owned()]);
        assert_eq!(is_path_segment_name(".."), vec!["may not be '..'".to_owned()]);
        assert_eq!(
            is_path_segment_name("a/b%c"),
            vec!["may not contain '/'".to_owned(), "may not contain '%'".to_owned()]
        );
        assert!(is_path_segment_name("system:admin").is_empty());
        assert!(is_path_segment_name("").is_empty());
        assert!(validate_path_segment_name("..", true).is_empty());
        assert_eq!(validate_path_segment_name("a/", true), vec!["may not contain '/'".to_owned()]);
    }

    #[test]
    fn name_functions_and_prefixes() {
        assert!(name_is_dns_subdomain("web-", true).is_empty());
        assert_eq!(name_is_dns_subdomain("web-", false), vec![SUBDOMAIN_REGEX_MSG.to_owned()]);
        assert!(name_is_dns_label("ns-", true).is_empty());
        assert!(name_is_dns1035_label("svc-", true).is_empty());
        // Upstream masks by dropping two bytes: "1-" becomes "a".
        assert_eq!(mask_trailing_dash("1-"), "a");
        assert_eq!(mask_trailing_dash("ab-"), "aa");
        assert_eq!(mask_trailing_dash("-"), "-");
        assert_eq!(mask_trailing_dash("abc"), "abc");
        assert!(name_is_dns1035_label("1-", true).is_empty());
        // Validators are usable as values.
        let v: NameValidator = name_is_dns_label;
        assert_eq!(v("A", false), vec![LABEL_REGEX_MSG.to_owned()]);
    }

    #[test]
    fn generated_names() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let name = generate_name_with("web-", &mut rng);
        assert_eq!(name.len(), 9);
        assert!(name.starts_with("web-"));
        assert!(name[4..].bytes().all(|b| GENERATED_NAME_ALPHABET.contains(&b)));
        let long = "x".repeat(80);
        let name = generate_name_with(&long, &mut rng);
        assert_eq!(name.len(), 63);
        assert!(name.starts_with(&"x".repeat(58)));
        assert!(!name[58..].contains('x'));
        // Cutting inside a multi-byte character backs off to its start.
        let multi = format!("{}é", "a".repeat(57));
        let name = generate_name_with(&multi, &mut rng);
        assert!(name.starts_with(&"a".repeat(57)));
        assert_eq!(name.len(), 62);
        // Two draws differ (27^5 possibilities).
        assert_ne!(generate_name("p-"), generate_name("p-"));
        // Every alphabet character can appear.
        let mut seen = std::collections::HashSet::new();
        for _ in 0..400 {
            seen.extend(generate_name_with("", &mut rng).bytes());
        }
        assert_eq!(seen.len(), 27);
        assert!(is_dns1123_subdomain(&generate_name("")).is_empty());
    }

    #[test]
    fn field_errors_render_like_upstream() {
        let e = FieldError::invalid("metadata.name", "Foo", "bad");
        assert_eq!(e.to_string(), "metadata.name: Invalid value: \"Foo\": bad");
        assert_eq!(e.body(), "Invalid value: \"Foo\": bad");
        assert_eq!(e.reason, "FieldValueInvalid");
        assert_eq!(FieldError::required("metadata.name", "").to_string(), "metadata.name: Required value");
        assert_eq!(
            FieldError::required("x", "name or generateName is required").to_string(),
            "x: Required value: name or generateName is required"
        );
        assert_eq!(FieldError::forbidden("x", "no").to_string(), "x: Forbidden: no");
        assert_eq!(FieldError::too_long("x", 1).to_string(), "x: Too long: may not be more than 1 byte");
        assert_eq!(
            FieldError::not_supported("spec.type", "Foo", &["A", "B"]).to_string(),
            "spec.type: Unsupported value: \"Foo\": supported values: \"A\", \"B\""
        );
        assert_eq!(FieldError::invalid_rendered("v", "null", "").to_string(), "v: Invalid value: null");
    }

    #[test]
    fn aggregates() {
        let a = FieldError::invalid("a", "x", "d");
        let b = FieldError::invalid("b", "y", "d");
        assert_eq!(aggregate_message(&[]), "");
        assert_eq!(aggregate_message(std::slice::from_ref(&a)), a.to_string());
        assert_eq!(aggregate_message(&[a.clone(), a.clone()]), a.to_string());
        assert_eq!(aggregate_message(&[a.clone(), b.clone(), a.clone()]), format!("[{a}, {b}]"));
    }

    #[test]
    fn labels_and_annotations() {
        let labels = [("app", "web"), ("bad key", "ok"), ("ok", "-bad")];
        let errs = validate_labels(labels, "metadata.labels");
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].to_string(), format!("metadata.labels: Invalid value: \"bad key\": {NAME_PART_MSG}"));
        assert_eq!(errs[1].to_string(), format!("metadata.labels: Invalid value: \"-bad\": {VALUE_MSG}"));

        assert!(validate_annotations([("Example.COM/Upper", "v")], "metadata.annotations").is_empty());
        let errs = validate_annotations([("a b", "v")], "metadata.annotations");
        assert_eq!(errs[0].to_string(), format!("metadata.annotations: Invalid value: \"a b\": {NAME_PART_MSG}"));
        let big = "v".repeat(TOTAL_ANNOTATION_SIZE_LIMIT_B - 1);
        assert!(validate_annotations([("k", big.as_str())], "metadata.annotations").is_empty());
        let bigger = "v".repeat(TOTAL_ANNOTATION_SIZE_LIMIT_B);
        let errs = validate_annotations([("k", bigger.as_str())], "metadata.annotations");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].to_string(), "metadata.annotations: Too long: may not be more than 262144 bytes");
        assert_eq!(errs[0].reason, "FieldValueTooLong");
        assert_eq!(annotations_size([("ab", "c"), ("d", "")]), 4);
        // Go lower-cases U+0130 to a plain `i`.
        assert!(validate_annotations([("\u{130}", "")], "m").is_empty());
    }

    #[test]
    fn go_quoting() {
        assert_eq!(go_quote("a"), "\"a\"");
        assert_eq!(go_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(go_quote("\n\t\r\u{7}\u{8}\u{b}\u{c}"), "\"\\n\\t\\r\\a\\b\\v\\f\"");
        assert_eq!(go_quote("\u{0}\u{1f}\u{7f}"), "\"\\x00\\x1f\\x7f\"");
        assert_eq!(go_quote("é世"), "\"é世\"");
        assert_eq!(go_quote("e\u{301}"), "\"e\u{301}\"");
        assert_eq!(go_quote("\u{85}\u{a0}\u{200b}\u{feff}"), "\"\\u0085\\u00a0\\u200b\\ufeff\"");
        assert_eq!(go_quote("\u{e000}"), "\"\\ue000\"");
        assert_eq!(go_quote("\u{10ffff}"), "\"\\U0010ffff\"");
        assert_eq!(go_quote("'"), "\"'\"");
    }
}
