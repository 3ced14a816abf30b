import { createServer, type IncomingMessage, type Server } from 'node:http';
import { keepConnectionsOpen } from '../../src/keep-alive';

export interface ConnectorCall {
  method: string;
  path: string;
  conversationId: string;
  activityId: string | undefined;
  /** The id this server answered with. */
  answeredId: string | undefined;
  activity: { type?: string; id?: string; text?: string; attachments?: { contentType: string; content: CardJson }[] } & Record<string, unknown>;
}

export interface CardJson {
  body?: Record<string, unknown>[];
  refresh?: { action?: { verb?: string; data?: Record<string, unknown> }; userIds?: string[] };
  actions?: { type: string; title: string; verb?: string; data?: Record<string, unknown> }[];
}

/**
 * A real HTTP server standing in for the Bot Connector (Teams' `serviceUrl`): it records
 * what the bot sends and answers with activity ids, as Teams does.
 */
export class FakeConnector {
  readonly calls: ConnectorCall[] = [];
  /** The roster Teams answers for every conversation (`GET …/pagedmembers`); unset: 404. */
  members?: { id: string; name?: string; aadObjectId?: string }[];
  rosterRequests = 0;
  /** Sends answered with an error, as Teams answers for a conversation the bot can no longer post to. */
  readonly refused: { conversationId: string; status: number }[] = [];
  private readonly refusals = new Map<string, { status: number; code: string; message: string }>();

  /** From now on, answer every send to this conversation like Teams does when the app was uninstalled. */
  refuse(conversationId: string, status = 403, code = 'BotNotInConversationRoster', message = 'The bot is not part of the conversation roster.'): void {
    this.refusals.set(conversationId, { status, code, message });
  }
  private server?: Server;
  private counter = 0;
  url = '';

  async start(): Promise<void> {
    this.server = createServer(async (req, res) => {
      const body = await readBody(req);
      const roster = /^\/v3\/conversations\/([^/]+)\/pagedmembers/.exec(req.url ?? '');
      if (roster && req.method === 'GET') {
        this.rosterRequests++;
        res.writeHead(this.members ? 200 : 404, { 'content-type': 'application/json' });
        res.end(JSON.stringify(this.members ? { members: this.members } : { error: { code: 'ConversationNotFound', message: 'Conversation not found.' } }));
        return;
      }
      const match = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/.exec(req.url ?? '');
      if (!match) {
        res.writeHead(404);
        res.end();
        return;
      }
      const activity = body ? JSON.parse(body) : {};
      const conversationId = decodeURIComponent(match[1]!);
      const refusal = this.refusals.get(conversationId);
      if (refusal) {
        this.refused.push({ conversationId, status: refusal.status });
        res.writeHead(refusal.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: refusal.code, message: refusal.message } }));
        return;
      }
      const activityId = match[2] ? decodeURIComponent(match[2]) : undefined;
      const id = req.method === 'PUT' ? activityId : `activity-${++this.counter}`;
      this.calls.push({ method: req.method ?? '', path: req.url ?? '', conversationId, activityId, answeredId: id, activity });
      // Not chained: restify (loaded in the same process by in-process bots) patches
      // ServerResponse#writeHead to return undefined.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id }));
    });
    keepConnectionsOpen(this.server);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server!.address() as { port: number }).port}/`;
  }

  /** Posted (not updated) cards, oldest first. */
  postedCards(): { call: ConnectorCall; card: CardJson; id: string }[] {
    return this.calls
      .filter((c) => c.method === 'POST')
      .flatMap((c) => (c.activity.attachments ?? []).map((a) => ({ call: c, card: a.content, id: c.answeredId! })));
  }

  updates(activityId: string): CardJson[] {
    return this.calls.filter((c) => c.method === 'PUT' && c.activityId === activityId).flatMap((c) => (c.activity.attachments ?? []).map((a) => a.content));
  }

  async waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; connector saw:\n${JSON.stringify(this.calls, null, 1).slice(0, 4000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** All text on a card, for assertions on what a person reads. */
export function cardText(card: CardJson | undefined): string {
  const texts: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (typeof o.text === 'string') texts.push(o.text);
      if (typeof o.title === 'string') texts.push(o.title);
      if (typeof o.value === 'string') texts.push(o.value);
      Object.values(o).forEach(walk);
    }
  };
  walk(card?.body);
  return texts.join('\n');
}

export function actionVerbs(card: CardJson | undefined): string[] {
  return (card?.actions ?? []).map((a) => a.verb ?? String(a.data?.verb));
}

export function requestIdOf(card: CardJson | undefined): string {
  const id = card?.actions?.find((a) => a.data?.requestId)?.data?.requestId;
  if (typeof id !== 'string') throw new Error(`card has no requestId: ${JSON.stringify(card)}`);
  return id;
}

/** The entries of a `requests` list card: each one's text, the request its buttons name, their verbs and data. */
export function listEntries(card: CardJson | undefined): { text: string; requestId?: string; verbs: string[]; data: Record<string, unknown>[] }[] {
  return (card?.body ?? []).filter((element) => element.type === 'Container').map((container) => {
    const items = container.items as Record<string, unknown>[];
    const actions = ((items.find((item) => item.type === 'ActionSet') as { actions?: { verb: string; data: Record<string, unknown> }[] } | undefined)?.actions) ?? [];
    return { text: cardText({ body: items }), requestId: actions[0]?.data.requestId as string | undefined, verbs: actions.map((a) => a.verb), data: actions.map((a) => a.data) };
  });
}

/** The approvers' copy of a request card: status for everyone, refreshed into buttons for approvers. */
export function isApprovalCard(card: CardJson | undefined): boolean {
  return card?.refresh?.action?.verb === 'request.refresh' || actionVerbs(card).includes('request.approve');
}
