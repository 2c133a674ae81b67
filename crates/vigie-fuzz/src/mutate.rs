//! Byte-level mutations, shared by every target: each takes a dictionary of the tokens that matter to its format.

use crate::Rng;

/// Bytes that change how text is read: quotes, delimiters, line ends, NUL, high bytes, the first bytes of BOMs and
/// of multi-byte UTF-8 sequences.
pub const INTERESTING_BYTES: &[u8] =
    b"\"',;\t\r\n\0 \\{}[]<>&=:/@+-._0123456789eE\x7f\x80\x81\x9d\xa0\xbf\xc0\xc2\xc3\xe2\xed\xef\xf0\xf4\xf5\xfe\xff";

/// Numbers at the edges: of integer widths, of floats, of Excel, and not quite numbers.
pub const NUMBERS: &[&[u8]] = &[
    b"0",
    b"-0",
    b"-1",
    b"1e308",
    b"1e309",
    b"-1e309",
    b"1e-400",
    b"4.9e-324",
    b"NaN",
    b"inf",
    b"-inf",
    b"255",
    b"256",
    b"65535",
    b"65536",
    b"2147483647",
    b"2147483648",
    b"4294967295",
    b"4294967296",
    b"9223372036854775807",
    b"9223372036854775808",
    b"-9223372036854775809",
    b"18446744073709551615",
    b"18446744073709551616",
    b"999999999999999999999999999999999999999999999999",
    b"0.00000000000000000000000000000000000000000000001",
    b"1.0000000000000000000000001",
    b"12345678901234567890.123456789",
    b"1 000 000",
    b"1,5",
    b"1.5",
    b"0,0001",
    b"1048576",
    b"1048577",
    b"16384",
    b"2958466",
    b"2958466.99999",
    b"-693594",
    b"0x10",
    b"1_000",
    b"+5",
    b"00000000001",
    b"1.",
    b".5",
    b"1e",
    b"--1",
    b"1e+",
];

/// Text that odd readers trip on: BOMs, invalid and overlong UTF-8, surrogates, bidirectional and invisible
/// characters, a noncharacter, Windows-1252 bytes.
pub const ODD_TEXT: &[&[u8]] = &[
    b"\xEF\xBB\xBF",
    b"\xFF\xFE",
    b"\xFE\xFF",
    b"\xC3\x28",
    b"\xA0\xA1",
    b"\xE2\x28\xA1",
    b"\xF0\x28\x8C\x28",
    b"\xC0\xAF",
    b"\xED\xA0\x80",
    b"\xF4\x90\x80\x80",
    b"\xE9",
    b"\x80\x9F",
    "\u{202E}".as_bytes(),
    "\u{2066}".as_bytes(),
    "\u{200B}".as_bytes(),
    "\u{FEFF}".as_bytes(),
    "\u{00AD}".as_bytes(),
    "\u{2028}".as_bytes(),
    "\u{FFFF}".as_bytes(),
    "\u{E0041}".as_bytes(),
    "\u{0301}\u{0301}\u{0301}".as_bytes(),
    "Е".as_bytes(),
    "é".as_bytes(),
    "𝕏".as_bytes(),
    b"\0",
    b"\x1b[31m",
    b"\r",
];

/// Applies 1 to 4 (sometimes up to 16) random mutations to `data`, keeping it within `max_len` bytes. `dict` holds
/// the tokens of the format; `others` are inputs to splice with.
pub fn mutate(rng: &mut Rng, data: &mut Vec<u8>, dict: &[&[u8]], others: &[&[u8]], max_len: usize) {
    let most = if rng.chance(20) { 16 } else { 4 };
    let n = 1 + rng.below(most);
    for _ in 0..n {
        one(rng, data, dict, others, max_len);
        data.truncate(max_len);
    }
}

fn token<'a>(rng: &mut Rng, dict: &[&'a [u8]]) -> &'a [u8] {
    match rng.below(10) {
        0..=5 if !dict.is_empty() => rng.one_of(dict),
        6 | 7 => rng.one_of(NUMBERS),
        _ => rng.one_of(ODD_TEXT),
    }
}

/// A range of `data`: (start, end).
fn range(rng: &mut Rng, len: usize, max: usize) -> (usize, usize) {
    let start = rng.below(len + 1);
    let end = start + rng.size((len - start).min(max));
    (start, end)
}

