//! The upload body's gzip, made for speed and a small memory footprint: text at the fastest
//! deflate level, and large incompressible files (images, audio) as stored deflate blocks that are
//! read from disk only while the body is being sent (running them through the compressor gains
//! about 0.03 % on them for most of the time spent; see docs/benchmarks.md). The result is one
//! ordinary gzip member (RFC 1952) any gunzip reads; WeChat does not care how it was made. Its
//! length is known before the first byte is sent (stored blocks have a fixed overhead), so the
//! request carries a Content-Length as the official client's does.

use bytes::Bytes;
use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use std::io::{self, Read};
use std::path::PathBuf;

/// A stored deflate block holds at most this many bytes.
const STORED_MAX: usize = 65_535;

/// What a stored file adds to the body.
fn stored_len(size: u64) -> u64 {
    size + 5 * size.div_ceil(STORED_MAX as u64)
}

enum Segment {
    /// Bytes of the body, and the CRC of the uncompressed bytes they stand for.
    Mem(Bytes, Crc),
    /// A file sent as stored blocks, read when the body is written.
    File { path: PathBuf, size: u64 },
}

/// A gzip body: built once, written (or streamed) as often as needed.
pub struct Plan {
    segments: Vec<Segment>,
    len: u64,
}

/// Builds a [`Plan`].
pub struct Gzip {
    segments: Vec<Segment>,
    out: Vec<u8>,
    z: Compress,
    crc: Crc,
    /// Nothing has gone through the compressor since it was (re)started.
    fresh: bool,
    /// Where the compressor writes before its output is appended.
    scratch: Vec<u8>,
}

fn err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

fn stored_block(block: &[u8]) -> Vec<u8> {
    let len = u16::try_from(block.len()).unwrap_or(u16::MAX);
    let mut b = Vec::with_capacity(block.len() + 5);
    b.push(0); // BFINAL=0, BTYPE=00
    b.extend_from_slice(&len.to_le_bytes());
    b.extend_from_slice(&(!len).to_le_bytes());
    b.extend_from_slice(block);
    b
}

impl Default for Gzip {
    fn default() -> Self {
        Self::new()
    }
}

impl Gzip {
    /// A new body.
    pub fn new() -> Self {
        // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=255 (unknown), as flate2's encoder writes it.
        Self {
            segments: Vec::new(),
            out: vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255],
            z: Compress::new(Compression::fast(), false),
            crc: Crc::new(),
            fresh: true,
            scratch: vec![0; 128 << 10],
        }
    }

    fn run(&mut self, mut input: &[u8], flush: FlushCompress) -> io::Result<()> {
        // Through a fixed scratch buffer: flate2's `compress_vec` zero-fills the whole spare
        // capacity of its output on every call, which on a large buffer costs more than the
        // compression.
        loop {
            let (before_in, before_out) = (self.z.total_in(), self.z.total_out());
            let status = self
                .z
                .compress(input, &mut self.scratch, flush)
                .map_err(err)?;
            let used = usize::try_from(self.z.total_in() - before_in).map_err(err)?;
            let made = usize::try_from(self.z.total_out() - before_out).map_err(err)?;
            self.out.extend_from_slice(&self.scratch[..made]);
            input = &input[used..];
            let room_left = made < self.scratch.len();
            match flush {
                FlushCompress::Finish if status == Status::StreamEnd => return Ok(()),
                FlushCompress::Finish => {}
                _ if input.is_empty() && room_left => return Ok(()),
                _ => {}
            }
        }
    }

    /// Compresses `data`.
    pub fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.crc.update(data);
        self.fresh = false;
        self.run(data, FlushCompress::None)
    }

    /// Ends the compressed run before stored bytes: byte-aligned by an empty stored block, and the
    /// compressor started afresh (its back-references must not reach across bytes it never saw).
    fn align(&mut self) -> io::Result<()> {
        if !self.fresh {
            self.run(&[], FlushCompress::Sync)?;
            self.z.reset();
            self.fresh = true;
        }
        Ok(())
    }

    /// Adds `data` uncompressed, as stored blocks.
    #[cfg(test)]
    pub fn write_stored(&mut self, data: &[u8]) -> io::Result<()> {
        self.align()?;
        self.crc.update(data);
        for block in data.chunks(STORED_MAX) {
            self.out.extend_from_slice(&stored_block(block));
        }
        Ok(())
    }

    /// Adds the file at `path`, of `size` bytes, uncompressed: read when the body is written.
    pub fn stored_file(&mut self, path: PathBuf, size: u64) -> io::Result<()> {
        self.align()?;
        let out = std::mem::take(&mut self.out);
        let crc = std::mem::replace(&mut self.crc, Crc::new());
        self.segments.push(Segment::Mem(out.into(), crc));
        self.segments.push(Segment::File { path, size });
        Ok(())
    }

    /// Ends the stream (a final block; the CRC-32 and length trailer follow when it is written).
    pub fn finish(mut self) -> io::Result<Plan> {
        self.run(&[], FlushCompress::Finish)?;
        let out = std::mem::take(&mut self.out);
        self.segments.push(Segment::Mem(out.into(), self.crc));
        let len = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Mem(b, _) => b.len() as u64,
                Segment::File { size, .. } => stored_len(*size),
            })
            .sum::<u64>()
            + 8;
        Ok(Plan {
            segments: self.segments,
            len,
        })
    }
}

