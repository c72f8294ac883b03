"""The RFC 6750 conformance suite: cases as data, apps per adapter style.

``cases`` and ``tokens`` import no web framework, so the same rows can run
against any adapter; ``apps`` builds one app per style with identical routes.
"""
