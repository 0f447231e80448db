"""One self-contained HTML report of a fitted model: the data, the fit, metrics, coefficients, plots, and one
example traced through the computation graph.

No network: the plots are SVG images inline as data URIs, the styles are in the page, there is no script and
no font to fetch. jinja2 renders it; the page reads on a laptop screen and prints (each section stays on a page
where it fits).
"""

from __future__ import annotations

import base64
import datetime
import html
import warnings

import numpy as np

from ._files import write_atomically
from ._labels import feature_labels
from ._version import __version__

#: the data plots of the report, in order, and their captions
_DATA_PLOTS = (("roc", "ROC curve"), ("pr", "Precision-recall curve"), ("calibration", "Calibration"),
               ("confusion", "Confusion matrix"), ("regions", "Decision regions"))


def predict(model, X, threshold=None, proba=None):
    """``model.predict(X)``, or for two classes with a ``threshold``: the second class where its probability is at
    least ``threshold``."""
    if threshold is None:
        return model.predict(X)
    if len(model.classes_) != 2:
        raise ValueError(f"a decision threshold is for two classes; the model has {len(model.classes_)}.")
    p = model.predict_proba(X)[:, 1] if proba is None else proba[:, 1]
    return np.asarray(model.classes_)[(p >= threshold).astype(int)]


def metrics(model, X, y, threshold=None):
    """Accuracy, log-loss, ROC AUC (one-vs-rest, macro-averaged for K > 2), Brier score and the predictions of a
    fitted classifier on labelled rows: a dict (``"pred"``: the predicted labels, at ``threshold`` if given)."""
    from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

    from .plot import brier_score

    classes = model.classes_
    proba = model.predict_proba(X)
    pred = predict(model, X, threshold, proba)
    y = np.asarray(y)
    every_class = bool(np.isin(classes, y).all())  # else ROC AUC is undefined
    if len(classes) == 2:
        positive = y == classes[1]
        loss = log_loss(positive, proba[:, 1], labels=[False, True])
        auc = roc_auc_score(positive, proba[:, 1]) if every_class else float("nan")
    else:
        loss = log_loss(y, proba, labels=classes)
        auc = (roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=classes)
               if every_class else float("nan"))
    return {"accuracy": accuracy_score(y, pred), "log-loss": loss, "ROC AUC": auc,
            "Brier score": brier_score(y, proba, classes), "pred": pred}


def _svg_uri(fig):
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _fmt(v, digits=4):
    if v is None:
        return ""
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):
            return "n/a"
        return f"{v:.{digits}g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3e}"
    return str(v)


def _balance(y, classes):
    y = np.asarray(y)
    return [(str(c), int(np.sum(y == c)), float(np.mean(y == c))) for c in classes]


def coefficient_rows(model, names):
    """``(header, rows)`` of the coefficient table: R's columns (estimate, std. error, z, p, the interval, the
    odds ratio) where the fit has inference, else the estimates (and odds ratios) alone, with the reason."""
    from .plot import summary_terms

    summary, found = summary_terms(model, feature_names=names)  # the terms' labels, or why there is no table
    if summary is not None:
        ci = np.asarray(summary.conf_int())
        header = ["term", "estimate", "std. error", "z", "p", f"{summary.level:.0%} lower", "upper", "odds ratio"]
        rows = [[text] + [_fmt(float(v)) for v in (summary.params[i], summary.bse[i], summary.zvalues[i],
                                                   summary.pvalues[i], ci[i, 0], ci[i, 1], np.exp(summary.params[i]))]
                for i, text in enumerate(found)]
        return header, rows, None
    reason = found
    coef, b = np.asarray(model.coef_), np.asarray(model.intercept_)
    classes = list(model.classes_)
    if coef.shape[0] == 1:
        header = ["term", "estimate", "odds ratio"]
        rows = [["(Intercept)", _fmt(float(b[0])), _fmt(float(np.exp(b[0])))]]
        rows += [[n, _fmt(float(w)), _fmt(float(np.exp(w)))] for n, w in zip(names, coef[0])]
    else:
        header = ["term"] + [f"class {c}" for c in classes]
        rows = [["(Intercept)"] + [_fmt(float(v)) for v in b]]
        rows += [[n] + [_fmt(float(v)) for v in coef[:, j]] for j, n in enumerate(names)]
    return header, rows, reason


