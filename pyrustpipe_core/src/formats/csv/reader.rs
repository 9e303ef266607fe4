//! Reads a CSV file as a header plus blocks of about `chunk_size` bytes, each cut just after a
//! line break. A cut may land inside a quoted field: the block parser notices (the block ends
//! inside a record) and the merge step re-parses from the incomplete record, so results never
//! depend on where the cuts fall.

use std::fs::File;
use std::io::Read;

use super::parser::{cut_point, unescape_onto, Parser, RecordSpan, Step};
use crate::error::{Error, Position, Result};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// By default, records longer than this are an error rather than unbounded memory.
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

/// The least a read asks the source for.
const MIN_READ: usize = 64 * 1024;

pub struct BlockReader {
    path: String,
    file: Box<dyn Read + Send>,
    pending: Vec<u8>,
    /// A spent block's buffer, for the bytes after the next cut (see [`BlockReader::recycle`]).
    spare: Vec<u8>,
    /// File offset of `pending[0]`.
    offset: u64,
    eof: bool,
    chunk_size: usize,
    /// 1-based line of `pending[0]`, so an over-long record can be named by its first line.
    line: u64,
    max_record: usize,
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
            spare: Vec::new(),
            offset: 0,
            eof: false,
            chunk_size: chunk_size.max(1),
            line: 1,
            max_record: MAX_RECORD_BYTES,
        }
    }

    /// Records longer than `bytes` are an error (`record_too_long`).
    pub fn with_max_record(mut self, bytes: usize) -> BlockReader {
        self.max_record = bytes.max(1);
        self
    }

    /// A reader over a split's range: its first byte is `offset` in the object, on `line`.
    pub fn starting_at(mut self, offset: u64, line: u64) -> BlockReader {
        self.offset = offset;
        self.line = line;
        self
    }

    /// The object offset of the next byte a block will hold.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Read until `pending` holds at least `want` bytes or the file ends.
    fn fill(&mut self, want: usize) -> Result<()> {
        while !self.eof && self.pending.len() < want {
            let missing = (want - self.pending.len()).max(MIN_READ);
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
                    if want > self.max_record {
                        return Err(self.too_long(1, 0));
                    }
                    want *= 2;
                }
                Step::Record => {
                    let mut names = Vec::with_capacity(fields.len());
                    for (index, field) in fields.iter().enumerate() {
                        let raw = &self.pending[field.start as usize..field.end as usize];
                        let mut bytes = Vec::new();
                        match field.verbatim() {
                            Some((start, end)) => {
                                bytes.extend_from_slice(&self.pending[start as usize..end as usize])
                            }
                            None => unescape_onto(raw, parser.dialect.quote, &mut bytes),
                        }
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
                    self.line = header.next_line;
                    return Ok(Some(header));
                }
            }
        }
    }

    fn too_long(&self, line: u64, byte: u64) -> Error {
        Error::data(
            "record_too_long",
            format!(
                "a record is longer than {} bytes (or a quote is never closed)",
                self.max_record
            ),
            Position {
                path: Some(self.path.clone()),
                line: Some(line),
                byte: Some(byte),
                column: None,
            },
        )
    }

    /// A block's buffer the pipeline is done with: the next block is read into it, so its
    /// pages, already faulted in, are used again. One larger than two blocks (a block that
    /// carried a long record) is let go, to keep memory bounded by the block size.
    pub fn recycle(&mut self, mut spent: Vec<u8>) {
        let largest = 2 * self.chunk_size.max(MIN_READ);
        if spent.capacity() <= largest && spent.capacity() > self.spare.capacity() {
            spent.clear();
            self.spare = spent;
        }
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
                let mut rest = std::mem::take(&mut self.spare);
                rest.extend_from_slice(&self.pending[cut..]);
                self.pending.truncate(cut);
                let buf = std::mem::replace(&mut self.pending, rest);
                let offset = self.offset;
                self.offset += buf.len() as u64;
                self.line += line_breaks(&buf);
                return Ok(Some(RawBlock {
                    buf,
                    offset,
                    eof: false,
                }));
            }
            // No line break in all of `pending`: the over-long record starts at its first byte.
            if self.pending.len() > self.max_record {
                return Err(self.too_long(self.line, self.offset));
            }
            want = self.pending.len() * 2;
        }
    }
}

