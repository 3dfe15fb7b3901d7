"""The development corpus (tests/corpus): load its truth and serve its pages on 127.0.0.1.

Every page is served at ``http://127.0.0.1:PORT/<original host><original path>?<original query>``,
so URL-borne dates, slugs and identifying query strings reach the pipeline as they were;
pages whose URLs differ only by their query string are distinct routes.

    from bench.corpus import load_corpus, serve_corpus
    truth = load_corpus(Path("tests/corpus"))
    server, urls = serve_corpus(Path("tests/corpus"))   # {page id: local URL}
    ...
    server.close()
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

from dossier_pipeline.tasks.demo.server import LocalServer, Response

# Characters left as they are in a served path and query (the rest is percent-encoded once).
_PATH_SAFE = "/:@-._~!$&'()*+,;="
_QUERY_SAFE = _PATH_SAFE + "?/[]"


def load_corpus(root: Path) -> dict[str, dict[str, Any]]:
    """{page id: truth} from ``root/truth.json``; each page's bytes are at ``root/pages/<id>.html``,
    and the article's whole text, where its source gives one, at ``root/texts/<id>.txt`` (as "text")."""
    truth: dict[str, dict[str, Any]] = json.loads((Path(root) / "truth.json").read_text(encoding="utf-8"))
    missing = [page_id for page_id in truth if not (Path(root) / "pages" / f"{page_id}.html").is_file()]
    if missing:
        raise FileNotFoundError(f"truth.json names pages that are not in {root}/pages: {', '.join(missing[:5])}")
    for path in (Path(root) / "texts").glob("*.txt"):  # an article's whole text, where a source gives it
        if path.stem not in truth:
            raise ValueError(f"{path} is the text of no page of truth.json")
        truth[path.stem]["text"] = path.read_text(encoding="utf-8")
    return truth


def _key(path: str, query: str) -> tuple[str, str]:
    """A request's route key: dot segments resolved, no trailing slash, percent-escapes decoded."""
    resolved = urlsplit(urljoin("http://h/", unquote(path) or "/")).path.rstrip("/")
    return resolved, unquote(query.replace("+", " "))


def local_path(url: str) -> str:
    """``/<host><path>[?<query>]`` of an original URL, percent-encoded once, fragment dropped."""
    parts = urlsplit(url)
    path = quote(unquote(f"/{parts.hostname or 'site'}{parts.path or '/'}"), safe=_PATH_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_QUERY_SAFE + "%")
    return path


def serve_corpus(root: Path, truth: dict[str, dict[str, Any]] | None = None) -> tuple[LocalServer, dict[str, str]]:
    """Start a LocalServer with every page at its original path and query; returns it and {id: URL}."""
    root = Path(root)
    truth = truth if truth is not None else load_corpus(root)
    routes: dict[tuple[str, str], str] = {}
    paths: dict[str, str] = {}
    for page_id, entry in truth.items():
        path = local_path(entry["url"])
        parts = urlsplit(path)
        key = _key(parts.path, parts.query)
        if key in routes:
            raise ValueError(f"{page_id} and {routes[key]} would be served at the same address {path}")
        routes[key] = page_id
        paths[page_id] = path

    def app(path: str, headers: dict[str, str]) -> Response:
        parts = urlsplit(path)
        page_id = routes.get(_key(parts.path, parts.query))
        if page_id is None:
            return Response(404, b"not found", {"Content-Type": "text/plain"})
        # No charset parameter: the page's own declaration (or its bytes) decides, as on the open web
        # when a server sends a bare text/html.
        return Response(200, (root / "pages" / f"{page_id}.html").read_bytes(), {"Content-Type": "text/html"})

    server = LocalServer(app)
    return server, {page_id: server.base_url + path for page_id, path in paths.items()}
