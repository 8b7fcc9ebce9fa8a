//! Building the executive's generated names (`pid:N`, `app_#N`, `svc:name@N`) without
//! `core::fmt`: on a microcontroller `format!` links the formatting machinery for names
//! that are only ever a prefix, a string and a decimal number.

use alloc::string::String;

/// Append `n` in decimal (what `{n}` would print).
pub(crate) fn push_u32(out: &mut String, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            // `n % 10` is a single digit.
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    for &d in digits.get(i..).unwrap_or_default() {
        out.push(char::from(d));
    }
}

/// `a`, `b` and then `n` in decimal, e.g. `join_num("svc:", "stdio.in", Some(3))` is
/// `svc:stdio.in3`; `None` leaves the number out.
pub(crate) fn join_num(a: &str, b: &str, n: Option<u32>) -> String {
    // Exact capacity: these names live as long as their task, slack would be RAM.
    let digits = n.map_or(0, |n| n.checked_ilog10().map_or(1, |l| l as usize + 1));
    let mut s = String::with_capacity(a.len() + b.len() + digits);
    s.push_str(a);
    s.push_str(b);
    if let Some(n) = n {
        push_u32(&mut s, n);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn decimal_matches_format() {
        for n in [
            0,
            1,
            9,
            10,
            99,
            100,
            12_345,
            999_999_999,
            1_000_000_000,
            u32::MAX,
        ] {
            let mut s = String::from("x");
            push_u32(&mut s, n);
            assert_eq!(s, format!("x{n}"));
        }
        assert_eq!(join_num("pid:", "", Some(7)), "pid:7");
        assert_eq!(join_num("svc:", "stdio.in@", Some(42)), "svc:stdio.in@42");
        assert_eq!(join_num("app:", "demo", None), "app:demo");
    }

    proptest::proptest! {
        #[test]
        fn every_u32_prints_like_format(n: u32) {
            let mut s = String::new();
            push_u32(&mut s, n);
            proptest::prop_assert_eq!(s, format!("{n}"));
        }
    }
}
