"""Full status split over threads, through libgit2's own C API (the status helper process only).

``git status`` checks the working tree on several cores (its parallel index preload); libgit2 walks
it on one thread, and pygit2's ``Repository.status`` takes no pathspec, so it cannot be split. The
libgit2 library that pygit2 ships exports ``git_status_list_new``, whose options take a pathspec;
this module calls it through an ABI-mode cffi binding of that same library (the struct layouts
below are libgit2 1.9's, and the binding refuses any other version). The walk is cut into parts by
top-level entry, each part runs on its own thread with its own ``git_repository`` handle (libgit2
handles are not shared between threads; cffi releases Python's lock during the C call), and the
answers are merged. Each top-level name is in exactly one part, and the names come from the working
tree, the index and HEAD together, so a file deleted from disk or from the index is still seen.

Used by ``marie.git.status_process`` (helper process) only; ``load()`` returns None where the
binding cannot be made, and the caller then uses pygit2's single-threaded status.
"""

from __future__ import annotations

import glob
import os
import threading
from typing import Any

_CDEF = """
typedef struct git_repository git_repository;
typedef struct git_index git_index;
typedef struct git_tree git_tree;
typedef struct git_status_list git_status_list;
typedef struct { char **strings; size_t count; } git_strarray;
typedef struct { unsigned char id[20]; } git_oid;
typedef struct { int32_t seconds; uint32_t nanoseconds; } git_index_time;
typedef struct {
    git_index_time ctime; git_index_time mtime;
    uint32_t dev; uint32_t ino; uint32_t mode; uint32_t uid; uint32_t gid; uint32_t file_size;
    git_oid id; uint16_t flags; uint16_t flags_extended; const char *path;
} git_index_entry;
typedef struct { git_oid id; const char *path; uint64_t size; uint32_t flags; uint16_t mode; uint16_t id_abbrev; } git_diff_file;
typedef struct { int status; uint32_t flags; uint16_t similarity; uint16_t nfiles; git_diff_file old_file; git_diff_file new_file; } git_diff_delta;
typedef struct { unsigned int version; int show; unsigned int flags; git_strarray pathspec; git_tree *baseline; uint16_t rename_threshold; } git_status_options;
typedef struct { int status; git_diff_delta *head_to_index; git_diff_delta *index_to_workdir; } git_status_entry;
int git_libgit2_version(int *major, int *minor, int *rev);
int git_repository_open(git_repository **out, const char *path);
void git_repository_free(git_repository *repo);
int git_repository_index(git_index **out, git_repository *repo);
int git_index_read(git_index *index, int force);
size_t git_index_entrycount(const git_index *index);
const git_index_entry *git_index_get_byindex(git_index *index, size_t n);
void git_index_free(git_index *index);
int git_status_list_new(git_status_list **out, git_repository *repo, const git_status_options *opts);
size_t git_status_list_entrycount(git_status_list *statuslist);
const git_status_entry *git_status_byindex(git_status_list *statuslist, size_t idx);
void git_status_list_free(git_status_list *statuslist);
"""

# git_status_opt_t
_INCLUDE_UNTRACKED = 1 << 0
_RECURSE_UNTRACKED_DIRS = 1 << 4
_DISABLE_PATHSPEC_MATCH = 1 << 5  # pathspec entries are exact paths (a folder covers what is under it)
_UNTRACKED_FLAGS = {"all": _INCLUDE_UNTRACKED | _RECURSE_UNTRACKED_DIRS, "normal": _INCLUDE_UNTRACKED, "no": 0}

MAX_SPLIT_NAMES = 4096

_binding: tuple[Any, Any] | None | bool = False  # False: not tried yet


def load() -> tuple[Any, Any] | None:
    """(ffi, lib) bound to the libgit2 that pygit2 uses, or None when that cannot be done safely."""
    global _binding
    if _binding is not False:
        return _binding  # type: ignore[return-value]
    _binding = None
    try:
        import cffi
        import pygit2
    except ImportError:
        return None
    here = os.path.dirname(pygit2.__file__)
    candidates = (glob.glob(os.path.join(here, os.pardir, "pygit2.libs", "libgit2*"))
                  + glob.glob(os.path.join(here, ".dylibs", "libgit2*")))
    for candidate in candidates:
        try:
            ffi = cffi.FFI()
            ffi.cdef(_CDEF)
            lib = ffi.dlopen(os.path.realpath(candidate))
            major, minor, rev = ffi.new("int *"), ffi.new("int *"), ffi.new("int *")
            lib.git_libgit2_version(major, minor, rev)
        except (OSError, AttributeError, cffi.FFIError):
            continue
        # The struct layouts above are libgit2 1.9's: refuse any other library rather than misread it,
        # and check them against the layouts pygit2 itself was compiled with.
        if (major[0], minor[0]) == (1, 9) and tuple(pygit2.LIBGIT2_VER[:2]) == (1, 9) and _same_layout(ffi):
            _binding = (ffi, lib)
            break
    return _binding


def _same_layout(ffi: Any) -> bool:
    try:
        from pygit2 import ffi as compiled

        return all(ffi.sizeof(name) == compiled.sizeof(name) for name in
                   ("git_strarray", "git_diff_file", "git_diff_delta", "git_index_entry", "git_index_time"))
    except Exception:  # pygit2 without these types: trust the version check alone
        return True


