import { randomUUID } from 'node:crypto';

export interface TeamsUser {
  id: string;
  name: string;
}

/** Teams-shaped activities, as Teams posts them to /api/messages (personal chat). */
export class TeamsClient {
  constructor(private readonly botUrl: string, private readonly serviceUrl: string, private readonly tenantId: string) {}

  private base(user: TeamsUser, conversationId: string) {
    return {
      id: randomUUID(),
      channelId: 'msteams',
      serviceUrl: this.serviceUrl,
      timestamp: new Date().toISOString(),
      locale: 'en-US',
      from: { id: `29:${user.id}`, name: user.name, aadObjectId: user.id },
      recipient: { id: '28:smtp-gate', name: 'SMTP Gate' },
      conversation: { id: conversationId, conversationType: 'personal', tenantId: this.tenantId },
      channelData: { tenant: { id: this.tenantId } },
    };
  }

  async message(user: TeamsUser, text: string, options: { conversationId?: string; locale?: string; tenantId?: string; id?: string } = {}): Promise<number> {
    const activity = { ...this.base(user, options.conversationId ?? `a:${user.id}`), type: 'message', text, ...(options.id ? { id: options.id } : {}) };
    if (options.locale) activity.locale = options.locale;
    if (options.tenantId) {
      activity.conversation.tenantId = options.tenantId;
      activity.channelData = { tenant: { id: options.tenantId } };
    }
    const res = await fetch(`${this.botUrl}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
    await res.text();
    return res.status;
  }

  /** Presses an Action.Submit button: a message whose value holds the card's data. */
  async submit(user: TeamsUser, value: Record<string, unknown>, options: { replyToId?: string; id?: string } = {}): Promise<number> {
    const activity = { ...this.base(user, `a:${user.id}`), type: 'message', text: '', value, replyToId: options.replyToId, ...(options.id ? { id: options.id } : {}) };
    const res = await fetch(`${this.botUrl}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
    await res.text();
    return res.status;
  }

  /** Presses an Action.Execute button: the `adaptiveCard/action` invoke; returns the card Teams would show. */
  async press(user: TeamsUser, verb: string, data: Record<string, unknown>, options: { conversationId?: string; replyToId?: string; tenantId?: string; locale?: string; trigger?: 'manual' | 'automatic' } = {}): Promise<{ status: number; body: { statusCode?: number; type?: string; value?: import('./fake-connector').CardJson } }> {
    const activity = {
      ...this.base(user, options.conversationId ?? `a:${user.id}`),
      type: 'invoke',
      name: 'adaptiveCard/action',
      replyToId: options.replyToId,
      // 'automatic': Teams' own refresh of a card for a user in its `refresh.userIds`, as they see it.
      value: { action: { type: 'Action.Execute', verb, data }, trigger: options.trigger ?? 'manual' },
    };
    if (options.locale) activity.locale = options.locale;
    if (options.tenantId) {
      activity.conversation.tenantId = options.tenantId;
      activity.channelData = { tenant: { id: options.tenantId } };
    }
    const res = await fetch(`${this.botUrl}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  }
}