def _plots(model, X, y, cv_model, regions, names):
    """``[(caption, data URI)]`` of every plot this model and these rows allow; a plot that cannot be drawn
    (e.g. one class among the rows) is left out with its reason as the caption."""
    from . import plot

    figures = []

    def add(caption, draw):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                figures.append((caption, _svg_uri(draw()), None))
        except (ValueError, TypeError) as exc:
            figures.append((caption, None, str(exc)))

    if getattr(model, "loss_history_", None) is not None and len(model.loss_history_) > 1:
        add("Cost per iteration", lambda: plot.cost(model))
    add("Coefficients", lambda: plot.coefficients(model, feature_names=names))
    if X is not None:
        for kind, caption in _DATA_PLOTS:
            if kind == "regions":
                if regions is None or X.shape[1] < 2:
                    continue
                add(f"{caption} over {regions[0]} and {regions[1]}",
                    lambda: plot.decision_regions(model, X, y, features=[names.index(f) for f in regions]))
            else:
                add(caption, lambda k=kind: getattr(plot, k)(model, X, y))
    if cv_model is not None:
        add("Cross-validation curve", lambda: plot.cv_curve(cv_model))
        add("Coefficient path", lambda: plot.coef_path(cv_model, feature_names=names))
    return figures


def render(model, *, train=None, test=None, title="logitgd report", data=None, fit=None, warnings_text=(),
           cv_model=None, feature_names=None, regions=None, explain=None):
    """The report's HTML text (see :func:`write`)."""
    import jinja2

    from .explain import Explanation

    names = feature_labels(feature_names if feature_names is not None else getattr(model, "feature_names_in_", None),
                           int(model.n_features_in_))
    classes = list(model.classes_)
    parts = [(label, X, y) for label, pair in (("train", train), ("test", test)) if pair is not None
             for X, y in [pair] if X is not None]
    scores = [(label, len(y), metrics(model, X, y)) for label, X, y in parts]
    shown = parts[-1] if parts else ("", None, None)
    header, coef_rows, coef_note = coefficient_rows(model, names)
    if explain is not None and not isinstance(explain, Explanation):
        raise TypeError("explain must be an Explanation (model.explain(x, y)) or None.")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = _fmt
    env.filters["b64"] = lambda text: base64.b64encode(text.encode("utf-8")).decode("ascii")
    page = env.from_string(_TEMPLATE).render(
        title=title, version=__version__, generated=datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        data=data or {}, fit=fit or {}, warnings=list(warnings_text), classes=classes,
        balance=[(label, _balance(y, classes)) for label, _, y in parts], scores=scores,
        metric_names=["accuracy", "log-loss", "ROC AUC", "Brier score"], coef_header=header, coef_rows=coef_rows,
        coef_note=coef_note, plots=_plots(model, shown[1], shown[2], cv_model, regions, names),
        plot_rows=f"the {len(shown[2])} {shown[0]} rows" if shown[1] is not None else "",
        explain=None if explain is None else {"table": explain.table(), "svg": graph_svg(explain)})
    return page


def write(path, model, **kwargs):
    """Write the report of ``model`` to ``path`` (atomically: a temporary file renamed into place).

    Parameters (keywords): ``train``, ``test`` (``(X, y)`` pairs or None: the metrics of each, the class balance,
    and the data plots of the last given), ``title``, ``data`` and ``fit`` (dicts of label -> text: what the data
    and the fit were), ``warnings_text`` (lines), ``cv_model`` (a fitted LogisticRegressionCV: its CV curve and
    coefficient path), ``feature_names``, ``regions`` (two feature names for the decision-regions plot, or None),
    ``explain`` (an :class:`~logitgd.explain.Explanation` to trace, or None). Returns the path, as a str.
    """
    text = render(model, **kwargs)
    return write_atomically(path, lambda fh: fh.write(text), suffix=".html")


# -- the computation graph of one example, as SVG ---------------------------------------------------------

