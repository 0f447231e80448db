"""Reading data files and turning them into (X, y), with errors that name the problem.

Supported files: CSV (``.csv``, ``.txt``, also gzip-compressed ``.csv.gz``),
Parquet (``.parquet``, ``.pq``) and svmlight/LIBSVM (``.svm``, ``.libsvm``,
``.svmlight``, each also ``.gz`` or ``.bz2``-compressed), which is read into a
sparse CSR matrix. Every check here raises
:class:`~logitgd.exceptions.DataError` with one line saying which file,
column and row (or, for svmlight, which line) is wrong and what was expected.
Rows are counted from 1 for the first data row (the header is not a row);
svmlight lines are counted from 1 for the first line of the file.

Tables with text (categorical) columns are one-hot encoded by
:func:`encode_table`, which returns a JSON-able description of the encoding
that :func:`apply_encoding` replays on new data.

Tables are read, checked and encoded in :mod:`logitgd.io.tables`, svmlight
files in :mod:`logitgd.io.svmlight`; this package re-exports their functions.
"""

from .svmlight import read_svmlight
from .tables import (
                     IMPUTE_STRATEGIES,
                     TableEncoder,
                     apply_encoding,
                     check_target,
                     encode_table,
                     fit_preprocess,
                     is_svmlight,
                     model_features,
                     numeric_block,
                     numeric_features,
                     preprocess_matrix,
                     read_table,
                     split_xy,
)

__all__ = ["IMPUTE_STRATEGIES", "TableEncoder", "apply_encoding", "check_target", "encode_table", "fit_preprocess",
           "is_svmlight", "model_features", "numeric_block", "numeric_features", "preprocess_matrix", "read_svmlight",
           "read_table", "split_xy"]
