//! Reads a CSV file as a header plus blocks of about `chunk_size` bytes, each cut just after a
//! line break. A cut may land inside a quoted field: the block parser notices (the block ends
//! inside a record) and the merge step re-parses from the incomplete record, so results never
//! depend on where the cuts fall.

use std::fs::File;
use std::io::Read;

use super::parser::{cut_point, unescape, FieldKind, Parser, RecordSpan, Step};
use crate::error::{Error, Position, Result};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Records longer than this are an error rather than unbounded memory.
pub const MAX_RECORD_BYTES: usize = 64 << 20;

pub struct Header {
    pub names: Vec<String>,
    /// Bytes from the file start through the header's terminator (BOM included).
    pub raw_with_terminator: Vec<u8>,
    /// The header's fields without BOM and terminator.
    pub raw_fields: Vec<u8>,
    /// The header's terminator (`\n` when the file has only a header without one).
    pub terminator: Vec<u8>,
    /// 1-based line of the first data line.
    pub next_line: u64,
}

pub struct BlockReader {
    path: String,
    file: Box<dyn Read + Send>,
    pending: Vec<u8>,
    /// File offset of `pending[0]`.
    offset: u64,
    eof: bool,
    chunk_size: usize,
}

pub struct RawBlock {
    pub buf: Vec<u8>,
    pub offset: u64,
    pub eof: bool,
}

impl BlockReader {
    pub fn open(path: &str, chunk_size: usize) -> Result<BlockReader> {
        let file = File::open(path).map_err(|e| Error::storage("open", path, e))?;
        Ok(BlockReader::from_reader(path, Box::new(file), chunk_size))
    }

    /// Blocks from any byte stream (a local file, an S3 object).
    pub fn from_reader(path: &str, file: Box<dyn Read + Send>, chunk_size: usize) -> BlockReader {
        BlockReader {
            path: path.to_owned(),
            file,
            pending: Vec::new(),
            offset: 0,
            eof: false,
            chunk_size: chunk_size.max(1),
        }
    }

    /// Read until `pending` holds at least `want` bytes or the file ends.
    fn fill(&mut self, want: usize) -> Result<()> {
        while !self.eof && self.pending.len() < want {
            let missing = (want - self.pending.len()).max(64 * 1024);
            self.pending.reserve(missing);
            // `take` + `read_to_end` reads into spare capacity without zeroing it first.
            let read = (&mut self.file)
                .take(missing as u64)
                .read_to_end(&mut self.pending)
                .map_err(|e| crate::formats::read_error(&self.path, e))?;
            if read == 0 {
                self.eof = true;
            }
        }
        Ok(())
    }

    /// For a file without a header: its columns are the schema's `names`, in order. A BOM is
    /// skipped; `None` for an empty file.
    pub fn no_header(&mut self, names: Vec<String>) -> Result<Option<Header>> {
        self.fill(BOM.len())?;
        if self.pending.starts_with(BOM) {
            self.pending.drain(..BOM.len());
            self.offset = BOM.len() as u64;
        }
        self.fill(1)?;
        if self.pending.is_empty() {
            return Ok(None);
        }
        Ok(Some(Header {
            names,
            raw_with_terminator: Vec::new(),
            raw_fields: Vec::new(),
            terminator: b"\n".to_vec(),
            next_line: 1,
        }))
    }