def graph_svg(e, max_inputs=6):
    """The computation graph of an :class:`~logitgd.explain.Explanation` as an SVG document (text): the inputs
    ``x_j`` with their weights (the largest terms), ``z``, ``a``, ``L``, the forward values on the nodes and the
    backward values (``dz``, ``dw_j``, ``db``) in red beneath them."""
    import jinja2

    order = list(e.order(max_inputs))
    hidden = len(e.x) - len(order)
    m = len(e.z)
    inputs = []
    for j in order:
        forward = (f"w·x = {_fmt(float(e.terms[0, j]))}" if m == 1 else
                   "w·x = " + ", ".join(_fmt(float(t)) for t in e.terms[:, j]))
        backward = None if e.dw is None else (f"dw = x·dz = {_fmt(float(e.dw[0, j]))}" if m == 1 else
                                              "dw = " + ", ".join(_fmt(float(v)) for v in e.dw[:, j]))
        inputs.append({"name": str(e.feature_names[j]), "x": _fmt(float(e.x[j])), "forward": forward,
                       "backward": backward})
    scores = []
    for k in range(m):
        name = "z" if m == 1 else f"z[{e.classes[k]}]"
        scores.append({"name": name, "z": _fmt(float(e.z[k])), "b": _fmt(float(e.intercept[k])),
                       "a": _fmt(float(e.a[k])), "dz": None if e.dz is None else _fmt(float(e.dz[k]))})
    act = {"sigmoid": "a = σ(z)", "ovr": "a_k = σ(z_k)", "softmax": "a = softmax(z)"}[e.link]
    row_h = 58
    height = max(len(inputs) + (1 if hidden else 0), m * 1.6) * row_h + 90
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return env.from_string(_GRAPH).render(
        inputs=inputs, hidden=hidden, scores=scores, act=act, row_h=row_h, height=int(height),
        loss=None if e.loss is None else _fmt(e.loss), y=None if e.y is None else html.escape(str(e.y)),
        prediction=str(e.prediction), mid=int(height / 2))