/// Line breaks in a block cut after one: each LF, and each CR not followed by an LF (a cut
/// never falls between the CR and LF of a CRLF).
pub(crate) fn line_breaks(buf: &[u8]) -> u64 {
    let lf = memchr::memchr_iter(b'\n', buf).count();
    let lone_cr = memchr::memchr_iter(b'\r', buf)
        .filter(|&at| buf.get(at + 1) != Some(&b'\n'))
        .count();
    (lf + lone_cr) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(data: &[u8], chunk_size: usize, max_record: usize) -> BlockReader {
        let stream = Box::new(std::io::Cursor::new(data.to_vec()));
        BlockReader::from_reader("f.csv", stream, chunk_size).with_max_record(max_record)
    }

    /// The error of reading every block of `data` after its header.
    fn too_long(data: &[u8], chunk_size: usize, max_record: usize) -> Error {
        let mut reader = reader(data, chunk_size, max_record);
        reader.header(&Parser::new(Default::default())).unwrap();
        loop {
            match reader.next_block() {
                Ok(Some(_)) => {}
                Ok(None) => panic!("no error"),
                Err(e) => return e,
            }
        }
    }

    #[test]
    fn an_over_long_record_is_named_by_its_first_line() {
        // Longer than one 64 KiB read, so the reader (not the end of the file) meets the limit.
        let long = "x".repeat(200_000);
        // (input, line of the long record)
        let cases = [
            (format!("a,b\n1,2\n{long}\n3,4\n"), 3),
            (format!("a,b\r\n1,2\r\n\r\n{long}\r\n"), 4),
            (format!("a,b\r1,2\r{long}\r"), 3),
            (format!("\na,b\n1,2\n4,5\n{long}"), 5),
        ];
        for (data, line) in cases {
            for chunk_size in [1, 4096, 1 << 16] {
                let error = too_long(data.as_bytes(), chunk_size, 100_000);
                match &error {
                    Error::DataFormat { code, position, .. } => {
                        assert_eq!(*code, "record_too_long", "{data:?}");
                        assert_eq!(position.line, Some(line), "{data:?} {chunk_size}");
                    }
                    other => panic!("{other:?}"),
                }
                assert!(
                    error.to_string().contains("longer than 100000 bytes"),
                    "{error}"
                );
            }
        }
    }

    #[test]
    fn records_within_the_limit_are_read() {
        let data = format!("a\n{}\n", "x".repeat(199_999));
        let mut reader = reader(data.as_bytes(), 4, 200_000);
        reader.header(&Parser::new(Default::default())).unwrap();
        let mut read = Vec::new();
        while let Some(block) = reader.next_block().unwrap() {
            read.extend_from_slice(&block.buf);
        }
        assert_eq!(read, &data.as_bytes()[2..]);
    }

    #[test]
    fn a_recycled_buffer_holds_the_next_blocks_and_changes_no_byte() {
        let data: String = (0..5000).map(|n| format!("{n},{}\n", n * 7)).collect();
        let data = format!("a,b\n{data}");
        for chunk_size in [64, 1000, 1 << 16] {
            let mut reader = reader(data.as_bytes(), chunk_size, 1 << 20);
            reader.header(&Parser::new(Default::default())).unwrap();
            let mut read = Vec::new();
            while let Some(block) = reader.next_block().unwrap() {
                read.extend_from_slice(&block.buf);
                let (at, capacity) = (block.buf.as_ptr(), block.buf.capacity());
                reader.recycle(block.buf);
                // Kept as the spare, which the next cut makes the buffer being filled.
                assert_eq!(
                    (reader.spare.as_ptr(), reader.spare.capacity()),
                    (at, capacity)
                );
                if let Some(next) = reader.next_block().unwrap() {
                    read.extend_from_slice(&next.buf);
                    if !next.eof {
                        assert_eq!(reader.pending.as_ptr(), at, "{chunk_size}");
                    }
                }
            }
            assert_eq!(read, &data.as_bytes()[4..], "{chunk_size}");
        }
        // A buffer larger than two blocks (or reads) is let go.
        let mut reader = reader(data.as_bytes(), 64, 1 << 20);
        reader.recycle(Vec::with_capacity(2 * MIN_READ + 1));
        assert_eq!(reader.spare.capacity(), 0);
        reader.recycle(Vec::with_capacity(2 * MIN_READ));
        assert_eq!(reader.spare.capacity(), 2 * MIN_READ);
    }
}
