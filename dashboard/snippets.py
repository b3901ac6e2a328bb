"""Ready-to-paste code for an app's settings page, filled in with the app's own values.

The API key is never filled in (its secret is shown once, when it is made): the snippets read it
from BOOPER_API_KEY. Where the API is reached from outside comes from BOOPER_PUBLIC_API_URL
(the dashboard may reach it on an internal address), else the dashboard's BOOPER_API_URL.
"""

from __future__ import annotations

import json
import os

from dashboard.client import api_url

SEND = "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { id status } }"
REGISTER = (
    "mutation($i: RegisterDeviceInput!) { registerDevice(input: $i) { device { id } deviceKey } }"
)
LIVE = "subscription($a: ID!) { deliveryEvents(appId: $a) { id status device { platform } } }"


def public_api_url() -> str:
    return os.environ.get("BOOPER_PUBLIC_API_URL", "").rstrip("/") or api_url()


def _ws(url: str) -> str:
    return (
        "wss://" + url[8:] if url.startswith("https://") else "ws://" + url.removeprefix("http://")
    )


def snippets(app_id: str, channel: str, vapid_public_key: str) -> list[dict[str, str]]:
    """[{id, title, language, code}], in the order a new app maker needs them."""
    url = public_api_url()
    message = {"channel": channel, "title": "Hello", "body": "From Booper"}
    body = json.dumps({"query": SEND, "variables": {"i": message}})
    return [
        {
            "id": "curl",
            "title": "Send with curl",
            "language": "bash",
            "code": (
                f"curl -s {url}/graphql \\\n"
                "  -H 'Content-Type: application/json' \\\n"
                '  -H "X-API-Key: $BOOPER_API_KEY" \\\n'
                f"  -d '{body}'"
            ),
        },
        {
            "id": "python",
            "title": "Send from Python (httpx)",
            "language": "python",
            "code": (
                "import os\n\nimport httpx\n\n"
                f'SEND = "{SEND}"\n\n'
                "response = httpx.post(\n"
                f'    "{url}/graphql",\n'
                '    headers={"X-API-Key": os.environ["BOOPER_API_KEY"]},\n'
                f'    json={{"query": SEND, "variables": {{"i": {json.dumps(message)}}}}},\n'
                ")\n"
                "result = response.json()\n"
                'if result.get("errors"):\n'
                '    raise RuntimeError(result["errors"][0]["message"])\n'
                'print(result["data"]["sendNotification"])'
            ),
        },
        {
            "id": "fetch",
            "title": "Send from JavaScript (fetch)",
            "language": "javascript",
            "code": (
                f'const response = await fetch("{url}/graphql", {{\n'
                '  method: "POST",\n'
                "  headers: {\n"
                '    "Content-Type": "application/json",\n'
                '    "X-API-Key": process.env.BOOPER_API_KEY,\n'
                "  },\n"
                "  body: JSON.stringify({\n"
                f"    query: `{SEND}`,\n"
                f"    variables: {{ i: {json.dumps(message)} }},\n"
                "  }),\n"
                "});\n"
                "const { data, errors } = await response.json();\n"
                "if (errors) throw new Error(errors[0].message);"
            ),
        },
        {
            "id": "graphql-ws",
            "title": "Watch deliveries live (graphql-ws)",
            "language": "javascript",
            "code": (
                'import { createClient } from "graphql-ws";\n\n'
                "const client = createClient({\n"
                f'  url: "{_ws(url)}/graphql",\n'
                "  connectionParams: { apiKey: process.env.BOOPER_API_KEY },\n"
                "});\n"
                "client.subscribe(\n"
                f'  {{ query: `{LIVE}`, variables: {{ a: "{app_id}" }} }},\n'
                "  { next: (event) => console.log(event.data), error: console.error, complete() {} },\n"
                ");"
            ),
        },
        {
            "id": "expo",
            "title": "Register a device from an Expo app",
            "language": "javascript",
            "code": (
                'import * as Notifications from "expo-notifications";\n\n'
                "const { data: token } = await Notifications.getExpoPushTokenAsync();\n"
                f'const response = await fetch("{url}/graphql", {{\n'
                '  method: "POST",\n'
                '  headers: { "Content-Type": "application/json" },\n'
                "  body: JSON.stringify({\n"
                f"    query: `{REGISTER}`,\n"
                '    variables: { i: { platform: "EXPO", token } },\n'
                "  }),\n"
                "});\n"
                "const { data } = await response.json();\n"
                "// Keep data.registerDevice.deviceKey in secure storage: the device's own\n"
                "// operations (subscribe, redeemAccessCode) send it as X-Device-Key."
            ),
        },
        {
            "id": "browser",
            "title": "Register a browser (service worker + pushManager.subscribe)",
            "language": "javascript",
            "code": (
                "// sw.js\n"
                'self.addEventListener("push", (event) => {\n'
                "  const payload = event.data.json();\n"
                "  const n = payload.notification || payload;\n"
                "  event.waitUntil(self.registration.showNotification(n.title, { body: n.body, data: n.data }));\n"
                "});\n\n"
                "// your page\n"
                'const registration = await navigator.serviceWorker.register("/sw.js");\n'
                "const subscription = await registration.pushManager.subscribe({\n"
                "  userVisibleOnly: true,\n"
                f'  applicationServerKey: "{vapid_public_key}",\n'
                "});\n"
                "const { endpoint, keys } = subscription.toJSON();\n"
                f'await fetch("{url}/graphql", {{\n'
                '  method: "POST",\n'
                '  headers: { "Content-Type": "application/json" },\n'
                "  body: JSON.stringify({\n"
                f"    query: `{REGISTER}`,\n"
                '    variables: { i: { platform: "WEB", token: endpoint, webPushKeys: keys } },\n'
                "  }),\n"
                "});"
            ),
        },
    ]
