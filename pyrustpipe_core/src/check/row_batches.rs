//! A row rule over number, date, datetime and bool columns read in place, evaluated a batch of
//! rows at a time: each node of its expression one loop over the batch, with the rows where it
//! is unknown (an overflow, a division by zero, a NaN compared) carried beside its values, so a
//! row fails exactly where `RowExpr::evaluate` of its cells is false.

use std::borrow::Cow;

use arrow_buffer::{BooleanBuffer, NullBuffer};

use crate::rules::row_expr::{holds, python_mod_float, python_mod_int, CExpr, EVal, RowExpr};
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
            for (i, ((&holds, &known), &value_known)) in
                holds.iter().zip(&known).zip(&result.known).enumerate()
            {
                if known && value_known && !holds {
                    failed.push(super::as_u32(part.first + rows.start + i));
                }
            }
        }
    }
    failed
}

/// `known` cleared for the rows whose cell of `column` is not a value.
fn and_known(column: &ColumnValues<'_>, rows: std::ops::Range<usize>, known: &mut [bool]) {
    if let Some(nulls) = column.nulls {
        for (i, known) in known.iter_mut().enumerate() {
            *known &= nulls.is_valid(column.from + rows.start + i);
        }
    }
    if let Values::Float(values) = column.values {
        for (known, x) in known.iter_mut().zip(&values[rows]) {
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
    l.iter().zip(r).map(|(&l, &r)| l && r).collect()
}

fn compare(op: BinaryOp, l: Lanes, r: Lanes, float: bool) -> Lanes {
    let len = l.known.len();
    let judged = |ordering: Option<std::cmp::Ordering>| ordering.map(|o| holds(op, o));
    if float {
        let (Some((a, ak)), Some((b, bk))) = (floats(l), floats(r)) else {
            return unknown(len);
        };
        let results = a.iter().zip(&b).map(|(a, b)| judged(a.partial_cmp(b)));
        return from_results(results, both_known(&ak, &bk));
    }
    let known = both_known(&l.known, &r.known);
    let results: Vec<Option<bool>> = match (l.values, r.values) {
        (LaneValues::Int(a), LaneValues::Int(b))
        | (LaneValues::Temporal(a), LaneValues::Temporal(b)) => a
            .iter()
            .zip(&b)
            .map(|(a, b)| judged(Some(a.cmp(b))))
            .collect(),
        (LaneValues::Float(a), LaneValues::Float(b)) => a
            .iter()
            .zip(&b)
            .map(|(a, b)| judged(a.partial_cmp(b)))
            .collect(),
        (LaneValues::Bool(a), LaneValues::Bool(b)) => a
            .iter()
            .zip(&b)
            .map(|(a, b)| judged(Some(a.cmp(b))))
            .collect(),
        _ => return unknown(len),
    };
    from_results(results.into_iter(), known)
}

/// Bool results where `None` (incomparable) is unknown.
fn from_results(results: impl Iterator<Item = Option<bool>>, mut known: Vec<bool>) -> Lanes {
    let values = (results.zip(&mut known))
        .map(|(result, known)| {
            *known &= result.is_some();
            result.unwrap_or_default()
        })
        .collect();
    Lanes {
        values: LaneValues::Bool(values),
        known,
    }
}

fn arith(op: BinaryOp, l: Lanes, r: Lanes, float: bool) -> Lanes {
    let len = l.known.len();
    if float {
        let (Some((a, ak)), Some((b, bk))) = (floats(l), floats(r)) else {
            return unknown(len);
        };
        let mut known = both_known(&ak, &bk);
        let values = (a.iter().zip(&b).zip(&mut known))
            .map(|((&a, &b), known)| match op {
                BinaryOp::Add => a + b,
                BinaryOp::Sub => a - b,
                BinaryOp::Mul => a * b,
                BinaryOp::Div | BinaryOp::Mod if b == 0.0 => {
                    *known = false;
                    0.0
                }
                BinaryOp::Div => a / b,
                _ => python_mod_float(a, b),
            })
            .collect();
        return Lanes {
            values: LaneValues::Float(values),
            known,
        };
    }
    let (LaneValues::Int(a), LaneValues::Int(b)) = (l.values, r.values) else {
        return unknown(len);
    };
    let known = both_known(&l.known, &r.known);
    let results = a.iter().zip(&b).map(|(&a, &b)| match op {
        BinaryOp::Add => a.checked_add(b),
        BinaryOp::Sub => a.checked_sub(b),
        BinaryOp::Mul => a.checked_mul(b),
        _ => python_mod_int(a, b),
    });
    checked(results, known)
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
