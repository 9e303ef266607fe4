//! The engine's one error type. Every variant names where the problem is, so a message alone is
//! enough to find it: the rule for spec errors, the file / line / column for data errors, the
//! operation and path for storage errors. Messages never contain credentials.

use std::fmt;

/// Where in a data file a problem sits. All fields are optional because not every format has
/// lines (Parquet) and not every problem has a column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Position {
    pub path: Option<String>,
    /// 1-based physical line where the record starts (the header is line 1).
    pub line: Option<u64>,
    /// Byte offset of the record start within the file.
    pub byte: Option<u64>,
    pub column: Option<String>,
}

impl Position {
    /// A position that names only the source.
    pub fn in_source(path: impl Into<String>) -> Position {
        Position {
            path: Some(path.into()),
            ..Position::default()
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(path) = &self.path {
            parts.push(format!("file {path}"));
        }
        if let Some(line) = self.line {
            parts.push(format!("line {line}"));
        }
        if let Some(column) = &self.column {
            parts.push(format!("column {column:?}"));
        }
        if let Some(byte) = self.byte {
            parts.push(format!("byte {byte}"));
        }
        f.write_str(&parts.join(", "))
    }
}

/// Stable error codes, shared with the Python exceptions (`error.code`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The spec is invalid: names the rule path (`columns[2].checks[0]`) and the reason.
    #[error("invalid rule spec at {at}: {message}")]
    Schema { at: String, message: String },

    /// A run option is invalid (an output location, a storage option, an external rule's result).
    #[error("invalid option {option}: {message}")]
    Options { option: String, message: String },

    /// The data cannot be read as the format says.
    #[error("{message} ({position})")]
    DataFormat {
        code: &'static str,
        message: String,
        position: Position,
    },

    /// Reading or writing a file or object failed.
    #[error("{operation} {path}: {message}")]
    Storage {
        operation: &'static str,
        path: String,
        message: String,
    },

    /// The run was cancelled (a signal, a task kill, a timeout) before its commit point: uploads
    /// were aborted, staged files removed, no manifest written and no output published.
    #[error("cancelled: no outputs committed")]
    Cancelled,

    /// An engine invariant broke (for example conservation); nothing was committed.
    #[error("internal error: {0}; nothing was written")]
    Internal(String),
}

impl Error {
    pub fn schema(at: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Schema {
            at: at.into(),
            message: message.into(),
        }
    }

    pub fn option(option: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Options {
            option: option.into(),
            message: message.into(),
        }
    }

    pub fn data(code: &'static str, message: impl Into<String>, position: Position) -> Self {
        Error::DataFormat {
            code,
            message: message.into(),
            position,
        }
    }

    pub fn storage(
        operation: &'static str,
        path: impl Into<String>,
        err: impl fmt::Display,
    ) -> Self {
        Error::Storage {
            operation,
            path: path.into(),
            message: err.to_string(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
