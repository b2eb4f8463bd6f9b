//! The pack format (also `.wxapkg`): a header, an index, then the file bodies. All integers are
//! unsigned 32-bit big-endian.
//!
//! ```text
//! 0      1 byte   0xBE
//! 1      4 bytes  0
//! 5      4 bytes  index length L (including the 4-byte file count)
//! 9      4 bytes  data length D
//! 13     1 byte   0xED
//! 14     L bytes  u32 count, then per file: u32 name length, name (UTF-8, starts with '/'),
//!                 u32 offset (absolute), u32 size
//! 14+L   D bytes  the bodies, in index order
//! ```
//!
//! `unpack` parses untrusted bytes (the emulator receives them from any client): every length and
//! offset is checked before use, and nothing is allocated beyond what the input can hold.

/// Why bytes are not a valid pack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    /// Fewer bytes than the header.
    #[error("pack too short: {0} bytes")]
    TooShort(usize),
    /// The magic bytes are wrong.
    #[error("not a pack: bad magic bytes")]
    BadMagic,
    /// The header's lengths do not add up to the buffer's.
    #[error("pack lengths do not match: header says {header}, buffer has {actual}")]
    LengthMismatch {
        /// 14 + L + D.
        header: u64,
        /// The buffer.
        actual: usize,
    },
    /// The index is cut short or claims more than it holds.
    #[error("pack index is malformed at byte {0}")]
    BadIndex(usize),
    /// A file lies outside the data area.
    #[error("pack entry {name:?} lies outside the data (offset {offset}, size {size})")]
    OutOfBounds {
        /// The entry.
        name: String,
        /// Its offset.
        offset: u32,
        /// Its size.
        size: u32,
    },
    /// A name is not UTF-8, or not an absolute path inside the package (`/a/b.js`: no `..`, no
    /// empty or `.` segments, no backslash or NUL).
    #[error(
        "pack entry name at byte {0} is not a valid path (UTF-8, starting with /, no .. segments)"
    )]
    BadName(usize),
    /// More than 4 GiB.
    #[error("pack too large for the format (over 4 GiB)")]
    TooLarge,
}

const HEADER: usize = 14;

/// The header and index of a pack whose entries have these names and sizes, in order (the
/// bodies follow it, in the same order). Names get a leading `/` if they lack one.
pub fn header<N: AsRef<str>>(entries: &[(N, u64)]) -> Result<Vec<u8>, PackError> {
    let names: Vec<std::borrow::Cow<'_, str>> = entries
        .iter()
        .map(|(n, _)| {
            let n = n.as_ref();
            if n.starts_with('/') {
                n.into()
            } else {
                format!("/{n}").into()
            }
        })
        .collect();
    let u32_of = |n: u64| u32::try_from(n).map_err(|_| PackError::TooLarge);
    let index_len: u64 = 4 + names.iter().map(|n| 12 + n.len() as u64).sum::<u64>();
    let data_len: u64 = entries.iter().map(|(_, s)| *s).sum();
    u32_of(HEADER as u64 + index_len + data_len)?;
    let mut out = Vec::with_capacity(HEADER + index_len as usize);
    out.push(0xBE);
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&u32_of(index_len)?.to_be_bytes());
    out.extend_from_slice(&u32_of(data_len)?.to_be_bytes());
    out.push(0xED);
    out.extend_from_slice(&u32_of(entries.len() as u64)?.to_be_bytes());
    let mut offset = HEADER as u64 + index_len;
    for (name, (_, size)) in names.iter().zip(entries) {
        out.extend_from_slice(&u32_of(name.len() as u64)?.to_be_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&u32_of(offset)?.to_be_bytes());
        out.extend_from_slice(&u32_of(*size)?.to_be_bytes());
        offset += size;
    }
    Ok(out)
}

/// Packs `(name, bytes)` entries in order. Names get a leading `/` if they lack one.
pub fn pack<N: AsRef<str>, B: AsRef<[u8]>>(entries: &[(N, B)]) -> Result<Vec<u8>, PackError> {
    let sizes: Vec<(&str, u64)> = entries
        .iter()
        .map(|(n, b)| (n.as_ref(), b.as_ref().len() as u64))
        .collect();
    let mut out = header(&sizes)?;
    for (_, body) in entries {
        out.extend_from_slice(body.as_ref());
    }
    Ok(out)
}

