//! A row rule over number, date, datetime and bool columns read in place, evaluated a batch of
//! rows at a time: each node of its expression one loop over the batch, with the rows where it
//! is unknown (an overflow, a division by zero, a NaN compared) carried beside its values, so a
//! row fails exactly where `RowExpr::evaluate` of its cells is false.

use std::borrow::Cow;

use arrow_buffer::{BooleanBuffer, NullBuffer};
use wide::f64x4;

use super::floats::finite_four;
use super::widest;

use crate::rules::row_expr::{python_mod_float, python_mod_int, CExpr, EVal, RowExpr};
use crate::spec::BinaryOp;

/// Rows evaluated together: a node's values for a batch stay in the first-level cache.
const BATCH: usize = 1024;

/// One column's values in a part: a slot under a null holds any value.
pub(super) struct ColumnValues<'a> {
    pub(super) column: usize,
    pub(super) values: Values<'a>,
    pub(super) nulls: Option<&'a NullBuffer>,
    /// The array row of the values' first.
    pub(super) from: usize,
}

pub(super) enum Values<'a> {
    Float(&'a [f64]),
    Int(Cow<'a, [i64]>),
    /// Days or microseconds, as `EVal::Temporal` holds them.
    Temporal(Cow<'a, [i64]>),
    Bool(&'a BooleanBuffer),
}

/// A rule's columns over the same rows: its block row of the first, how many, each column.
pub(super) struct RowsPart<'a> {
    pub(super) first: usize,
    pub(super) len: usize,
    pub(super) columns: Vec<ColumnValues<'a>>,
}

impl RowsPart<'_> {
    fn column(&self, index: usize) -> Option<&ColumnValues<'_>> {
        self.columns.iter().find(|c| c.column == index)
    }
}

/// Whether a batch can evaluate `expr`: every node a number, instant or bool operation on
/// columns `has` holds (strings and date parts are left to the row pass).
pub(super) fn supported(expr: &CExpr, has: &dyn Fn(usize) -> bool) -> bool {
    match expr {
        CExpr::Col(index) | CExpr::IsNull(index) => has(*index),
        CExpr::Lit(value) => !matches!(value, EVal::Str(_)),
        CExpr::Compare(_, l, r, _)
        | CExpr::Arith(_, l, r, _)
        | CExpr::And(l, r)
        | CExpr::Or(l, r) => supported(l, has) && supported(r, has),
        CExpr::Not(e) | CExpr::Neg(e) | CExpr::Abs(e) => supported(e, has),
        CExpr::Isin(e, set) => {
            supported(e, has) && set.iter().all(|value| !matches!(value, EVal::Str(_)))
        }
        _ => false,
    }
}

/// A node's values over a batch, and which of them are known.
struct Lanes {
    values: LaneValues,
    known: Vec<bool>,
}

enum LaneValues {
    Int(Vec<i64>),
    Float(Vec<f64>),
    Temporal(Vec<i64>),
    Bool(Vec<bool>),
    /// Of a type the operation does not take: every row unknown.
    None,
}

