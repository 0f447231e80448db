"""The command line's Parquet reader for ``--dask``: one lazy row chunk per Parquet row group."""

from __future__ import annotations

import errno
import functools
import os
import threading

import dask
import numpy as np


def read_parquet(path, target):
    """``(X, y, feature names)`` from a Parquet file, directory or glob; ``target`` is the label column.

    X and y are lazy dask arrays with one row chunk per Parquet row group. A
    chunk of X is read by pyarrow straight into one C-ordered array (one copy
    after decoding, no pandas), the layout the kernel reads, and a chunk of y
    reads the label column alone (so the labels' pass does not read X). A URL
    (``s3://...``) or a directory partitioned into ``key=value`` folders goes
    through ``dask.dataframe.read_parquet`` instead.
    """
    import glob

    import pyarrow as pa

    has_glob = any(ch in path for ch in "*?[")
    hive = os.path.isdir(path) and any("=" in d for _, dirs, _ in os.walk(path) for d in dirs)
    if "://" in path or hive:  # remote, or columns in the directory names (year=2024/...): dask reads them
        import dask.dataframe as dd

        df = dd.read_parquet(path)
        if target not in df.columns:
            raise ValueError(f"{path}: no column {target!r} (columns: {', '.join(map(str, list(df.columns)[:10]))}).")
        features = [c for c in df.columns if c != target]
        return df[features], df[target], [str(c) for c in features]
    if has_glob:
        files = sorted(glob.glob(path))
    elif os.path.isdir(path):
        files = sorted(os.path.join(root, f) for root, _, names in os.walk(path) for f in names
                       if not f.startswith((".", "_")))
    elif os.path.exists(path):
        files = [path]
    else:
        raise FileNotFoundError(f"{path}: No such file or directory")
    if not files:
        raise FileNotFoundError(f"{path}: no Parquet files {'match' if has_glob else 'in it'}")
    X_blocks, y_blocks, names, schema = [], [], None, None
    for file in files:
        try:
            meta = _metadata(file)
        except (OSError, ValueError) as exc:  # pyarrow (ArrowInvalid, ArrowIOError) names the problem, not the file
            raise ValueError(f"{file}: not a Parquet file ({exc}).") from None
        arrow = meta.schema.to_arrow_schema()
        if schema is None:
            schema = arrow
            if target not in schema.names:
                raise ValueError(f"{file}: no column {target!r} (columns: {', '.join(schema.names[:10])}).")
            if len(set(schema.names)) != len(schema.names):
                twice = sorted({n for n in schema.names if schema.names.count(n) > 1})
                raise ValueError(f"{file}: columns named more than once: {twice[:5]}.")
            index = [c for c in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(c, str)]
            names = [n for n in schema.names if n != target and n not in index]  # not pandas' saved index
            bad = [n for n in names if not _numeric_arrow(schema.field(n).type)]
            if bad:
                raise ValueError(f"{file}: non-numeric columns {bad[:5]} (types "
                                 f"{[str(schema.field(n).type) for n in bad[:5]]}); logitgd needs numeric features.")
            if not names:
                raise ValueError(f"{file}: no feature columns besides {target!r}.")
            dtype = np.float32 if all(str(schema.field(n).type) == "float" for n in names) else np.float64
            label_type = schema.field(target).type
            y_dtype = (np.dtype(label_type.to_pandas_dtype())
                       if pa.types.is_integer(label_type) or pa.types.is_floating(label_type)
                       or pa.types.is_boolean(label_type) else np.dtype(object))
        elif [(f.name, f.type) for f in arrow] != [(f.name, f.type) for f in schema]:
            def cols(sch):
                return ", ".join(f"{f.name}: {f.type}" for f in list(sch)[:10])
            raise ValueError(f"{file}: its columns ({cols(arrow)}) differ from those of {files[0]} ({cols(schema)}).")
        for group in range(meta.num_row_groups):
            rows = meta.row_group(group).num_rows
            if rows:
                X_blocks.append(_from_delayed(_read_features, (rows, len(names)), dtype, file, group, names, dtype))
                y_blocks.append(_from_delayed(_read_column, (rows,), y_dtype, file, group, target))
    if not X_blocks:
        raise ValueError(f"{path}: no rows.")
    import dask.array as da

    return da.concatenate(X_blocks), da.concatenate(y_blocks), names


def _numeric_arrow(t):
    import pyarrow as pa

    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)


def _from_delayed(fn, shape, dtype, *args):
    import dask.array as da

    return da.from_delayed(dask.delayed(fn, pure=True)(*args), shape=shape, dtype=dtype)


# Row groups are read with O_DIRECT where the OS and file system allow it (set to False after a refusal):
# the disk writes straight into a buffer each worker thread keeps, and neither the kernel's copy out of
# the page cache nor its reclaim of pages (the data are larger than memory) costs CPU. On this project's
# 2-core machine, two processes reading 40 GB of Parquet this way (and computing the gradient) took 16 s,
# against 34 s through the page cache (benchmarks/RESULTS.md, Dask).
_DIRECT = hasattr(os, "O_DIRECT")
_ALIGN = 4096  # O_DIRECT wants offsets, lengths and memory aligned to the device's block; a page is enough
_buffers = threading.local()


@functools.lru_cache(maxsize=256)
def _cached_metadata(file, mtime_ns, size):
    import pyarrow.parquet as pq

    return pq.read_metadata(file)


def _metadata(file):
    """The file's Parquet metadata, parsed once per process (while the file is unchanged)."""
    st = os.stat(file)
    return _cached_metadata(file, st.st_mtime_ns, st.st_size)


