//! Just enough DER to read when a certificate expires (`tbsCertificate.validity.notAfter`, RFC 5280 §4.1), for the
//! TLS expiry of http checks. No signature is checked here: the TLS stack verified the chain.

/// One DER element: (tag, contents, rest).
fn element(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, b) = b.split_first()?;
    let (&first, mut b) = b.split_first()?;
    let len = if first < 0x80 {
        first as usize
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || b.len() < n {
            return None;
        }
        let len = b[..n].iter().fold(0usize, |a, &x| (a << 8) | x as usize);
        b = &b[n..];
        len
    };
    (b.len() >= len).then(|| (tag, &b[..len], &b[len..]))
}

/// Seconds since the epoch of a UTCTime (`YYMMDDHHMMSSZ`, 1950–2049) or GeneralizedTime (`YYYYMMDDHHMMSSZ`).
fn time(tag: u8, v: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(v).ok()?.strip_suffix('Z')?;
    let digits = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (year, rest) = match tag {
        0x17 if s.len() == 12 => {
            let yy = digits(0..2)?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, 2)
        }
        0x18 if s.len() == 14 => (digits(0..4)?, 4),
        _ => return None,
    };
    let (mo, d) = (digits(rest..rest + 2)?, digits(rest + 2..rest + 4)?);
    let (h, mi, se) = (digits(rest + 4..rest + 6)?, digits(rest + 6..rest + 8)?, digits(rest + 8..rest + 10)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (mo + if mo > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + se)
}

/// When the certificate (DER) stops being valid, in seconds since the epoch.
pub fn not_after(der: &[u8]) -> Option<i64> {
    let (0x30, cert, _) = element(der)? else { return None };
    let (0x30, tbs, _) = element(cert)? else { return None };
    let mut rest = tbs;
    let (tag, _, r) = element(rest)?;
    if tag == 0xa0 {
        rest = r; // explicit version
    }
    // serialNumber, signature, issuer, then validity.
    for want in [0x02, 0x30, 0x30] {
        let (tag, _, r) = element(rest)?;
        if tag != want {
            return None;
        }
        rest = r;
    }
    let (0x30, validity, _) = element(rest)? else { return None };
    let (_, _, after_before) = element(validity)?;
    let (tag, v, _) = element(after_before)?;
    time(tag, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if content.len() < 0x80 {
            v.push(content.len() as u8);
        } else {
            v.extend([0x82, (content.len() >> 8) as u8, content.len() as u8]);
        }
        v.extend_from_slice(content);
        v
    }

    fn cert(not_after: (u8, &str), version: bool, pad: usize) -> Vec<u8> {
        let mut tbs = Vec::new();
        if version {
            tbs.extend(tlv(0xa0, &tlv(0x02, &[2])));
        }
        tbs.extend(tlv(0x02, &[0x01, 0x02]));
        tbs.extend(tlv(0x30, &tlv(0x06, &[0x2a, 0x86, 0x48])));
        tbs.extend(tlv(0x30, &vec![0x31; pad])); // an issuer long enough to need a long length
        let validity = [tlv(0x17, b"240726000000Z"), tlv(not_after.0, not_after.1.as_bytes())].concat();
        tbs.extend(tlv(0x30, &validity));
        tlv(0x30, &[tlv(0x30, &tbs), tlv(0x30, &[]), tlv(0x03, &[0])].concat())
    }

    #[test]
    fn reads_not_after_in_both_time_forms() {
        // 2024-08-11T23:59:59Z = 1723420799 (the Games' closing day).
        assert_eq!(not_after(&cert((0x17, "240811235959Z"), true, 10)), Some(1_723_420_799));
        assert_eq!(not_after(&cert((0x18, "20240811235959Z"), false, 300)), Some(1_723_420_799));
        assert_eq!(not_after(&cert((0x17, "491231000000Z"), true, 0)), Some(2_524_521_600), "2049-12-31");
        assert_eq!(not_after(&cert((0x17, "500101000000Z"), true, 0)), Some(-631_152_000), "1950-01-01");
        assert_eq!(not_after(&cert((0x17, "241311000000Z"), true, 0)), None, "month 13");
        assert_eq!(not_after(&[0x30, 0x05, 0x01]), None, "truncated");
        assert_eq!(not_after(b""), None);
    }
}
