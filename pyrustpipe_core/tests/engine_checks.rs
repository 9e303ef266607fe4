//! Every check kind and every row-expression node, run end to end: a JSON spec and a small CSV
//! through the public `validate`, asserting the report's failure counts and samples. A broken
//! rule fails here even when its unit table (in `src/rules/`) still passes.

use pyrustpipe_core::report::RuleResult;
use pyrustpipe_core::{validate, Options, Report};
use serde_json::{json, Value as Json};

/// Validate `csv` against `spec` with one thread (the samples then come in row order).
fn run(spec: &Json, csv: &str) -> pyrustpipe_core::Result<Report> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("input.csv");
    std::fs::write(&path, csv).expect("the input is written");
    let options = Options {
        threads: Some(1),
        ..Options::default()
    };
    validate(&spec.to_string(), &[path.display().to_string()], &options)
}

fn rule<'a>(report: &'a Report, name: &str) -> &'a RuleResult {
    report
        .rules
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no rule {name} in {:?}", report.rules))
}

/// `(row, value, message)` of each sample, in row order.
fn samples(rule: &RuleResult) -> Vec<(u64, Option<String>, String)> {
    let mut out: Vec<_> = rule
        .samples
        .iter()
        .map(|s| (s.row, s.value.clone(), s.message.clone()))
        .collect();
    out.sort();
    out
}

/// A spec with an `id` column and the column `v` under test.
fn column_spec(column: &Json) -> Json {
    let mut column = column.clone();
    column["name"] = json!("v");
    json!({"spec_version": 1, "columns": [{"name": "id", "dtype": "int"}, column]})
}

/// A CSV of `id,v` with one row per value (ids from 1).
fn column_csv(values: &[&str]) -> String {
    let mut csv = String::from("id,v\n");
    for (index, value) in values.iter().enumerate() {
        csv.push_str(&format!("{},{value}\n", index + 1));
    }
    csv
}

struct ColumnCase {
    /// The column `v` (without its name).
    column: Json,
    rule: &'static str,
    values: &'static [&'static str],
    failed: u64,
    /// `(row, value, message)` of every failing row.
    samples: &'static [(u64, &'static str, &'static str)],
}

