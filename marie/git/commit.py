"""Commit the index, with git's hooks (pre-commit, commit-msg, post-commit) and the pre-commit
scanners (secret scan). Git worker only."""

from __future__ import annotations

from pathlib import Path

from marie.git import hooks as hooklib
from marie.git.model import CommitResult, GitError, HookFailed
from marie.git.handle import RepoHandle


class CommitOps(RepoHandle):
    """Commit (git worker only)."""

    def _hooks_dir(self) -> Path:
        config = self.repo.config
        hooks_path = config["core.hooksPath"] if "core.hooksPath" in config else None
        return hooklib.hooks_dir(Path(self.repo.path), self.workdir, hooks_path)

    def commit(self, message: str, *, amend: bool = False, sign_off: bool = False,
               allow_empty: bool = False, run_hooks: bool = True) -> CommitResult:
        """Commit the index. Runs pre-commit, the pre-commit scanners, commit-msg, then post-commit."""
        repo = self._worktree()
        if self._rebase_in_progress():
            raise GitError("a rebase is in progress: continue it to commit the resolved changes (or abort it)")
        conflicts = self._fresh_index().conflicts
        if conflicts is not None and any(True for _ in conflicts):
            raise GitError("cannot commit: resolve the conflicts first (edit the files, then stage them)")
        head = self._head_commit()
        if amend and head is None:
            raise GitError("there is no commit to amend yet")
        outputs: list[str] = []
        hooks = self._hooks_dir()
        gitdir = Path(repo.path)
        if run_hooks:
            run = hooklib.run_hook(hooks, "pre-commit", [], self.workdir, gitdir, self._hook_timeout())
            if run is not None:
                outputs.append(run.output)
                if not run.ok:
                    raise HookFailed(f"pre-commit hook failed (exit {run.returncode}); nothing was committed",
                                     "pre-commit", run.output)
                repo.index.read(False)  # the hook may have staged files
        tree_id = repo.index.write_tree()
        base = (head.parents[0].tree.id if amend and head.parents else None) if amend else (head.tree.id if head else None)
        if amend and head is not None and not head.parents:
            base = repo.TreeBuilder().write()
        if head is None:
            base = repo.TreeBuilder().write()
        if tree_id == base and not allow_empty and not (amend and head is not None):
            raise GitError("nothing to commit: stage some changes first (or allow an empty commit)")
        if amend and head is not None and tree_id == head.tree.id and not message.strip():
            message = head.message
        findings: list[str] = []
        if self.pre_commit_scanners:
            patch = self.staged_patch()
            for scanner in self.pre_commit_scanners:
                findings.extend(scanner(patch) or [])
        if findings:
            text = "\n".join(findings)
            raise HookFailed("the staged changes look like they contain secrets; nothing was committed:\n" + text,
                             "scanner", text)
        sig = self._signature()
        message = hooklib.clean_message(message)
        if sign_off:
            message = hooklib.add_sign_off(message, sig.name, sig.email)
        if not message.strip():
            raise GitError("the commit message is empty; write a message first")
        if run_hooks:
            msg_file = gitdir / "COMMIT_EDITMSG"
            msg_file.write_text(message, encoding="utf-8")
            run = hooklib.run_hook(hooks, "commit-msg", [str(msg_file)], self.workdir, gitdir, self._hook_timeout())
            if run is not None:
                outputs.append(run.output)
                if not run.ok:
                    raise HookFailed(f"commit-msg hook failed (exit {run.returncode}); nothing was committed",
                                     "commit-msg", run.output)
                message = hooklib.clean_message(msg_file.read_text(encoding="utf-8"))
        author = sig
        if amend and head is not None:
            author = head.author  # git keeps the original author when amending
            parents = list(head.parent_ids)
            oid = repo.create_commit(None, author, sig, message, tree_id, parents)
            if repo.head_is_detached:
                repo.set_head(oid)
            else:
                repo.lookup_reference(repo.head.name).set_target(oid, f"commit (amend): {message.splitlines()[0]}")
        else:
            parents = [head.id] if head is not None else []
            merging = repo.listall_mergeheads() if head is not None else []
            parents += [h for h in merging if h not in parents]  # concluding a merge: record its parents
            oid = repo.create_commit("HEAD", author, sig, message, tree_id, parents)
            if merging:
                repo.state_cleanup()
        if run_hooks:
            run = hooklib.run_hook(hooks, "post-commit", [], self.workdir, gitdir, self._hook_timeout())
            if run is not None:
                outputs.append(run.output)
        return CommitResult(str(oid)[:7], message.splitlines()[0], "".join(outputs))

    def _hook_timeout(self) -> float:
        value = self._setting("git.hook_timeout")
        return float(value) if value else 300.0
