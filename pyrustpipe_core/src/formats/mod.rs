//! Data formats, one module each: how a source's bytes become rows, and how rows are written
//! back out. A new format or codec is added here and nowhere else.
//!
//! - `csv/` — RFC 4180 text: header, quote-aware splitter, block parser.
//! - `ndjson` — one JSON object per line (and `.json` files holding one array of objects).
//! - `parquet` — row groups as units of work, typed columns.
//! - `arrow` — in-memory tables through the Arrow C stream interface; typed columns as values.
//! - `dictionary_keys` — columns handed over as dictionary keys and their dictionary once.
//! - `codec` — compressed text (gzip, zstd, bzip2, xz), detected by extension and magic bytes.
//! - `typed` — typed Arrow values as the text their value means for the schema's type.
//! - `sink` — the text outputs (valid and quarantine), written atomically.

pub mod arrow;
pub mod codec;
pub mod csv;
pub mod dictionary_keys;
pub mod ndjson;
pub mod parquet;
pub mod sink;
pub mod typed;
mod words;

use std::io::Read;

pub use codec::Codec;

use crate::error::{Error, Position, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Format {
    Csv,
    Ndjson,
    Parquet,
    /// An in-memory Arrow table (see `arrow`); never inferred from a path.
    Arrow,
}

impl Format {
    /// The wire name (serde's `snake_case`, derived by strum from the variant).
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The format of the valid and quarantine outputs: tables are written as Parquet.
    pub fn output(self) -> Format {
        match self {
            Format::Arrow => Format::Parquet,
            other => other,
        }
    }

    /// By extension, after any compression suffix (`.csv.gz` is CSV); CSV when unknown.
    pub fn of(path: &str) -> Format {
        SourceKind::of(path).format
    }
}

/// A source's format, its compression, and whether its name says tab-separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceKind {
    pub format: Format,
    pub codec: Codec,
    /// `.tsv` / `.tab`: tab-separated unless the spec names another delimiter.
    pub tab_separated: bool,
}

impl SourceKind {
    /// From the name alone: `data.csv.gz`, `events.jsonl.zst`, `t.parquet`, `x.tsv`.
    pub fn of(path: &str) -> SourceKind {
        let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
        let (codec, stem) = Codec::from_name(&name);
        let format = if stem.ends_with(".parquet") || stem.ends_with(".pq") {
            Format::Parquet
        } else if stem.ends_with(".ndjson") || stem.ends_with(".jsonl") || stem.ends_with(".json") {
            Format::Ndjson
        } else {
            Format::Csv
        };
        SourceKind {
            format,
            codec,
            tab_separated: stem.ends_with(".tsv") || stem.ends_with(".tab"),
        }
    }

    /// The file name of an output with this kind: `valid` → `valid.csv.gz`.
    pub fn output_name(self, stem: &str) -> String {
        let format = self.format.output();
        let base = if format == Format::Csv && self.tab_separated {
            "tsv"
        } else {
            format.name()
        };
        match self.codec.extension() {
            Some(ext) if format != Format::Parquet => format!("{stem}.{base}.{ext}"),
            _ => format!("{stem}.{base}"),
        }
    }
}

/// What the first bytes of a source say it is, for a format or codec the name did not give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Magic {
    Codec(Codec),
    Parquet,
    /// A container or binary format we do not read; the text names it.
    Unsupported(&'static str),
    /// Anything else: read as text.
    Text,
}

impl Magic {
    pub fn sniff(head: &[u8]) -> Magic {
        if let Some(codec) = Codec::sniff(head) {
            return Magic::Codec(codec);
        }
        if head.starts_with(b"PAR1") {
            return Magic::Parquet;
        }
        const KNOWN: [(&[u8], &str); 6] = [
            (b"PK\x03\x04", "a ZIP archive"),
            (b"ARROW1", "an Arrow IPC file"),
            (b"Obj\x01", "an Avro container file"),
            (b"ORC", "an ORC file"),
            (
                b"\x04\x22\x4d\x18",
                "an LZ4 frame (lz4 is not supported for text; use zstd)",
            ),
            (b"SQLite format 3\0", "a SQLite database"),
        ];
        for (magic, what) in KNOWN {
            if head.starts_with(magic) {
                return Magic::Unsupported(what);
            }
        }
        if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
            return Magic::Unsupported("UTF-16 text (convert it to UTF-8)");
        }
        // A NUL byte in a field is a value to check, but binary data is full of them.
        let nuls = head.iter().filter(|&&b| b == 0).count();
        if head.len() >= 16 && nuls * 4 > head.len() {
            return Magic::Unsupported(
                "binary data (a quarter of its first bytes are NUL), not text",
            );
        }
        Magic::Text
    }
}

/// An error reading a source's stream: a decoder's or splitter's complaint (`InvalidData`)
/// blames the bytes, anything else the storage.
pub fn read_error(path: &str, error: std::io::Error) -> Error {
    if error.kind() == std::io::ErrorKind::InvalidData {
        Error::data(
            "decode",
            error.to_string(),
            Position::in_source(path.to_owned()),
        )
    } else {
        Error::storage("read", path, error)
    }
}

/// How many leading bytes are sniffed: enough to see NUL bytes of binary data.
const SNIFF_BYTES: usize = 4096;

/// Read up to `SNIFF_BYTES` from `reader` (fewer only at its end).
fn read_head(reader: &mut dyn Read) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    reader.take(SNIFF_BYTES as u64).read_to_end(&mut head)?;
    Ok(head)
}