class SplitStatus:
    """Status of one repository in ``parts`` threads. One instance per repository, used by one
    caller thread at a time (the helper's request loop)."""

    def __init__(self, path: str, parts: int) -> None:
        binding = load()
        if binding is None:
            raise OSError("libgit2's status API is not reachable")
        self.ffi, self.lib = binding
        self.path = path
        self.parts = max(1, parts)
        self._handles: list[Any] = []
        for _ in range(self.parts):
            out = self.ffi.new("git_repository **")
            self._check(self.lib.git_repository_open(out, os.fsencode(path)), "open")
            self._handles.append(out[0])

    def _check(self, rc: int, what: str) -> None:
        if rc < 0:
            raise RuntimeError(f"libgit2 {what} failed ({rc}) for {self.path}")

    def close(self) -> None:
        for handle in self._handles:
            self.lib.git_repository_free(handle)
        self._handles = []

    # -- the parts ------------------------------------------------------------------------------
    def _index_tops(self) -> dict[bytes, int]:
        """{top-level name: index entries under it}, by jumping over each name's run of entries
        (the index is sorted by path bytes, and everything under ``name/`` is one run), so this
        costs one binary search per top-level name, not one step per entry. Only for indexes sorted
        by bytes (``core.ignorecase`` false): the caller does not split the others."""
        ffi, lib = self.ffi, self.lib
        out = ffi.new("git_index **")
        self._check(lib.git_repository_index(out, self._handles[0]), "index")
        index = out[0]
        try:
            self._check(lib.git_index_read(index, 0), "index read")  # re-read if changed on disk
            count = lib.git_index_entrycount(index)
            tops: dict[bytes, int] = {}
            pos = 0
            get = lib.git_index_get_byindex
            string = ffi.string
            while pos < count:
                path = string(get(index, pos).path)
                top, slash, _ = path.partition(b"/")
                if not slash:  # a file (or gitlink) at the top level
                    tops[top] = tops.get(top, 0) + 1
                    pos += 1
                    continue
                # binary search for the first entry at or past "top0", the next byte string after
                # every "top/..." path
                bound, lo, hi = top + b"0", pos + 1, count
                while lo < hi:
                    mid = (lo + hi) // 2
                    if string(get(index, mid).path) < bound:
                        lo = mid + 1
                    else:
                        hi = mid
                tops[top] = tops.get(top, 0) + (lo - pos)
                pos = lo
            return tops
        finally:
            lib.git_index_free(index)

    def plan(self, head_names: list[bytes], parts: int | None = None) -> list[list[bytes]]:
        """The top-level names split into ``parts`` balanced parts (by index entries; untracked names
        count one)."""
        names = {os.fsencode(n) for n in os.listdir(self.path)} - {b".git"}
        weights = self._index_tops()
        names.update(weights)
        names.update(head_names)
        buckets: list[tuple[int, list[bytes]]] = [(0, []) for _ in range(min(parts or self.parts, self.parts))]
        # heaviest first onto the lightest part; ties by name so the plan is deterministic
        for name in sorted(names, key=lambda n: (-weights.get(n, 1), n)):
            i = min(range(len(buckets)), key=lambda k: buckets[k][0])
            total, members = buckets[i]
            members.append(name)
            buckets[i] = (total + weights.get(name, 1), members)
        return [members for _, members in buckets if members]

    def _one(self, handle: Any, names: list[bytes] | None, flags: int, out: dict[str, int]) -> None:
        ffi, lib = self.ffi, self.lib
        opts = ffi.new("git_status_options *")
        opts.version = 1
        opts.flags = flags
        keep: list[Any] = []
        if names is not None:
            opts.flags |= _DISABLE_PATHSPEC_MATCH
            keep = [ffi.new("char[]", n) for n in names]
            array = ffi.new("char *[]", keep)
            opts.pathspec.strings = array
            opts.pathspec.count = len(keep)
        result = ffi.new("git_status_list **")
        self._check(lib.git_status_list_new(result, handle, opts), "status")
        try:
            string = ffi.string
            for i in range(lib.git_status_list_entrycount(result[0])):
                entry = lib.git_status_byindex(result[0], i)
                # the path pygit2 reports: HEAD→index's old path, else index→workdir's
                delta = entry.head_to_index if entry.head_to_index != ffi.NULL else entry.index_to_workdir
                out[string(delta.old_file.path).decode("utf-8", "surrogateescape")] = entry.status
        finally:
            lib.git_status_list_free(result[0])

    def status(self, untracked: str, head_names: list[bytes], parts: int | None = None) -> dict[str, int]:
        """{path: libgit2 status flags}, the same answer as ``Repository.status(untracked_files=...)``,
        over ``parts`` threads (at most the handles opened; default all of them)."""
        flags = _UNTRACKED_FLAGS.get(untracked, _UNTRACKED_FLAGS["all"])
        count = min(parts or self.parts, self.parts)
        plan: list = self.plan(head_names, count) if count > 1 else [None]
        if sum(len(p) for p in plan if p) > MAX_SPLIT_NAMES:
            plan = [None]  # thousands of top-level entries: building the pathspecs costs more than it saves
        results: list[dict[str, int]] = [{} for _ in plan]
        errors: list[BaseException] = []

        def work(i: int) -> None:
            try:
                self._one(self._handles[i], plan[i], flags, results[i])
            except BaseException as exc:  # reported below, on the caller's thread
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(1, len(plan))]
        for thread in threads:
            thread.start()
        work(0)
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        merged = results[0]
        for part in results[1:]:
            merged.update(part)
        return merged
