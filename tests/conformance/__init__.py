"""The RFC 6750 conformance suite: cases as data, apps per adapter style.

``cases`` and ``tokens`` import no web framework, so the same rows can run
against any adapter; ``apps`` builds one ASGI app per style (FastAPI twice,
Starlette) and ``flask_apps`` one Flask app per style (WSGI middleware,
extension), all with identical routes; ``check`` holds the assertions every
style's run shares.
"""
