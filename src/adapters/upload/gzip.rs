//! The upload body's gzip, made for speed: text at the fastest deflate level, and large
//! incompressible files (images, audio) as stored deflate blocks instead of being run through the
//! compressor (it gains about 0.03 % on them for most of the time spent; see docs/benchmarks.md).
//! The output is one ordinary gzip member (RFC 1952) any gunzip reads; WeChat does not care how
//! it was made.

use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use std::io;

/// A stored deflate block holds at most this many bytes.
const STORED_MAX: usize = 65_535;

/// A gzip stream built in memory.
pub struct Gzip {
    out: Vec<u8>,
    z: Compress,
    crc: Crc,
    /// Nothing has gone through the compressor since it was (re)started.
    fresh: bool,
}

fn err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl Gzip {
    /// A stream for about `size_hint` input bytes (the output buffer is reserved for that much,
    /// which costs no memory until written).
    pub fn new(size_hint: u64) -> Self {
        let mut out =
            Vec::with_capacity(usize::try_from(size_hint).unwrap_or(0).saturating_add(1024));
        // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=255 (unknown), as flate2's encoder writes it.
        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
        Self {
            out,
            z: Compress::new(Compression::fast(), false),
            crc: Crc::new(),
            fresh: true,
        }
    }

    fn run(&mut self, mut input: &[u8], flush: FlushCompress) -> io::Result<()> {
        loop {
            self.out.reserve(input.len() / 2 + 4096);
            let before = self.z.total_in();
            let status = self
                .z
                .compress_vec(input, &mut self.out, flush)
                .map_err(err)?;
            let used = usize::try_from(self.z.total_in() - before).map_err(err)?;
            input = &input[used..];
            let room_left = self.out.len() < self.out.capacity();
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

    /// Adds `data` uncompressed, as stored blocks.
    pub fn write_stored(&mut self, data: &[u8]) -> io::Result<()> {
        self.crc.update(data);
        if !self.fresh {
            // Byte-align the compressed part with an empty stored block, and start the compressor
            // afresh afterwards: its back-references must not reach across the stored bytes, which
            // it never saw.
            self.run(&[], FlushCompress::Sync)?;
            self.z.reset();
            self.fresh = true;
        }
        for block in data.chunks(STORED_MAX) {
            let len = u16::try_from(block.len()).map_err(err)?;
            self.out.push(0); // BFINAL=0, BTYPE=00
            self.out.extend_from_slice(&len.to_le_bytes());
            self.out.extend_from_slice(&(!len).to_le_bytes());
            self.out.extend_from_slice(block);
        }
        Ok(())
    }

    /// Ends the stream (a final block, then the CRC-32 and length trailer).
    pub fn finish(mut self) -> io::Result<Vec<u8>> {
        self.run(&[], FlushCompress::Finish)?;
        let (crc, len) = (self.crc.sum(), self.crc.amount());
        self.out.extend_from_slice(&crc.to_le_bytes());
        self.out.extend_from_slice(&len.to_le_bytes());
        Ok(self.out)
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
            let mut g = Gzip::new(0);
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
            let gz = g.finish().unwrap();
            assert_eq!(gunzip(&gz), expected);
        }
    }

    #[test]
    fn text_is_compressed_and_noise_is_not_inflated_much() {
        let text = b"<view class=\"item\"><text>item</text></view>\n".repeat(10_000);
        let mut g = Gzip::new(0);
        g.write_all(&text).unwrap();
        let gz = g.finish().unwrap();
        assert!(gz.len() < text.len() / 20, "{} of {}", gz.len(), text.len());
        let noise: Vec<u8> = (0..1_000_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let mut g = Gzip::new(0);
        g.write_stored(&noise).unwrap();
        let gz = g.finish().unwrap();
        // 5 bytes per 65,535 plus the header, the final block and the trailer.
        assert!(
            gz.len() <= noise.len() + 5 * 16 + 10 + 5 + 8,
            "{}",
            gz.len()
        );
    }
}
