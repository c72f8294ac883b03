"""The HTTP surface: ``POST /oauth/token`` and the Management API's routes, bodies and lists.

``token_endpoint`` answers token requests; ``management`` holds the Management
API's endpoints (Starlette ``HTTPEndpoint`` classes), ``schemas`` their request
bodies, ``listing`` their query strings and lists, ``bodies`` the reading of
any request body. Errors are the package's :mod:`~scopegate.authserver.errors`.
"""