    /// Parse the header. `None` for an empty file (no bytes, or only blank lines).
    pub fn header(&mut self, parser: &Parser) -> Result<Option<Header>> {
        let mut want = self.chunk_size.min(1 << 20);
        loop {
            self.fill(want)?;
            let bom = if self.pending.starts_with(BOM) {
                BOM.len()
            } else {
                0
            };
            let mut fields = Vec::new();
            let mut record = RecordSpan::default();
            let step = parser.next_record(&self.pending, bom, self.eof, &mut fields, &mut record);
            match step {
                Step::End { .. } => return Ok(None),
                Step::Incomplete { quote_at, .. } if self.eof => {
                    return Err(Error::data(
                        "unterminated_quote",
                        format!(
                            "unterminated quoted field in the header, opened at byte {}",
                            quote_at.unwrap_or(0)
                        ),
                        Position {
                            path: Some(self.path.clone()),
                            line: Some(1),
                            ..Position::default()
                        },
                    ));
                }
                Step::Incomplete { .. } => {
                    if want > MAX_RECORD_BYTES {
                        return Err(self.too_long(1, 0));
                    }
                    want *= 2;
                }
                Step::Record => {
                    let mut names = Vec::with_capacity(fields.len());
                    let mut scratch = Vec::new();
                    for (index, field) in fields.iter().enumerate() {
                        let raw = &self.pending[field.start as usize..field.end as usize];
                        let bytes = match field.kind {
                            FieldKind::Plain => raw.to_vec(),
                            FieldKind::Quoted => {
                                unescape(raw, parser.dialect.quote, &mut scratch);
                                scratch.clone()
                            }
                        };
                        let name = String::from_utf8(bytes).map_err(|_| {
                            Error::data(
                                "header_encoding",
                                format!("header field {} is not valid UTF-8", index + 1),
                                Position {
                                    path: Some(self.path.clone()),
                                    line: Some(1),
                                    ..Position::default()
                                },
                            )
                        })?;
                        if name.is_empty() {
                            return Err(Error::data(
                                "empty_column_name",
                                format!(
                                    "header field {} is empty (a trailing delimiter?)",
                                    index + 1
                                ),
                                Position {
                                    path: Some(self.path.clone()),
                                    line: Some(1),
                                    ..Position::default()
                                },
                            ));
                        }
                        names.push(name);
                    }
                    let terminator = if record.next > record.end {
                        self.pending[record.end..record.next].to_vec()
                    } else {
                        b"\n".to_vec()
                    };
                    let header = Header {
                        names,
                        raw_with_terminator: self.pending[..record.next].to_vec(),
                        raw_fields: self.pending[record.start..record.end].to_vec(),
                        terminator,
                        next_line: 1
                            + u64::from(record.blank_lines_before)
                            + u64::from(record.inner_line_breaks)
                            + 1,
                    };
                    self.pending.drain(..record.next);
                    self.offset = record.next as u64;
                    return Ok(Some(header));
                }
            }
        }
    }

    fn too_long(&self, line: u64, byte: u64) -> Error {
        Error::data(
            "record_too_long",
            format!(
                "a record is longer than {MAX_RECORD_BYTES} bytes (or a quote is never closed)"
            ),
            Position {
                path: Some(self.path.clone()),
                line: Some(line),
                byte: Some(byte),
                column: None,
            },
        )
    }

    /// The next block, cut after a line break; `None` after the end of the file.
    pub fn next_block(&mut self) -> Result<Option<RawBlock>> {
        if self.eof && self.pending.is_empty() {
            return Ok(None);
        }
        let mut want = self.chunk_size;
        loop {
            self.fill(want)?;
            if self.eof {
                let buf = std::mem::take(&mut self.pending);
                let offset = self.offset;
                self.offset += buf.len() as u64;
                return Ok(Some(RawBlock {
                    buf,
                    offset,
                    eof: true,
                }));
            }
            let lookahead = None;
            if let Some(cut) = cut_point(&self.pending, lookahead) {
                let rest = self.pending.split_off(cut);
                let buf = std::mem::replace(&mut self.pending, rest);
                let offset = self.offset;
                self.offset += buf.len() as u64;
                return Ok(Some(RawBlock {
                    buf,
                    offset,
                    eof: false,
                }));
            }
            if self.pending.len() > MAX_RECORD_BYTES {
                return Err(self.too_long(0, self.offset));
            }
            want = self.pending.len() * 2;
        }
    }
}
