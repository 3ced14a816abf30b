/**
 * The shape an activity must have before any handler sees it (issue #13, hole 8). botbuilder trusts
 * what it is given: `{}`, a numeric `type`, `text` as an object or an invoke without `value.action`
 * used to end in a 500, a 501 or a TypeError inside the turn. Whatever fails here is a 400 that
 * names the field, and no handler runs. Names are the Bot Framework's own (Activity schema).
 */
export type ActivityCheck = { ok: true } | { ok: false; field: string; problem: string };

/** The invokes SMTP Gate answers; botbuilder answers any other with 501. */
const supportedInvokes = new Set(['adaptiveCard/action']);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function checkActivity(body: unknown): ActivityCheck {
  const bad = (field: string, problem: string): ActivityCheck => ({ ok: false, field, problem });
  if (!isObject(body)) return bad('(body)', 'must be a JSON object (an Activity)');
  const a = body;
  const optionalString = (name: string, value: unknown) => (value === undefined || value === null || typeof value === 'string' ? undefined : bad(name, 'must be a string'));
  const optionalObject = (name: string, value: unknown) => (value === undefined || value === null || isObject(value) ? undefined : bad(name, 'must be an object'));
  const optionalArray = (name: string, value: unknown) => (value === undefined || value === null || Array.isArray(value) ? undefined : bad(name, 'must be an array'));

  if (typeof a.type !== 'string' || !a.type) return bad('type', 'is required and must be a non-empty string');
  if (!isObject(a.conversation)) return bad('conversation', 'is required and must be an object');
  if (typeof a.conversation.id !== 'string' || !a.conversation.id) return bad('conversation.id', 'is required and must be a non-empty string');
  if (typeof a.serviceUrl !== 'string' || !a.serviceUrl) return bad('serviceUrl', 'is required and must be a non-empty string');
  const shape = optionalString('id', a.id) ?? optionalString('channelId', a.channelId) ?? optionalString('locale', a.locale)
    ?? optionalString('text', a.text) ?? optionalString('replyToId', a.replyToId) ?? optionalString('name', a.name)
    ?? optionalString('conversation.tenantId', a.conversation.tenantId) ?? optionalString('conversation.conversationType', a.conversation.conversationType)
    ?? optionalObject('from', a.from) ?? optionalObject('recipient', a.recipient) ?? optionalObject('channelData', a.channelData)
    ?? optionalArray('attachments', a.attachments) ?? optionalArray('entities', a.entities);
  if (shape) return shape;
  if (isObject(a.from)) {
    const from = optionalString('from.id', a.from.id) ?? optionalString('from.name', a.from.name) ?? optionalString('from.aadObjectId', a.from.aadObjectId);
    if (from) return from;
  }
  if (isObject(a.recipient)) {
    const recipient = optionalString('recipient.id', a.recipient.id);
    if (recipient) return recipient;
  }
  if (isObject(a.channelData)) {
    const tenant = optionalObject('channelData.tenant', a.channelData.tenant);
    if (tenant) return tenant;
    if (isObject(a.channelData.tenant)) {
      const tenantId = optionalString('channelData.tenant.id', a.channelData.tenant.id);
      if (tenantId) return tenantId;
    }
  }
  if (a.type === 'message' || a.type === 'invoke') {
    if (!isObject(a.from) || typeof a.from.id !== 'string' || !a.from.id) return bad('from.id', `is required on a ${a.type} and must be a non-empty string`);
  }
  if (a.type === 'message' && a.value !== undefined && a.value !== null) {
    // Action.Submit: the card's data arrives as the message's value, its verb among it.
    if (!isObject(a.value)) return bad('value', 'must be an object (the data of an Action.Submit)');
    const verb = optionalString('value.verb', a.value.verb);
    if (verb) return verb;
  }
  if (a.type === 'invoke') {
    if (typeof a.name !== 'string' || !a.name) return bad('name', 'is required on an invoke');
    if (!supportedInvokes.has(a.name)) return bad('name', `"${a.name.slice(0, 100)}" is not an invoke this bot answers (only adaptiveCard/action)`);
    if (!isObject(a.value)) return bad('value', 'is required on adaptiveCard/action and must be an object');
    if (!isObject(a.value.action)) return bad('value.action', 'is required on adaptiveCard/action and must be an object');
    if (typeof a.value.action.verb !== 'string') return bad('value.action.verb', 'is required and must be a string');
    const data = optionalObject('value.action.data', a.value.action.data);
    if (data) return data;
  }
  return { ok: true };
}
