//! The text outputs (valid and quarantine CSV / NDJSON), each written under a temporary name in
//! its target's directory and published with the run's other outputs only when all are written.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::formats::codec::{Codec, Encoder};
use crate::formats::csv::reader::Header;
use crate::formats::Format;
use crate::storage::local::Staged;

pub struct AtomicFile {
    target: PathBuf,
    temp: PathBuf,
    writer: Option<Encoder>,
}

impl AtomicFile {
    /// A plain (uncompressed) file.
    pub fn create(path: &str) -> Result<AtomicFile> {
        AtomicFile::create_compressed(path, Codec::None)
    }

    /// A file compressed with `codec` as it is written.
    pub fn create_compressed(path: &str, codec: Codec) -> Result<AtomicFile> {
        let target = PathBuf::from(path);
        let dir = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::storage("create directory", dir.display().to_string(), e))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = dir.join(format!(".{name}.pyrustpipe-{}.tmp", std::process::id()));
        let file = File::create(&temp)
            .map_err(|e| Error::storage("create", temp.display().to_string(), e))?;
        let writer = Encoder::new(codec, file)
            .map_err(|e| Error::storage("create", temp.display().to_string(), e))?;
        Ok(AtomicFile {
            target,
            temp,
            writer: Some(writer),
        })
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        let writer = self.writer.as_mut().expect("written before commit");
        writer
            .write_all(bytes)
            .map_err(|e| Error::storage("write", self.target.display().to_string(), e))
    }

    /// Finish and sync the file under its temporary name; [`publish`] renames it into place
    /// together with the rest of the run's outputs.
    ///
    /// [`publish`]: crate::storage::local::publish
    pub fn stage(mut self) -> Result<Staged> {
        let writer = self.writer.take().expect("staged once");
        let file = writer
            .finish()
            .map_err(|e| Error::storage("write", self.target.display().to_string(), e))?;
        file.sync_all()
            .map_err(|e| Error::storage("sync", self.target.display().to_string(), e))?;
        Ok(Staged::new(self.temp.clone(), self.target.clone()))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.writer
            .as_mut()
            .expect("written before commit")
            .write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.as_mut().expect("written before commit").flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // Not committed: remove the temporary file.
        if self.writer.is_some() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// The metadata columns after a quarantined record's data columns, in order. `_pyrustpipe_raw`
/// holds the whole record of a row whose field count differs from the header's (its data
/// columns are then empty), so every quarantine line has the same columns and CSV readers that
/// insist on a rectangle (polars, pandas) can read it.
pub const META_COLUMNS: [&str; 4] = [
    "_pyrustpipe_errors",
    "_pyrustpipe_row",
    "_pyrustpipe_source",
    "_pyrustpipe_raw",
];

/// The rule a record fails when its field count differs from the header's.
const FIELD_COUNT_RULE: &str = "row:field_count";

/// The CSV valid and quarantine outputs of a run.
pub struct CsvSink {
    valid: Option<AtomicFile>,
    quarantine: Option<AtomicFile>,
    delimiter: u8,
    valid_rows: u64,
    quarantined_rows: u64,
    /// The last valid record written had no terminator (end of a source without a newline).
    valid_unterminated: bool,
    line: Vec<u8>,
    format: Format,
    /// Data columns per quarantine line (the header's, or the schema's without a header).
    width: usize,
}

impl CsvSink {
    /// The outputs, each `(path, codec)`.
    pub fn create(
        valid: Option<(&str, Codec)>,
        quarantine: Option<(&str, Codec)>,
        header: Option<&Header>,
        delimiter: u8,
        format: Format,
    ) -> Result<CsvSink> {
        let open = |(path, codec): (&str, Codec)| AtomicFile::create_compressed(path, codec);
        let mut valid = valid.map(open).transpose()?;
        let mut quarantine = quarantine.map(open).transpose()?;
        if let Some(header) = header {
            if let Some(file) = valid.as_mut() {
                file.write_all(&header.raw_with_terminator)?;
            }
            // A source without a header gets outputs without one.
            let written = !header.raw_fields.is_empty();
            if let Some(file) = quarantine.as_mut().filter(|_| written) {
                let mut line = header.raw_fields.clone();
                for name in META_COLUMNS {
                    line.push(delimiter);
                    line.extend_from_slice(name.as_bytes());
                }
                line.extend_from_slice(&header.terminator);
                file.write_all(&line)?;
            }
        }
        Ok(CsvSink {
            valid,
            quarantine,
            delimiter,
            valid_rows: 0,
            quarantined_rows: 0,
            valid_unterminated: false,
            line: Vec::new(),
            format,
            width: header.map_or(0, |h| h.names.len()),
        })
    }

    pub fn start_source(&mut self) {}

    /// A record that passed: its bytes exactly as read (terminator included).
    pub fn valid(&mut self, raw: &[u8]) -> Result<()> {
        self.valid_rows += 1;
        if let Some(file) = self.valid.as_mut() {
            if self.valid_unterminated {
                file.write_all(b"\n")?;
            }
            file.write_all(raw)?;
            self.valid_unterminated = !raw.ends_with(b"\n") && !raw.ends_with(b"\r");
        }
        Ok(())
    }

    /// A record that failed: its fields as read, then the rules it failed, its row and source,
    /// and an empty raw column. A record with the wrong field count gets empty data columns
    /// instead and its bytes (without terminator) quoted in the raw column.
    pub fn quarantine<'a>(
        &mut self,
        raw: &[u8],
        fields_end: usize,
        rules: impl Iterator<Item = &'a str>,
        row: u64,
        source: &str,
    ) -> Result<()> {
        self.quarantined_rows += 1;
        let Some(file) = self.quarantine.as_mut() else {
            return Ok(());
        };
        let line = &mut self.line;
        line.clear();
        let mut names: Vec<&str> = rules.collect();
        names.dedup();
        if self.format == Format::Ndjson {
            crate::formats::ndjson::quarantine_line(&raw[..fields_end], &names, row, source, line);
            return file.write_all(line);
        }
        let ragged = names.contains(&FIELD_COUNT_RULE);
        if ragged {
            // `width` empty fields are `width - 1` delimiters.
            line.extend(std::iter::repeat_n(
                self.delimiter,
                self.width.saturating_sub(1),
            ));
        } else {
            line.extend_from_slice(&raw[..fields_end]);
        }
        line.push(self.delimiter);
        let errors = serde_json::to_string(&names).expect("names serialise");
        push_quoted(line, errors.as_bytes());
        line.push(self.delimiter);
        line.extend_from_slice(row.to_string().as_bytes());
        line.push(self.delimiter);
        push_quoted(line, source.as_bytes());
        line.push(self.delimiter);
        if ragged {
            push_quoted(line, &raw[..fields_end]);
        }
        let terminator = &raw[fields_end..];
        if terminator.is_empty() {
            line.push(b'\n');
        } else {
            line.extend_from_slice(terminator);
        }
        file.write_all(line)
    }

    pub fn counts(&self) -> (u64, u64) {
        (self.valid_rows, self.quarantined_rows)
    }

    /// Both files, written and synced, ready to publish.
    pub fn stage(self) -> Result<Vec<Staged>> {
        [self.valid, self.quarantine]
            .into_iter()
            .flatten()
            .map(AtomicFile::stage)
            .collect()
    }
}