/// `/a/b.js`: absolute, with real segments only.
fn valid_name(name: &str) -> bool {
    name.len() > 1
        && name.starts_with('/')
        && !name.contains(['\\', '\0'])
        && name[1..]
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Unpacks untrusted bytes into `(name, body)` entries, in index order.
pub fn unpack(buf: &[u8]) -> Result<Vec<(String, Vec<u8>)>, PackError> {
    if buf.len() < HEADER + 4 {
        return Err(PackError::TooShort(buf.len()));
    }
    if buf[0] != 0xBE || buf[13] != 0xED {
        return Err(PackError::BadMagic);
    }
    let index_len = be32(buf, 5).ok_or(PackError::TooShort(buf.len()))? as usize;
    let data_len = be32(buf, 9).ok_or(PackError::TooShort(buf.len()))? as usize;
    let header_total = HEADER as u64 + index_len as u64 + data_len as u64;
    if header_total != buf.len() as u64 || index_len < 4 {
        return Err(PackError::LengthMismatch {
            header: header_total,
            actual: buf.len(),
        });
    }
    let index_end = HEADER + index_len;
    let count = be32(buf, HEADER).ok_or(PackError::BadIndex(HEADER))? as usize;
    // Each entry needs at least 12 index bytes: a count the index cannot hold is a lie.
    if count > (index_len - 4) / 12 {
        return Err(PackError::BadIndex(HEADER));
    }
    let mut entries = Vec::with_capacity(count);
    let mut at = HEADER + 4;
    for _ in 0..count {
        let name_len = be32(buf, at)
            .filter(|_| at + 4 <= index_end)
            .ok_or(PackError::BadIndex(at))? as usize;
        let name_start = at + 4;
        let name_end = name_start
            .checked_add(name_len)
            .filter(|&e| e + 8 <= index_end)
            .ok_or(PackError::BadIndex(at))?;
        let name = std::str::from_utf8(&buf[name_start..name_end])
            .map_err(|_| PackError::BadName(name_start))?
            .to_owned();
        if !valid_name(&name) {
            return Err(PackError::BadName(name_start));
        }
        let offset = be32(buf, name_end).ok_or(PackError::BadIndex(name_end))?;
        let size = be32(buf, name_end + 4).ok_or(PackError::BadIndex(name_end))?;
        let (start, end) = (offset as usize, offset as usize + size as usize);
        if start < index_end || end > buf.len() {
            return Err(PackError::OutOfBounds { name, offset, size });
        }
        entries.push((name, buf[start..end].to_vec()));
        at = name_end + 8;
    }
    if at != index_end {
        return Err(PackError::BadIndex(at));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn layout_matches_the_reference() {
        let p = pack(&[("app.js", b"abc".as_slice()), ("/x/图.png", b"".as_slice())]).unwrap();
        // index: count + (4 + 7 + 8) + (4 + 10 + 8)
        let index_len = 4 + (12 + 7) + (12 + "/x/图.png".len());
        assert_eq!(p[0], 0xBE);
        assert_eq!(&p[1..5], &[0, 0, 0, 0]);
        assert_eq!(be32(&p, 5), Some(index_len as u32));
        assert_eq!(be32(&p, 9), Some(3));
        assert_eq!(p[13], 0xED);
        // the first offset is 18 + 12·n + Σ name lengths
        assert_eq!(
            be32(&p, 14 + 4 + 4 + 7),
            Some((18 + 24 + 7 + "/x/图.png".len()) as u32)
        );
        assert_eq!(
            unpack(&p).unwrap(),
            vec![
                ("/app.js".to_owned(), b"abc".to_vec()),
                ("/x/图.png".to_owned(), vec![])
            ]
        );
    }

    #[test]
    fn hostile_inputs_are_refused_not_trusted() {
        let good = pack(&[("a", b"hello".as_slice())]).unwrap();
        assert_eq!(unpack(&good[..10]), Err(PackError::TooShort(10)));
        let mut bad = good.clone();
        bad[0] = 0;
        assert_eq!(unpack(&bad), Err(PackError::BadMagic));
        let mut lie = good.clone();
        lie[14..18].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(unpack(&lie), Err(PackError::BadIndex(14)));
        let mut oob = good.clone();
        let off_at = 14 + 4 + 4 + 2;
        oob[off_at..off_at + 4].copy_from_slice(&1_000_000u32.to_be_bytes());
        assert!(matches!(unpack(&oob), Err(PackError::OutOfBounds { .. })));
        let mut into_index = good.clone();
        into_index[off_at..off_at + 4].copy_from_slice(&14u32.to_be_bytes());
        assert!(
            matches!(unpack(&into_index), Err(PackError::OutOfBounds { .. })),
            "bodies live after the index"
        );
        let mut long = good;
        long.push(0);
        assert!(matches!(
            unpack(&long),
            Err(PackError::LengthMismatch { .. })
        ));
    }

    #[test]
    fn regression_fuzz_empty_name() {
        // cargo fuzz (fuzz/fuzz_targets/unpack.rs) found that an entry with an empty name was
        // accepted and then could not round-trip; such names are refused now.
        let input = [
            0xbe, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0xed,
            0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1e, 0x00, 0x00,
            0x00, 0x00,
        ];
        assert_eq!(unpack(&input), Err(PackError::BadName(22)));
    }

    proptest! {
        #[test]
        fn round_trip(entries in proptest::collection::vec(("(/[a-z0-9_-][a-z0-9._-]{0,8}){1,3}", proptest::collection::vec(any::<u8>(), 0..64)), 0..12)) {
            let packed = pack(&entries).unwrap();
            let back = unpack(&packed).unwrap();
            prop_assert_eq!(back.len(), entries.len());
            for ((n, b), (bn, bb)) in entries.iter().zip(&back) {
                let want = if n.starts_with('/') { n.clone() } else { format!("/{n}") };
                prop_assert_eq!(bn, &want);
                prop_assert_eq!(bb, b);
            }
        }

        #[test]
        fn unpack_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = unpack(&bytes);
        }

        #[test]
        fn unpack_survives_corrupted_packs(flips in proptest::collection::vec((0usize..200, any::<u8>()), 1..6)) {
            let mut p = pack(&[("app.json", b"{}".as_slice()), ("pages/a.js", b"x".as_slice())]).unwrap();
            for (i, v) in flips {
                let n = p.len();
                p[i % n] = v;
            }
            let _ = unpack(&p);
        }
    }
}
