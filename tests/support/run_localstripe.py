"""localstripe for trying card payments by hand with `make run` (a test-only dependency).

`python -m localstripe` listens on every interface; this serves the same app on 127.0.0.1 only,
and registers the app's webhook endpoint so localstripe posts signed events to it.

    python -m tests.support.run_localstripe [PORT] [APP_URL]
"""

from __future__ import annotations

import os
import sys
import warnings


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8420
    app_url = sys.argv[2] if len(sys.argv) > 2 else "http://localhost:5000"
    warnings.simplefilter("ignore", DeprecationWarning)  # localstripe's aiohttp idioms
    from aiohttp import web
    from localstripe.server import app
    from localstripe.webhooks import register_webhook

    secret = os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_local")
    register_webhook("campusflow", f"{app_url}/webhooks/stripe", secret, None)
    print(f"localstripe on http://127.0.0.1:{port}, webhooks to {app_url}/webhooks/stripe")
    web.run_app(app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main()
