//! A strict, small TSV reader: one header row, tab-separated fields, no quoting (tabs and
//! newlines inside fields are not representable, as in the SemEval release). Errors name the row.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum TsvError {
    #[error("the TSV is empty: no header row")]
    Empty,
    #[error("row {row} (line {line}) has {got} fields, the header has {expected}")]
    Ragged {
        row: usize,
        line: usize,
        got: usize,
        expected: usize,
    },
    #[error("missing column(s) {missing:?}; the header has {found:?}")]
    MissingColumns {
        missing: Vec<String>,
        found: Vec<String>,
    },
    #[error("column {0:?} appears twice in the header")]
    DuplicateColumn(String),
}

/// A parsed table. Row numbers in errors and outputs are 1-based data rows (the header is row 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// The 1-based line of each row in the source, for error messages.
    pub lines: Vec<usize>,
}

impl Table {
    pub fn parse(text: &str) -> Result<Table, TsvError> {
        // A UTF-8 byte order mark would otherwise become part of the first column's name.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text
            .split('\n')
            .enumerate()
            .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)));
        let (_, head) = lines
            .find(|(_, l)| !l.trim().is_empty())
            .ok_or(TsvError::Empty)?;
        let header: Vec<String> = head.split('\t').map(|h| h.trim().to_string()).collect();
        for (i, h) in header.iter().enumerate() {
            if header[..i].contains(h) {
                return Err(TsvError::DuplicateColumn(h.clone()));
            }
        }
        let mut rows = Vec::new();
        let mut line_nos = Vec::new();
        for (line, l) in lines {
            if l.trim().is_empty() {
                continue;
            }
            let fields: Vec<String> = l.split('\t').map(str::to_string).collect();
            if fields.len() != header.len() {
                return Err(TsvError::Ragged {
                    row: rows.len() + 1,
                    line,
                    got: fields.len(),
                    expected: header.len(),
                });
            }
            rows.push(fields);
            line_nos.push(line);
        }
        Ok(Table {
            header,
            rows,
            lines: line_nos,
        })
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// Indices of the named columns, or an error listing every one that is missing.
    pub fn require(&self, names: &[&str]) -> Result<Vec<usize>, TsvError> {
        let missing: Vec<String> = names
            .iter()
            .filter(|n| self.column(n).is_none())
            .map(|n| n.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(TsvError::MissingColumns {
                missing,
                found: self.header.clone(),
            });
        }
        Ok(names.iter().filter_map(|n| self.column(n)).collect())
    }
}

/// A field made safe for TSV output: tabs and line breaks become spaces.
pub fn clean_field(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '\t' | '\n' | '\r') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names_bad_rows() {
        let t = Table::parse("a\tb\r\n1\t2\n\n3\t4\n").expect("valid");
        assert_eq!(t.rows, vec![vec!["1", "2"], vec!["3", "4"]]);
        assert_eq!(t.lines, vec![2, 4]);
        assert_eq!(
            Table::parse("a\tb\n1\t2\n3\n"),
            Err(TsvError::Ragged {
                row: 2,
                line: 3,
                got: 1,
                expected: 2
            })
        );
        assert_eq!(Table::parse("  \n"), Err(TsvError::Empty));
        let t = Table::parse("question\tanswer\n").expect("header only");
        let e = t
            .require(&["question", "reference_answer", "answer"])
            .expect_err("missing");
        assert!(e.to_string().contains("reference_answer"), "{e}");
    }
}
