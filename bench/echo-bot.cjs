// The framework floor for `npm run bench`: a bot on SMTP Gate's stack (botbuilder CloudAdapter + restify,
// anonymous auth, the same body parser) that answers every message with one reply sent through the
// connector. Plain JavaScript, as the compiled bot runs.
'use strict';
const restify = require('restify');
const { ActivityHandler, CloudAdapter, ConfigurationBotFrameworkAuthentication } = require('botbuilder');

/**
 * Starts the echo bot on a free loopback port and prints `{"echo":{"port":…}}`. `beforeReply`, when
 * given, runs in every message turn before the reply (tenant-echo-bot.cjs sends its tenant requests there).
 */
async function startEchoBot(beforeReply = async () => {}) {
  const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication({ MicrosoftAppId: '', MicrosoftAppPassword: '' }));
  const bot = new ActivityHandler();
  bot.onMessage(async (context, next) => {
    await beforeReply(context);
    await context.sendActivity(`echo: ${context.activity.text ?? ''}`);
    await next();
  });
  const server = restify.createServer({ name: 'echo', handleUncaughtExceptions: false });
  server.use(restify.plugins.bodyParser({ mapParams: false, maxBodySize: 256 * 1024 }));
  server.post('/api/messages', async (req, res) => {
    await adapter.process(req, res, (context) => bot.run(context));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  console.log(JSON.stringify({ echo: { port: server.address().port } }));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

module.exports = { startEchoBot };

if (require.main === module) {
  startEchoBot().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
