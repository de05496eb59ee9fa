//! The PromQL subset alert rules need, evaluated at one instant over the
//! stored series, as Prometheus' engine does (`promql/engine.go`,
//! `promql/functions.go`, v3.x): instant selectors with the 5-minute
//! lookback and staleness, range selectors over `(t - range, t]`,
//! `rate`/`increase` with Prometheus' extrapolation, `changes`,
//! `min_over_time`/`max_over_time`/`avg_over_time`, `time()`, `absent`,
//! `sum`/`min`/`max`/`avg`/`count` by or without labels, arithmetic and
//! comparisons (with `bool`) between scalars and vectors, and one-to-one
//! matching of two vectors (`on`, `ignoring`). Anything else is refused
//! by [`check_supported`] with its name.

use std::collections::{BTreeMap, BTreeSet};

use promql_parser::label::{MatchOp, Matchers};
use promql_parser::parser::{
    AggregateExpr, BinaryExpr, Call, Expr, LabelModifier, VectorMatchCardinality, VectorSelector,
};

use crate::index::{SeriesIndex, Stored};
use crate::labels::{Labels, NAME};
use crate::series_labels::SeriesLabels;
use crate::store::SeriesStore;

/// How far back an instant selector looks for a series' last sample:
/// Prometheus' default `--query.lookback-delta`, 5m.
pub const LOOKBACK_DELTA_MS: i64 = 5 * 60 * 1000;

const FUNCTIONS: &[&str] = &[
    "rate",
    "increase",
    "changes",
    "min_over_time",
    "max_over_time",
    "avg_over_time",
    "time",
    "absent",
];
const AGGREGATIONS: &[&str] = &["sum", "min", "max", "avg", "count"];

/// A PromQL value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar(f64),
    /// An instant vector: series labels and values, in label order.
    Vector(Vec<(Labels, f64)>),
    /// A range vector: series labels and their points.
    Matrix(Vec<(Labels, Vec<(i64, f64)>)>),
}

/// Refuses what this evaluator does not implement, naming it: a function,
/// an aggregation, a modifier (`offset`, `@`), a subquery, a set operator,
/// `group_left`/`group_right`, a string.
pub fn check_supported(expr: &Expr) -> Result<(), String> {
    match expr {
        Expr::Aggregate(AggregateExpr {
            op, expr, param, ..
        }) => {
            let name = op.to_string();
            if !AGGREGATIONS.contains(&name.as_str()) || param.is_some() {
                return Err(format!(
                    "the aggregation {name} is not supported (supported: {})",
                    AGGREGATIONS.join(", ")
                ));
            }
            check_supported(expr)
        }
        Expr::Unary(unary) => check_supported(&unary.expr),
        Expr::Binary(binary) => {
            let op = binary.op.to_string();
            if matches!(op.as_str(), "and" | "or" | "unless") {
                return Err(format!("the set operator {op} is not supported"));
            }
            if op == "atan2" {
                return Err("the operator atan2 is not supported".to_string());
            }
            if let Some(modifier) = &binary.modifier {
                if matches!(
                    modifier.card,
                    VectorMatchCardinality::ManyToOne(_) | VectorMatchCardinality::OneToMany(_)
                ) {
                    return Err("group_left and group_right are not supported".to_string());
                }
                if modifier.fill_values.lhs.is_some() || modifier.fill_values.rhs.is_some() {
                    return Err("fill modifiers are not supported".to_string());
                }
            }
            check_supported(&binary.lhs)?;
            check_supported(&binary.rhs)
        }
        Expr::Paren(paren) => check_supported(&paren.expr),
        Expr::Subquery(_) => Err("subqueries are not supported".to_string()),
        Expr::NumberLiteral(_) => Ok(()),
        Expr::StringLiteral(_) => Err("string literals are not supported".to_string()),
        Expr::VectorSelector(vs) => check_selector(vs),
        Expr::MatrixSelector(ms) => check_selector(&ms.vs),
        Expr::Call(Call { func, args }) => {
            if !FUNCTIONS.contains(&func.name) {
                return Err(format!(
                    "the function {} is not supported (supported: {})",
                    func.name,
                    FUNCTIONS.join(", ")
                ));
            }
            args.args.iter().try_for_each(|a| check_supported(a))
        }
        Expr::Extension(_) => Err("extension expressions are not supported".to_string()),
    }
}

fn check_selector(vs: &VectorSelector) -> Result<(), String> {
    if vs.offset.is_some() {
        return Err("the offset modifier is not supported".to_string());
    }
    if vs.at.is_some() {
        return Err("the @ modifier is not supported".to_string());
    }
    if !vs.matchers.or_matchers.is_empty() {
        return Err("`or` between label matchers is not supported".to_string());
    }
    Ok(())
}

