"""The peer of async-norms in the benchmark: verify the request, acknowledge it, flag urgency
words, and send the sender a chat.postEphemeral -- the same job, written the way a Bolt for
Python app is usually written (the asyncio flavour, one process, like async-norms)."""

import logging
import os
import re

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

URGENT = re.compile(r"(^|\W)(urgent|asap|emergency|right now|immediately)(\W|$)|!!!", re.IGNORECASE)
logging.basicConfig(level=logging.ERROR)

token = os.environ["SLACK_BOT_TOKEN"]
app = AsyncApp(
    token=token,
    signing_secret=os.environ["SLACK_SIGNING_SECRET"],
    client=AsyncWebClient(token=token, base_url=os.environ["SLACK_API_URL"] + "/"),
)


@app.event("message")
async def on_message(event, client):
    text = event.get("text") or ""
    if event.get("subtype") or not URGENT.search(text):
        return
    await client.chat_postEphemeral(
        channel=event["channel"],
        user=event["user"],
        text="Heads-up: that reads as urgent. Real emergencies go to #incidents; here the expected reply time is 24h.",
    )


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "3000"))
    print(f"bolt-python listening on http://127.0.0.1:{port}", flush=True)
    app.start(port=port)
