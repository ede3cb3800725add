//! Typed readings of condition values: numbers, dates, booleans, base64 and IP ranges.
//!
//! Every parser returns `None` on bad input; an unreadable value simply matches nothing.

use std::cmp::Ordering;
use std::net::IpAddr;

/// A number as IAM reads it: an exact integer when it is one, otherwise a float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    Int(i128),
    Float(f64),
}

impl Number {
    fn as_f64(self) -> f64 {
        match self {
            // Precision loss is acceptable: the other side is a float anyway.
            Self::Int(i) => i as f64,
            Self::Float(f) => f,
        }
    }

    pub(crate) fn compare(self, other: Self) -> Option<Ordering> {
        match (self, other) {
            (Self::Int(a), Self::Int(b)) => Some(a.cmp(&b)),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }
}

/// `[+-]digits[.digits][e[+-]digits]`; no `NaN`, no `inf`, no hex.
pub(crate) fn parse_number(text: &str) -> Option<Number> {
    let bytes = text.as_bytes();
    let mut i = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    let mut is_float = false;
    if i < bytes.len() && bytes[i] == b'.' {
        is_float = true;
        i += 1;
        let frac_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - frac_start;
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        is_float = true;
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != bytes.len() {
        return None;
    }
    if !is_float {
        if let Ok(int) = text.parse::<i128>() {
            return Some(Number::Int(int));
        }
    }
    text.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Number::Float)
}

/// `true` / `false`, any case.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// A date as nanoseconds since the Unix epoch, from epoch seconds (`1563278400`, `1563278400.5`)
/// or ISO 8601 (`2019-07-16`, `2019-07-16T12:00Z`, `2019-07-16T12:00:00.123+02:00`).
pub(crate) fn parse_date(text: &str) -> Option<i128> {
    if looks_like_epoch(text) {
        return parse_epoch(text);
    }
    parse_iso8601(text)
}

fn looks_like_epoch(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|b| *b == b'.').count() <= 1
}

fn parse_epoch(text: &str) -> Option<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() || whole.len() > 15 {
        return None;
    }
    let seconds: i128 = whole.parse().ok()?;
    let nanos = fraction_nanos(frac)?;
    let total = seconds * NANOS_PER_SECOND + nanos;
    Some(if negative { -total } else { total })
}

/// Up to nine digits of a decimal fraction as nanoseconds; further digits are ignored.
fn fraction_nanos(frac: &str) -> Option<i128> {
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut nanos: i128 = 0;
    for b in frac.bytes().chain(std::iter::repeat(b'0')).take(9) {
        nanos = nanos * 10 + i128::from(b - b'0');
    }
    Some(nanos)
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, count: usize) -> Option<i64> {
        let end = self.pos.checked_add(count)?;
        let slice = self.bytes.get(self.pos..end)?;
        if !slice.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.pos = end;
        Some(
            slice
                .iter()
                .fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0')),
        )
    }

    fn eat(&mut self, options: &[u8]) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        if options.contains(&b) {
            self.pos += 1;
            Some(b)
        } else {
            None
        }
    }

    fn done(&self) -> bool {
        self.pos == self.bytes.len()
    }
}

fn parse_iso8601(text: &str) -> Option<i128> {
    let mut c = Cursor {
        bytes: text.as_bytes(),
        pos: 0,
    };
    let year = c.digits(4)?;
    c.eat(b"-")?;
    let month = c.digits(2)?;
    c.eat(b"-")?;
    let day = c.digits(2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut seconds_of_day = 0i64;
    let mut nanos = 0i128;
    let mut offset_seconds = 0i64;
    if !c.done() {
        c.eat(b"Tt")?;
        let hour = c.digits(2)?;
        c.eat(b":")?;
        let minute = c.digits(2)?;
        let mut second = 0;
        if c.eat(b":").is_some() {
            second = c.digits(2)?;
            if c.eat(b".,").is_some() {
                let start = c.pos;
                while c.bytes.get(c.pos).is_some_and(u8::is_ascii_digit) {
                    c.pos += 1;
                }
                let frac = std::str::from_utf8(&c.bytes[start..c.pos]).ok()?;
                if frac.is_empty() {
                    return None;
                }
                nanos = fraction_nanos(frac)?;
            }
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        seconds_of_day = hour * 3600 + minute * 60 + second;
        if c.eat(b"Zz").is_none() {
            if let Some(sign) = c.eat(b"+-") {
                let oh = c.digits(2)?;
                c.eat(b":");
                let om = c.digits(2)?;
                if oh > 23 || om > 59 {
                    return None;
                }
                let offset = oh * 3600 + om * 60;
                offset_seconds = if sign == b'+' { offset } else { -offset };
            }
        }
        if !c.done() {
            return None;
        }
    }
    let days = days_from_civil(year, month, day);
    let seconds = i128::from(days * 86_400 + seconds_of_day - offset_seconds);
    Some(seconds * NANOS_PER_SECOND + nanos)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (years 0000..=9999).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    // Count from 0000-03-01 so that the leap day ends each "year".
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let year_of_era = y.rem_euclid(400);
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Standard or URL-safe base64, padding optional but correct when present.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let trimmed = text.trim_end_matches('=');
    let padding = text.len() - trimmed.len();
    if padding > 2 || (padding > 0 && text.len() & 3 != 0) {
        return None;
    }
    if trimmed.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for b in trimmed.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    // Leftover bits must be zero, or two encodings would decode alike.
    if acc & ((1 << bits) - 1) != 0 {
        return None;
    }
    Some(out)
}

/// An IPv4 or IPv6 network, `10.0.0.0/8` or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = addr.parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok()?
            }
            Some(_) => return None,
            None => max,
        };
        if prefix > max {
            return None;
        }
        Some(Self { network, prefix })
    }

    pub(crate) fn contains(&self, addr: IpAddr) -> bool {
        let addr = match (self.network, addr) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => return false,
            },
            (_, addr) => addr,
        };
        match (self.network, addr) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// An address from the request (`aws:SourceIp`).
