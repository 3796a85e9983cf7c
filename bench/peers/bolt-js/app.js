// The peer of async-norms in the benchmark: verify the request, acknowledge it, flag urgency
// words, and send the sender a chat.postEphemeral — the same job, written the way a Bolt for
// JavaScript app is usually written.
const { App, LogLevel } = require('@slack/bolt');

const URGENT = /(^|[^\p{L}\p{N}])(urgent|asap|emergency|right now|immediately)([^\p{L}\p{N}]|$)|!!!/iu;
const port = Number(process.env.PORT || 3000);

const app = new App({
  token: process.env.SLACK_BOT_TOKEN,
  signingSecret: process.env.SLACK_SIGNING_SECRET,
  logLevel: LogLevel.ERROR,
  clientOptions: { slackApiUrl: `${process.env.SLACK_API_URL}/` },
});

app.message(async ({ message, client }) => {
  if (message.subtype || !message.text || !URGENT.test(message.text)) return;
  await client.chat.postEphemeral({
    channel: message.channel,
    user: message.user,
    text: 'Heads-up: that reads as urgent. Real emergencies go to #incidents; here the expected reply time is 24h.',
  });
});

(async () => {
  await app.start(port);
  console.log(`bolt-js listening on http://127.0.0.1:${port}`);
})();