fn unsupported(path: &str, what: &str) -> Error {
    Error::data(
        "unsupported_format",
        format!("cannot read this source as text: it looks like {what}"),
        Position::in_source(path.to_owned()),
    )
}

/// Open a text source (CSV or NDJSON) for streaming: its codec is found from its first bytes
/// (the name's suffix only breaks no tie: magic bytes win), and its bytes are decoded on the
/// fly. `counter` counts the bytes read from a compressed `raw` (a plain source's progress is
/// its reader's offset). A plain source is not wrapped: std then reads a file straight into a
/// block's spare capacity, where a wrapper of ours (no stable `read_buf`) makes it zero every
/// byte first.
pub fn open_text(
    path: &str,
    mut raw: Box<dyn Read + Send>,
    counter: &codec::ReadCounter,
) -> Result<(Box<dyn Read + Send>, Codec)> {
    let read_error = |e: std::io::Error| read_error(path, e);
    let head = read_head(&mut raw).map_err(read_error)?;
    let codec = match Magic::sniff(&head) {
        Magic::Codec(codec) => codec,
        Magic::Text => Codec::None,
        Magic::Parquet => {
            return Err(unsupported(
                path,
                "a Parquet file (it starts with PAR1); name it .parquet",
            ))
        }
        Magic::Unsupported(what) => return Err(unsupported(path, what)),
    };
    if codec == Codec::None {
        return Ok((Box::new(std::io::Cursor::new(head).chain(raw)), codec));
    }
    counter.add(head.len());
    let stream: Box<dyn Read + Send> =
        Box::new(std::io::Cursor::new(head).chain(counter.wrap(raw)));
    let mut decoded = codec.decoder(stream).map_err(read_error)?;
    let head = read_head(&mut decoded).map_err(read_error)?;
    match Magic::sniff(&head) {
        Magic::Text => {}
        Magic::Parquet => return Err(unsupported(path, "compressed Parquet")),
        Magic::Codec(inner) => {
            return Err(unsupported(
                path,
                &format!("{} inside {}", inner.name(), codec.name()),
            ))
        }
        Magic::Unsupported(what) => {
            return Err(unsupported(
                path,
                &format!("{what} inside {}", codec.name()),
            ))
        }
    }
    Ok((Box::new(std::io::Cursor::new(head).chain(decoded)), codec))
}

/// The kind of a source: from its name and, for a local file whose name says nothing, its first
/// bytes (a Parquet file without the `.parquet` suffix is still Parquet). An S3 object is not
/// opened for this: its name decides, and `open_text` refuses a Parquet object read as text.
pub fn detect(uri: &str) -> SourceKind {
    let mut kind = SourceKind::of(uri);
    if !crate::storage::is_s3(uri) && kind.format == Format::Csv && kind.codec == Codec::None {
        let mut magic = [0u8; 4];
        let is_parquet = std::fs::File::open(uri)
            .and_then(|mut f| f.read_exact(&mut magic))
            .is_ok()
            && &magic == b"PAR1";
        if is_parquet {
            kind.format = Format::Parquet;
        }
    }
    kind
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_codec_names() {
        let formats = [Format::Csv, Format::Ndjson, Format::Parquet, Format::Arrow];
        let names: Vec<&str> = formats.into_iter().map(Format::name).collect();
        assert_eq!(names, ["csv", "ndjson", "parquet", "arrow"]);
        let codecs = [
            Codec::None,
            Codec::Gzip,
            Codec::Zstd,
            Codec::Bzip2,
            Codec::Xz,
        ];
        let names: Vec<&str> = codecs.into_iter().map(Codec::name).collect();
        assert_eq!(names, ["none", "gzip", "zstd", "bzip2", "xz"]);
    }

    #[test]
    fn kinds_from_names() {
        let cases = [
            ("a/b.csv", Format::Csv, Codec::None, false),
            ("a/b.CSV.GZ", Format::Csv, Codec::Gzip, false),
            ("b.tsv.zst", Format::Csv, Codec::Zstd, true),
            ("b.jsonl.bz2", Format::Ndjson, Codec::Bzip2, false),
            ("b.json.xz", Format::Ndjson, Codec::Xz, false),
            ("b.parquet", Format::Parquet, Codec::None, false),
            ("s3://x/y.gz", Format::Csv, Codec::Gzip, false),
            ("no_extension", Format::Csv, Codec::None, false),
        ];
        for (name, format, codec, tab) in cases {
            let kind = SourceKind::of(name);
            assert_eq!(
                (kind.format, kind.codec, kind.tab_separated),
                (format, codec, tab),
                "{name}"
            );
        }
        assert_eq!(
            SourceKind::of("x.csv.gz").output_name("valid"),
            "valid.csv.gz"
        );
        assert_eq!(
            SourceKind::of("x.ndjson").output_name("valid"),
            "valid.ndjson"
        );
        assert_eq!(SourceKind::of("x.tsv").output_name("valid"), "valid.tsv");
    }

    #[test]
    fn magic_bytes() {
        assert_eq!(Magic::sniff(b"\x1f\x8b\x08\0"), Magic::Codec(Codec::Gzip));
        assert_eq!(Magic::sniff(b"PAR1\x15"), Magic::Parquet);
        assert_eq!(Magic::sniff(b"id,amount\n1,2\n"), Magic::Text);
        assert!(matches!(
            Magic::sniff(b"PK\x03\x04rest"),
            Magic::Unsupported(_)
        ));
        assert_eq!(Magic::sniff(b"id,name\n1,a\0b\n2,ok\n"), Magic::Text);
        assert!(matches!(Magic::sniff(&[0u8; 64]), Magic::Unsupported(_)));
    }
}