fn push_quoted(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for &byte in bytes {
        if byte == b'"' {
            out.push(b'"');
        }
        out.push(byte);
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(raw: &[u8], names: &[&str]) -> Header {
        Header {
            names: names.iter().map(|n| n.to_string()).collect(),
            raw_with_terminator: [raw, b"\n"].concat(),
            raw_fields: raw.to_vec(),
            terminator: b"\n".to_vec(),
            next_line: 2,
        }
    }

    /// The quarantine written for `records` (`(bytes, rules)`), read back.
    fn quarantine(header: &Header, records: &[(&[u8], &[&str])]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.csv");
        let path = path.to_str().unwrap();
        let mut sink = CsvSink::create(
            None,
            Some((path, Codec::None)),
            Some(header),
            b',',
            Format::Csv,
        )
        .unwrap();
        for (row, (raw, rules)) in records.iter().enumerate() {
            let fields_end = raw.len() - usize::from(raw.ends_with(b"\n"));
            let rules = rules.iter().copied();
            sink.quarantine(raw, fields_end, rules, row as u64 + 1, "in.csv")
                .unwrap();
        }
        crate::storage::local::publish(sink.stage().unwrap()).unwrap();
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn every_quarantine_line_has_the_header_columns() {
        let text = quarantine(
            &header(b"a,b,c", &["a", "b", "c"]),
            &[
                (b"1,2,3\n", &["a:gt"]),
                (b"1,2\n", &["row:field_count"]),
                (b"1,\"x,\"\"y\",3,4", &["row:field_count", "a:gt"]),
            ],
        );
        let expected = [
            "a,b,c,_pyrustpipe_errors,_pyrustpipe_row,_pyrustpipe_source,_pyrustpipe_raw",
            "1,2,3,\"[\"\"a:gt\"\"]\",1,\"in.csv\",",
            ",,,\"[\"\"row:field_count\"\"]\",2,\"in.csv\",\"1,2\"",
            ",,,\"[\"\"row:field_count\"\",\"\"a:gt\"\"]\",3,\"in.csv\",\"1,\"\"x,\"\"\"\"y\"\",3,4\"",
            "",
        ];
        assert_eq!(text, expected.join("\n"));
    }

    #[test]
    fn a_source_without_a_header_gets_no_header_line() {
        let none = Header {
            raw_with_terminator: Vec::new(),
            raw_fields: Vec::new(),
            ..header(b"", &["a", "b"])
        };
        let text = quarantine(&none, &[(b"1\n", &["row:field_count"])]);
        assert_eq!(text, ",,\"[\"\"row:field_count\"\"]\",1,\"in.csv\",\"1\"\n");
    }
}
