//! Plain-text tables: a header, a rule, and rows whose columns are padded to
//! the widest cell, numbers aligned right.

use std::fmt::Write as _;
use std::time::Duration;

/// How a column's cells are aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table of strings, rendered with aligned columns.
#[derive(Clone, Debug)]
pub struct Table {
    columns: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers and alignments.
    pub fn new(columns: &[(&str, Align)]) -> Self {
        Table { columns: columns.iter().map(|(name, align)| (name.to_string(), *align)).collect(), rows: Vec::new() }
    }

    /// Appends a row; missing cells are empty, extra cells are dropped.
    pub fn push(&mut self, mut cells: Vec<String>) {
        cells.resize(self.columns.len(), String::new());
        self.rows.push(cells);
    }

    /// The table as lines of text, each ending with a newline; trailing
    /// spaces are trimmed.
    pub fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|c| {
                let header = self.columns[c].0.chars().count();
                self.rows.iter().map(|row| row[c].chars().count()).fold(header, usize::max)
            })
            .collect();
        let mut out = String::new();
        let line = |out: &mut String, cells: &[String]| {
            let mut text = String::new();
            for (c, cell) in cells.iter().enumerate() {
                if c > 0 {
                    text.push_str("  ");
                }
                let width = widths[c];
                match self.columns[c].1 {
                    Align::Left => {
                        let _ = write!(text, "{cell:<width$}");
                    }
                    Align::Right => {
                        let _ = write!(text, "{cell:>width$}");
                    }
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        let headers: Vec<String> = self.columns.iter().map(|(name, _)| name.clone()).collect();
        line(&mut out, &headers);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        line(&mut out, &rule);
        for row in &self.rows {
            line(&mut out, row);
        }
        out
    }
}

/// Appends each of `lines` to `out` after `indent`, each ending in a newline.
pub fn push_lines<S: AsRef<str>>(out: &mut String, indent: &str, lines: impl IntoIterator<Item = S>) {
    for line in lines {
        out.push_str(indent);
        out.push_str(line.as_ref());
        out.push('\n');
    }
}

/// A duration in milliseconds with three significant digits (at least two
/// decimals below 10 ms): `0.412 ms`, `12.3 ms`, `1520 ms`.
pub fn format_ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1.0 {
        format!("{ms:.3} ms")
    } else if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// A rate with thousands separators and no decimals above 100:
/// `12,345`, `87.5`.
pub fn format_rate(per_second: f64) -> String {
    if !per_second.is_finite() {
        return "-".to_string();
    }
    if per_second < 100.0 {
        return format!("{per_second:.1}");
    }
    group_thousands(per_second.round() as u64)
}

/// An integer with `,` between groups of three digits.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_aligned() {
        let mut t = Table::new(&[("name", Align::Left), ("n", Align::Right)]);
        t.push(vec!["a".into(), "1".into()]);
        t.push(vec!["longer".into(), "12345".into()]);
        t.push(vec!["short".into()]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines, ["name        n", "------  -----", "a           1", "longer  12345", "short"]);
    }

    #[test]
    fn lines_are_indented() {
        let mut out = String::from("x\n");
        push_lines(&mut out, "  ", ["a", "b"]);
        let owned = vec!["c".to_string()];
        push_lines(&mut out, "", &owned);
        assert_eq!(out, "x\n  a\n  b\nc\n");
    }

    #[test]
    fn numbers() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(1234567), "1,234,567");
        assert_eq!(format_rate(87.54), "87.5");
        assert_eq!(format_rate(4599.6), "4,600");
        assert_eq!(format_ms(Duration::from_micros(412)), "0.412 ms");
        assert_eq!(format_ms(Duration::from_micros(2500)), "2.50 ms");
        assert_eq!(format_ms(Duration::from_micros(12_340)), "12.3 ms");
        assert_eq!(format_ms(Duration::from_millis(1520)), "1520 ms");
    }
}
