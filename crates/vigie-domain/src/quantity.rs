//! Exact quantities: fixed point with three decimals, so that counts add up and conserve exactly
//! (no floating-point drift when stock is reserved, shipped and received).

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};

/// A quantity in thousandths of the item's unit.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(i64);

/// Why a text is not a quantity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("expected a number (decimal point or decimal comma), found {0:?}")]
    NotANumber(String),
    #[error("at most three decimals are kept, found {0:?}")]
    TooPrecise(String),
    #[error("the number {0:?} is too large")]
    TooLarge(String),
}

impl Quantity {
    pub const ZERO: Quantity = Quantity(0);
    const SCALE: i64 = 1000;

    pub fn from_units(n: i64) -> Quantity {
        Quantity(n * Self::SCALE)
    }
    pub fn from_milli(m: i64) -> Quantity {
        Quantity(m)
    }
    pub fn milli(self) -> i64 {
        self.0
    }
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / Self::SCALE as f64
    }
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }
    /// `self × factor`, for allowances (e.g. 2 plates × 1,200 persons).
    pub fn times(self, factor: i64) -> Quantity {
        Quantity(self.0.saturating_mul(factor))
    }

    /// Parses `12`, `12.5`, `12,5`, `-3`, `1 234,5` (spaces and non-breaking spaces as thousands separators).
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        let bad = || QuantityError::NotANumber(text.to_string());
        let t = text.trim();
        let (neg, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let mut int: i64 = 0;
        let mut frac: i64 = 0;
        let mut frac_digits = 0u32;
        let mut seen_sep = false;
        let mut seen_digit = false;
        for c in digits.chars() {
            match c {
                '0'..='9' => {
                    seen_digit = true;
                    let d = c as i64 - '0' as i64;
                    if seen_sep {
                        frac_digits += 1;
                        if frac_digits > 3 {
                            if d != 0 {
                                return Err(QuantityError::TooPrecise(text.to_string()));
                            }
                            continue;
                        }
                        frac = frac * 10 + d;
                    } else {
                        int = int
                            .checked_mul(10)
                            .and_then(|v| v.checked_add(d))
                            .ok_or_else(|| QuantityError::TooLarge(text.to_string()))?;
                    }
                }
                '.' | ',' if !seen_sep => seen_sep = true,
                ' ' | '\u{a0}' | '\u{202f}' if !seen_sep => {}
                _ => return Err(bad()),
            }
        }
        if !seen_digit {
            return Err(bad());
        }
        while frac_digits < 3 {
            frac *= 10;
            frac_digits += 1;
        }
        let m = int
            .checked_mul(Self::SCALE)
            .and_then(|v| v.checked_add(frac))
            .ok_or_else(|| QuantityError::TooLarge(text.to_string()))?;
        Ok(Quantity(if neg { -m } else { m }))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        let (i, r) = (a / 1000, a % 1000);
        if r == 0 {
            write!(f, "{sign}{i}")
        } else {
            let s = format!("{r:03}");
            write!(f, "{sign}{i}.{}", s.trim_end_matches('0'))
        }
    }
}
impl fmt::Debug for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Add for Quantity {
    type Output = Quantity;
    fn add(self, o: Quantity) -> Quantity {
        Quantity(self.0 + o.0)
    }
}
impl AddAssign for Quantity {
    fn add_assign(&mut self, o: Quantity) {
        self.0 += o.0
    }
}
impl Sub for Quantity {
    type Output = Quantity;
    fn sub(self, o: Quantity) -> Quantity {
        Quantity(self.0 - o.0)
    }
}
impl SubAssign for Quantity {
    fn sub_assign(&mut self, o: Quantity) {
        self.0 -= o.0
    }
}
impl std::iter::Sum for Quantity {
    fn sum<I: Iterator<Item = Quantity>>(it: I) -> Quantity {
        Quantity(it.map(|q| q.0).sum())
    }
}

/// JSON: a number (`12`, `12.5`). Integral values serialize as integers, so counts read naturally.
impl serde::Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 % 1000 == 0 {
            s.serialize_i64(self.0 / 1000)
        } else {
            s.serialize_f64(self.as_f64())
        }
    }
}
impl<'de> serde::Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a quantity")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Quantity, E> {
                v.checked_mul(1000).map(Quantity).ok_or_else(|| E::custom("quantity too large"))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Quantity, E> {
                i64::try_from(v).map_err(E::custom).and_then(|v| self.visit_i64(v))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Quantity, E> {
                Ok(Quantity((v * 1000.0).round() as i64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Quantity, E> {
                Quantity::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expect: Result<&str, QuantityError>) {
        let got = Quantity::parse(input).map(|q| q.to_string());
        assert_eq!(got, expect.map(str::to_string), "input {input:?}");
    }

    #[test]
    fn parsing() {
        check("12", Ok("12"));
        check("12.5", Ok("12.5"));
        check("12,5", Ok("12.5"));
        check("-3", Ok("-3"));
        check("0,125", Ok("0.125"));
        check("1 234,5", Ok("1234.5"));
        check("1\u{a0}234", Ok("1234"));
        check("1.2500", Ok("1.25"));
        check(" 7 ", Ok("7"));
        check("1.2345", Err(QuantityError::TooPrecise("1.2345".into())));
        check("abc", Err(QuantityError::NotANumber("abc".into())));
        check("", Err(QuantityError::NotANumber("".into())));
        check("1,2,3", Err(QuantityError::NotANumber("1,2,3".into())));
        check("99999999999999999", Err(QuantityError::TooLarge("99999999999999999".into())));
    }

    #[test]
    fn arithmetic_is_exact() {
        let tenth = Quantity::parse("0.1").unwrap();
        let sum: Quantity = std::iter::repeat_n(tenth, 10).sum();
        assert_eq!(sum, Quantity::from_units(1));
        assert_eq!(Quantity::from_units(2).times(1200), Quantity::from_units(2400));
    }

    #[test]
    fn json() {
        assert_eq!(serde_json::to_string(&Quantity::parse("3").unwrap()).unwrap(), "3");
        assert_eq!(serde_json::to_string(&Quantity::parse("3,5").unwrap()).unwrap(), "3.5");
        let q: Quantity = serde_json::from_str("2.25").unwrap();
        assert_eq!(q.to_string(), "2.25");
    }
}
