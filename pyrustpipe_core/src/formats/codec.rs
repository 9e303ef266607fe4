//! Compressed text: gzip (multi-member), zstd, bzip2 and xz, decoded as a stream on the reader
//! thread (never to disk, so memory stays bounded) and encoded for outputs named with a codec
//! suffix. A source is recognised by its name and by its first bytes.

use std::fs::File;
use std::io::{BufWriter, Read, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Codec {
    None,
    Gzip,
    Zstd,
    Bzip2,
    Xz,
}

const SUFFIXES: [(&str, Codec); 6] = [
    (".gz", Codec::Gzip),
    (".gzip", Codec::Gzip),
    (".zst", Codec::Zstd),
    (".zstd", Codec::Zstd),
    (".bz2", Codec::Bzip2),
    (".xz", Codec::Xz),
];

impl Codec {
    /// The wire name (serde's `snake_case`, derived by strum from the variant).
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The file suffix this codec writes (`None` for plain text).
    pub fn extension(self) -> Option<&'static str> {
        match self {
            Codec::None => None,
            Codec::Gzip => Some("gz"),
            Codec::Zstd => Some("zst"),
            Codec::Bzip2 => Some("bz2"),
            Codec::Xz => Some("xz"),
        }
    }

    /// The codec a (lower-case) file name ends with, and the name without that suffix.
    pub fn from_name(name: &str) -> (Codec, &str) {
        for (suffix, codec) in SUFFIXES {
            if let Some(stem) = name.strip_suffix(suffix) {
                return (codec, stem);
            }
        }
        (Codec::None, name)
    }

    /// The codec whose magic number `head` starts with.
    pub fn sniff(head: &[u8]) -> Option<Codec> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Codec::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Codec::Zstd)
        } else if head.starts_with(b"BZh") && head.get(3).is_some_and(|b| (b'1'..=b'9').contains(b))
        {
            Some(Codec::Bzip2)
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Some(Codec::Xz)
        } else {
            None
        }
    }

    /// A decoding stream over `inner`. Every member/frame/stream of a concatenated file is read.
    pub fn decoder(self, inner: Box<dyn Read + Send>) -> std::io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Codec::None => inner,
            Codec::Gzip => Box::new(Tagged(self, flate2::read::MultiGzDecoder::new(inner))),
            Codec::Zstd => Box::new(Tagged(self, zstd::stream::read::Decoder::new(inner)?)),
            Codec::Bzip2 => Box::new(Tagged(self, bzip2::read::MultiBzDecoder::new(inner))),
            Codec::Xz => Box::new(Tagged(
                self,
                liblzma::read::XzDecoder::new_multi_decoder(inner),
            )),
        })
    }
}

/// A decoder whose errors say which codec failed, as `InvalidData` (the data, not the storage,
/// is at fault).
struct Tagged<R>(Codec, R);

impl<R: Read> Read for Tagged<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.1.read(buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::Interrupted {
                return e;
            }
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the {} stream is corrupt or truncated: {e}", self.0.name()),
            )
        })
    }
}