/// Evaluates `expr` at `t_ms` over `store`. The expression should have
/// passed [`check_supported`]; what it would refuse is an error here too.
pub fn evaluate_instant(expr: &Expr, store: &SeriesStore, t_ms: i64) -> Result<Value, String> {
    let index = SeriesIndex::new(store);
    Ok(match evaluate(expr, &index, t_ms)? {
        Evaluated::Scalar(v) => Value::Scalar(v),
        Evaluated::Vector(v) => Value::Vector(
            v.into_iter()
                .map(|(labels, x)| (labels.to_labels(), x))
                .collect(),
        ),
        Evaluated::Matrix(m) => Value::Matrix(
            m.into_iter()
                .map(|(labels, points)| (labels.clone(), points))
                .collect(),
        ),
    })
}

/// A value as evaluated: labels stay borrowed from the store and the
/// expression.
pub(crate) enum Evaluated<'a> {
    Scalar(f64),
    Vector(Vec<(SeriesLabels<'a>, f64)>),
    Matrix(Vec<(&'a Labels, Vec<(i64, f64)>)>),
}

/// Evaluates `expr` at `t_ms` over the series `index` holds.
pub(crate) fn evaluate<'a>(
    expr: &'a Expr,
    index: &SeriesIndex<'a>,
    t_ms: i64,
) -> Result<Evaluated<'a>, String> {
    Eval { index, t_ms }.eval(expr)
}

const MANY_TO_MANY: &str =
    "many-to-many matching not allowed: matching labels must be unique on one side";

struct Eval<'i, 'a> {
    index: &'i SeriesIndex<'a>,
    t_ms: i64,
}

impl<'a> Eval<'_, 'a> {
    fn eval(&self, expr: &'a Expr) -> Result<Evaluated<'a>, String> {
        match expr {
            Expr::NumberLiteral(n) => Ok(Evaluated::Scalar(n.val)),
            Expr::Paren(p) => self.eval(&p.expr),
            Expr::Unary(u) => Ok(match self.eval(&u.expr)? {
                Evaluated::Scalar(v) => Evaluated::Scalar(-v),
                Evaluated::Vector(v) => {
                    Evaluated::Vector(v.into_iter().map(|(l, x)| (l.without_name(), -x)).collect())
                }
                Evaluated::Matrix(_) => return Err("unary minus on a range vector".to_string()),
            }),
            Expr::VectorSelector(vs) => Ok(Evaluated::Vector(self.select(vs))),
            Expr::MatrixSelector(ms) => {
                check_selector(&ms.vs)?;
                let range_ms = ms.range.as_millis() as i64;
                Ok(Evaluated::Matrix(self.select_range(&ms.vs, range_ms)))
            }
            Expr::Call(call) => self.call(call),
            Expr::Aggregate(agg) => self.aggregate(agg),
            Expr::Binary(binary) => self.binary(binary),
            other => {
                check_supported(other)?;
                Err("not supported".to_string())
            }
        }
    }

    /// The stored series `vs` names whose labels its matchers hold.
    fn selected<'s>(&'s self, vs: &'s VectorSelector) -> impl Iterator<Item = &'s Stored<'a>> {
        self.index
            .named(vs.name.as_deref())
            .iter()
            .filter(|(labels, _)| matchers_hold(&vs.matchers, labels))
    }

    /// The selected series' last points at or before the evaluation time,
    /// no older than the lookback and not staleness markers.
    fn select(&self, vs: &VectorSelector) -> Vec<(SeriesLabels<'a>, f64)> {
        let (t_ms, since_ms) = (self.t_ms, self.t_ms - LOOKBACK_DELTA_MS);
        self.selected(vs)
            .filter_map(|&(labels, points)| {
                let end = points.partition_point(|p| p.t_ms <= t_ms);
                let last = points[..end].last()?;
                if last.t_ms <= since_ms {
                    return None;
                }
                last.value.map(|v| (SeriesLabels::stored(labels), v))
            })
            .collect()
    }

    /// The selected series' points in `(t - range_ms, t]`, markers left
    /// out; a series with none is left out.
    fn select_range(
        &self,
        vs: &VectorSelector,
        range_ms: i64,
    ) -> Vec<(&'a Labels, Vec<(i64, f64)>)> {
        let t_ms = self.t_ms;
        self.selected(vs)
            .filter_map(|&(labels, points)| {
                let end = points.partition_point(|p| p.t_ms <= t_ms);
                let start = points.partition_point(|p| p.t_ms <= t_ms - range_ms);
                let points: Vec<(i64, f64)> = points[start..end]
                    .iter()
                    .filter_map(|p| p.value.map(|v| (p.t_ms, v)))
                    .collect();
                (!points.is_empty()).then_some((labels, points))
            })
            .collect()
    }

    fn call(&self, call: &'a Call) -> Result<Evaluated<'a>, String> {
        let name = call.func.name;
        if name == "time" {
            return Ok(Evaluated::Scalar(self.t_ms as f64 / 1000.0));
        }
        let arg = call
            .args
            .args
            .first()
            .ok_or_else(|| format!("{name} needs an argument"))?;
        if name == "absent" {
            let Evaluated::Vector(v) = self.eval(arg)? else {
                return Err("absent takes an instant vector".to_string());
            };
            if !v.is_empty() {
                return Ok(Evaluated::Vector(Vec::new()));
            }
            // A label matched twice keeps the last value, as a label
            // set's insert does.
            let mut labels = BTreeMap::new();
            if let Expr::VectorSelector(vs) = arg.as_ref() {
                for m in &vs.matchers.matchers {
                    if m.op == MatchOp::Equal && m.name != NAME {
                        labels.insert(m.name.as_str(), m.value.as_str());
                    }
                }
            }
            let labels = SeriesLabels::Made(labels.into_iter().collect());
            return Ok(Evaluated::Vector(vec![(labels, 1.0)]));
        }
        let Expr::MatrixSelector(ms) = arg.as_ref() else {
            return Err(format!("{name} takes a range vector"));
        };
        let range_s = ms.range.as_secs_f64();
        let Evaluated::Matrix(matrix) = self.eval(arg)? else {
            return Err(format!("{name} takes a range vector"));
        };
        let t_ms = self.t_ms;
        let range_ms = ms.range.as_millis() as i64;
        let out = matrix
            .into_iter()
            .filter_map(|(labels, points)| {
                let value = match name {
                    "rate" => extrapolated(&points, t_ms - range_ms, t_ms, true)? / range_s,
                    "increase" => extrapolated(&points, t_ms - range_ms, t_ms, true)?,
                    "changes" => points.windows(2).filter(|w| w[0].1 != w[1].1).count() as f64,
                    "min_over_time" => points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min),
                    "max_over_time" => points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max),
                    "avg_over_time" => {
                        points.iter().map(|p| p.1).sum::<f64>() / points.len() as f64
                    }
                    _ => return Some(Err(format!("the function {name} is not supported"))),
                };
                Some(Ok((SeriesLabels::stored(labels).without_name(), value)))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Evaluated::Vector(out))
    }

    fn aggregate(&self, agg: &'a AggregateExpr) -> Result<Evaluated<'a>, String> {
        let op = agg.op.to_string();
        let Evaluated::Vector(input) = self.eval(&agg.expr)? else {
            return Err(format!("{op} takes an instant vector"));
        };
        // Each sample under its group's labels, grouped by a stable sort:
        // the groups in label order, each group's values in input order.
        let mut keyed: Vec<(Vec<(&'a str, &'a str)>, f64)> = input
            .iter()
            .map(|(labels, value)| {
                let key = agg
                    .modifier
                    .as_ref()
                    .map_or_else(Vec::new, |by| reduced(labels, by));
                (key, *value)
            })
            .collect();
        keyed.sort_by(|x, y| x.0.cmp(&y.0));
        let mut out = Vec::new();
        for group in keyed.chunk_by(|x, y| x.0 == y.0) {
            let values = group.iter().map(|(_, v)| *v);
            let value = match op.as_str() {
                "sum" => values.sum(),
                "min" => values.fold(f64::INFINITY, f64::min),
                "max" => values.fold(f64::NEG_INFINITY, f64::max),
                "avg" => values.sum::<f64>() / group.len() as f64,
                "count" => group.len() as f64,
                other => return Err(format!("the aggregation {other} is not supported")),
            };
            out.push((SeriesLabels::Made(group[0].0.clone()), value));
        }
        Ok(Evaluated::Vector(out))
    }

    fn binary(&self, binary: &'a BinaryExpr) -> Result<Evaluated<'a>, String> {
        let op = binary.op.to_string();
        let comparison = binary.op.is_comparison_operator();
        let return_bool = binary.modifier.as_ref().is_some_and(|m| m.return_bool);
        let lhs = self.eval(&binary.lhs)?;
        let rhs = self.eval(&binary.rhs)?;
        let apply = |a: f64, b: f64| -> Result<f64, String> {
            Ok(match op.as_str() {
                "+" => a + b,
                "-" => a - b,
                "*" => a * b,
                "/" => a / b,
                "%" => a % b,
                "^" => a.powf(b),
                "==" => f64::from(u8::from(a == b)),
                "!=" => f64::from(u8::from(a != b)),
                ">" => f64::from(u8::from(a > b)),
                "<" => f64::from(u8::from(a < b)),
                ">=" => f64::from(u8::from(a >= b)),
                "<=" => f64::from(u8::from(a <= b)),
                other => return Err(format!("the operator {other} is not supported")),
            })
        };
        // A comparison without `bool` filters: the vector's sample stays
        // (with its own value) where it holds.
        let keep = |labels: SeriesLabels<'a>,
                    own: f64,
                    a: f64,
                    b: f64|
         -> Result<Option<(SeriesLabels<'a>, f64)>, String> {
            let result = apply(a, b)?;
            Ok(if comparison && !return_bool {
                (result == 1.0).then_some((labels, own))
            } else {
                Some((labels.without_name(), result))
            })
        };
        match (lhs, rhs) {
            (Evaluated::Scalar(a), Evaluated::Scalar(b)) => Ok(Evaluated::Scalar(apply(a, b)?)),
            (Evaluated::Vector(v), Evaluated::Scalar(b)) => Ok(Evaluated::Vector(
                v.into_iter()
                    .map(|(l, a)| keep(l, a, a, b))
                    .filter_map(Result::transpose)
                    .collect::<Result<_, _>>()?,
            )),
            (Evaluated::Scalar(a), Evaluated::Vector(v)) => Ok(Evaluated::Vector(
                v.into_iter()
                    .map(|(l, b)| keep(l, b, a, b))
                    .filter_map(Result::transpose)
                    .collect::<Result<_, _>>()?,
            )),
            (Evaluated::Vector(left), Evaluated::Vector(right)) => {
                let modifier = binary.modifier.as_ref();
                let matching = modifier.and_then(|m| m.matching.as_ref());
                let signature = |labels: &SeriesLabels<'a>| -> Vec<(&'a str, &'a str)> {
                    match matching {
                        Some(on) => reduced(labels, on),
                        None => labels.iter().filter(|(k, _)| *k != NAME).collect(),
                    }
                };
                let mut by_signature = BTreeMap::new();
                for (labels, value) in &right {
                    if by_signature.insert(signature(labels), *value).is_some() {
                        return Err(MANY_TO_MANY.to_string());
                    }
                }
                let mut out = Vec::new();
                let mut seen = BTreeSet::new();
                for (labels, a) in left {
                    let mut sig = signature(&labels);
                    let Some(&b) = by_signature.get(&sig) else {
                        continue;
                    };
                    if !seen.insert(sig.clone()) {
                        return Err(MANY_TO_MANY.to_string());
                    }
                    // One-to-one: the result keeps the left side's labels,
                    // reduced to the `on` labels or without the ignored ones.
                    let labels = match matching {
                        Some(LabelModifier::Include(_)) => {
                            if let (true, Some(name)) =
                                (comparison && !return_bool, labels.get(NAME))
                            {
                                let at = sig.partition_point(|(k, _)| *k < NAME);
                                if sig.get(at).is_some_and(|(k, _)| *k == NAME) {
                                    sig[at].1 = name;
                                } else {
                                    sig.insert(at, (NAME, name));
                                }
                            }
                            SeriesLabels::Made(sig)
                        }
                        Some(LabelModifier::Exclude(ignoring)) => SeriesLabels::Made(
                            labels
                                .iter()
                                .filter(|(k, _)| !ignoring.labels.iter().any(|l| l == k))
                                .collect(),
                        ),
                        None => labels,
                    };
                    if let Some(sample) = keep(labels, a, a, b)? {
                        out.push(sample);
                    }
                }
                out.sort_by(|x, y| x.0.order(&y.0));
                Ok(Evaluated::Vector(out))
            }
            _ => Err(format!("the operator {op} does not take a range vector")),
        }
    }
}

/// The labels a `by` or `on` list keeps, or those a `without` or
/// `ignoring` list leaves (never the metric name): the key of a group or
/// of a match.
fn reduced<'a>(labels: &SeriesLabels<'a>, modifier: &LabelModifier) -> Vec<(&'a str, &'a str)> {
    match modifier {
        LabelModifier::Include(kept) => labels
            .iter()
            .filter(|(k, _)| kept.labels.iter().any(|l| l == k))
            .collect(),
        LabelModifier::Exclude(dropped) => labels
            .iter()
            .filter(|(k, _)| *k != NAME && !dropped.labels.iter().any(|l| l == k))
            .collect(),
    }
}

