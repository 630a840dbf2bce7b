//! The slice of shopspring/decimal sprig's float arithmetic goes through
//! (`addf`, `subf`, `mulf`, `divf`): each operand becomes the shortest
//! decimal that round-trips its float64, the arithmetic is exact, division
//! rounds half away from zero to 16 decimal places, and the result is the
//! float64 nearest the decimal. So `addf 0.1 0.2` is `0.3`, as in Loki.

use num_bigint::BigInt;
use num_traits::{Signed, Zero};

#[derive(Debug, Clone)]
pub(crate) struct Decimal {
    value: BigInt,
    exp: i64,
}

/// shopspring's `DivisionPrecision`.
const DIVISION_PRECISION: i64 = 16;

fn pow10(n: i64) -> BigInt {
    num_traits::pow(BigInt::from(10u32), n.max(0) as usize)
}

impl Decimal {
    /// `decimal.NewFromFloat`; NaN and infinities panic in Go, an error here.
    pub fn from_f64(f: f64) -> Result<Decimal, String> {
        if !f.is_finite() {
            return Err(format!(
                "Cannot create a Decimal from {}",
                super::fmt::float_v(f)
            ));
        }
        if f == 0.0 {
            return Ok(Decimal {
                value: BigInt::zero(),
                exp: 0,
            });
        }
        let s = format!("{f:e}");
        let (mant, e) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i64 = e.parse().unwrap_or(0);
        let neg = mant.starts_with('-');
        let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
        let n = digits.len() as i64;
        let mut value: BigInt = digits.parse().unwrap_or_default();
        if neg {
            value = -value;
        }
        Ok(Decimal {
            value,
            exp: e - (n - 1),
        })
    }

    fn rescale(&self, exp: i64) -> BigInt {
        &self.value * pow10(self.exp - exp)
    }

    pub fn add(&self, o: &Decimal) -> Decimal {
        let exp = self.exp.min(o.exp);
        Decimal {
            value: self.rescale(exp) + o.rescale(exp),
            exp,
        }
    }

    pub fn sub(&self, o: &Decimal) -> Decimal {
        let exp = self.exp.min(o.exp);
        Decimal {
            value: self.rescale(exp) - o.rescale(exp),
            exp,
        }
    }

    pub fn mul(&self, o: &Decimal) -> Decimal {
        Decimal {
            value: &self.value * &o.value,
            exp: self.exp + o.exp,
        }
    }

    /// `Decimal.Div`: `DivRound(o, 16)`.
    pub fn div(&self, o: &Decimal) -> Result<Decimal, String> {
        if o.value.is_zero() {
            return Err("decimal division by zero".into());
        }
        let k = self.exp - o.exp + DIVISION_PRECISION;
        let (num, den) = if k >= 0 {
            (&self.value * pow10(k), o.value.clone())
        } else {
            (self.value.clone(), &o.value * pow10(-k))
        };
        let mut q = &num / &den;
        let r = &num % &den;
        let twice: BigInt = r.abs() * 2;
        if twice >= den.abs() {
            if (num.is_negative()) != (den.is_negative()) {
                q -= 1;
            } else {
                q += 1;
            }
        }
        Ok(Decimal {
            value: q,
            exp: -DIVISION_PRECISION,
        })
    }

    /// `Decimal.Float64()`: the nearest float64.
    pub fn to_f64(&self) -> f64 {
        if self.value.is_zero() {
            return 0.0;
        }
        format!("{}e{}", self.value, self.exp)
            .parse()
            .unwrap_or(0.0)
    }
}