#[test]
fn every_column_check_kind() {
    let cases = [
        ColumnCase {
            column: json!({"dtype": "int", "nullable": true, "checks": [{"type": "gt", "value": 0}]}),
            rule: "v:gt",
            values: &["5", "0", "", "-2"],
            failed: 2,
            samples: &[(2, "0", "0 is not > 0"), (4, "-2", "-2 is not > 0")],
        },
        ColumnCase {
            column: json!({"dtype": "float", "checks": [{"type": "ge", "value": 1.5}]}),
            rule: "v:ge",
            values: &["1.5", "1.49", "2"],
            failed: 1,
            samples: &[(2, "1.49", "1.49 is not >= 1.5")],
        },
        ColumnCase {
            column: json!({"dtype": "decimal", "checks": [{"type": "lt", "value": "10.00"}]}),
            rule: "v:lt",
            values: &["9.99", "10.0", "10.01"],
            failed: 2,
            samples: &[
                (2, "10.0", "10.0 is not < 10.00"),
                (3, "10.01", "10.01 is not < 10.00"),
            ],
        },
        ColumnCase {
            column: json!({"dtype": "date", "checks": [{"type": "le", "value": "2024-12-31"}]}),
            rule: "v:le",
            values: &["2024-12-31", "2025-01-01"],
            failed: 1,
            samples: &[(2, "2025-01-01", "2025-01-01 is not <= 2024-12-31")],
        },
        ColumnCase {
            column: json!({"dtype": "datetime",
                "checks": [{"type": "gt", "value": "2024-01-01T00:00:00Z"}]}),
            rule: "v:gt",
            values: &["2024-01-01T00:00:01Z", "2024-01-01T03:00:00+03:00"],
            failed: 1,
            samples: &[(
                2,
                "2024-01-01T03:00:00+03:00",
                "2024-01-01T03:00:00+03:00 is not > 2024-01-01T00:00:00Z",
            )],
        },
        ColumnCase {
            column: json!({"dtype": "time", "checks": [{"type": "ge", "value": "09:00"}]}),
            rule: "v:ge",
            values: &["09:00:00", "08:59:59"],
            failed: 1,
            samples: &[(2, "08:59:59", "08:59:59 is not >= 09:00")],
        },
        ColumnCase {
            column: json!({"dtype": "int", "checks": [{"type": "multiple_of", "value": 5}]}),
            rule: "v:multiple_of",
            values: &["10", "-15", "7", "0"],
            failed: 1,
            samples: &[(3, "7", "7 is not a multiple of 5")],
        },
        ColumnCase {
            column: json!({"dtype": "decimal", "checks": [{"type": "multiple_of", "value": "0.05"}]}),
            rule: "v:multiple_of",
            values: &["1.10", "1.12", "0.05"],
            failed: 1,
            samples: &[(2, "1.12", "1.12 is not a multiple of 0.05")],
        },
        ColumnCase {
            column: json!({"dtype": "str", "checks": [{"type": "min_length", "value": 3}]}),
            rule: "v:min_length",
            values: &["abc", "ab", "héé", "hé"],
            failed: 2,
            samples: &[
                (2, "ab", "length 2 is less than 3"),
                (4, "hé", "length 2 is less than 3"),
            ],
        },
        ColumnCase {
            column: json!({"dtype": "str", "checks": [{"type": "max_length", "value": 2}]}),
            rule: "v:max_length",
            values: &["ab", "abc", "日本", "日本語"],
            failed: 2,
            samples: &[
                (2, "abc", "length 3 is more than 2"),
                (4, "日本語", "length 3 is more than 2"),
            ],
        },
        ColumnCase {
            column: json!({"dtype": "str", "checks": [{"type": "pattern", "pattern": "^TX[0-9]{3}$"}]}),
            rule: "v:pattern",
            values: &["TX123", "TX12", "tx123"],
            failed: 2,
            samples: &[
                (2, "TX12", r#"TX12 does not match "^TX[0-9]{3}$""#),
                (3, "tx123", r#"tx123 does not match "^TX[0-9]{3}$""#),
            ],
        },
        ColumnCase {
            column: json!({"dtype": "str", "checks": [{"type": "pattern", "pattern": "[0-9]"}]}),
            rule: "v:pattern",
            values: &["a1", "ab"],
            failed: 1,
            samples: &[(2, "ab", r#"ab does not match "[0-9]""#)],
        },
        ColumnCase {
            column: json!({"dtype": "str", "checks": [{"type": "isin", "values": ["a", "b"]}]}),
            rule: "v:isin",
            values: &["a", "c", "b"],
            failed: 1,
            samples: &[(2, "c", r#"c is not in ["a", "b"]"#)],
        },
        ColumnCase {
            column: json!({"dtype": "int", "checks": [{"type": "isin", "values": [1, 2]}]}),
            rule: "v:isin",
            values: &["01", "3"],
            failed: 1,
            samples: &[(2, "3", "3 is not in [1, 2]")],
        },
        ColumnCase {
            column: json!({"dtype": "str", "checks": [{"type": "not_in", "values": ["x"]}]}),
            rule: "v:not_in",
            values: &["x", "y", "x"],
            failed: 2,
            samples: &[
                (1, "x", r#"x is in the excluded set ["x"]"#),
                (3, "x", r#"x is in the excluded set ["x"]"#),
            ],
        },
        ColumnCase {
            column: json!({"dtype": "int", "checks": [{"type": "not_in", "values": [0]}]}),
            rule: "v:not_in",
            values: &["0", "-0", "5"],
            failed: 2,
            samples: &[
                (1, "0", "0 is in the excluded set [0]"),
                (2, "-0", "-0 is in the excluded set [0]"),
            ],
        },
        ColumnCase {
            column: json!({"dtype": "str", "checks": [{"type": "unique"}]}),
            rule: "v:unique",
            values: &["a", "b", "a", "a"],
            failed: 3,
            samples: &[
                (1, "a", "key occurs more than once"),
                (3, "a", "repeats a key seen before"),
                (4, "a", "repeats a key seen before"),
            ],
        },
        ColumnCase {
            column: json!({"dtype": "str", "checks": [{"type": "unique", "keep": "first"}]}),
            rule: "v:unique",
            values: &["a", "b", "a", "a"],
            failed: 2,
            samples: &[
                (3, "a", "repeats a key seen before"),
                (4, "a", "repeats a key seen before"),
            ],
        },
        ColumnCase {
            column: json!({"dtype": "int", "checks": [{"type": "unique", "keep": "first"}]}),
            rule: "v:unique",
            values: &["7", "8", "007"],
            failed: 1,
            samples: &[(3, "007", "repeats a key seen before")],
        },
        ColumnCase {
            column: json!({"dtype": "str", "checks": [{"type": "isin", "values": ["a"], "name": "only_a"}]}),
            rule: "only_a",
            values: &["a", "b"],
            failed: 1,
            samples: &[(2, "b", r#"b is not in ["a"]"#)],
        },
        ColumnCase {
            column: json!({"dtype": "str"}),
            rule: "v:not_null",
            values: &["a", "", "b"],
            failed: 1,
            samples: &[(2, "", "missing required value")],
        },
        ColumnCase {
            column: json!({"dtype": "int"}),
            rule: "v:type",
            values: &["1", "x", "2.5"],
            failed: 2,
            samples: &[
                (2, "x", "\"x\" is not a valid int"),
                (3, "2.5", "\"2.5\" is not a valid int"),
            ],
        },
    ];
    for case in cases {
        let what = format!("{} on {:?}", case.column, case.values);
        let report = run(&column_spec(&case.column), &column_csv(case.values)).expect(&what);
        let result = rule(&report, case.rule);
        let want: Vec<_> = case
            .samples
            .iter()
            .map(|&(row, value, message)| (row, Some(value.to_owned()), message.to_owned()))
            .collect();
        assert_eq!(result.failed, case.failed, "{what}");
        assert_eq!(samples(result), want, "{what}");
        assert_eq!(result.passed, case.failed == 0, "{what}");
        assert_eq!(report.rows, case.values.len() as u64, "{what}");
        assert_eq!(
            report.valid_rows + report.invalid_rows,
            report.rows,
            "{what}"
        );
    }
}

/// A `str` value with a NUL is not a `str`: it fails the type rule, and its column's one check
/// is not asked, whether the check's pass proves a value a `str` (an `isin`, a fixed pattern)
/// or not (a regex, a length, a `not_in`); each but the `isin` passes on the NUL's text.
#[test]
fn a_text_that_is_not_a_str_fails_its_type_not_its_check() {
    let checks = [
        ("max_length", json!({"type": "max_length", "value": 3})),
        ("min_length", json!({"type": "min_length", "value": 1})),
        ("not_in", json!({"type": "not_in", "values": ["x"]})),
        ("isin", json!({"type": "isin", "values": ["ab"]})),
        ("pattern", json!({"type": "pattern", "pattern": "^a.?$"})),
        (
            "pattern",
            json!({"type": "pattern", "pattern": "^a(b|\0)$"}),
        ),
        (
            "pattern",
            json!({"type": "pattern", "pattern": "^[a-z][a-z]$"}),
        ),
    ];
    for (kind, check) in checks {
        let column = json!({"dtype": "str", "checks": [check]});
        let what = format!("{column}");
        let report = run(&column_spec(&column), &column_csv(&["ab", "a\0", "ab"])).expect(&what);
        assert_eq!(rule(&report, "v:type").failed, 1, "{what}");
        assert_eq!(rule(&report, &format!("v:{kind}")).failed, 0, "{what}");
        assert_eq!(report.invalid_rows, 1, "{what}");
    }
}

/// A column's `min_length` and `max_length` count their own failures, each with its sample.
#[test]
fn two_lengths_count_each_failure() {
    let column = json!({"dtype": "str", "checks": [
        {"type": "min_length", "value": 2},
        {"type": "max_length", "value": 3},
    ]});
    let report = run(
        &column_spec(&column),
        &column_csv(&["ab", "a", "abcd", "héé"]),
    )
    .expect("runs");
    let min = rule(&report, "v:min_length");
    let max = rule(&report, "v:max_length");
    assert_eq!((min.failed, max.failed), (1, 1));
    assert_eq!(
        samples(min),
        [(
            2,
            Some("a".to_owned()),
            "length 1 is less than 2".to_owned()
        )]
    );
    assert_eq!(
        samples(max),
        [(
            3,
            Some("abcd".to_owned()),
            "length 4 is more than 3".to_owned()
        )]
    );
    assert_eq!(report.invalid_rows, 2);
}

/// An `int` or `float` column's two bounds count their own failures; a text that is not a
/// number fails the type rule alone, and a null neither bound.
#[test]
fn two_bounds_count_each_failure() {
    for dtype in ["int", "float"] {
        let column = json!({"dtype": dtype, "nullable": true, "checks": [
            {"type": "ge", "value": -9},
            {"type": "lt", "value": 90},
        ]});
        let values = ["0", "-10", "90", "89", "x", "", "-9", "100"];
        let report = run(&column_spec(&column), &column_csv(&values)).expect(dtype);
        assert_eq!(rule(&report, "v:ge").failed, 1, "{dtype}");
        assert_eq!(rule(&report, "v:lt").failed, 2, "{dtype}");
        assert_eq!(rule(&report, "v:type").failed, 1, "{dtype}");
        assert_eq!(report.invalid_rows, 4, "{dtype}");
        let over: Vec<u64> = rule(&report, "v:lt")
            .samples
            .iter()
            .map(|s| s.row)
            .collect();
        assert_eq!(over, [3, 8], "{dtype}");
    }
}

#[test]
fn bad_column_checks_are_schema_errors() {
    let at = "invalid rule spec at columns[1] (v).checks[0]";
    let cases = [
        (
            json!({"dtype": "str", "checks": [{"type": "gt", "value": 1}]}),
            format!("{at}: gt applies to numeric, date, datetime and time columns, not str"),
        ),
        (
            json!({"dtype": "int", "checks": [{"type": "le"}]}),
            format!("{at}: le needs a \"value\""),
        ),
        (
            json!({"dtype": "date", "checks": [{"type": "ge", "value": "soon"}]}),
            format!("{at}: ge bound \"soon\" does not fit a date column"),
        ),
        (
            json!({"dtype": "int", "checks": [{"type": "min_length", "value": 1}]}),
            format!("{at}: min_length applies to str columns, not int"),
        ),
        (
            json!({"dtype": "str", "checks": [{"type": "max_length", "value": -1}]}),
            format!("{at}: max_length needs a non-negative integer \"value\""),
        ),
        (
            json!({"dtype": "str", "checks": [{"type": "pattern"}]}),
            format!("{at}: pattern needs a \"pattern\""),
        ),
        (
            json!({"dtype": "float", "checks": [{"type": "pattern", "pattern": "1"}]}),
            format!("{at}: pattern applies to str columns, not float"),
        ),
        (
            json!({"dtype": "str", "checks": [{"type": "isin"}]}),
            format!("{at}: needs a \"values\" list"),
        ),
        (
            json!({"dtype": "int", "checks": [{"type": "not_in", "values": [1, "x"]}]}),
            format!("{at}.values[1]: \"x\" is not a valid int value"),
        ),
    ];
    for (column, want) in cases {
        let err = run(&column_spec(&column), "id,v\n").expect_err(&want);
        assert_eq!(err.to_string(), want);
    }
}

/// Five rows over every type; row 4 is null except `id` and `b`.
const ROWS: &str = "\
id,a,b,x,m,s,f,d,t,h
1,1,2,1.5,10.00,TX123,true,2024-02-29,2024-02-29T23:30:00Z,07:08:09
2,-3,3,-2.5,0.10,tx-9,false,2023-12-31,2024-01-01T01:00:00+01:00,12:00:00
3,4,0,0,5.5,Été,yes,1970-01-05,1969-12-31T23:59:59Z,23:59:59
4,,5,,,,,,,
5,9223372036854775807,-2,-0.5,2,abc@x.com,no,2000-01-01,2000-01-01T12:34:56Z,00:00
";

fn rows_spec(expr: &Json) -> Json {
    let column = |name: &str, dtype: &str| json!({"name": name, "dtype": dtype, "nullable": true});
    json!({
        "spec_version": 1,
        "columns": [
            column("id", "int"), column("a", "int"), column("b", "int"), column("x", "float"),
            column("m", "decimal"), column("s", "str"), column("f", "bool"), column("d", "date"),
            column("t", "datetime"), column("h", "time"),
        ],
        "row_rules": [{"name": "r", "expr": expr}],
    })
}

fn col(name: &str) -> Json {
    json!({"type": "col", "name": name})
}
fn lit(value: Json) -> Json {
    json!({"type": "lit", "value": value})
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

#[test]
fn every_row_expression_node() {
    let n = |v: i64| lit(json!(v));
    // (node, expression, failing rows of ROWS): a row whose expression reads a null is skipped.
    let cases: Vec<(&str, Json, Vec<u64>)> = vec![
        ("eq", bin("eq", col("a"), n(1)), vec![2, 3, 5]),
        ("ne", bin("ne", col("a"), n(1)), vec![1]),
        ("lt", bin("lt", col("a"), col("b")), vec![3, 5]),
        ("le", bin("le", col("x"), n(0)), vec![1]),
        ("gt decimal", bin("gt", col("m"), n(1)), vec![2]),
        (
            "ge date",
            bin("ge", col("d"), lit(json!("2000-01-01"))),
            vec![3],
        ),
        (
            "lt time",
            bin("lt", col("h"), lit(json!("12:00"))),
            vec![2, 3],
        ),
        (
            "ge datetime",
            bin("ge", col("t"), lit(json!("2024-01-01T00:00:00Z"))),
            vec![3, 5],
        ),
        (
            "lt typed datetime literal",
            bin(
                "lt",
                col("t"),
                json!({"type": "lit", "value": "2000-01-01T12:34:57Z", "dtype": "datetime"}),
            ),
            vec![1, 2],
        ),
        ("eq bool", bin("eq", col("f"), lit(json!(true))), vec![2, 5]),
        (
            "eq str",
            bin("eq", col("s"), lit(json!("TX123"))),
            vec![2, 3, 5],
        ),
        (
            "add",
            bin("eq", bin("add", col("a"), col("b")), n(3)),
            vec![2, 3, 5],
        ),
        // Row 5 overflows: unknown, not a failure.
        (
            "sub",
            bin("gt", bin("sub", col("b"), col("a")), n(0)),
            vec![3],
        ),
        (
            "mul",
            bin("ge", bin("mul", col("a"), col("b")), n(0)),
            vec![2],
        ),
        // Row 3 divides by zero: unknown.
        (
            "div",
            bin("gt", bin("div", col("a"), col("b")), n(0)),
            vec![2, 5],
        ),
        // Python's `%`: 9223372036854775807 % -2 is -1.
        (
            "mod",
            bin("eq", bin("mod", col("a"), col("b")), n(1)),
            vec![2, 5],
        ),
        (
            "mod float",
            bin("eq", bin("mod", col("x"), n(2)), lit(json!(1.5))),
            vec![3],
        ),
        ("neg", bin("lt", un("neg", col("a")), n(0)), vec![2]),
        // Row 2 (-3) tells abs from the identity.
        ("abs int", bin("ge", un("abs", col("a")), n(3)), vec![1]),
        (
            "abs float",
            bin("lt", un("abs", col("x")), n(1)),
            vec![1, 2],
        ),
        (
            "and",
            bin("and", bin("gt", col("a"), n(0)), bin("gt", col("b"), n(0))),
            vec![2, 3, 5],
        ),
        (
            "or",
            bin("or", bin("lt", col("a"), n(0)), bin("lt", col("b"), n(0))),
            vec![1, 3],
        ),
        ("not", un("not", bin("gt", col("a"), n(1))), vec![3, 5]),
        ("not bool column", un("not", col("f")), vec![1, 3]),
        (
            "isin int",
            json!({"type": "isin", "expr": col("a"), "values": [1, 4]}),
            vec![2, 5],
        ),
        (
            "isin str",
            json!({"type": "isin", "expr": col("s"), "values": ["TX123", "abc@x.com"]}),
            vec![2, 3],
        ),
        (
            "isin date",
            json!({"type": "isin", "expr": col("d"), "values": ["2024-02-29"]}),
            vec![2, 3, 5],
        ),
        ("is_null", un("is_null", col("a")), vec![1, 2, 3, 5]),
        ("is_not_null", un("not", un("is_null", col("a"))), vec![4]),
        (
            "is_null or",
            bin("or", un("is_null", col("a")), bin("gt", col("b"), n(0))),
            vec![3, 5],
        ),
        // Characters, not bytes: "Été" is 3 long (5 bytes).
        (
            "str_len",
            bin("le", un("str_len", col("s")), n(4)),
            vec![1, 5],
        ),
        (
            "starts_with",
            text_fn("starts_with", col("s"), "TX"),
            vec![2, 3, 5],
        ),
        (
            "ends_with",
            text_fn("ends_with", col("s"), ".com"),
            vec![1, 2, 3],
        ),
        (
            "contains",
            text_fn("contains", col("s"), "-"),
            vec![1, 3, 5],
        ),
        (
            "matches",
            json!({"type": "matches", "expr": col("s"), "pattern": "[0-9]$"}),
            vec![3, 5],
        ),
        (
            "lower",
            text_fn("starts_with", un("lower", col("s")), "tx"),
            vec![3, 5],
        ),
        (
            "upper",
            bin("eq", un("upper", col("s")), lit(json!("ÉTÉ"))),
            vec![1, 2, 5],
        ),
        ("year", bin("ge", part(col("d"), "year"), n(2000)), vec![3]),
        (
            "month",
            bin("eq", part(col("d"), "month"), n(2)),
            vec![2, 3, 5],
        ),
        ("day", bin("lt", part(col("d"), "day"), n(30)), vec![2]),
        // Monday = 0: Thu, Sun, Mon, Sat.
        (
            "weekday",
            bin("lt", part(col("d"), "weekday"), n(5)),
            vec![2, 5],
        ),
        // Datetimes are parts of the UTC time: row 2 is 00:00 UTC on 2024-01-01.
        (
            "year datetime",
            bin("eq", part(col("t"), "year"), n(2024)),
            vec![3, 5],
        ),
        (
            "hour datetime",
            bin("eq", part(col("t"), "hour"), n(23)),
            vec![2, 5],
        ),
        (
            "minute datetime",
            bin("lt", part(col("t"), "minute"), n(40)),
            vec![3],
        ),
        (
            "second datetime",
            bin("eq", part(col("t"), "second"), n(0)),
            vec![3, 5],
        ),
        (
            "hour time",
            bin("ge", part(col("h"), "hour"), n(12)),
            vec![1, 5],
        ),
        (
            "minute time",
            bin("gt", part(col("h"), "minute"), n(5)),
            vec![2, 5],
        ),
        (
            "second time",
            bin("eq", part(col("h"), "second"), n(0)),
            vec![1, 3],
        ),
    ];
    for (node, expr, failing) in cases {
        let report = run(&rows_spec(&expr), ROWS).unwrap_or_else(|e| panic!("{node}: {e}"));
        let result = rule(&report, "r");
        let want: Vec<_> = failing
            .iter()
            .map(|&row| (row, None, "row rule is false".to_owned()))
            .collect();
        assert_eq!(result.failed, failing.len() as u64, "{node}: {expr}");
        assert_eq!(samples(result), want, "{node}: {expr}");
        assert_eq!(report.invalid_rows, failing.len() as u64, "{node}");
        assert_eq!(report.rows, 5);
    }
}

#[test]
fn bad_row_expressions_are_schema_errors() {
    let at = "invalid rule spec at row_rules[0] (r)";
    let cases = [
        (
            col("a"),
            "a row rule must be a bool expression, this is int",
        ),
        (bin("eq", col("s"), col("a")), "cannot compare str with int"),
        (
            bin("eq", bin("add", col("s"), col("a")), col("a")),
            "arithmetic needs int or float, got str",
        ),
        (bin("and", col("f"), col("a")), "and/or needs bool, got int"),
        (un("not", col("a")), "~ (not) needs bool, got int"),
        (
            bin("eq", un("abs", col("s")), col("s")),
            "abs needs int or float, got str",
        ),
        (
            un("is_null", un("lower", col("s"))),
            "is_null applies to a column",
        ),
        (
            text_fn("contains", col("a"), "1"),
            "string functions need str, got int",
        ),
        (
            bin("eq", part(col("h"), "day"), col("a")),
            "a date part needs date or datetime, got time",
        ),
        (
            bin("eq", col("d"), lit(json!("someday"))),
            "\"someday\" is not a valid date literal",
        ),
    ];
    for (expr, want) in cases {
        let err = run(&rows_spec(&expr), ROWS).expect_err(want);
        assert_eq!(err.to_string(), format!("{at}: {want}"), "{expr}");
    }
}

#[test]
fn composite_unique_keys() {
    // (keep, failing rows): rows 1, 3 and 4 share the key (1, "a"); row 5 has a null in it.
    let csv = "a,b\n1,a\n1,b\n1,a\n01,a\n,a\n,a\n";
    let cases = [("none", vec![1, 3, 4]), ("first", vec![3, 4])];
    for (keep, failing) in cases {
        let spec = json!({
            "spec_version": 1,
            "columns": [
                {"name": "a", "dtype": "int", "nullable": true},
                {"name": "b", "dtype": "str"},
            ],
            "unique": [{"columns": ["a", "b"], "keep": keep}],
        });
        let report = run(&spec, csv).unwrap();
        let result = rule(&report, "a,b:unique");
        let rows: Vec<u64> = samples(result).into_iter().map(|s| s.0).collect();
        assert_eq!(result.failed, failing.len() as u64, "keep {keep}");
        assert_eq!(rows, failing, "keep {keep}");
    }
    let spec = json!({"spec_version": 1, "columns": [{"name": "a", "dtype": "int"}],
        "unique": [{"columns": ["a", "z"]}]});
    assert_eq!(
        run(&spec, "a\n1\n").unwrap_err().to_string(),
        "invalid rule spec at unique[0]: unique key column \"z\" is not a column of the schema"
    );
}

#[test]
fn every_dataset_metric() {
    // Column `v`: four rows, one null, values 1, 3, 4 (sum 8, mean 8/3).
    let csv = "id,v\n1,1\n2,\n3,3\n4,4\n";
    // (check, rule name, passes, observed)
    let cases = [
        (
            json!({"metric": "row_count", "min": 5}),
            "dataset:row_count",
            false,
            json!(4.0),
        ),
        (
            json!({"metric": "row_count", "max": 4}),
            "dataset:row_count",
            true,
            json!(4.0),
        ),
        (
            json!({"metric": "null_count", "column": "v", "max": 0}),
            "v:null_count",
            false,
            json!(1.0),
        ),
        (
            json!({"metric": "null_fraction", "column": "v", "max": 0.25}),
            "v:null_fraction",
            true,
            json!(0.25),
        ),
        (
            json!({"metric": "null_fraction", "column": "v", "max": 0.25, "max_inclusive": false}),
            "v:null_fraction",
            false,
            json!(0.25),
        ),
        (
            json!({"metric": "distinct_count", "column": "v", "min": 4}),
            "v:distinct_count",
            false,
            json!(3.0),
        ),
        (
            json!({"metric": "min", "column": "v", "min": 1}),
            "v:min",
            true,
            json!(1.0),
        ),
        (
            json!({"metric": "min", "column": "v", "min": 1, "min_inclusive": false}),
            "v:min",
            false,
            json!(1.0),
        ),
        (
            json!({"metric": "max", "column": "v", "max": 3.5}),
            "v:max",
            false,
            json!(4.0),
        ),
        (
            json!({"metric": "sum", "column": "v", "min": 8, "max": 8}),
            "v:sum",
            true,
            json!(8.0),
        ),
        (
            json!({"metric": "mean", "column": "v", "max": 2.5}),
            "v:mean",
            false,
            json!(8.0 / 3.0),
        ),
        (
            json!({"metric": "mean", "column": "v", "min": 2, "name": "avg"}),
            "avg",
            true,
            json!(8.0 / 3.0),
        ),
    ];
    for (check, name, passes, observed) in cases {
        let spec = json!({
            "spec_version": 1,
            "columns": [{"name": "id", "dtype": "int"}, {"name": "v", "dtype": "float", "nullable": true}],
            "dataset_checks": [check],
        });
        let report = run(&spec, csv).unwrap_or_else(|e| panic!("{check}: {e}"));
        let result = rule(&report, name);
        assert_eq!(result.passed, passes, "{check}");
        assert_eq!(result.failed, u64::from(!passes), "{check}");
        assert_eq!(result.observed, Some(observed), "{check}");
        assert_eq!(result.samples.len(), usize::from(!passes), "{check}");
        // Dataset checks never quarantine rows.
        assert_eq!(report.invalid_rows, 0, "{check}");
    }
    let spec = json!({"spec_version": 1, "columns": [{"name": "v", "dtype": "float"}],
        "dataset_checks": [{"metric": "row_count", "min": 5}]});
    let report = run(&spec, "v\n1\n").unwrap();
    assert_eq!(
        rule(&report, "dataset:row_count").samples[0].message,
        "row_count is 1; expected >= 5"
    );
}

#[test]
fn bad_dataset_checks_are_schema_errors() {
    let cases = [
        (
            json!({"metric": "row_count"}),
            "a dataset check needs \"min\" or \"max\"",
        ),
        (
            json!({"metric": "mean", "max": 1}),
            "mean needs a \"column\"",
        ),
        (
            json!({"metric": "null_count", "column": "z", "max": 1}),
            "column \"z\" is not a column of the schema",
        ),
        (
            json!({"metric": "sum", "column": "s", "max": 1}),
            "sum needs a numeric column; \"s\" is str",
        ),
    ];
    for (check, want) in cases {
        let spec = json!({"spec_version": 1, "columns": [{"name": "s", "dtype": "str"}],
            "dataset_checks": [check]});
        let err = run(&spec, "s\na\n").expect_err(want);
        assert_eq!(
            err.to_string(),
            format!("invalid rule spec at dataset_checks[0]: {want}")
        );
    }
}

/// The report (rules, counts, samples) and the quarantine file of one run of `spec` over the
/// CSV at `path` in the smallest blocks (64 KiB) on two threads, with the unique keys' log folded every
/// `fold_at` occurrences (`None`: the default, which a run this small never reaches).
fn folded_run(spec: &Json, path: &std::path::Path, fold_at: Option<usize>) -> (Json, String) {
    let quarantine = path.with_extension(format!("bad{fold_at:?}.csv"));
    let options = Options {
        threads: Some(2),
        chunk_size: Some(1),
        sample_size: 5,
        quarantine: Some(quarantine.display().to_string()),
        key_fold_at: fold_at,
        ..Options::default()
    };
    let report = validate(&spec.to_string(), &[path.display().to_string()], &options).unwrap();
    let mut json: Json = serde_json::from_str(&report.to_json()).unwrap();
    for timing in ["duration_s", "rows_per_s", "outputs", "io"] {
        json.as_object_mut().unwrap().remove(timing);
    }
    (json, std::fs::read_to_string(quarantine).unwrap())
}

#[test]
fn unique_keys_folded_mid_run_find_what_one_log_finds() {
    // 30,000 rows over ~20 blocks: ids from 10,000 values (most repeat, across blocks), a
    // composite key, one null key, and a quoted two-line field now and then.
    let mut csv = String::from("id,region,note\n");
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for row in 0..30_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let id = if row == 11 {
            String::new()
        } else {
            (state % 10_000).to_string()
        };
        let region = ["KE", "UG", "TZ"][(state >> 20) as usize % 3];
        let note = if (state >> 30).is_multiple_of(9) {
            "\"a note\non two lines\""
        } else {
            "a note on one line"
        };
        csv.push_str(&format!("{id},{region},{note}\n"));
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("input.csv");
    std::fs::write(&path, csv).expect("the input is written");
    for keep in ["none", "first"] {
        let spec = json!({
            "spec_version": 1,
            "columns": [
                {"name": "id", "dtype": "int", "nullable": true},
                {"name": "region", "dtype": "str"},
                {"name": "note", "dtype": "str"},
            ],
            "unique": [
                {"columns": ["id"], "keep": keep},
                {"columns": ["id", "region"], "keep": keep},
            ],
        });
        let (report, quarantine) = folded_run(&spec, &path, None);
        let failed = report["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "id:unique")
            .map(|r| r["failed"].as_u64().unwrap());
        assert!(failed > Some(20_000), "{failed:?}");
        // Every block, about every other block, every few blocks.
        for fold_at in [1, 2_000, 9_000] {
            let (folded, folded_quarantine) = folded_run(&spec, &path, Some(fold_at));
            assert_eq!(folded, report, "keep {keep}, fold every {fold_at}");
            assert_eq!(
                folded_quarantine, quarantine,
                "keep {keep}, fold every {fold_at}"
            );
        }
    }
}