/// Bytes read so far from the (compressed) stream under a decoder: how far into its source a
/// compressed read has reached.
#[derive(Clone, Default)]
pub struct ReadCounter(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl ReadCounter {
    pub fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Count `bytes` read before the counting began.
    pub fn add(&self, bytes: usize) {
        self.0
            .fetch_add(bytes as u64, std::sync::atomic::Ordering::Relaxed);
    }

    /// `inner`, counting what is read from it.
    pub fn wrap(&self, inner: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
        Box::new(Counted(self.clone(), inner))
    }
}

struct Counted(ReadCounter, Box<dyn Read + Send>);

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.1.read(buf)?;
        (self.0)
            .0
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// A file being written, compressed with the codec of its name.
pub enum Encoder {
    Plain(BufWriter<File>),
    Gzip(flate2::write::GzEncoder<BufWriter<File>>),
    Zstd(zstd::stream::write::Encoder<'static, BufWriter<File>>),
    Bzip2(bzip2::write::BzEncoder<BufWriter<File>>),
    Xz(liblzma::write::XzEncoder<BufWriter<File>>),
}

impl Encoder {
    pub fn new(codec: Codec, file: File) -> std::io::Result<Encoder> {
        let out = BufWriter::with_capacity(1 << 20, file);
        Ok(match codec {
            Codec::None => Encoder::Plain(out),
            Codec::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                out,
                flate2::Compression::default(),
            )),
            Codec::Zstd => Encoder::Zstd(zstd::stream::write::Encoder::new(out, 3)?),
            Codec::Bzip2 => Encoder::Bzip2(bzip2::write::BzEncoder::new(
                out,
                bzip2::Compression::default(),
            )),
            Codec::Xz => Encoder::Xz(liblzma::write::XzEncoder::new(out, 6)),
        })
    }

    /// Write the codec's trailer and return the file, flushed.
    pub fn finish(self) -> std::io::Result<File> {
        let out = match self {
            Encoder::Plain(out) => out,
            Encoder::Gzip(e) => e.finish()?,
            Encoder::Zstd(e) => e.finish()?,
            Encoder::Bzip2(e) => e.finish()?,
            Encoder::Xz(e) => e.finish()?,
        };
        out.into_inner()
            .map_err(std::io::IntoInnerError::into_error)
    }
}

impl Write for Encoder {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match self {
            Encoder::Plain(w) => w.write(bytes),
            Encoder::Gzip(w) => w.write(bytes),
            Encoder::Zstd(w) => w.write(bytes),
            Encoder::Bzip2(w) => w.write(bytes),
            Encoder::Xz(w) => w.write(bytes),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Encoder::Plain(w) => w.flush(),
            Encoder::Gzip(w) => w.flush(),
            Encoder::Zstd(w) => w.flush(),
            Encoder::Bzip2(w) => w.flush(),
            Encoder::Xz(w) => w.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(codec: Codec, parts: &[&[u8]]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        let mut all = Vec::new();
        // Each part its own member/frame/stream, as `cat a.gz b.gz` makes.
        for part in parts {
            let mut encoder = Encoder::new(codec, File::create(&path).unwrap()).unwrap();
            encoder.write_all(part).unwrap();
            encoder.finish().unwrap();
            all.extend(std::fs::read(&path).unwrap());
        }
        all
    }

    #[test]
    fn every_codec_round_trips_concatenated_streams() {
        for codec in [Codec::Gzip, Codec::Zstd, Codec::Bzip2, Codec::Xz] {
            let bytes = encode(codec, &[b"id,x\n1,2\n", b"3,4\n"]);
            assert_eq!(Codec::sniff(&bytes), Some(codec), "{codec:?}");
            let mut text = String::new();
            codec
                .decoder(Box::new(std::io::Cursor::new(bytes)))
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            assert_eq!(text, "id,x\n1,2\n3,4\n", "{codec:?}");
        }
    }

    #[test]
    fn a_truncated_stream_is_invalid_data_naming_the_codec() {
        let bytes = encode(Codec::Gzip, &[&b"id,x\n1,2\n".repeat(1000)]);
        let cut = bytes[..bytes.len() / 2].to_vec();
        let mut text = Vec::new();
        let err = Codec::Gzip
            .decoder(Box::new(std::io::Cursor::new(cut)))
            .unwrap()
            .read_to_end(&mut text)
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("gzip"), "{err}");
    }

    #[test]
    fn names_give_the_codec() {
        assert_eq!(Codec::from_name("a.csv.gz"), (Codec::Gzip, "a.csv"));
        assert_eq!(Codec::from_name("a.csv"), (Codec::None, "a.csv"));
        assert_eq!(Codec::from_name("a.jsonl.zst"), (Codec::Zstd, "a.jsonl"));
    }
}
