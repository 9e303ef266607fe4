//! Row rules: a spec expression compiled once (column names resolved, literals typed, regexes
//! built, types checked) and evaluated per row over the row's typed cells.

use std::borrow::Cow;

use regex::bytes::Regex;
use serde_json::Value as Json;

use super::pattern::compile_regex;
use crate::error::{Error, Result};
use crate::parse;
use crate::spec::{BinaryOp, DType, DtPart, Expr};
use crate::value::{Cell, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Bool,
    Int,
    Float,
    Str,
    Date,
    DateTime,
    Time,
}

impl Ty {
    fn of(dtype: DType) -> Ty {
        match dtype {
            DType::Str => Ty::Str,
            DType::Int => Ty::Int,
            // Decimals take part in row rules as floats.
            DType::Float | DType::Decimal => Ty::Float,
            DType::Bool => Ty::Bool,
            DType::Date => Ty::Date,
            DType::Datetime => Ty::DateTime,
            DType::Time => Ty::Time,
        }
    }

    fn is_numeric(self) -> bool {
        matches!(self, Ty::Int | Ty::Float)
    }

    fn name(self) -> &'static str {
        match self {
            Ty::Bool => "bool",
            Ty::Int => "int",
            Ty::Float => "float",
            Ty::Str => "str",
            Ty::Date => "date",
            Ty::DateTime => "datetime",
            Ty::Time => "time",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum EVal<'a> {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
    Temporal(i64),
}

#[derive(Debug)]
pub enum CExpr {
    Col(usize),
    Lit(EVal<'static>),
    Compare(BinaryOp, Box<CExpr>, Box<CExpr>, bool),
    Arith(BinaryOp, Box<CExpr>, Box<CExpr>, bool),
    And(Box<CExpr>, Box<CExpr>),
    Or(Box<CExpr>, Box<CExpr>),
    Not(Box<CExpr>),
    Neg(Box<CExpr>),
    Abs(Box<CExpr>),
    Isin(Box<CExpr>, Vec<EVal<'static>>),
    IsNull(usize),
    StrLen(Box<CExpr>),
    StartsWith(Box<CExpr>, String),
    EndsWith(Box<CExpr>, String),
    Contains(Box<CExpr>, String),
    Matches(Box<CExpr>, Regex),
    Lower(Box<CExpr>),
    Upper(Box<CExpr>),
    DtPart(Box<CExpr>, DtPart, Ty),
}

/// What compiling an expression needs to know about columns.
pub trait ColumnLookup {
    /// Index and dtype of a column, adding a plain `str` column when the schema lacks it.
    fn resolve(&mut self, name: &str) -> (usize, DType);
}

pub struct RowExpr {
    pub expr: CExpr,
    /// Columns read other than through `is_null`: a null or unparsed one skips the rule.
    pub reads: Vec<usize>,
    /// `Compare(op, Col(a), Col(b))`, the commonest row rule (`fee <= amount`): two floats
    /// are compared without the general walk.
    column_pair: Option<(BinaryOp, usize, usize)>,
}

impl RowExpr {
    pub fn compile(expr: &Expr, columns: &mut dyn ColumnLookup, at: &str) -> Result<RowExpr> {
        let mut reads = Vec::new();
        let (expr, ty) = compile(expr, columns, &mut reads, at)?;
        if ty != Ty::Bool {
            return Err(Error::schema(
                at,
                format!(
                    "a row rule must be a bool expression, this is {}",
                    ty.name()
                ),
            ));
        }
        reads.sort_unstable();
        reads.dedup();
        let column_pair = match &expr {
            CExpr::Compare(op, l, r, _) => match (&**l, &**r) {
                (CExpr::Col(a), CExpr::Col(b)) => Some((*op, *a, *b)),
                _ => None,
            },
            _ => None,
        };
        Ok(RowExpr {
            expr,
            reads,
            column_pair,
        })
    }

    /// `(op, a, b)` when the rule is `Compare(op, Col(a), Col(b))`.
    pub fn column_pair(&self) -> Option<(BinaryOp, usize, usize)> {
        self.column_pair
    }

    /// Every column whose cell the expression looks at (`reads` and the `is_null` tests).
    pub fn cells_read(&self) -> Vec<usize> {
        let mut columns = Vec::new();
        cells_read(&self.expr, &mut columns);
        columns.sort_unstable();
        columns.dedup();
        columns
    }

    /// `Some(false)` is a violation; `None` means unknown (skipped).
    pub fn evaluate(&self, cells: &[Cell<'_>]) -> Option<bool> {
        if let Some((op, a, b)) = self.column_pair {
            if let (Cell::Ok(Value::Float(x)), Cell::Ok(Value::Float(y))) = (&cells[a], &cells[b]) {
                // As `compare` orders two floats, with or without its float promotion.
                return Some(holds(op, x.partial_cmp(y)?));
            }
        }
        if self.reads.iter().any(|&i| !cells[i].is_known()) {
            return None;
        }
        // A comparison at the top (`fee <= amount`) skips building an `EVal` for its result.
        if let CExpr::Compare(op, l, r, float) = &self.expr {
            return compare(*op, l, r, *float, cells);
        }
        match eval(&self.expr, cells)? {
            EVal::Bool(b) => Some(b),
            _ => None,
        }
    }
}

/// An expression as one line of Python-like text (the rule table's description).
pub fn describe(expr: &Expr) -> String {
    let unary = |name: &str, inner: &Expr| format!("{name}({})", describe(inner));
    let method = |inner: &Expr, call: String| format!("{}.{call}", describe(inner));
    match expr {
        Expr::Col { name } => name.clone(),
        Expr::Lit { value, .. } => value.to_string(),
        Expr::Binary { op, left, right } => {
            let symbol = match op {
                BinaryOp::Eq => "==",
                BinaryOp::Ne => "!=",
                BinaryOp::Lt => "<",
                BinaryOp::Le => "<=",
                BinaryOp::Gt => ">",
                BinaryOp::Ge => ">=",
                BinaryOp::Add => "+",
                BinaryOp::Sub => "-",
                BinaryOp::Mul => "*",
                BinaryOp::Div => "/",
                BinaryOp::Mod => "%",
                BinaryOp::And => "&",
                BinaryOp::Or => "|",
            };
            format!("({} {symbol} {})", describe(left), describe(right))
        }
        Expr::Not { expr } => format!("~{}", describe(expr)),
        Expr::Neg { expr } => format!("-{}", describe(expr)),
        Expr::Abs { expr } => unary("abs", expr),
        Expr::Isin { expr, values } => {
            let listed: Vec<String> = values.iter().map(ToString::to_string).collect();
            method(expr, format!("isin([{}])", listed.join(", ")))
        }
        Expr::IsNull { expr } => method(expr, "is_null()".to_owned()),
        Expr::StrLen { expr } => method(expr, "str.len()".to_owned()),
        Expr::StartsWith { expr, value } => method(expr, format!("str.starts_with({value:?})")),
        Expr::EndsWith { expr, value } => method(expr, format!("str.ends_with({value:?})")),
        Expr::Contains { expr, value } => method(expr, format!("str.contains({value:?})")),
        Expr::Matches { expr, pattern } => method(expr, format!("str.matches({pattern:?})")),
        Expr::Lower { expr } => method(expr, "str.lower()".to_owned()),
        Expr::Upper { expr } => method(expr, "str.upper()".to_owned()),
        Expr::DtPart { expr, part } => {
            method(expr, format!("dt.{}", format!("{part:?}").to_lowercase()))
        }
    }
}

fn literal(value: &Json, dtype: Option<DType>, at: &str) -> Result<(EVal<'static>, Ty)> {
    if let Some(dtype) = dtype {
        let text = match value {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        };
        let bad = || {
            Error::schema(
                at,
                format!("{text:?} is not a valid {} literal", dtype.name()),
            )
        };
        return Ok(match dtype {
            DType::Date => (
                EVal::Temporal(i64::from(
                    parse::parse_date_iso(text.as_bytes()).ok_or_else(bad)?,
                )),
                Ty::Date,
            ),
            DType::Datetime => (
                EVal::Temporal(parse::parse_datetime_iso(text.as_bytes()).ok_or_else(bad)?),
                Ty::DateTime,
            ),
            DType::Time => (
                EVal::Temporal(parse::parse_time_iso(text.as_bytes()).ok_or_else(bad)?),
                Ty::Time,
            ),
            DType::Decimal | DType::Float => (
                EVal::Float(parse::parse_float(text.as_bytes()).ok_or_else(bad)?),
                Ty::Float,
            ),
            DType::Int => (
                EVal::Int(parse::parse_int(text.as_bytes()).ok_or_else(bad)?),
                Ty::Int,
            ),
            DType::Bool => (
                EVal::Bool(parse::parse_bool(text.as_bytes()).ok_or_else(bad)?),
                Ty::Bool,
            ),
            DType::Str => (EVal::Str(Cow::Owned(text)), Ty::Str),
        });
    }
    Ok(match value {
        Json::Bool(b) => (EVal::Bool(*b), Ty::Bool),
        Json::Number(n) => match n.as_i64() {
            Some(i) => (EVal::Int(i), Ty::Int),
            None => (EVal::Float(n.as_f64().unwrap_or(f64::NAN)), Ty::Float),
        },
        Json::String(s) => (EVal::Str(Cow::Owned(s.clone())), Ty::Str),
        other => return Err(Error::schema(at, format!("unsupported literal {other}"))),
    })
}

/// A string literal compared with a temporal expression is read as that temporal type.
fn coerce_literal(expr: CExpr, from: Ty, to: Ty, at: &str) -> Result<(CExpr, Ty)> {
    if let (CExpr::Lit(EVal::Str(text)), Ty::Str) = (&expr, from) {
        let dtype = match to {
            Ty::Date => Some(DType::Date),
            Ty::DateTime => Some(DType::Datetime),
            Ty::Time => Some(DType::Time),
            _ => None,
        };
        if let Some(dtype) = dtype {
            let (value, ty) = literal(&Json::String(text.to_string()), Some(dtype), at)?;
            return Ok((CExpr::Lit(value), ty));
        }
    }
    Ok((expr, from))
}

fn compile(
    expr: &Expr,
    columns: &mut dyn ColumnLookup,
    reads: &mut Vec<usize>,
    at: &str,
) -> Result<(CExpr, Ty)> {
    let sub = |e: &Expr, columns: &mut dyn ColumnLookup, reads: &mut Vec<usize>| {
        compile(e, columns, reads, at)
    };
    let want = |ty: Ty, wanted: &[Ty], what: &str| -> Result<()> {
        if wanted.contains(&ty) {
            Ok(())
        } else {
            Err(Error::schema(
                at,
                format!("{what} needs {}, got {}", names(wanted), ty.name()),
            ))
        }
    };
    Ok(match expr {
        Expr::Col { name } => {
            let (index, dtype) = columns.resolve(name);
            reads.push(index);
            (CExpr::Col(index), Ty::of(dtype))
        }
        Expr::Lit { value, dtype } => {
            let (value, ty) = literal(value, *dtype, at)?;
            (CExpr::Lit(value), ty)
        }
        Expr::Binary { op, left, right } => {
            let (l, lt) = sub(left, columns, reads)?;
            let (r, rt) = sub(right, columns, reads)?;
            let (l, lt) = coerce_literal(l, lt, rt, at)?;
            let (r, rt) = coerce_literal(r, rt, lt, at)?;
            match op {
                BinaryOp::And | BinaryOp::Or => {
                    want(lt, &[Ty::Bool], "and/or")?;
                    want(rt, &[Ty::Bool], "and/or")?;
                    let node = if *op == BinaryOp::And {
                        CExpr::And(Box::new(l), Box::new(r))
                    } else {
                        CExpr::Or(Box::new(l), Box::new(r))
                    };
                    (node, Ty::Bool)
                }
                BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
                    want(lt, &[Ty::Int, Ty::Float], "arithmetic")?;
                    want(rt, &[Ty::Int, Ty::Float], "arithmetic")?;
                    let float = lt == Ty::Float || rt == Ty::Float || *op == BinaryOp::Div;
                    let ty = if float { Ty::Float } else { Ty::Int };
                    (CExpr::Arith(*op, Box::new(l), Box::new(r), float), ty)
                }
                _ => {
                    let comparable = lt == rt || (lt.is_numeric() && rt.is_numeric());
                    if !comparable {
                        return Err(Error::schema(
                            at,
                            format!("cannot compare {} with {}", lt.name(), rt.name()),
                        ));
                    }
                    let float = lt != rt;
                    (
                        CExpr::Compare(*op, Box::new(l), Box::new(r), float),
                        Ty::Bool,
                    )
                }
            }
        }
        Expr::Not { expr } => {
            let (e, ty) = sub(expr, columns, reads)?;
            want(ty, &[Ty::Bool], "~ (not)")?;
            (CExpr::Not(Box::new(e)), Ty::Bool)
        }
        Expr::Neg { expr } => {
            let (e, ty) = sub(expr, columns, reads)?;
            want(ty, &[Ty::Int, Ty::Float], "negation")?;
            (CExpr::Neg(Box::new(e)), ty)
        }
        Expr::Abs { expr } => {
            let (e, ty) = sub(expr, columns, reads)?;
            want(ty, &[Ty::Int, Ty::Float], "abs")?;
            (CExpr::Abs(Box::new(e)), ty)
        }
        Expr::Isin { expr, values } => {
            let (e, ty) = sub(expr, columns, reads)?;
            let mut set = Vec::with_capacity(values.len());
            for value in values {
                let (lit, lit_ty) = literal(value, None, at)?;
                let (lit, lit_ty) = match coerce_literal(CExpr::Lit(lit), lit_ty, ty, at)? {
                    (CExpr::Lit(v), t) => (v, t),
                    _ => unreachable!("coerce_literal keeps literals literal"),
                };
                let lit = match (lit, lit_ty, ty) {
                    #[allow(clippy::cast_precision_loss)]
                    (EVal::Int(i), Ty::Int, Ty::Float) => EVal::Float(i as f64),
                    (v, t, _) if t == ty => v,
                    (_, t, _) => {
                        return Err(Error::schema(
                            at,
                            format!(
                                "isin value of type {} for a {} expression",
                                t.name(),
                                ty.name()
                            ),
                        ))
                    }
                };
                set.push(lit);
            }
            (CExpr::Isin(Box::new(e), set), Ty::Bool)
        }
        Expr::IsNull { expr } => match expr.as_ref() {
            Expr::Col { name } => (CExpr::IsNull(columns.resolve(name).0), Ty::Bool),
            _ => return Err(Error::schema(at, "is_null applies to a column")),
        },
        Expr::StrLen { expr } => {
            let (e, ty) = sub(expr, columns, reads)?;
            want(ty, &[Ty::Str], "str.len")?;
            (CExpr::StrLen(Box::new(e)), Ty::Int)
        }
        Expr::StartsWith { expr, value } => {
            let e = string_operand(expr, columns, reads, at)?;
            (CExpr::StartsWith(Box::new(e), value.clone()), Ty::Bool)
        }
        Expr::EndsWith { expr, value } => {
            let e = string_operand(expr, columns, reads, at)?;
            (CExpr::EndsWith(Box::new(e), value.clone()), Ty::Bool)
        }
        Expr::Contains { expr, value } => {
            let e = string_operand(expr, columns, reads, at)?;
            (CExpr::Contains(Box::new(e), value.clone()), Ty::Bool)
        }
        Expr::Matches { expr, pattern } => {
            let e = string_operand(expr, columns, reads, at)?;
            (
                CExpr::Matches(Box::new(e), compile_regex(pattern, at)?),
                Ty::Bool,
            )
        }
        Expr::Lower { expr } => {
            let e = string_operand(expr, columns, reads, at)?;
            (CExpr::Lower(Box::new(e)), Ty::Str)
        }
        Expr::Upper { expr } => {
            let e = string_operand(expr, columns, reads, at)?;
            (CExpr::Upper(Box::new(e)), Ty::Str)
        }
        Expr::DtPart { expr, part } => {
            let (e, ty) = sub(expr, columns, reads)?;
            let allowed: &[Ty] = match part {
                DtPart::Year | DtPart::Month | DtPart::Day | DtPart::Weekday => {
                    &[Ty::Date, Ty::DateTime]
                }
                DtPart::Hour | DtPart::Minute | DtPart::Second => &[Ty::DateTime, Ty::Time],
            };
            want(ty, allowed, "a date part")?;
            (CExpr::DtPart(Box::new(e), *part, ty), Ty::Int)
        }
    })
}

fn string_operand(
    expr: &Expr,
    columns: &mut dyn ColumnLookup,
    reads: &mut Vec<usize>,
    at: &str,
) -> Result<CExpr> {
    let (e, ty) = compile(expr, columns, reads, at)?;
    if ty != Ty::Str {
        return Err(Error::schema(
            at,
            format!("string functions need str, got {}", ty.name()),
        ));
    }
    Ok(e)
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

#[allow(clippy::cast_precision_loss)]
fn as_float(value: &EVal<'_>) -> Option<f64> {
    match value {
        EVal::Int(i) => Some(*i as f64),
        EVal::Float(f) => Some(*f),
        _ => None,
    }
}

fn cells_read(expr: &CExpr, columns: &mut Vec<usize>) {
    match expr {
        CExpr::Col(index) | CExpr::IsNull(index) => columns.push(*index),
        CExpr::Lit(_) => {}
        CExpr::Compare(_, l, r, _)
        | CExpr::Arith(_, l, r, _)
        | CExpr::And(l, r)
        | CExpr::Or(l, r) => {
            cells_read(l, columns);
            cells_read(r, columns);
        }
        CExpr::Not(e)
        | CExpr::Neg(e)
        | CExpr::Abs(e)
        | CExpr::Isin(e, _)
        | CExpr::StrLen(e)
        | CExpr::StartsWith(e, _)
        | CExpr::EndsWith(e, _)
        | CExpr::Contains(e, _)
        | CExpr::Matches(e, _)
        | CExpr::Lower(e)
        | CExpr::Upper(e)
        | CExpr::DtPart(e, _, _) => cells_read(e, columns),
    }
}

/// How a comparison orders two evaluated operands (`float`: both compared as floats);
/// `None` where they are incomparable (a NaN, mismatched types).
fn ordering(l: &EVal<'_>, r: &EVal<'_>, float: bool) -> Option<std::cmp::Ordering> {
    if float {
        return as_float(l)?.partial_cmp(&as_float(r)?);
    }
    match (l, r) {
        (EVal::Int(a), EVal::Int(b)) | (EVal::Temporal(a), EVal::Temporal(b)) => Some(a.cmp(b)),
        (EVal::Float(a), EVal::Float(b)) => a.partial_cmp(b),
        (EVal::Str(a), EVal::Str(b)) => Some(a.cmp(b)),
        (EVal::Bool(a), EVal::Bool(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

/// A comparison's operand that is a column or a literal of a number, an instant or a bool:
/// compared as it is, without building (and dropping) an `EVal` for it. The commonest row
/// rules (`fee <= amount`, `end >= start`) are such comparisons; evaluated through `eval`
/// they cost ~185 instructions a row, most of it moving `EVal`s.
#[derive(Clone, Copy)]
enum Scalar {
    Int(i64),
    Float(f64),
    Temporal(i64),
    Bool(bool),
}

enum Leaf {
    Scalar(Scalar),
    /// A column whose cell is null or unparsed: the comparison is unknown.
    Unknown,
    /// Anything else (a string, a sub-expression): evaluated by `eval`.
    Other,
}

#[inline]
fn leaf(expr: &CExpr, cells: &[Cell<'_>]) -> Leaf {
    let scalar = match expr {
        CExpr::Col(index) => match cells[*index] {
            Cell::Ok(Value::Int(i)) => Scalar::Int(i),
            Cell::Ok(Value::Float(f)) => Scalar::Float(f),
            Cell::Ok(Value::Decimal(d)) => Scalar::Float(d.to_f64()),
            Cell::Ok(Value::Bool(b)) => Scalar::Bool(b),
            Cell::Ok(Value::Date(d)) => Scalar::Temporal(i64::from(d)),
            Cell::Ok(Value::DateTime(t) | Value::Time(t)) => Scalar::Temporal(t),
            Cell::Ok(Value::Str(_)) => return Leaf::Other,
            _ => return Leaf::Unknown,
        },
        CExpr::Lit(EVal::Int(i)) => Scalar::Int(*i),
        CExpr::Lit(EVal::Float(f)) => Scalar::Float(*f),
        CExpr::Lit(EVal::Temporal(t)) => Scalar::Temporal(*t),
        CExpr::Lit(EVal::Bool(b)) => Scalar::Bool(*b),
        _ => return Leaf::Other,
    };
    Leaf::Scalar(scalar)
}

impl Scalar {
    /// As `eval` orders the same two values: `None` where it finds them incomparable.
    #[allow(clippy::cast_precision_loss)]
    #[inline]
    fn compare(self, other: Scalar, float: bool) -> Option<std::cmp::Ordering> {
        let as_float = |s: Scalar| match s {
            Scalar::Int(i) => Some(i as f64),
            Scalar::Float(f) => Some(f),
            Scalar::Temporal(_) | Scalar::Bool(_) => None,
        };
        if float {
            return as_float(self)?.partial_cmp(&as_float(other)?);
        }
        match (self, other) {
            (Scalar::Int(a), Scalar::Int(b)) | (Scalar::Temporal(a), Scalar::Temporal(b)) => {
                Some(a.cmp(&b))
            }
            (Scalar::Float(a), Scalar::Float(b)) => a.partial_cmp(&b),
            (Scalar::Bool(a), Scalar::Bool(b)) => Some(a.cmp(&b)),
            _ => None,
        }
    }
}

/// `l op r`, `None` where either side is unknown or the two are incomparable.
#[inline]
fn compare(op: BinaryOp, l: &CExpr, r: &CExpr, float: bool, cells: &[Cell<'_>]) -> Option<bool> {
    let ordering = match (leaf(l, cells), leaf(r, cells)) {
        (Leaf::Unknown, _) | (_, Leaf::Unknown) => return None,
        (Leaf::Scalar(a), Leaf::Scalar(b)) => a.compare(b, float)?,
        _ => ordering(&eval(l, cells)?, &eval(r, cells)?, float)?,
    };
    Some(holds(op, ordering))
}

/// Whether `ordering` satisfies the comparison `op`.
#[inline(always)]
fn holds(op: BinaryOp, ordering: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match op {
        BinaryOp::Eq => ordering == Equal,
        BinaryOp::Ne => ordering != Equal,
        BinaryOp::Lt => ordering == Less,
        BinaryOp::Le => ordering != Greater,
        BinaryOp::Gt => ordering == Greater,
        _ => ordering != Less,
    }
}

fn eval<'a>(expr: &CExpr, cells: &[Cell<'a>]) -> Option<EVal<'a>> {
    Some(match expr {
        CExpr::Col(index) => match cells[*index] {
            Cell::Ok(value) => match value {
                Value::Str(s) => EVal::Str(Cow::Borrowed(std::str::from_utf8(s).ok()?)),
                Value::Int(i) => EVal::Int(i),
                Value::Float(f) => EVal::Float(f),
                Value::Decimal(d) => EVal::Float(d.to_f64()),
                Value::Bool(b) => EVal::Bool(b),
                Value::Date(d) => EVal::Temporal(i64::from(d)),
                Value::DateTime(t) | Value::Time(t) => EVal::Temporal(t),
            },
            _ => return None,
        },
        CExpr::Lit(value) => value.clone(),
        CExpr::Compare(op, l, r, float) => EVal::Bool(compare(*op, l, r, *float, cells)?),
        CExpr::Arith(op, l, r, float) => {
            let (l, r) = (eval(l, cells)?, eval(r, cells)?);
            if *float {
                let (a, b) = (as_float(&l)?, as_float(&r)?);
                let result = match op {
                    BinaryOp::Add => a + b,
                    BinaryOp::Sub => a - b,
                    BinaryOp::Mul => a * b,
                    BinaryOp::Div if b == 0.0 => return None,
                    BinaryOp::Div => a / b,
                    BinaryOp::Mod if b == 0.0 => return None,
                    _ => python_mod_float(a, b),
                };
                EVal::Float(result)
            } else {
                let (EVal::Int(a), EVal::Int(b)) = (l, r) else {
                    return None;
                };
                // Overflow makes the rule unknown for the row rather than wrapping silently.
                EVal::Int(match op {
                    BinaryOp::Add => a.checked_add(b)?,
                    BinaryOp::Sub => a.checked_sub(b)?,
                    BinaryOp::Mul => a.checked_mul(b)?,
                    _ => python_mod_int(a, b)?,
                })
            }
        }
        CExpr::And(l, r) => EVal::Bool(truth(eval(l, cells)?)? && truth(eval(r, cells)?)?),
        CExpr::Or(l, r) => EVal::Bool(truth(eval(l, cells)?)? || truth(eval(r, cells)?)?),
        CExpr::Not(e) => EVal::Bool(!truth(eval(e, cells)?)?),
        CExpr::Neg(e) => match eval(e, cells)? {
            EVal::Int(i) => EVal::Int(i.checked_neg()?),
            EVal::Float(f) => EVal::Float(-f),
            _ => return None,
        },
        CExpr::Abs(e) => match eval(e, cells)? {
            EVal::Int(i) => EVal::Int(i.checked_abs()?),
            EVal::Float(f) => EVal::Float(f.abs()),
            _ => return None,
        },
        CExpr::Isin(e, set) => {
            let value = eval(e, cells)?;
            EVal::Bool(set.contains(&value))
        }
        CExpr::IsNull(index) => EVal::Bool(matches!(cells[*index], Cell::Null)),
        CExpr::StrLen(e) => {
            let text = string(eval(e, cells)?)?;
            EVal::Int(i64::try_from(super::length::char_count(text.as_bytes())).ok()?)
        }
        CExpr::StartsWith(e, prefix) => {
            EVal::Bool(string(eval(e, cells)?)?.starts_with(prefix.as_str()))
        }
        CExpr::EndsWith(e, suffix) => {
            EVal::Bool(string(eval(e, cells)?)?.ends_with(suffix.as_str()))
        }
        CExpr::Contains(e, needle) => {
            EVal::Bool(string(eval(e, cells)?)?.contains(needle.as_str()))
        }
        CExpr::Matches(e, regex) => EVal::Bool(regex.is_match(string(eval(e, cells)?)?.as_bytes())),
        CExpr::Lower(e) => EVal::Str(Cow::Owned(string(eval(e, cells)?)?.to_lowercase())),
        CExpr::Upper(e) => EVal::Str(Cow::Owned(string(eval(e, cells)?)?.to_uppercase())),
        CExpr::DtPart(e, part, ty) => {
            let EVal::Temporal(raw) = eval(e, cells)? else {
                return None;
            };
            EVal::Int(date_part(raw, *part, *ty))
        }
    })
}

/// `a % b` as Python computes it (the result takes the divisor's sign): rules are written in
/// Python, so `row.x % 7` must mean what it means there.
pub(crate) fn python_mod_int(a: i64, b: i64) -> Option<i64> {
    let r = a.checked_rem(b)?;
    Some(if r != 0 && (r < 0) != (b < 0) {
        r + b
    } else {
        r
    })
}

pub(crate) fn python_mod_float(a: f64, b: f64) -> f64 {
    let r = a % b;
    if r != 0.0 && (r < 0.0) != (b < 0.0) {
        r + b
    } else {
        r
    }
}

fn truth(value: EVal<'_>) -> Option<bool> {
    match value {
        EVal::Bool(b) => Some(b),
        _ => None,
    }
}

fn string(value: EVal<'_>) -> Option<Cow<'_, str>> {
    match value {
        EVal::Str(s) => Some(s),
        _ => None,
    }
}

fn date_part(raw: i64, part: DtPart, ty: Ty) -> i64 {
    let (days, micros_of_day) = match ty {
        Ty::Date => (raw, 0),
        Ty::Time => (0, raw),
        _ => (
            raw.div_euclid(MICROS_PER_DAY),
            raw.rem_euclid(MICROS_PER_DAY),
        ),
    };
    let days = i32::try_from(days).unwrap_or(0);
    let (year, month, day) = parse::civil_from_days(days);
    let seconds = micros_of_day / 1_000_000;
    match part {
        DtPart::Year => i64::from(year),
        DtPart::Month => i64::from(month),
        DtPart::Day => i64::from(day),
        DtPart::Weekday => i64::from(parse::weekday_from_days(days)),
        DtPart::Hour => seconds / 3600,
        DtPart::Minute => seconds / 60 % 60,
        DtPart::Second => seconds % 60,
    }
}

fn names(tys: &[Ty]) -> String {
    tys.iter()
        .map(|t| t.name())
        .collect::<Vec<_>>()
        .join(" or ")
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value as Json};

    use super::*;
    use crate::value::TypeParser;

    const AT: &str = "row_rules[0]";

    /// The columns every case can read; `other` is not declared and reads as `str`.
    const COLUMNS: [(&str, DType); 9] = [
        ("a", DType::Int),
        ("b", DType::Int),
        ("x", DType::Float),
        ("m", DType::Decimal),
        ("s", DType::Str),
        ("f", DType::Bool),
        ("d", DType::Date),
        ("t", DType::Datetime),
        ("h", DType::Time),
    ];

    struct Columns(Vec<(String, DType)>);

    impl ColumnLookup for Columns {
        fn resolve(&mut self, name: &str) -> (usize, DType) {
            if let Some(index) = self.0.iter().position(|(n, _)| n == name) {
                return (index, self.0[index].1);
            }
            self.0.push((name.to_owned(), DType::Str));
            (self.0.len() - 1, DType::Str)
        }
    }

    fn columns() -> Columns {
        Columns(COLUMNS.iter().map(|(n, t)| ((*n).to_owned(), *t)).collect())
    }

    fn compile(expr: &Json) -> Result<(RowExpr, Columns)> {
        let expr: Expr = serde_json::from_value(expr.clone()).expect("a spec expression");
        let mut columns = columns();
        let compiled = RowExpr::compile(&expr, &mut columns, AT)?;
        Ok((compiled, columns))
    }

    /// A row as `(column, text)`; other columns are null.
    type Row = Vec<(&'static str, &'static str)>;

    /// Evaluate `expr` on `row`.
    fn evaluate(expr: &Json, row: &[(&str, &str)]) -> Option<bool> {
        let (compiled, columns) = compile(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        // The check loop keeps only the cells `cells_read` names for the row pass.
        let read = compiled.cells_read();
        assert!(compiled.reads.iter().all(|c| read.contains(c)), "{expr}");
        let cells: Vec<Cell<'_>> = columns
            .0
            .iter()
            .map(|(name, dtype)| match row.iter().find(|(n, _)| n == name) {
                None => Cell::Null,
                Some((_, text)) => TypeParser::for_dtype(*dtype)
                    .parse(text.as_bytes())
                    .map_or(Cell::Invalid, Cell::Ok),
            })
            .collect();
        compiled.evaluate(&cells)
    }

    fn col(name: &str) -> Json {
        json!({"type": "col", "name": name})
    }
    fn lit(value: Json) -> Json {
        json!({"type": "lit", "value": value})
    }
    fn typed(value: &str, dtype: &str) -> Json {
        json!({"type": "lit", "value": value, "dtype": dtype})
    }
    fn bin(op: &str, left: Json, right: Json) -> Json {
        json!({"type": "binary", "op": op, "left": left, "right": right})
    }
    fn un(kind: &str, expr: Json) -> Json {
        json!({"type": kind, "expr": expr})
    }
    fn text_fn(kind: &str, expr: Json, value: &str) -> Json {
        json!({"type": kind, "expr": expr, "value": value})
    }
    fn part(expr: Json, part: &str) -> Json {
        json!({"type": "dt_part", "expr": expr, "part": part})
    }
    fn eq(left: Json, right: Json) -> Json {
        bin("eq", left, right)
    }

    #[test]
    fn compile_errors() {
        let cases: Vec<(Json, &str)> = vec![
            (
                col("a"),
                "a row rule must be a bool expression, this is int",
            ),
            (
                bin("add", col("a"), col("b")),
                "a row rule must be a bool expression, this is int",
            ),
            (eq(col("s"), col("a")), "cannot compare str with int"),
            (eq(col("d"), col("t")), "cannot compare date with datetime"),
            (
                bin("lt", col("f"), lit(json!(1))),
                "cannot compare bool with int",
            ),
            (
                eq(bin("add", col("s"), col("a")), col("a")),
                "arithmetic needs int or float, got str",
            ),
            (
                eq(bin("mul", col("a"), col("d")), col("a")),
                "arithmetic needs int or float, got date",
            ),
            (bin("and", col("f"), col("a")), "and/or needs bool, got int"),
            (bin("or", col("s"), col("f")), "and/or needs bool, got str"),
            (un("not", col("a")), "~ (not) needs bool, got int"),
            (
                eq(un("neg", col("s")), col("s")),
                "negation needs int or float, got str",
            ),
            (
                eq(un("abs", col("d")), col("d")),
                "abs needs int or float, got date",
            ),
            (
                json!({"type": "isin", "expr": col("a"), "values": ["x"]}),
                "isin value of type str for a int expression",
            ),
            (
                json!({"type": "isin", "expr": col("s"), "values": [1]}),
                "isin value of type int for a str expression",
            ),
            (
                json!({"type": "isin", "expr": col("d"), "values": ["2024-02-30"]}),
                "\"2024-02-30\" is not a valid date literal",
            ),
            (
                un("is_null", un("lower", col("s"))),
                "is_null applies to a column",
            ),
            (
                eq(un("str_len", col("a")), col("a")),
                "str.len needs str, got int",
            ),
            (
                text_fn("starts_with", col("a"), "1"),
                "string functions need str, got int",
            ),
            (
                text_fn("ends_with", col("d"), "1"),
                "string functions need str, got date",
            ),
            (
                text_fn("contains", col("f"), "1"),
                "string functions need str, got bool",
            ),
            (
                json!({"type": "matches", "expr": col("x"), "pattern": "1"}),
                "string functions need str, got float",
            ),
            (
                eq(un("lower", col("a")), col("s")),
                "string functions need str, got int",
            ),
            (
                eq(un("upper", col("t")), col("s")),
                "string functions need str, got datetime",
            ),
            (
                eq(part(col("h"), "year"), col("a")),
                "a date part needs date or datetime, got time",
            ),
            (
                eq(part(col("d"), "hour"), col("a")),
                "a date part needs datetime or time, got date",
            ),
            (
                eq(part(col("s"), "day"), col("a")),
                "a date part needs date or datetime, got str",
            ),
            (
                eq(col("d"), typed("2024-13-01", "date")),
                "\"2024-13-01\" is not a valid date literal",
            ),
            (
                eq(col("t"), typed("noon", "datetime")),
                "\"noon\" is not a valid datetime literal",
            ),
            (
                eq(col("h"), typed("24:00", "time")),
                "\"24:00\" is not a valid time literal",
            ),
            (
                eq(col("m"), typed("1.2.3", "decimal")),
                "\"1.2.3\" is not a valid decimal literal",
            ),
            (
                eq(col("a"), typed("1.5", "int")),
                "\"1.5\" is not a valid int literal",
            ),
            (
                eq(col("d"), lit(json!("yesterday"))),
                "\"yesterday\" is not a valid date literal",
            ),
            (eq(col("a"), lit(json!(null))), "unsupported literal null"),
            (eq(col("a"), lit(json!([1]))), "unsupported literal [1]"),
        ];
        for (expr, want) in cases {
            let Err(err) = compile(&expr) else {
                panic!("{expr} compiled; wanted {want}");
            };
            assert_eq!(
                err.to_string(),
                format!("invalid rule spec at {AT}: {want}"),
                "{expr}"
            );
        }
        let err = compile(&json!({"type": "matches", "expr": col("s"), "pattern": "("}))
            .err()
            .expect("a bad regex");
        assert!(err.to_string().contains("invalid pattern \"(\""), "{err}");
    }

    #[test]
    fn reads_skip_nulls_but_is_null_does_not() {
        let (compiled, _) = compile(&bin(
            "or",
            un("is_null", col("a")),
            bin("gt", col("b"), lit(json!(0))),
        ))
        .unwrap();
        assert_eq!(compiled.reads, [1]);
        let (compiled, columns) = compile(&text_fn("contains", col("other"), "x")).unwrap();
        assert_eq!(compiled.reads, [COLUMNS.len()]);
        assert_eq!(columns.0[COLUMNS.len()], ("other".to_owned(), DType::Str));
    }

    #[test]
    fn evaluates_every_node() {
        // (expression, row, result): `None` is "unknown", a skipped row.
        let n = |v: i64| lit(json!(v));
        let cases: Vec<(Json, Row, Option<bool>)> = vec![
            // Comparisons, on each type.
            (eq(col("a"), n(1)), vec![("a", "1")], Some(true)),
            (eq(col("a"), n(1)), vec![("a", "2")], Some(false)),
            (bin("ne", col("a"), n(1)), vec![("a", "2")], Some(true)),
            (bin("ne", col("a"), n(1)), vec![("a", "1")], Some(false)),
            (
                bin("lt", col("a"), col("b")),
                vec![("a", "1"), ("b", "2")],
                Some(true),
            ),
            (
                bin("lt", col("a"), col("b")),
                vec![("a", "2"), ("b", "2")],
                Some(false),
            ),
            (
                bin("le", col("a"), col("b")),
                vec![("a", "2"), ("b", "2")],
                Some(true),
            ),
            (
                bin("le", col("a"), col("b")),
                vec![("a", "3"), ("b", "2")],
                Some(false),
            ),
            (
                bin("gt", col("a"), col("b")),
                vec![("a", "3"), ("b", "2")],
                Some(true),
            ),
            (
                bin("gt", col("a"), col("b")),
                vec![("a", "2"), ("b", "2")],
                Some(false),
            ),
            (
                bin("ge", col("a"), col("b")),
                vec![("a", "2"), ("b", "2")],
                Some(true),
            ),
            (
                bin("ge", col("a"), col("b")),
                vec![("a", "1"), ("b", "2")],
                Some(false),
            ),
            (
                bin("gt", col("a"), col("x")),
                vec![("a", "2"), ("x", "1.5")],
                Some(true),
            ),
            (
                bin("gt", col("a"), col("x")),
                vec![("a", "1"), ("x", "1.5")],
                Some(false),
            ),
            (
                bin("gt", col("m"), lit(json!(1.5))),
                vec![("m", "1.51")],
                Some(true),
            ),
            (
                bin("gt", col("m"), lit(json!(1.5))),
                vec![("m", "1.50")],
                Some(false),
            ),
            (
                eq(col("s"), lit(json!("abc"))),
                vec![("s", "abc")],
                Some(true),
            ),
            (
                bin("lt", col("s"), lit(json!("abc"))),
                vec![("s", "abd")],
                Some(false),
            ),
            (
                eq(col("f"), lit(json!(true))),
                vec![("f", "yes")],
                Some(true),
            ),
            (
                eq(col("f"), lit(json!(true))),
                vec![("f", "0")],
                Some(false),
            ),
            (
                bin("ge", col("d"), lit(json!("2024-01-01"))),
                vec![("d", "2024-01-01")],
                Some(true),
            ),
            (
                bin("ge", col("d"), lit(json!("2024-01-01"))),
                vec![("d", "2023-12-31")],
                Some(false),
            ),
            (
                bin("lt", col("t"), typed("2024-01-01T00:00:00Z", "datetime")),
                vec![("t", "2023-12-31T23:59:59")],
                Some(true),
            ),
            (
                bin("lt", col("t"), lit(json!("2024-01-01T00:00:00Z"))),
                vec![("t", "2024-01-01T01:00:00+01:00")],
                Some(false),
            ),
            (
                bin("gt", col("h"), lit(json!("12:00"))),
                vec![("h", "12:00:01")],
                Some(true),
            ),
            (
                bin("gt", col("h"), typed("12:00", "time")),
                vec![("h", "11:59")],
                Some(false),
            ),
            (
                eq(col("m"), typed("0.1", "decimal")),
                vec![("m", "0.10")],
                Some(true),
            ),
            (
                eq(col("a"), typed("7", "int")),
                vec![("a", "007")],
                Some(true),
            ),
            // Arithmetic: int stays int except `div`; `mod` takes the divisor's sign.
            (
                eq(bin("add", col("a"), col("b")), n(5)),
                vec![("a", "2"), ("b", "3")],
                Some(true),
            ),
            (
                eq(bin("add", col("a"), col("b")), n(5)),
                vec![("a", "2"), ("b", "4")],
                Some(false),
            ),
            (
                eq(bin("sub", col("a"), col("b")), n(-1)),
                vec![("a", "2"), ("b", "3")],
                Some(true),
            ),
            (
                eq(bin("mul", col("a"), col("b")), n(6)),
                vec![("a", "2"), ("b", "3")],
                Some(true),
            ),
            (
                eq(bin("div", col("a"), col("b")), lit(json!(0.5))),
                vec![("a", "1"), ("b", "2")],
                Some(true),
            ),
            (
                eq(bin("div", col("a"), col("b")), n(0)),
                vec![("a", "1"), ("b", "2")],
                Some(false),
            ),
            (
                eq(bin("mod", col("a"), col("b")), n(2)),
                vec![("a", "-7"), ("b", "3")],
                Some(true),
            ),
            (
                eq(bin("mod", col("a"), col("b")), n(-2)),
                vec![("a", "7"), ("b", "-3")],
                Some(true),
            ),
            (
                eq(bin("mod", col("x"), lit(json!(2.0))), lit(json!(0.5))),
                vec![("x", "-1.5")],
                Some(true),
            ),
            (
                eq(bin("add", col("x"), col("a")), lit(json!(3.5))),
                vec![("x", "1.5"), ("a", "2")],
                Some(true),
            ),
            // Division or modulo by zero, and int overflow, are unknown rather than a failure.
            (
                eq(bin("div", col("a"), col("b")), n(0)),
                vec![("a", "1"), ("b", "0")],
                None,
            ),
            (
                eq(bin("mod", col("a"), col("b")), n(0)),
                vec![("a", "1"), ("b", "0")],
                None,
            ),
            (
                eq(bin("mod", col("x"), lit(json!(0.0))), n(0)),
                vec![("x", "1")],
                None,
            ),
            (
                eq(bin("mul", col("a"), col("b")), n(0)),
                vec![("a", "9223372036854775807"), ("b", "2")],
                None,
            ),
            (
                eq(bin("add", col("a"), n(1)), n(0)),
                vec![("a", "9223372036854775807")],
                None,
            ),
            (
                eq(bin("sub", col("a"), n(1)), n(0)),
                vec![("a", "-9223372036854775808")],
                None,
            ),
            // Negation and abs.
            (eq(un("neg", col("a")), n(-3)), vec![("a", "3")], Some(true)),
            (
                eq(un("neg", col("x")), lit(json!(1.5))),
                vec![("x", "-1.5")],
                Some(true),
            ),
            (
                eq(un("neg", col("a")), n(0)),
                vec![("a", "-9223372036854775808")],
                None,
            ),
            (eq(un("abs", col("a")), n(3)), vec![("a", "-3")], Some(true)),
            (eq(un("abs", col("a")), n(3)), vec![("a", "3")], Some(true)),
            (
                eq(un("abs", col("a")), n(3)),
                vec![("a", "-4")],
                Some(false),
            ),
            (
                eq(un("abs", col("x")), lit(json!(1.5))),
                vec![("x", "-1.5")],
                Some(true),
            ),
            (
                bin("le", un("abs", bin("sub", col("a"), col("b"))), n(1)),
                vec![("a", "5"), ("b", "7")],
                Some(false),
            ),
            (
                eq(un("abs", col("a")), n(0)),
                vec![("a", "-9223372036854775808")],
                None,
            ),
            // Boolean logic.
            (
                bin("and", bin("gt", col("a"), n(0)), bin("gt", col("b"), n(0))),
                vec![("a", "1"), ("b", "1")],
                Some(true),
            ),
            (
                bin("and", bin("gt", col("a"), n(0)), bin("gt", col("b"), n(0))),
                vec![("a", "1"), ("b", "0")],
                Some(false),
            ),
            (
                bin("or", bin("gt", col("a"), n(0)), bin("gt", col("b"), n(0))),
                vec![("a", "0"), ("b", "1")],
                Some(true),
            ),
            (
                bin("or", bin("gt", col("a"), n(0)), bin("gt", col("b"), n(0))),
                vec![("a", "0"), ("b", "0")],
                Some(false),
            ),
            (
                un("not", bin("gt", col("a"), n(0))),
                vec![("a", "0")],
                Some(true),
            ),
            (
                un("not", bin("gt", col("a"), n(0))),
                vec![("a", "1")],
                Some(false),
            ),
            (un("not", col("f")), vec![("f", "false")], Some(true)),
            // Membership, with literals read as the expression's type.
            (
                json!({"type": "isin", "expr": col("a"), "values": [1, 2]}),
                vec![("a", "02")],
                Some(true),
            ),
            (
                json!({"type": "isin", "expr": col("a"), "values": [1, 2]}),
                vec![("a", "3")],
                Some(false),
            ),
            (
                json!({"type": "isin", "expr": col("x"), "values": [1, 2.5]}),
                vec![("x", "1.0")],
                Some(true),
            ),
            (
                json!({"type": "isin", "expr": col("s"), "values": ["x", "y"]}),
                vec![("s", "y")],
                Some(true),
            ),
            (
                json!({"type": "isin", "expr": col("s"), "values": ["x", "y"]}),
                vec![("s", "Y")],
                Some(false),
            ),
            (
                json!({"type": "isin", "expr": col("d"), "values": ["2024-01-01"]}),
                vec![("d", "2024-01-01")],
                Some(true),
            ),
            (
                json!({"type": "isin", "expr": col("d"), "values": ["2024-01-01"]}),
                vec![("d", "2024-01-02")],
                Some(false),
            ),
            // is_null, and is_not_null (the DSL's `~is_null`); a null column it names is known.
            (un("is_null", col("a")), vec![], Some(true)),
            (un("is_null", col("a")), vec![("a", "1")], Some(false)),
            (
                un("not", un("is_null", col("a"))),
                vec![("a", "1")],
                Some(true),
            ),
            (un("not", un("is_null", col("a"))), vec![], Some(false)),
            (
                bin("or", un("is_null", col("a")), bin("gt", col("b"), n(0))),
                vec![("b", "0")],
                Some(true),
            ),
            // ...but read elsewhere in the expression too, a null column still skips the row.
            (
                bin("or", un("is_null", col("a")), bin("gt", col("a"), n(0))),
                vec![],
                None,
            ),
            // A null or unparsed column read by the expression makes the row unknown.
            (bin("gt", col("a"), n(0)), vec![], None),
            (bin("gt", col("a"), n(0)), vec![("a", "abc")], None),
            (
                bin("or", un("is_null", col("b")), bin("gt", col("a"), n(0))),
                vec![("b", "1")],
                None,
            ),
            // The .str namespace.
            (
                eq(un("str_len", col("s")), n(3)),
                vec![("s", "héé")],
                Some(true),
            ),
            (
                eq(un("str_len", col("s")), n(3)),
                vec![("s", "abcd")],
                Some(false),
            ),
            (
                eq(un("str_len", col("s")), n(0)),
                vec![("s", "")],
                Some(true),
            ),
            (
                text_fn("starts_with", col("s"), "TX"),
                vec![("s", "TX12")],
                Some(true),
            ),
            (
                text_fn("starts_with", col("s"), "TX"),
                vec![("s", "12TX")],
                Some(false),
            ),
            (
                text_fn("ends_with", col("s"), ".com"),
                vec![("s", "a@b.com")],
                Some(true),
            ),
            (
                text_fn("ends_with", col("s"), ".com"),
                vec![("s", "a@b.comm")],
                Some(false),
            ),
            (
                text_fn("contains", col("s"), "@"),
                vec![("s", "a@b")],
                Some(true),
            ),
            (
                text_fn("contains", col("s"), "@"),
                vec![("s", "ab")],
                Some(false),
            ),
            (
                text_fn("contains", col("other"), "é"),
                vec![("other", "café")],
                Some(true),
            ),
            (
                json!({"type": "matches", "expr": col("s"), "pattern": "[0-9]{3}"}),
                vec![("s", "ab123")],
                Some(true),
            ),
            (
                json!({"type": "matches", "expr": col("s"), "pattern": "^[0-9]{3}$"}),
                vec![("s", "ab123")],
                Some(false),
            ),
            (
                eq(un("lower", col("s")), lit(json!("abc"))),
                vec![("s", "AbC")],
                Some(true),
            ),
            (
                eq(un("lower", col("s")), lit(json!("abc"))),
                vec![("s", "AbD")],
                Some(false),
            ),
            (
                eq(un("upper", col("s")), lit(json!("ÉTÉ"))),
                vec![("s", "été")],
                Some(true),
            ),
            (
                eq(un("upper", col("s")), lit(json!("abc"))),
                vec![("s", "abc")],
                Some(false),
            ),
            (
                text_fn("starts_with", un("lower", col("s")), "tx"),
                vec![("s", "TX1")],
                Some(true),
            ),
            // The .dt namespace: dates, datetimes (UTC) and times; Monday is 0.
            (
                eq(part(col("d"), "year"), n(2024)),
                vec![("d", "2024-02-29")],
                Some(true),
            ),
            (
                eq(part(col("d"), "month"), n(2)),
                vec![("d", "2024-02-29")],
                Some(true),
            ),
            (
                eq(part(col("d"), "day"), n(29)),
                vec![("d", "2024-02-29")],
                Some(true),
            ),
            (
                eq(part(col("d"), "day"), n(28)),
                vec![("d", "2024-02-29")],
                Some(false),
            ),
            (
                eq(part(col("d"), "weekday"), n(3)),
                vec![("d", "2024-02-29")],
                Some(true),
            ),
            (
                eq(part(col("d"), "weekday"), n(0)),
                vec![("d", "2024-03-04")],
                Some(true),
            ),
            (
                eq(part(col("d"), "weekday"), n(6)),
                vec![("d", "1970-01-04")],
                Some(true),
            ),
            (
                eq(part(col("t"), "year"), n(1969)),
                vec![("t", "1969-12-31T23:59:59Z")],
                Some(true),
            ),
            (
                eq(part(col("t"), "month"), n(12)),
                vec![("t", "1969-12-31T23:59:59Z")],
                Some(true),
            ),
            (
                eq(part(col("t"), "day"), n(31)),
                vec![("t", "1969-12-31T23:59:59Z")],
                Some(true),
            ),
            (
                eq(part(col("t"), "hour"), n(23)),
                vec![("t", "1969-12-31T23:59:59Z")],
                Some(true),
            ),
            (
                eq(part(col("t"), "minute"), n(59)),
                vec![("t", "1969-12-31T23:59:59Z")],
                Some(true),
            ),
            (
                eq(part(col("t"), "second"), n(59)),
                vec![("t", "1969-12-31T23:59:59Z")],
                Some(true),
            ),
            (
                eq(part(col("t"), "weekday"), n(2)),
                vec![("t", "1969-12-31T23:59:59Z")],
                Some(true),
            ),
            (
                eq(part(col("t"), "hour"), n(9)),
                vec![("t", "2024-06-01T12:30:00+03:00")],
                Some(true),
            ),
            (
                eq(part(col("t"), "hour"), n(12)),
                vec![("t", "2024-06-01T12:30:00+03:00")],
                Some(false),
            ),
            (
                eq(part(col("h"), "hour"), n(7)),
                vec![("h", "07:08:09")],
                Some(true),
            ),
            (
                eq(part(col("h"), "minute"), n(8)),
                vec![("h", "07:08:09")],
                Some(true),
            ),
            (
                eq(part(col("h"), "second"), n(9)),
                vec![("h", "07:08:09")],
                Some(true),
            ),
            (
                eq(part(col("h"), "second"), n(0)),
                vec![("h", "07:08:09")],
                Some(false),
            ),
        ];
        for (expr, row, want) in &cases {
            assert_eq!(evaluate(expr, row), *want, "{expr} on {row:?}");
        }
    }

    /// A float cell: NaN, an infinity, -0.0, a small integer or any float.
    fn float_cell() -> impl proptest::strategy::Strategy<Value = Cell<'static>> {
        use proptest::prelude::*;
        prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(-0.0),
            (-3i32..4).prop_map(f64::from),
            any::<f64>(),
        ]
        .prop_map(|f| Cell::Ok(Value::Float(f)))
    }

    fn any_cell() -> impl proptest::strategy::Strategy<Value = Cell<'static>> {
        use proptest::prelude::*;
        prop_oneof![
            Just(Cell::Null),
            Just(Cell::Invalid),
            Just(Cell::Absent),
            (-3i64..4).prop_map(|i| Cell::Ok(Value::Int(i))),
            Just(Cell::Ok(Value::Int(i64::MAX))),
            float_cell(),
            (-300i128..400, 0i32..3).prop_map(|(m, e)| Cell::Ok(Value::Decimal(
                crate::parse::Decimal::new(m, -e).expect("a decimal")
            ))),
            any::<bool>().prop_map(|b| Cell::Ok(Value::Bool(b))),
            (-3i32..4).prop_map(|d| Cell::Ok(Value::Date(d))),
            (-3i64..4).prop_map(|t| Cell::Ok(Value::DateTime(t))),
            (-3i64..4).prop_map(|t| Cell::Ok(Value::Time(t))),
            prop_oneof![Just(&b"1"[..]), Just(&b"a"[..]), Just(&b"\xff"[..])]
                .prop_map(|s| Cell::Ok(Value::Str(s))),
        ]
    }

    fn any_literal() -> impl proptest::strategy::Strategy<Value = EVal<'static>> {
        use proptest::prelude::*;
        prop_oneof![
            (-3i64..4).prop_map(EVal::Int),
            prop_oneof![Just(f64::NAN), (-3i32..4).prop_map(f64::from)].prop_map(EVal::Float),
            (-3i64..4).prop_map(EVal::Temporal),
            any::<bool>().prop_map(EVal::Bool),
            Just(EVal::Str(Cow::Borrowed("a"))),
        ]
    }

    proptest::proptest! {
        /// A comparison of columns and literals orders its operands as evaluating them and
        /// ordering the results does, for every kind of cell and literal, `float` or not.
        #[test]
        fn a_scalar_comparison_orders_as_its_evaluated_operands_do(
            cells in proptest::collection::vec(any_cell(), 2),
            literal in any_literal(),
            shape in 0usize..3,
            float in proptest::bool::ANY,
        ) {
            let operand = |at: usize| match (shape, at) {
                (1, 1) | (2, 0) => CExpr::Lit(literal.clone()),
                _ => CExpr::Col(at),
            };
            let (l, r) = (operand(0), operand(1));
            let fast = match (leaf(&l, &cells), leaf(&r, &cells)) {
                (Leaf::Unknown, _) | (_, Leaf::Unknown) => None,
                (Leaf::Scalar(a), Leaf::Scalar(b)) => a.compare(b, float),
                // Strings take `eval` in both: only the scalar path is under test.
                _ => return Ok(()),
            };
            let evaluated = match (eval(&l, &cells), eval(&r, &cells)) {
                (Some(a), Some(b)) => ordering(&a, &b, float),
                _ => None,
            };
            proptest::prop_assert_eq!(fast, evaluated);
        }

        /// Two columns compared take a shortcut when both are floats; it finds what the
        /// general evaluation finds, for every kind of cell, operator and `float`.
        #[test]
        fn a_column_pair_finds_what_the_general_comparison_finds(
            cells in proptest::collection::vec(proptest::prop_oneof![
                3 => float_cell(),
                1 => any_cell(),
            ], 2),
            op in proptest::sample::select(vec![BinaryOp::Eq, BinaryOp::Ne, BinaryOp::Lt,
                BinaryOp::Le, BinaryOp::Gt, BinaryOp::Ge]),
            float in proptest::bool::ANY,
        ) {
            let expr = || CExpr::Compare(op, Box::new(CExpr::Col(0)), Box::new(CExpr::Col(1)), float);
            let paired = RowExpr { expr: expr(), reads: vec![0, 1], column_pair: Some((op, 0, 1)) };
            let general = RowExpr { expr: expr(), reads: vec![0, 1], column_pair: None };
            proptest::prop_assert_eq!(paired.evaluate(&cells), general.evaluate(&cells));
        }
    }
}