_GRAPH = """<svg xmlns="http://www.w3.org/2000/svg" width="900" height="{{ height }}" viewBox="0 0 900 {{ height }}"
 font-family="sans-serif" font-size="12" role="img" aria-label="computation graph of one example">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">
<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>
{% set zx = 430 %}
{% for s in scores %}{% set zy = (height - 20) * (loop.index0 + 0.5) / scores|length + 10 %}
{% for i in inputs %}{% set iy = 40 + loop.index0 * row_h %}
<line x1="230" y1="{{ iy }}" x2="{{ zx - 87 }}" y2="{{ zy }}" stroke="#999" marker-end="url(#arrow)"/>
{% endfor %}
<rect x="{{ zx - 85 }}" y="{{ zy - 26 }}" width="200" height="52" rx="8" fill="#eef4fb" stroke="#3a6ea5"/>
<text x="{{ zx + 15 }}" y="{{ zy - 9 }}" text-anchor="middle" font-weight="bold">{{ s.name }} = Σ w·x + b</text>
<text x="{{ zx + 15 }}" y="{{ zy + 7 }}" text-anchor="middle">= {{ s.z }}  (b = {{ s.b }})</text>
{% if s.dz is not none %}<text x="{{ zx + 15 }}" y="{{ zy + 22 }}" text-anchor="middle"
 fill="#b22222">d{{ s.name }} = a − y = {{ s.dz }}; db = {{ s.dz }}</text>{% endif %}
<line x1="{{ zx + 117 }}" y1="{{ zy }}" x2="{{ zx + 168 }}" y2="{{ mid }}" stroke="#999" marker-end="url(#arrow)"/>
{% endfor %}
{% for i in inputs %}{% set iy = 40 + loop.index0 * row_h %}
<rect x="10" y="{{ iy - 22 }}" width="220" height="48" rx="6" fill="#f7f7f7" stroke="#888"/>
<text x="20" y="{{ iy - 6 }}"><tspan font-weight="bold">{{ i.name[:22] }}</tspan> = {{ i.x }}</text>
<text x="20" y="{{ iy + 9 }}">{{ i.forward[:34] }}</text>
{% if i.backward %}<text x="20" y="{{ iy + 22 }}" fill="#b22222">{{ i.backward[:34] }}</text>{% endif %}
{% endfor %}
{% if hidden %}<text x="20" y="{{ 40 + inputs|length * row_h }}" fill="#555">… and {{ hidden }} more
 inputs</text>{% endif %}
<rect x="600" y="{{ mid - 30 }}" width="130" height="60" rx="8" fill="#eef8ee" stroke="#3a8a3a"/>
<text x="665" y="{{ mid - 10 }}" text-anchor="middle" font-weight="bold">{{ act }}</text>
{% for s in scores %}<text x="665" y="{{ mid + 5 + 12 * loop.index0 }}" text-anchor="middle"
 font-size="11">{{ s.a }}</text>{% endfor %}
<line x1="732" y1="{{ mid }}" x2="768" y2="{{ mid }}" stroke="#999" marker-end="url(#arrow)"/>
<rect x="770" y="{{ mid - 30 }}" width="120" height="60" rx="8" fill="#fbf3e6" stroke="#b07a1e"/>
<text x="830" y="{{ mid - 10 }}" text-anchor="middle" font-weight="bold">L(a, y)</text>
{% if loss is not none %}<text x="830" y="{{ mid + 6 }}" text-anchor="middle">= {{ loss }}</text>
<text x="830" y="{{ mid + 21 }}" text-anchor="middle" font-size="11">y = {{ y }}</text>
{% else %}<text x="830" y="{{ mid + 8 }}" text-anchor="middle" font-size="11">predicts {{ prediction }}</text>
{% endif %}
</svg>"""


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
 body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px; margin: 1.5em auto;
        padding: 0 1em; color: #222; line-height: 1.4; }
 h1 { font-size: 1.6em; margin-bottom: 0.1em; }
 h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; margin-top: 1.6em; }
 .meta { color: #666; font-size: 0.9em; }
 table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
 th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
 th:first-child, td:first-child { text-align: left; } th { background: #f3f5f7; }
 dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2em 1.2em; }
 dt { font-weight: 600; } dd { margin: 0; }
 .warning { background: #fff6e0; border-left: 4px solid #e0a000; padding: 0.4em 0.8em; margin: 0.3em 0; }
 .plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 1em; }
 figure { margin: 0; break-inside: avoid; } figure img { width: 100%; height: auto; border: 1px solid #eee; }
 figcaption { font-size: 0.9em; color: #444; }
 pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.82em; }
 section { break-inside: avoid-page; }
 @media print { body { max-width: none; margin: 0; } .plots { grid-template-columns: 1fr 1fr; }
   h2 { break-after: avoid; } pre { white-space: pre-wrap; } }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p class="meta">logitgd {{ version }}, {{ generated }}</p>

<section id="data">
<h2>Data</h2>
<dl>
{% for key, value in data.items() %}<dt>{{ key }}</dt><dd>{{ value }}</dd>
{% endfor %}
</dl>
{% if balance %}
<table class="balance">
<tr><th>class</th>{% for label, _ in balance %}<th>{{ label }} rows</th><th>share</th>{% endfor %}</tr>
{% for k in range(classes|length) %}
<tr><td>{{ classes[k] }}</td>{% for label, rows in balance %}<td>{{ rows[k][1] }}</td>
<td>{{ "%.1f%%"|format(100 * rows[k][2]) }}</td>{% endfor %}</tr>
{% endfor %}
</table>
{% endif %}
</section>

<section id="fit">
<h2>Fit</h2>
<dl>
{% for key, value in fit.items() %}<dt>{{ key }}</dt><dd>{{ value }}</dd>
{% endfor %}
</dl>
{% for w in warnings %}<div class="warning">warning: {{ w }}</div>
{% endfor %}
</section>

{% if scores %}
<section id="metrics">
<h2>Metrics</h2>
<table class="metrics">
<tr><th>metric</th>{% for label, n, _ in scores %}<th>{{ label }} ({{ n }} rows)</th>{% endfor %}</tr>
{% for name in metric_names %}
<tr><td>{{ name }}</td>{% for _, _, m in scores %}<td>{{ m[name]|fmt }}</td>{% endfor %}</tr>
{% endfor %}
</table>
{% if classes|length > 2 %}<p class="meta">ROC AUC: one class against the rest, averaged over the classes; Brier
score: over the K classes.</p>{% endif %}
</section>
{% endif %}

<section id="coefficients">
<h2>Coefficients</h2>
{% if coef_note %}<p class="meta">No standard errors: {{ coef_note }}</p>{% endif %}
<table class="coefficients">
<tr>{% for h in coef_header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in coef_rows %}<tr>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>
{% endfor %}
</table>
</section>

<section id="plots">
<h2>Plots</h2>
{% if plot_rows %}<p class="meta">The data plots show {{ plot_rows }}.</p>{% endif %}
<div class="plots">
{% for caption, uri, why in plots %}
<figure>{% if uri %}<img src="{{ uri }}" alt="{{ caption }}">{% endif %}
<figcaption>{{ caption }}{% if why %}: not drawn ({{ why }}){% endif %}</figcaption></figure>
{% endfor %}
</div>
</section>

{% if explain %}
<section id="explain">
<h2>One example, traced</h2>
<p>The forward pass computes z = w·x + b, a = σ(z) and the loss L(a, y); the backward pass, from the loss back to the
weights: dz = a − y, db = dz, dw<sub>j</sub> = x<sub>j</sub>·dz (softmax for K classes: dz<sub>k</sub> = a<sub>k</sub>
− [y = k]). Forward values in black, backward in red.</p>
<figure><img src="data:image/svg+xml;base64,{{ explain.svg|b64 }}" alt="computation graph of one example"></figure>
<pre>{{ explain.table }}</pre>
</section>
{% endif %}
</body>
</html>
"""