impl Plan {
    /// The body's length in bytes.
    pub fn size(&self) -> u64 {
        self.len
    }

    /// Writes the body to `sink` piece by piece, reading the stored files now. A file whose size
    /// is not the listed one (changed since) fails the write.
    pub fn write_to(&self, sink: &mut dyn FnMut(Bytes) -> io::Result<()>) -> io::Result<()> {
        let mut total = Crc::new();
        for s in &self.segments {
            match s {
                Segment::Mem(b, crc) => {
                    total.combine(crc);
                    sink(b.clone())?;
                }
                Segment::File { path, size } => {
                    let changed = || {
                        io::Error::other(format!(
                            "{} changed while it was being uploaded (it had {size} bytes when listed)",
                            path.display()
                        ))
                    };
                    let mut f = std::fs::File::open(path)
                        .map_err(|e| io::Error::other(format!("{}: {e}", path.display())))?;
                    let mut left = *size;
                    let mut buf = vec![0u8; STORED_MAX];
                    while left > 0 {
                        let n = usize::try_from(left.min(STORED_MAX as u64)).map_err(err)?;
                        f.read_exact(&mut buf[..n]).map_err(|_| changed())?;
                        total.update(&buf[..n]);
                        sink(stored_block(&buf[..n]).into())?;
                        left -= n as u64;
                    }
                    if f.read(&mut buf[..1])? != 0 {
                        return Err(changed());
                    }
                }
            }
        }
        let mut trailer = Vec::with_capacity(8);
        trailer.extend_from_slice(&total.sum().to_le_bytes());
        trailer.extend_from_slice(&total.amount().to_le_bytes());
        sink(trailer.into())
    }

    /// The whole body in memory.
    #[cfg(test)]
    pub fn to_vec(&self) -> io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(usize::try_from(self.len).unwrap_or(0));
        self.write_to(&mut |b| {
            out.extend_from_slice(&b);
            Ok(())
        })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(b)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn mixed_stored_and_compressed_parts_round_trip() {
        // Pseudo-random bytes (incompressible) between repetitive text: back-references of the
        // text after a stored part must not point into it.
        let mut x = 0x2545_f491_u32;
        let noise: Vec<u8> = (0..200_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        let text = b"Page({ data: { n: 1 } }) // the same words again and again\n".repeat(3000);
        for plan in [
            vec![("t", 0..text.len())],
            vec![("s", 0..noise.len())],
            vec![
                ("t", 0..1000),
                ("s", 0..70_000),
                ("t", 0..text.len()),
                ("s", 5..6),
                ("t", 10..20),
            ],
            vec![("s", 0..10), ("s", 10..65_546), ("t", 0..0), ("s", 0..0)],
        ] {
            let mut g = Gzip::new();
            let mut expected = Vec::new();
            for (kind, r) in plan {
                if kind == "t" {
                    g.write_all(&text[r.clone()]).unwrap();
                    expected.extend_from_slice(&text[r]);
                } else {
                    g.write_stored(&noise[r.clone()]).unwrap();
                    expected.extend_from_slice(&noise[r]);
                }
            }
            let plan = g.finish().unwrap();
            let gz = plan.to_vec().unwrap();
            assert_eq!(gz.len() as u64, plan.size());
            assert_eq!(gunzip(&gz), expected);
        }
    }

    #[test]
    fn stored_files_are_read_when_written_and_must_not_change() {
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..200_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8)
            .collect();
        std::fs::write(dir.path().join("a.png"), &big).unwrap();
        let mut g = Gzip::new();
        g.write_all(b"before ").unwrap();
        g.stored_file(dir.path().join("a.png"), big.len() as u64)
            .unwrap();
        g.write_all(b" after").unwrap();
        let plan = g.finish().unwrap();
        let gz = plan.to_vec().unwrap();
        assert_eq!(
            gz.len() as u64,
            plan.size(),
            "the length is known before writing"
        );
        let mut expected = b"before ".to_vec();
        expected.extend_from_slice(&big);
        expected.extend_from_slice(b" after");
        assert_eq!(gunzip(&gz), expected);
        // Written twice (a retry), the same bytes.
        assert_eq!(plan.to_vec().unwrap(), gz);
        // Grown or shrunk since it was listed: refused.
        for len in [big.len() + 1, big.len() - 1] {
            std::fs::write(
                dir.path().join("a.png"),
                big.iter().copied().cycle().take(len).collect::<Vec<_>>(),
            )
            .unwrap();
            let e = plan.to_vec().unwrap_err();
            assert!(
                e.to_string()
                    .contains("changed while it was being uploaded"),
                "{e}"
            );
        }
    }

    #[test]
    fn text_is_compressed_and_noise_is_not_inflated_much() {
        let text = b"<view class=\"item\"><text>item</text></view>\n".repeat(10_000);
        let mut g = Gzip::new();
        g.write_all(&text).unwrap();
        let gz = g.finish().unwrap().to_vec().unwrap();
        assert!(gz.len() < text.len() / 20, "{} of {}", gz.len(), text.len());
        let noise: Vec<u8> = (0..1_000_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let mut g = Gzip::new();
        g.write_stored(&noise).unwrap();
        let gz = g.finish().unwrap().to_vec().unwrap();
        // 5 bytes per 65,535 plus the header, the final block and the trailer.
        assert!(
            gz.len() <= noise.len() + 5 * 16 + 10 + 5 + 8,
            "{}",
            gz.len()
        );
    }
}