/// The block rows where `rule` is false, in order, over `parts` (every node `supported`).
#[inline(always)] // into `widest`'s vector build
pub(super) fn failing_rows(rule: &RowExpr, parts: &[RowsPart<'_>]) -> Vec<u32> {
    let mut failed = Vec::new();
    for part in parts {
        for start in (0..part.len).step_by(BATCH) {
            let rows = start..(start + BATCH).min(part.len);
            // A read column's cell that is not a value (a null, a float that is not finite)
            // leaves the rule unknown for the row.
            let mut known = vec![true; rows.len()];
            for &index in &rule.reads {
                if let Some(column) = part.column(index) {
                    and_known(column, rows.clone(), &mut known);
                }
            }
            let result = eval(&rule.expr, part, rows.clone());
            let LaneValues::Bool(holds) = result.values else {
                continue;
            };
            // A row fails where it is known and false: a byte a row, then eight rows a step,
            // most steps with no failure.
            for ((known, &holds), &value_known) in known.iter_mut().zip(&holds).zip(&result.known) {
                *known &= value_known & !holds;
            }
            let at = part.first + rows.start;
            let mut failing = |from: usize, fails: &[bool]| {
                let rows =
                    (fails.iter().enumerate()).filter_map(|(i, &f)| f.then_some(at + from + i));
                failed.extend(rows.map(super::as_u32));
            };
            let (eights, rest) = known.as_chunks::<8>();
            for (n, eight) in eights.iter().enumerate() {
                if *eight != [false; 8] {
                    failing(8 * n, eight);
                }
            }
            failing(8 * eights.len(), rest);
        }
    }
    failed
}

/// `known` cleared for the rows whose cell of `column` is not a value.
#[inline(always)] // into `widest`'s vector build
fn and_known(column: &ColumnValues<'_>, rows: std::ops::Range<usize>, known: &mut [bool]) {
    let valid_words = super::bits::valid_words(column.nulls, column.from + rows.start, rows.len());
    // A word of validity at a time (a bit looked up a row was an offset and a bounds check).
    for (word, known) in valid_words.as_slice().iter().zip(known.chunks_mut(64)) {
        for (i, known) in known.iter_mut().enumerate() {
            *known &= word >> i & 1 == 1;
        }
    }
    if let Values::Float(values) = column.values {
        // Most batches hold only finite floats: one AND over them (four lanes at a time), and
        // no byte a row.
        if values[rows.clone()]
            .iter()
            .fold(true, |all, x| all & x.is_finite())
        {
            return;
        }
        // Four lanes at a time (`finite_four`): one value at a time does not vectorize.
        let (quads, rest) = values[rows].as_chunks::<4>();
        let (known_quads, known_rest) = known.split_at_mut(4 * quads.len());
        let (known_quads, _) = known_quads.as_chunks_mut::<4>();
        for (known, &quad) in known_quads.iter_mut().zip(quads) {
            // Lane `k`'s bit to byte `k` by one multiply (the four shifted copies never meet).
            let finite = (finite_four(f64x4::new(quad)) * 0x0020_4081) & 0x0101_0101;
            let held = u32::from_le_bytes(known.map(u8::from)) & finite;
            *known = held.to_le_bytes().map(|byte| byte == 1);
        }
        for (known, x) in known_rest.iter_mut().zip(rest) {
            *known &= x.is_finite();
        }
    }
}

fn all_known(len: usize) -> Vec<bool> {
    vec![true; len]
}

fn eval(expr: &CExpr, part: &RowsPart<'_>, rows: std::ops::Range<usize>) -> Lanes {
    let len = rows.len();
    match expr {
        CExpr::Col(index) => {
            let column = part.column(*index).expect("a supported column");
            let values = match &column.values {
                Values::Float(v) => LaneValues::Float(v[rows].to_vec()),
                Values::Int(v) => LaneValues::Int(v[rows].to_vec()),
                Values::Temporal(v) => LaneValues::Temporal(v[rows].to_vec()),
                Values::Bool(v) => {
                    LaneValues::Bool(rows.map(|i| v.value(column.from + i)).collect())
                }
            };
            // Whether a cell is a value is the rule's `reads` test, done once for the row.
            Lanes {
                values,
                known: all_known(len),
            }
        }
        CExpr::IsNull(index) => {
            let column = part.column(*index).expect("a supported column");
            let null = |i: usize| column.nulls.is_some_and(|n| n.is_null(column.from + i));
            Lanes {
                values: LaneValues::Bool(rows.map(null).collect()),
                known: all_known(len),
            }
        }
        CExpr::Lit(value) => Lanes {
            values: match *value {
                EVal::Int(v) => LaneValues::Int(vec![v; len]),
                EVal::Float(v) => LaneValues::Float(vec![v; len]),
                EVal::Temporal(v) => LaneValues::Temporal(vec![v; len]),
                EVal::Bool(v) => LaneValues::Bool(vec![v; len]),
                EVal::Str(_) => LaneValues::None,
            },
            known: all_known(len),
        },
        CExpr::Compare(op, l, r, float) => {
            let (l, r) = (eval(l, part, rows.clone()), eval(r, part, rows));
            compare(*op, l, r, *float)
        }
        CExpr::Arith(op, l, r, float) => {
            let (l, r) = (eval(l, part, rows.clone()), eval(r, part, rows));
            arith(*op, l, r, *float)
        }
        CExpr::And(l, r) => {
            let (l, r) = (eval(l, part, rows.clone()), eval(r, part, rows));
            // `a && b` of known bools: a false `a` decides, an unknown `a` leaves it unknown.
            logic(l, r, false)
        }
        CExpr::Or(l, r) => {
            let (l, r) = (eval(l, part, rows.clone()), eval(r, part, rows));
            logic(l, r, true)
        }
        CExpr::Not(e) => {
            let e = eval(e, part, rows);
            match e.values {
                LaneValues::Bool(v) => Lanes {
                    values: LaneValues::Bool(v.into_iter().map(|b| !b).collect()),
                    known: e.known,
                },
                _ => unknown(len),
            }
        }
        CExpr::Neg(e) => signed(eval(e, part, rows), i64::checked_neg, |f| -f),
        CExpr::Abs(e) => signed(eval(e, part, rows), i64::checked_abs, f64::abs),
        CExpr::Isin(e, set) => {
            let e = eval(e, part, rows);
            // As `EVal`'s equality: a value equals a member of its own kind.
            let values = match &e.values {
                LaneValues::Int(v) => v.iter().map(|&i| set.contains(&EVal::Int(i))).collect(),
                LaneValues::Float(v) => v.iter().map(|&f| set.contains(&EVal::Float(f))).collect(),
                LaneValues::Temporal(v) => v
                    .iter()
                    .map(|&t| set.contains(&EVal::Temporal(t)))
                    .collect(),
                LaneValues::Bool(v) => v.iter().map(|&b| set.contains(&EVal::Bool(b))).collect(),
                LaneValues::None => return unknown(len),
            };
            Lanes {
                values: LaneValues::Bool(values),
                known: e.known,
            }
        }
        _ => unreachable!("evaluated only where `supported`"),
    }
}

/// `-x` or `abs(x)` of a number: an int's by `int` (`None`, an overflow, is unknown), a
/// float's by `float`; of anything else unknown.
fn signed(e: Lanes, int: fn(i64) -> Option<i64>, float: fn(f64) -> f64) -> Lanes {
    match e.values {
        LaneValues::Int(v) => checked(v.into_iter().map(int), e.known),
        LaneValues::Float(v) => Lanes {
            values: LaneValues::Float(v.into_iter().map(float).collect()),
            known: e.known,
        },
        _ => unknown(e.known.len()),
    }
}

fn unknown(len: usize) -> Lanes {
    Lanes {
        values: LaneValues::None,
        known: vec![false; len],
    }
}

/// Integer results where `None` (an overflow) is unknown.
fn checked(results: impl Iterator<Item = Option<i64>>, mut known: Vec<bool>) -> Lanes {
    let values = (results.zip(&mut known))
        .map(|(result, known)| {
            *known &= result.is_some();
            result.unwrap_or_default()
        })
        .collect();
    Lanes {
        values: LaneValues::Int(values),
        known,
    }
}

/// Lanes as floats where the operation promotes them (ints converted; other kinds unknown).
fn floats(lanes: Lanes) -> Option<(Vec<f64>, Vec<bool>)> {
    #[allow(clippy::cast_precision_loss)] // as the row pass promotes an int
    let values = match lanes.values {
        LaneValues::Float(v) => v,
        LaneValues::Int(v) => v.into_iter().map(|i| i as f64).collect(),
        _ => return None,
    };
    Some((values, lanes.known))
}

fn both_known(l: &[bool], r: &[bool]) -> Vec<bool> {
    lanes(l, r, |l, r| l & r)
}

fn compare(op: BinaryOp, l: Lanes, r: Lanes, float: bool) -> Lanes {
    let len = l.known.len();
    if float {
        let (Some((a, ak)), Some((b, bk))) = (floats(l), floats(r)) else {
            return unknown(len);
        };
        return float_compare(op, &a, &b, both_known(&ak, &bk));
    }
    let known = both_known(&l.known, &r.known);
    let values = match (l.values, r.values) {
        (LaneValues::Int(a), LaneValues::Int(b))
        | (LaneValues::Temporal(a), LaneValues::Temporal(b)) => ordered(op, &a, &b),
        (LaneValues::Float(a), LaneValues::Float(b)) => return float_compare(op, &a, &b, known),
        (LaneValues::Bool(a), LaneValues::Bool(b)) => ordered(op, &a, &b),
        _ => return unknown(len),
    };
    Lanes {
        values: LaneValues::Bool(values),
        known,
    }
}

/// `a op b` of floats: a NaN on either side leaves the row unknown (it has no order).
fn float_compare(op: BinaryOp, a: &[f64], b: &[f64], mut known: Vec<bool>) -> Lanes {
    // In `widest`'s vector build: the baseline build tests a value at a time.
    widest(
        #[inline(always)]
        |_| {
            for (known, (a, b)) in known.iter_mut().zip(a.iter().zip(b)) {
                *known &= !(a.is_nan() || b.is_nan());
            }
        },
    );
    Lanes {
        values: LaneValues::Bool(ordered(op, a, b)),
        known,
    }
}

/// `a op b` lane by lane, as `holds` judges the two's order where they have one; the operator
/// chosen once, so each loop is a plain compare the compiler vectorizes.
fn ordered<T: PartialOrd + Copy>(op: BinaryOp, a: &[T], b: &[T]) -> Vec<bool> {
    match op {
        BinaryOp::Eq => lanes(a, b, |a, b| a == b),
        BinaryOp::Ne => lanes(a, b, |a, b| a != b),
        BinaryOp::Lt => lanes(a, b, |a, b| a < b),
        BinaryOp::Le => lanes(a, b, |a, b| a <= b),
        BinaryOp::Gt => lanes(a, b, |a, b| a > b),
        _ => lanes(a, b, |a, b| a >= b),
    }
}

/// `f` of each pair of lanes: generic in `f`, so that its body is inlined into the loop (and
/// the loop into `widest`'s vector build).
#[inline(always)]
fn lanes<T: Copy, U>(a: &[T], b: &[T], f: impl Fn(T, T) -> U) -> Vec<U> {
    widest(
        #[inline(always)]
        |_| a.iter().zip(b).map(|(&a, &b)| f(a, b)).collect(),
    )
}

fn arith(op: BinaryOp, l: Lanes, r: Lanes, float: bool) -> Lanes {
    let len = l.known.len();
    if float {
        let (Some((a, ak)), Some((b, bk))) = (floats(l), floats(r)) else {
            return unknown(len);
        };
        let mut known = both_known(&ak, &bk);
        let values = match op {
            BinaryOp::Add => lanes(&a, &b, |a, b| a + b),
            BinaryOp::Sub => lanes(&a, &b, |a, b| a - b),
            BinaryOp::Mul => lanes(&a, &b, |a, b| a * b),
            _ => {
                // Division and modulo by zero are unknown, as `RowExpr::evaluate` has them.
                for (known, &b) in known.iter_mut().zip(&b) {
                    *known &= b != 0.0;
                }
                match op {
                    BinaryOp::Div => lanes(&a, &b, |a, b| a / b),
                    _ => lanes(&a, &b, python_mod_float),
                }
            }
        };
        return Lanes {
            values: LaneValues::Float(values),
            known,
        };
    }
    let (LaneValues::Int(a), LaneValues::Int(b)) = (l.values, r.values) else {
        return unknown(len);
    };
    let known = both_known(&l.known, &r.known);
    let results = match op {
        BinaryOp::Add => lanes(&a, &b, i64::checked_add),
        BinaryOp::Sub => lanes(&a, &b, i64::checked_sub),
        BinaryOp::Mul => lanes(&a, &b, i64::checked_mul),
        _ => lanes(&a, &b, python_mod_int),
    };
    checked(results.into_iter(), known)
}

/// `l && r` (`or`: false) or `l || r` (`or`: true) as the row pass judges them: `l` unknown
/// leaves the result unknown, `l` equal to `or` decides it, else `r` does.
fn logic(l: Lanes, r: Lanes, or: bool) -> Lanes {
    let len = l.known.len();
    let LaneValues::Bool(a) = l.values else {
        return unknown(len);
    };
    // A right side that is not a bool is unknown wherever it is reached.
    let b = match r.values {
        LaneValues::Bool(b) => Some(b),
        _ => None,
    };
    let mut values = Vec::with_capacity(len);
    let mut known = Vec::with_capacity(len);
    for i in 0..len {
        let decided = l.known[i] && a[i] == or;
        let right = b.as_ref().map(|b| (b[i], r.known[i]));
        values.push(if decided {
            or
        } else {
            right.is_some_and(|(b, _)| b)
        });
        known.push(l.known[i] && (decided || right.is_some_and(|(_, known)| known)));
    }
    Lanes {
        values: LaneValues::Bool(values),
        known,
    }
}