fn matchers_hold(matchers: &Matchers, labels: &Labels) -> bool {
    matchers.matchers.iter().all(|m| {
        let value = labels.get(&m.name).map(String::as_str).unwrap_or("");
        m.is_match(value)
    })
}

/// Prometheus' `extrapolatedRate` (`promql/functions.go`) for a counter:
/// the increase over the points in `(start, end]`, counter resets added
/// back, extrapolated to the range's edges when the first or last point
/// lies within 1.1 average intervals of them (else by half an interval),
/// and not below zero at the start. `None` with fewer than two points.
fn extrapolated(points: &[(i64, f64)], start_ms: i64, end_ms: i64, counter: bool) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let (first, last) = (points[0], points[points.len() - 1]);
    let mut result = last.1 - first.1;
    if counter {
        let mut previous = first.1;
        for &(_, v) in &points[1..] {
            if v < previous {
                result += previous;
            }
            previous = v;
        }
    }
    let mut to_start = (first.0 - start_ms) as f64 / 1000.0;
    let to_end = (end_ms - last.0) as f64 / 1000.0;
    let sampled = (last.0 - first.0) as f64 / 1000.0;
    let average = sampled / (points.len() - 1) as f64;
    if counter && result > 0.0 && first.1 >= 0.0 {
        let to_zero = sampled * (first.1 / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    let threshold = average * 1.1;
    let mut interval = sampled;
    interval += if to_start < threshold {
        to_start
    } else {
        average / 2.0
    };
    interval += if to_end < threshold {
        to_end
    } else {
        average / 2.0
    };
    Some(result * (interval / sampled))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::labels_of;

    /// Two targets of one job, each with a gauge `g` in two pods and a
    /// gauge `h` for one of them.
    fn store() -> SeriesStore {
        let mut store = SeriesStore::new();
        for (instance, offset) in [("a", 0.0), ("b", 10.0)] {
            let target = labels_of(&[("job", "j"), ("instance", instance)]);
            let text = format!(
                "# TYPE g gauge\ng{{pod=\"p\"}} {}\ng{{pod=\"q\"}} {}\n# TYPE h gauge\nh{{pod=\"p\"}} {}\n",
                offset + 1.0,
                offset + 2.0,
                offset + 5.0
            );
            store.ingest_exposition(&target, 0, Some(&text));
        }
        store
    }

    /// `expr` at time 0, each sample as its labels written `k=v,...` and its value.
    fn vector(expr: &str) -> Vec<(String, f64)> {
        let expr = promql_parser::parser::parse(expr).expect("parses");
        let Value::Vector(samples) = evaluate_instant(&expr, &store(), 0).expect("evaluates")
        else {
            panic!("an instant vector")
        };
        samples
            .into_iter()
            .map(|(labels, value)| {
                let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                (labels.join(","), value)
            })
            .collect()
    }

    #[test]
    fn by_and_without_group_on_the_labels_they_leave() {
        assert_eq!(
            vector("sum by (pod) (g)"),
            [("pod=p".to_string(), 12.0), ("pod=q".to_string(), 14.0)]
        );
        assert_eq!(
            vector("sum without (pod, job) (g)"),
            [
                ("instance=a".to_string(), 3.0),
                ("instance=b".to_string(), 23.0)
            ]
        );
        assert_eq!(vector("sum(g)"), [(String::new(), 26.0)]);
    }

    #[test]
    fn on_and_ignoring_match_on_the_labels_they_leave() {
        // `on (instance)`: each `h` matches the one `g` of its instance
        // with pod p, once the right side is reduced to one per instance.
        assert_eq!(
            vector("h - on (instance) (g{pod=\"p\"})"),
            [
                ("instance=a".to_string(), 4.0),
                ("instance=b".to_string(), 4.0)
            ]
        );
        assert_eq!(
            vector("h - ignoring (pod) g{pod=\"q\"}"),
            [
                ("instance=a,job=j".to_string(), 3.0),
                ("instance=b,job=j".to_string(), 3.0)
            ]
        );
        // Two `g`s of one instance and job on the left: many-to-one,
        // which a one-to-one operation refuses, as Prometheus does.
        let expr = promql_parser::parser::parse("g - ignoring (pod) h").expect("parses");
        let refused = evaluate_instant(&expr, &store(), 0).expect_err("refused");
        assert!(refused.contains("many-to-many"), "{refused}");
        // No modifier: every label but the name must match.
        assert_eq!(
            vector("h - g"),
            [
                ("instance=a,job=j,pod=p".to_string(), 4.0),
                ("instance=b,job=j,pod=p".to_string(), 4.0)
            ]
        );
    }
}