pub(crate) fn parse_ip(text: &str) -> Option<IpAddr> {
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_integers_exactly_and_reject_non_numbers() {
        assert_eq!(parse_number("42"), Some(Number::Int(42)));
        assert_eq!(parse_number("-1.5"), Some(Number::Float(-1.5)));
        assert_eq!(parse_number("1e3"), Some(Number::Float(1000.0)));
        for bad in ["", "-", ".", "NaN", "inf", "1e", "0x10", " 1", "1 "] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
        let big = parse_number("9007199254740993").unwrap();
        let big_minus_one = parse_number("9007199254740992").unwrap();
        assert_eq!(big.compare(big_minus_one), Some(Ordering::Greater));
    }

    #[test]
    fn dates_in_iso8601_and_epoch_agree() {
        let epoch = parse_date("1563278400").unwrap();
        assert_eq!(parse_date("2019-07-16T12:00:00Z"), Some(epoch));
        assert_eq!(parse_date("2019-07-16T12:00Z"), Some(epoch));
        assert_eq!(parse_date("2019-07-16T14:00:00+02:00"), Some(epoch));
        assert_eq!(parse_date("2019-07-16T07:00:00-0500"), Some(epoch));
        assert_eq!(parse_date("2019-07-16T12:00:00"), Some(epoch));
        assert_eq!(
            parse_date("2019-07-16T12:00:00.5Z"),
            Some(epoch + 500_000_000)
        );
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(
            parse_date("2000-03-01"),
            Some(951_868_800 * NANOS_PER_SECOND)
        );
        assert_eq!(
            parse_date("2024-02-29"),
            Some(1_709_164_800 * NANOS_PER_SECOND)
        );
        for bad in [
            "2023-02-29",
            "2019-13-01",
            "2019-07-16T25:00Z",
            "2019-07-16T12",
            "yesterday",
            "2019-07-16Z",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn base64_accepts_both_alphabets_and_rejects_junk() {
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVsbG8").unwrap(), b"hello");
        assert_eq!(
            decode_base64("-_8=").unwrap(),
            decode_base64("+/8=").unwrap()
        );
        assert_eq!(decode_base64("").unwrap(), b"");
        for bad in ["a", "aGVsbG9=", "aGV$bG8=", "aGVsbG8==="] {
            assert!(decode_base64(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn cidr_matches_v4_v6_and_mapped_addresses() {
        let net = Cidr::parse("203.0.113.0/24").unwrap();
        assert!(net.contains(parse_ip("203.0.113.77").unwrap()));
        assert!(!net.contains(parse_ip("203.0.114.1").unwrap()));
        assert!(net.contains(parse_ip("::ffff:203.0.113.9").unwrap()));
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(all.contains(parse_ip("8.8.8.8").unwrap()));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(parse_ip("2001:db8:1::1").unwrap()));
        assert!(!v6.contains(parse_ip("2001:db9::1").unwrap()));
        assert!(!v6.contains(parse_ip("10.0.0.1").unwrap()));
        let host = Cidr::parse("10.1.2.3").unwrap();
        assert!(host.contains(parse_ip("10.1.2.3").unwrap()));
        assert!(!host.contains(parse_ip("10.1.2.4").unwrap()));
        for bad in [
            "10.0.0.0/33",
            "10.0.0/8",
            "::/129",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "x",
        ] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
    }
}
