"""The command line's options: their value parsers and the parser of every command."""

from __future__ import annotations

import argparse
import math

from .._defaults import DEFAULT_ALPHA
from .._version import __version__

BUILTIN = "breast-cancer"
COV_TYPES = ("nonrobust", "HC0", "HC1", "cluster")

#: the plot kinds, as the command line names them, and a line of help for each
KIND_HELP = {
    "cost": "the cost per iteration",
    "roc": "ROC curve and AUC",
    "pr": "precision-recall curve",
    "calibration": "reliability curve, Brier score, histogram of probabilities",
    "confusion": "confusion matrix",
    "coefficients": "coefficients with intervals (odds ratios: oddsratios=FILE)",
    "oddsratios": "odds ratios with intervals",
    "regions": "decision regions over two features (--plot-features A,B)",
    "cv": "the CV curve (with --alpha cv)",
    "path": "the coefficient path (with --alpha cv)",
}


def _learning_rate(text):
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number or 'auto', got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number or 'auto', got {text!r}")
    return value


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def _probability(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a probability strictly between 0 and 1, got {text!r}")
    return value


def _non_negative(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text!r}")
    return value


def _alpha(text):
    if text == "cv":
        return text
    try:
        return _non_negative(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a non-negative number or 'cv', got {text!r}") from None


def _ratios(text):
    """One l1_ratio, or (with --alpha cv) several separated by commas: a list of non-negative numbers (the
    estimator checks that they are at most 1)."""
    what = "a non-negative number, or with --alpha cv several separated by commas"
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not all(v >= 0 and math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return values


def _int_in(low, high=None):
    what = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    parse.__name__ = what
    return parse


def _column_list(text):
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected column names separated by commas, got {text!r}")
    return names


def _level(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}")
    return value


def _summary_options(parser, data_hint):
    """The summary's options: --cov-type, --cluster, --conf-int, --tests, --level (defaults None: given or not)."""
    parser.add_argument("--cov-type", choices=COV_TYPES, default=None,
                        help="standard errors: model-based (nonrobust, default), sandwich HC0/HC1, or cluster-robust "
                             "(with --cluster)")
    parser.add_argument("--cluster", metavar="COL",
                        help=f"column of {data_hint} holding the group labels for cluster-robust standard errors "
                             "(not a feature; implies --cov-type cluster)")
    parser.add_argument("--conf-int", choices=["wald", "profile"], default=None,
                        help="intervals: wald or profile likelihood (refits; unpenalized or Firth fits). Default: "
                             "wald, and profile for --penalty firth (as R's logistf)")
    parser.add_argument("--tests", choices=["wald", "lr"], default=None,
                        help="tests of each coefficient being 0: wald z or likelihood-ratio (a refit each). "
                             "Default: wald, and lr for --penalty firth (logistf's penalized LR tests)")
    parser.add_argument("--level", type=_level, default=None, help="confidence level of the intervals (default 0.95)")


def _class_weight(text):
    if text == "balanced":
        return text
    weights = {}
    for part in text.split(","):
        label, sep, value = part.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = float("nan")
        if not sep or not label.strip() or not (weight > 0 and math.isfinite(weight)):
            raise argparse.ArgumentTypeError(f"expected 'balanced' or LABEL=WEIGHT pairs with positive weights "
                                             f"separated by commas, got {text!r}")
        weights[label.strip()] = weight
    return weights


def _threshold_option(parser):
    parser.add_argument("--threshold", type=_probability, default=None, metavar="T",
                        help="two classes: predict the second class (in sorted order) where its probability is at "
                             "least T (default: above 0.5)")


def _plot_options(parser, rows):
    kinds = "; ".join(f"{k}: {v}" for k, v in KIND_HELP.items())
    parser.add_argument("--plot", action="append", default=[], metavar="KIND=FILE",
                        help=f"write a plot; the format from FILE's suffix (.png, .svg, .pdf); repeat for more. "
                             f"Data plots show {rows}. Kinds: {kinds}. A FILE alone: the cost curve")
    parser.add_argument("--plot-features", type=_column_list, default=None, metavar="A,B",
                        help="the two features of --plot regions= (default: the first two)")
    if parser.prog.endswith(" fit"):
        parser.add_argument("--report", metavar="FILE.html",
                            help="write one self-contained HTML report: the data, the fit, metrics, coefficients, "
                                 "the plots, one example traced")


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose errors suggest the option meant (``--learning_rate`` → ``--learning-rate``)."""

    def error(self, message):
        unknown = [word for word in message.split() if word.startswith("--")]
        if "unrecognized arguments" in message and unknown:
            import difflib

            options = set(self._option_string_actions)
            for action in self._actions:  # the commands' options too: the top parser reports their leftovers
                if isinstance(action, argparse._SubParsersAction):
                    for sub in action.choices.values():
                        options |= set(sub._option_string_actions)
            hints = []
            for word in unknown:
                name = word.split("=", 1)[0]
                close = difflib.get_close_matches(name.replace("_", "-"), sorted(options), n=1, cutoff=0.6)
                if close:
                    hints.append(f"{name}: did you mean {close[0]}?")
            if hints:
                message += " (" + "; ".join(hints) + ")"
        super().error(message)


def build_parser():
    parser = _Parser(
        prog="logitgd", description="Logistic regression trained by gradient descent.")
    parser.add_argument("--version", action="version", version=f"logitgd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    fit = sub.add_parser("fit", help="train a model on a CSV/Parquet/svmlight file (or the built-in data)")
    fit.add_argument("data", nargs="?",
                     help=f"CSV, Parquet or svmlight file; omitted: the built-in {BUILTIN} data")
    fit.add_argument("--target", help="name of the label column (required with a CSV or Parquet DATA; "
                                      "an svmlight file holds its labels)")
    fit.add_argument("--features", type=_column_list, default=None, metavar="COL1,COL2",
                     help="the feature columns of a CSV or Parquet DATA (default: every column but the target)")
    fit.add_argument("--drop", type=_column_list, default=None, metavar="COL1,COL2",
                     help="columns to leave out (an ID, a name, a column that leaks the label)")
    fit.add_argument("--allow-id", type=_column_list, default=None, metavar="COL",
                     help="use a column that looks like a row identifier (1..n, unique names) as a feature anyway")
    fit.add_argument("--categorical", type=_column_list, default=[], metavar="COL1,COL2",
                     help="columns to one-hot encode (CSV/Parquet); the features become a sparse matrix")
    fit.add_argument("--impute", choices=["none", "mean", "median", "most_frequent"], default="none",
                     help="fill missing numbers (empty cells, NA) of the feature columns with the training rows' "
                          "mean, median or most frequent value, scikit-learn's SimpleImputer (default none: a missing "
                          "value is an error naming its row); the model file keeps the values, predict fills alike")
    fit.add_argument("--standardize", action="store_true",
                     help="centre and scale the numeric features by the training rows' mean and standard deviation "
                          "(StandardScaler), kept in the model file; the coefficients are then per standard deviation")
    fit.add_argument("--multi-class", choices=["auto", "multinomial", "ovr"], default=None,
                     help="with more than two classes: one softmax model or one-vs-rest "
                          "(default: the estimator's, 'auto')")
    fit.add_argument("--test-size", type=_fraction, default=0.2,
                     help="fraction held out for testing, stratified (default 0.2; 0 for none)")
    fit.add_argument("--alpha", type=_alpha, default=None,
                     help=f"penalty strength (default {DEFAULT_ALPHA:g}, as in Python; none with --penalty firth; "
                          "0 for the pure MLE, R's glm), or 'cv': chosen by cross-validation along a regularization "
                          "path (glmnet's cv.glmnet) on the training rows")
    fit.add_argument("--learning-rate", type=_learning_rate, default="auto",
                     help="fixed step, or 'auto' for line search (default)")
    fit.add_argument("--solver", choices=["auto", "gd", "sgd", "lbfgs", "newton", "firth"], default=None,
                     help="optimizer (default: 'gd' with a numeric --learning-rate, else 'auto')")
    fit.add_argument("--penalty", choices=["l2", "l1", "elasticnet", "none", "firth"], default="l2",
                     help="penalty on the coefficients (default l2); firth: Firth's bias-reduced likelihood, "
                          "finite under separation (binary)")
    fit.add_argument("--l1-ratio", type=_ratios, default=None, metavar="R[,R...]",
                     help="share of L1 in the elastic net (required with --penalty elasticnet); with --alpha cv, "
                          "several separated by commas to choose among")
    fit.add_argument("--max-iter", type=_int_in(1), default=None,
                     help="iteration limit (default: the solver's, e.g. 5000 for gd, 100 for newton)")
    fit.add_argument("--tol", type=_non_negative, default=None,
                     help="gradient tolerance (default: the solver's, 1e-8; 1e-4 for sgd)")
    fit.add_argument("--random-state", type=_int_in(0, 2**32 - 1), default=0,
                     help="seed of the train/test split and of sgd's shuffles (default 0): the same command, the "
                          "same model")
    fit.add_argument("--class-weight", type=_class_weight, default=None, metavar="balanced|CLASS=W,...",
                     help="weight the classes: 'balanced' (inversely to their frequencies) or weights per label, "
                          "e.g. yes=5,no=1 (default: every row weighs 1)")
    fit.add_argument("--batch-size", type=_int_in(1), default=None, metavar="N",
                     help="rows per step of --solver sgd (default 32)")
    _threshold_option(fit)
    fit.add_argument("--model", help="write the fitted model here (JSON)")
    _plot_options(fit, "the test rows (the training rows with --test-size 0)")
    fit.add_argument("--force", action="store_true", help="overwrite existing output files")
    fit.add_argument("--quiet", action="store_true", help="no progress bar")
    fit.add_argument("--device", default="cpu",
                     help="where to train: cpu (default), or cuda / cuda:N through PyTorch "
                          "(pip install 'logitgd[gpu]')")
    fit.add_argument("--dask", metavar="local[:N]|tcp://HOST:PORT",
                     help="train with Dask (pip install 'logitgd[dask]'): DATA is a Parquet file, directory or "
                          "glob; local:N starts N worker processes here, tcp://HOST:PORT joins a running scheduler")
    fit.add_argument("--formula", metavar="'y ~ x1 + C(g)'",
                     help="fit an R-style formula (formulaic's syntax) on a CSV or Parquet DATA: its response is the "
                          "label (no --target needed), C(col) one-hot encodes (pip install 'logitgd[formula]')")
    cv = fit.add_argument_group("cross-validation (with --alpha cv)")
    cv.add_argument("--cv", type=_int_in(2), default=None, metavar="K",
                    help="folds (stratified) of the training rows (default 5)")
    cv.add_argument("--selection", choices=["min", "1se"], default=None,
                    help="min: the alpha of the best mean CV log-loss (default); 1se: the largest alpha within one "
                         "standard error of it (a sparser, more penalized model)")
    cv.add_argument("--n-alphas", type=_int_in(2), default=None, metavar="N",
                    help="alphas on the path, from the smallest with all coefficients zero down by a factor 1e4 "
                         "(1e2 with more features than rows), evenly in log (default 20)")
    cv.add_argument("--plot-cv", metavar="FILE.png",
                    help="write the CV curve here (PNG): mean CV log-loss against log(alpha), with standard errors")
    cv.add_argument("--plot-path", metavar="FILE.png",
                    help="write the coefficient path here (PNG): each coefficient against log(alpha)")
    fit.add_argument("--summary", action="store_true",
                     help="print the coefficient table (standard errors, z tests, intervals, odds ratios) of the fit")
    _summary_options(fit, "DATA")

    pred = sub.add_parser("predict", help="probabilities and labels for new data")
    pred.add_argument("model", help="model file written by 'logitgd fit --model'")
    pred.add_argument("data", help="CSV, Parquet or svmlight file with the model's features")
    pred.add_argument("--output", help="write predictions here: CSV (.csv, .csv.gz) or Parquet (.parquet), by the "
                                       "suffix; default: CSV on standard output")
    _threshold_option(pred)
    pred.add_argument("--keep", type=_column_list, default=None, metavar="COL1,COL2",
                      help="columns of DATA copied into the predictions first (an ID, a name)")
    pred.add_argument("--digits", type=_int_in(1, 17), default=6, metavar="N",
                      help="significant digits of the probabilities in CSV (default 6; Parquet keeps them all)")
    pred.add_argument("--force", action="store_true", help="overwrite an existing output file")

    ev = sub.add_parser("evaluate", help="metrics of a saved model on labelled data")
    ev.add_argument("model", help="model file written by 'logitgd fit --model'")
    ev.add_argument("data", help="CSV, Parquet or svmlight file with the model's features and labels")
    ev.add_argument("--target", help="name of the label column (required with a CSV or Parquet file; "
                                     "a formula model's default: its response)")
    _threshold_option(ev)
    _plot_options(ev, "DATA's rows")
    ev.add_argument("--force", action="store_true", help="overwrite existing output files")

    rep = sub.add_parser("report", help="one self-contained HTML page: the data, the fit, metrics, coefficients, "
                                        "plots, one example traced")
    rep.add_argument("model", help="model file written by 'logitgd fit --model'")
    rep.add_argument("data", help="CSV, Parquet or svmlight file with the model's features and labels")
    rep.add_argument("--target", help="name of the label column (required with a CSV or Parquet file; "
                                      "a formula model's default: its response)")
    rep.add_argument("-o", "--output", required=True, metavar="FILE.html", help="write the report here")
    rep.add_argument("--plot-features", type=_column_list, default=None, metavar="A,B",
                     help="the two features of the decision-regions plot (default: the first two)")
    rep.add_argument("--row", type=_int_in(0), default=0, metavar="I",
                     help="the example traced through the computation graph (default 0, the first row)")
    rep.add_argument("--force", action="store_true", help="overwrite an existing report")

    ex = sub.add_parser("explain", help="one row through the model: each term w_j x_j, z, a = sigmoid(z), the loss, "
                                        "and the gradient (dz, db, dw_j)")
    ex.add_argument("model", help="model file written by 'logitgd fit --model'")
    ex.add_argument("data", help="CSV, Parquet or svmlight file with the model's features")
    ex.add_argument("--row", type=_int_in(0), required=True, metavar="I", help="the row to explain (0 is the first)")
    ex.add_argument("--target", help="name of the label column, for the loss and the backward pass (an svmlight "
                                     "file's labels are used without it)")
    ex.add_argument("--top", type=_int_in(1), default=15, metavar="N",
                    help="terms listed, largest in size first (default 15)")

    summ = sub.add_parser("summary", help="the coefficient table of a saved model")
    summ.add_argument("model", help="model file written by 'logitgd fit --model'")
    summ.add_argument("--data", help="labelled data (CSV, Parquet or svmlight, read as the model's training data) "
                                     "to compute over; needed for --cluster and profile intervals")
    summ.add_argument("--target", help="name of the label column of a CSV or Parquet --data "
                                       "(a formula model's default: its response)")
    _summary_options(summ, "--data")
    return parser