def _read_row_group(file, group, columns):
    """Row group ``group`` of ``file``, the ``columns`` asked for, as a pyarrow Table; a row group that cannot be read
    (a page whose checksum does not match, a damaged page header, bytes that do not decompress, a read error) is a
    :class:`~logitgd.DataError` naming the file and the row group. Running out of memory stays a MemoryError."""
    import pyarrow as pa

    try:
        return _read_row_group_any(file, group, columns)
    except MemoryError:  # pyarrow's ArrowMemoryError too: not the file's fault (the fit says so)
        raise
    except (OSError, pa.ArrowException) as exc:
        from ...exceptions import DataError

        if isinstance(exc, OSError) and exc.errno is not None and exc.strerror:  # the system's error (EIO, ENOENT)
            raise DataError(f"{file}, row group {group}: {exc.strerror}.") from None
        text = " ".join(str(exc).split()).rstrip(".") or type(exc).__name__
        raise DataError(f"{file}, row group {group}: {text} (the file is damaged).") from None


def _read_row_group_any(file, group, columns):
    import pyarrow.parquet as pq

    global _DIRECT
    if _DIRECT:
        try:
            return _read_row_group_direct(file, group, columns)
        except OSError as exc:  # O_DIRECT refused (tmpfs, some network file systems): through the page cache
            if exc.errno not in (errno.EINVAL, errno.EOPNOTSUPP):
                raise
            _DIRECT = False
    return pq.ParquetFile(file, metadata=_metadata(file), page_checksum_verification=True).read_row_group(
        group, columns=columns, use_threads=False)


def _read_row_group_direct(file, group, columns):
    """:func:`_read_row_group` with one O_DIRECT read of the byte range its column chunks span.

    The bytes land in this thread's reused buffer, which pyarrow sees as the
    whole file shifted so that file offsets fall where the bytes are: it reads
    only those column chunks (the file's metadata is given, so not the
    footer). The table it returns holds decoded copies, not the buffer.
    """
    import mmap

    import pyarrow as pa
    import pyarrow.parquet as pq

    meta = _metadata(file)
    row_group = meta.row_group(group)
    index = {row_group.column(i).path_in_schema: i for i in range(row_group.num_columns)}
    chunks = [row_group.column(index[c]) for c in columns]
    starts = [min(c.data_page_offset, c.dictionary_page_offset or c.data_page_offset) for c in chunks]
    lo = min(starts)
    # pyarrow pads a chunk's range by up to 100 bytes for some old writers: read a little past the end
    hi = max(start + c.total_compressed_size for start, c in zip(starts, chunks)) + 128
    size = os.path.getsize(file)
    a, b = lo // _ALIGN * _ALIGN, -(-min(hi, size) // _ALIGN) * _ALIGN
    buf = getattr(_buffers, "buf", None)
    if buf is None or len(buf) < b - a:
        _buffers.buf = None
        buf = _buffers.buf = mmap.mmap(-1, -(-(b - a) * 5 // 4 // _ALIGN) * _ALIGN)  # page-aligned, anonymous
    fd = os.open(file, os.O_RDONLY | os.O_DIRECT)
    try:
        view, done = memoryview(buf), 0
        while a + done < min(hi, size):
            got = os.preadv(fd, [view[done:b - a]], a + done)
            if got <= 0:
                raise OSError(errno.EINVAL, f"{file}: short read")
            done += got
    finally:
        os.close(fd)
    address = np.frombuffer(buf, dtype=np.uint8, count=1).ctypes.data
    shifted = pa.foreign_buffer(address - a, a + done, base=buf)  # byte k of the file is shifted[k], k >= a
    # pages written with checksums are checked against them, as by the in-memory reader
    return pq.ParquetFile(pa.BufferReader(shifted), metadata=meta, page_checksum_verification=True).read_row_group(
        group, columns=columns, use_threads=False)


def _read_complete(file, group, columns):
    """:func:`_read_row_group`, or a ValueError naming the first missing value (file, column, row)."""
    table = _read_row_group(file, group, columns)
    for name, column in zip(table.column_names, table.columns):
        if column.null_count:
            offset = sum(_metadata(file).row_group(g).num_rows for g in range(group))
            row = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
            more = column.null_count - 1
            raise ValueError(f"{file}: column {name!r} has a missing value in row {offset + row}"
                             + (f" (and {more} more in that row group)" if more else "")
                             + f"; fill or drop {'them' if more else 'it'} first.")
    return table


def _read_features(file, group, columns, dtype):
    """One row group's features as a C-ordered ``dtype`` array (pyarrow decodes, then one transposing copy)."""
    import pyarrow as pa

    table = _read_complete(file, group, columns)
    target = pa.from_numpy_dtype(np.dtype(dtype))
    # Every column to the one float type first: to_tensor's own promotion wraps uint64 next to int64. Integers
    # round as in NumPy (safe=False); arrow cannot cast halffloat, so float16 goes through NumPy.
    for i, t in enumerate(table.schema.types):
        if t != target:
            column = table.column(i)
            column = (pa.chunked_array([c.to_numpy(zero_copy_only=False).astype(dtype) for c in column.chunks], target)
                      if pa.types.is_float16(t) else column.cast(target, safe=False))
            table = table.set_column(i, table.column_names[i], column)
    return np.asarray(table.to_tensor(row_major=True))


def _read_column(file, group, column):
    """One row group's ``column`` as a NumPy vector."""
    import pyarrow as pa

    table = _read_complete(file, group, [column])
    values = table.column(0)
    if pa.types.is_dictionary(values.type):  # a pandas Categorical
        values = values.cast(values.type.value_type)
    return np.array(values.to_numpy(zero_copy_only=False))  # its own copy
