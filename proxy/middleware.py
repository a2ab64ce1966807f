"""Cookies sent over HTTPS are marked Secure, whatever CASAOS_HTTPS says: behind the proxy, HTTPS is the proxy's
switch (docs/proxy.md), and a cookie that came over HTTPS must never travel back over plain HTTP."""


class SecureCookies:
    """Marks every cookie of a response to an HTTPS request `Secure`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.is_secure():
            for morsel in response.cookies.values():
                morsel["secure"] = True
        return response
