"""Upload a police CSV in the browser: the library ingest on a temporary copy, with progress
and the reconciliation report (rows read = loaded + duplicate + rejected, rejects by line).

The upload is written to a private temporary folder under its own (screened) file name, since
ingest reads the force, kind and month from the name, handed to
``harmscope.sources.ingest.ingest_paths`` and removed as soon as ingest returns, whatever
happened: nothing of the upload is kept beyond what ingest itself stores.

``ingest_upload`` is the synchronous call (the API's ``POST /api/upload`` can use it);
``start_job`` runs it in a thread for the page, which polls the job's progress by its id. A
job is visible to the account that started it only.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from harmscope.errors import HarmscopeError

# Police open-data files are a few MB a month (a force's zip of a year is under 100 MB).
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
SUFFIXES = (".csv", ".csv.gz", ".zip")
REJECTS_SHOWN = 1000  # rejected rows listed on the page (all are counted)
_CHUNK = 1024 * 1024
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
JOBS_KEPT = 50  # finished jobs remembered (their reports, not their files)


def safe_name(name: str | None) -> str:
    """The upload's base name, reduced to letters, digits, '.', '_' and '-' (no folders, no
    '..'); the suffix must be one ingest reads."""
    base = Path(str(name or "").replace("\\", "/")).name
    base = _SAFE.sub("-", base).strip(".-")
    if not base or not base.lower().endswith(SUFFIXES):
        raise HarmscopeError(
            f"cannot ingest a file called {name!r}",
            where="upload",
            fix="upload a police.uk file as downloaded: NAME.csv, NAME.csv.gz or a .zip of "
            "them, e.g. 2025-01-kent-street.csv",
        )
    return base


def save_upload(stream: BinaryIO, name: str, folder: Path) -> Path:
    """Copy ``stream`` to ``folder/name`` in chunks, refusing more than MAX_UPLOAD_BYTES."""
    path = folder / name
    written = 0
    with path.open("wb") as out:
        while chunk := stream.read(_CHUNK):
            written += len(chunk)
            if written > MAX_UPLOAD_BYTES:
                raise HarmscopeError(
                    f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB",
                    where=f"upload {name}",
                    fix="upload one month's file at a time, or ingest large archives with "
                    "`harmscope ingest PATH` on the server",
                )
            out.write(chunk)
    if written == 0:
        raise HarmscopeError(
            "the file is empty", where=f"upload {name}", fix="choose the file again and upload it"
        )
    return path


def _file_entry(fr, shown_name: str, tmp: Path) -> dict:
    from dataclasses import asdict

    d = asdict(fr)
    # the temporary path means nothing to the uploader: show the name they uploaded
    d["file"] = str(d["file"]).replace(str(tmp) + "/", "").replace(str(tmp), shown_name)
    if d.get("error"):
        d["error"] = str(d["error"]).replace(str(tmp) + "/", "")
    d["reconciles"] = fr.reconciles
    return d


def reconciliation(report, store, shown_name: str, tmp: Path) -> dict:
    """The report the uploader sees: the run's totals, each file's counts and status, and the
    rejected rows (line and reason; the first REJECTS_SHOWN)."""
    from harmscope.store.queries.uploads import rejects_of

    files = [_file_entry(fr, shown_name, tmp) for fr in report.files]
    ids = [fr.ingest_id for fr in report.files if fr.ingest_id is not None]
    rej = rejects_of(store, ids, limit=REJECTS_SHOWN)
    names = {f["ingest_id"]: f["file"] for f in files if f["ingest_id"] is not None}
    rejects = [
        {"file": names.get(int(r.ingest_id), shown_name), "line": int(r.line), "reason": r.reason}
        for r in rej.itertuples()
    ]
    return {
        "file": shown_name,
        "rows_read": report.rows_read,
        "rows_loaded": report.rows_loaded,
        "rows_duplicate": report.rows_duplicate,
        "rows_rejected": report.rows_rejected,
        "reconciles": report.rows_read
        == report.rows_loaded + report.rows_duplicate + report.rows_rejected,
        "ok": report.ok,
        "error": str(report.fatal) if report.fatal else None,
        "files": files,
        "rejects": rejects,
        "rejects_shown": len(rejects),
    }


def _file_count(path: Path) -> int:
    """How many CSV files ingest will read (a zip's CSV members; else one), for progress."""
    if path.suffix.lower() != ".zip":
        return 1
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            return max(1, sum(1 for n in z.namelist() if n.lower().endswith(SUFFIXES[:2])))
    except zipfile.BadZipFile:
        return 1  # ingest reports the damaged archive itself


def receive(stream: BinaryIO, filename: str | None) -> Path:
    """The upload copied into a new private temporary folder under its screened name (the
    caller removes the folder with ``discard``)."""
    name = safe_name(filename)
    tmp = Path(tempfile.mkdtemp(prefix="harmscope-upload-"))
    try:
        return save_upload(stream, name, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def discard(path: Path) -> None:
    """Remove a received upload and its temporary folder."""
    shutil.rmtree(path.parent, ignore_errors=True)


def ingest_saved(
    store,
    path: Path,
    *,
    force: str | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> dict:
    """Ingest a received upload and return its reconciliation report; the temporary copy is
    removed before this returns (or raises)."""
    from harmscope.sources.ingest import ingest_paths

    say = progress or (lambda stage, fraction: None)
    try:
        total = _file_count(path)
        done = [0]

        def on_file(fr) -> None:
            done[0] += 1
            say(f"checked and loaded {done[0]} of {total} file(s)", done[0] / total)

        say(f"reading and checking rows (0 of {total} file(s))", 0.05)
        report = ingest_paths(store, [path], force=force, quiet=True, on_file=on_file)
        say("reconciling", 0.98)
        return reconciliation(report, store, path.name, path.parent)
    finally:
        discard(path)


def ingest_upload(
    store,
    stream: BinaryIO,
    filename: str | None,
    *,
    force: str | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> dict:
    """Ingest one uploaded file into ``store`` and return its reconciliation report (the
    synchronous whole: receive, ingest, remove the copy)."""
    return ingest_saved(store, receive(stream, filename), force=force, progress=progress)


# -- jobs: the page's progress ------------------------------------------------------------


@dataclass
class Job:
    id: str
    owner: str
    filename: str
    stage: str = "waiting for the store"
    fraction: float = 0.0
    status: str = "running"  # running | done | failed
    result: dict | None = None
    error: dict | None = None  # problem, where, fix
    started: float = field(default_factory=time.time)

    def public(self) -> dict[str, Any]:
        """What the progress poll answers (no store, nothing of other jobs)."""
        return {
            "id": self.id,
            "file": self.filename,
            "status": self.status,
            "stage": self.stage,
            "fraction": round(self.fraction, 3),
        }


_JOBS: dict[str, Job] = {}
_LOCK = threading.Lock()


def get_job(job_id: str, owner: str) -> Job | None:
    """The job ``job_id`` if ``owner`` started it (else None, as for an unknown id)."""
    with _LOCK:
        job = _JOBS.get(job_id)
    return job if job is not None and secrets.compare_digest(job.owner, owner) else None


def _forget_old() -> None:
    done = sorted((j for j in _JOBS.values() if j.status != "running"), key=lambda j: j.started)
    for j in done[: max(0, len(done) - JOBS_KEPT)]:
        _JOBS.pop(j.id, None)


def start_job(
    owner: str,
    filename: str,
    work: Callable[[Callable[[str, float], None]], dict],
) -> Job:
    """Run ``work(progress)`` in a thread; its dict is the job's result. A HarmscopeError is
    the job's error (shown with its fix); any other exception fails the job too, naming it."""
    job = Job(id=secrets.token_urlsafe(16), owner=owner, filename=filename)
    with _LOCK:
        _forget_old()
        _JOBS[job.id] = job

    def progress(stage: str, fraction: float) -> None:
        job.stage, job.fraction = stage, max(job.fraction, min(1.0, fraction))

    def run() -> None:
        try:
            job.result = work(progress)
            job.stage, job.fraction, job.status = "finished", 1.0, "done"
        except HarmscopeError as exc:
            job.error = {"problem": exc.problem, "where": exc.where, "fix": exc.fix}
            job.status, job.stage = "failed", "stopped"
        except Exception as exc:  # noqa: BLE001 - shown to the uploader, never swallowed
            job.error = {"problem": f"{type(exc).__name__}: {exc}", "where": "upload", "fix": ""}
            job.status, job.stage = "failed", "stopped"

    threading.Thread(target=run, name=f"upload-{job.id[:6]}", daemon=True).start()
    return job


# -- routes: the upload page, its progress, and POST /api/upload ----------------------------

router = APIRouter()


class RejectRow(BaseModel):
    file: str
    line: int
    reason: str


class Reconciliation(BaseModel):
    """rows_read = rows_loaded + rows_duplicate + rows_rejected, per file and in total."""

    file: str
    rows_read: int
    rows_loaded: int
    rows_duplicate: int
    rows_rejected: int
    reconciles: bool
    ok: bool
    error: str | None
    files: list[dict[str, Any]]
    rejects: list[RejectRow]
    rejects_shown: int


def _force_of(form) -> str | None:
    value = form.get("force")
    return value.strip() or None if isinstance(value, str) else None


async def _received(request: Request):
    """(the received file, force, shown name) from the multipart form; a missing file is a
    HarmscopeError."""
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not getattr(upload, "filename", None):
        raise HarmscopeError(
            "no file in the upload", where="file", fix="choose a police CSV and upload it"
        )
    try:
        path = receive(upload.file, upload.filename)
    finally:
        await upload.close()
    return path, _force_of(form)


def _finish(request: Request, user, result: dict) -> None:
    """After an upload: cached pages are stale, and the upload is an audited action."""
    from harmscope.web import audit, data

    data.invalidate()
    counts = {k: result[k] for k in ("rows_read", "rows_loaded", "rows_duplicate", "rows_rejected")}
    with request.app.state.pool.store() as store:
        audit.record(
            store,
            user,
            "upload",
            "upload",
            f"POST {request.url.path}",
            {"file": result["file"], **counts},
            audience="internal",
        )


@router.get("/upload", response_class=HTMLResponse, include_in_schema=False)
def upload_form(request: Request) -> HTMLResponse:
    from harmscope.web import pages

    user = pages.allow(request, "upload")
    if isinstance(user, HTMLResponse):
        return user
    return pages.render(
        request,
        "upload.html.j2",
        "upload",
        page_title=pages.PAGES["upload"].title,
        what=pages.PAGES["upload"].what,
        max_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
        audience="internal",
    )


@router.post("/upload", include_in_schema=False)
async def upload_start(request: Request) -> Response:
    """Receive the file, start its ingest, and send the browser to the job's page (a script
    asking with Accept: application/json gets the job's id and progress address instead)."""
    from harmscope.web import pages

    user = pages.allow(request, "upload")
    if isinstance(user, HTMLResponse):
        return user
    try:
        path, force = await _received(request)
    except HarmscopeError as exc:
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse(
                {"detail": {"problem": exc.problem, "where": exc.where, "fix": exc.fix}}, 422
            )
        return pages.error_page(
            request,
            "upload",
            422,
            exc.problem,
            where=exc.where,
            fix=exc.fix,
            title="The upload could not be read",
        )
    pool = request.app.state.pool

    def work(progress):
        with pool.store() as store:
            result = ingest_saved(store, path, force=force, progress=progress)
        _finish(request, user, result)
        return result

    job = start_job(user.name, path.name, work)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(
            {"job": job.id, "progress": f"/upload/{job.id}/progress", "page": f"/upload/{job.id}"},
            202,
        )
    return RedirectResponse(f"/upload/{job.id}", status_code=303)


@router.get("/upload/{job_id}/progress", include_in_schema=False)
def upload_progress(request: Request, job_id: str) -> JSONResponse:
    from harmscope.web import pages

    user = pages.allow(request, "upload")
    if isinstance(user, HTMLResponse):
        return JSONResponse({"detail": "sign in as an analyst"}, user.status_code)
    job = get_job(job_id, user.name)
    if job is None:
        return JSONResponse({"detail": "no such upload"}, 404)
    return JSONResponse(job.public())


@router.get("/upload/{job_id}", response_class=HTMLResponse, include_in_schema=False)
def upload_job(request: Request, job_id: str) -> HTMLResponse:
    """The job's page: progress while it runs, then the reconciliation report (or why the
    file was refused, with a non-2xx status)."""
    from harmscope.web import pages

    user = pages.allow(request, "upload")
    if isinstance(user, HTMLResponse):
        return user
    job = get_job(job_id, user.name)
    if job is None:
        return pages.error_page(
            request,
            "upload",
            404,
            "There is no upload with this id for your account.",
            fix="start the upload again from the upload page",
            title="Upload not found",
        )
    status = 422 if job.status == "failed" or (job.result and not job.result["ok"]) else 200
    return pages.render(
        request,
        "upload_job.html.j2",
        "upload",
        status,
        page_title=f"Upload: {job.filename}",
        job=job,
        result=job.result,
        audience="internal",
    )


@router.post(
    "/api/upload",
    response_model=Reconciliation,
    summary="Upload and ingest a police CSV (analyst)",
    tags=["data"],
    responses={
        401: {"description": "Sign in"},
        403: {"description": "Analysts only"},
        422: {"description": "Not a police file (problem, where, fix)"},
    },
)
async def api_upload(request: Request) -> Response:
    """Multipart field ``file`` (and optional ``force`` for stop-and-search files whose name
    lacks it): the file is ingested and its reconciliation report returned; nothing of the
    upload is kept beyond what ingest stores."""
    from harmscope.web.auth import require

    user = require("upload").dependency(request)
    path, force = await _received(request)  # a HarmscopeError answers 422 (app handler)
    with request.app.state.pool.store() as store:
        result = ingest_saved(store, path, force=force)
    _finish(request, user, result)
    return JSONResponse(Reconciliation(**result).model_dump(), 200 if result["ok"] else 422)
