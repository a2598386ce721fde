"""Quiet third-party logging: TensorFlow, XLA, absl, MediaPipe (glog) and Lightning's banners stay silent unless
`asl --verbose` or the environment's `ASL_VERBOSE=1` asks for them."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import warnings

VERBOSE_VARIABLE = "ASL_VERBOSE"
# Read by the C++ of TensorFlow/XLA (TF_CPP_*), MediaPipe's glog (GLOG_*) and absl when they load: set before import.
QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3", "GLOG_minloglevel": "2", "ABSL_MIN_LOG_LEVEL": "2"}


_quiet = False  # whether `quiet_libraries` silenced the libraries in this process
_native_silence = {"depth": 0, "saved": None, "python": None}  # nesting depth, real fd 2, sys.stderr
_native_lock = threading.Lock()


def verbose_requested() -> bool:
    """Whether the environment asks for the libraries' own logging (`ASL_VERBOSE=1`)."""
    return os.environ.get(VERBOSE_VARIABLE, "").strip().lower() in {"1", "true", "yes"}


class _DropLightningTips(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("💡 Tip")


def quiet_libraries(verbose: bool = False) -> None:
    """Silence the libraries' logging before they are imported (call first thing); nothing with `verbose` or
    `ASL_VERBOSE=1`. Values the environment already sets are kept."""
    global _quiet
    if verbose or verbose_requested():
        return
    _quiet = True
    for name, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:  # absl-py is light; it comes with TensorFlow and MediaPipe
        from absl import logging as absl_logging
    except ImportError:
        pass
    else:
        absl_logging.set_verbosity(absl_logging.ERROR)
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning_utilities.core.rank_zero"):
        logging.getLogger(name).addFilter(_DropLightningTips())
    warnings.filterwarnings("ignore", message=r".*LeafSpec.*is deprecated")
    warnings.filterwarnings("ignore", message=r".*torch\.utils\._pytree.*is deprecated")


@contextlib.contextmanager
def native_logs_silenced():
    """Send file descriptor 2 to /dev/null while native code runs that logs through absl before any
    `absl::InitializeLog` and heeds no environment setting (MediaPipe's graphs, also from their own threads), while
    Python's `sys.stderr` (warnings, errors, progress bars made meanwhile) writes to a copy of the real stderr; a
    no-op unless `quiet_libraries` silenced the libraries."""
    if not _quiet:
        yield
        return
    with _native_lock:
        if _native_silence["depth"] == 0:
            sys.stderr.flush()
            saved = os.dup(2)
            _native_silence["saved"], _native_silence["python"] = saved, sys.stderr
            sys.stderr = open(os.dup(saved), "w", buffering=1, encoding=sys.stderr.encoding, errors="backslashreplace")
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
        _native_silence["depth"] += 1
    try:
        yield
    finally:
        with _native_lock:
            _native_silence["depth"] -= 1
            if _native_silence["depth"] == 0:
                sys.stderr.close()
                sys.stderr = _native_silence["python"]
                os.dup2(_native_silence["saved"], 2)
                os.close(_native_silence["saved"])