fn one(rng: &mut Rng, data: &mut Vec<u8>, dict: &[&[u8]], others: &[&[u8]], max_len: usize) {
    let len = data.len();
    match rng.below(14) {
        0 if len > 0 => {
            let i = rng.below(len);
            data[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            data[i] = *rng.pick(INTERESTING_BYTES);
        }
        2 => {
            let at = rng.below(len + 1);
            let t = token(rng, dict);
            data.splice(at..at, t.iter().copied());
        }
        3 => {
            let at = rng.below(len + 1);
            let n = rng.size(64);
            let b = rng.bytes(n);
            data.splice(at..at, b);
        }
        4 => {
            let (a, b) = range(rng, len, 4096);
            data.drain(a..b);
        }
        5 => {
            let (a, b) = range(rng, len, 4096);
            let chunk = data[a..b].to_vec();
            let at = rng.below(len + 1);
            data.splice(at..at, chunk);
        }
        6 => data.truncate(rng.below(len + 1)),
        7 if !others.is_empty() => {
            let other = *rng.pick(others);
            let a = rng.below(len + 1);
            let b = rng.below(other.len() + 1);
            data.truncate(a);
            data.extend_from_slice(&other[b..]);
        }
        8 => {
            // A huge repeat: a piece of the input, or a token, repeated up to a size drawn up to the limit.
            let piece = if len > 0 && rng.chance(50) {
                let (a, b) = range(rng, len, 256);
                data[a..b.max(a + 1).min(len)].to_vec()
            } else {
                token(rng, dict).to_vec()
            };
            if piece.is_empty() {
                return;
            }
            let target = rng.size(max_len.saturating_sub(len));
            let times = (target / piece.len()).max(1);
            let at = rng.below(len + 1);
            let repeated = piece.repeat(times);
            data.splice(at..at, repeated);
        }
        9 => {
            // Every one of a structural byte becomes another (`,` to `;`, LF to CRLF, quotes…).
            const STRUCT: &[&[u8]] =
                &[b",", b";", b"\t", b"\"", b"'", b"\n", b"\r\n", b"\r", b" ", b"", b"<", b">", b"{", b"[", b":"];
            let from = rng.pick(STRUCT);
            let to = rng.pick(STRUCT);
            if from.len() == 1 {
                let mut out = Vec::with_capacity(data.len());
                for &b in data.iter() {
                    if b == from[0] {
                        out.extend_from_slice(to);
                    } else {
                        out.push(b);
                    }
                }
                *data = out;
            }
        }
        10 => {
            // A number replaced by one at the edges.
            let starts: Vec<usize> = (0..len)
                .filter(|&i| data[i].is_ascii_digit() && (i == 0 || !data[i - 1].is_ascii_digit()))
                .take(10_000)
                .collect();
            if starts.is_empty() {
                return;
            }
            let a = *rng.pick(&starts);
            let mut b = a;
            while b < len && (data[b].is_ascii_digit() || data[b] == b'.' || data[b] == b',') {
                b += 1;
            }
            let n = rng.pick(NUMBERS);
            data.splice(a..b, n.iter().copied());
        }
        11 if len > 0 => {
            // A range overwritten by another.
            let (a, b) = range(rng, len, 512);
            let chunk = data[a..b].to_vec();
            let at = rng.below(len);
            for (i, c) in chunk.into_iter().enumerate() {
                if at + i < data.len() {
                    data[at + i] = c;
                }
            }
        }
        12 => {
            let at = rng.below(len + 1);
            let t = token(rng, dict).repeat(2 + rng.below(15));
            data.splice(at..at, t);
        }
        _ => {
            // A byte replaced by a token (a quote becomes a BOM, a digit a huge number).
            if len > 0 {
                let i = rng.below(len);
                let t = token(rng, dict);
                data.splice(i..i + 1, t.iter().copied());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_stay_within_the_limit_and_are_seeded() {
        let seed = b"id;name\nA;B\n".to_vec();
        let mut changed = 0;
        for i in 0..2000 {
            let mut a = seed.clone();
            let mut b = seed.clone();
            mutate(&mut Rng::for_input(7, i), &mut a, &[b";"], &[b"x,y\n1,2"], 4096);
            mutate(&mut Rng::for_input(7, i), &mut b, &[b";"], &[b"x,y\n1,2"], 4096);
            assert_eq!(a, b, "the same seed makes the same input");
            assert!(a.len() <= 4096);
            changed += usize::from(a != seed);
        }
        assert!(changed > 1800, "only {changed} of 2000 inputs changed");
    }
}
