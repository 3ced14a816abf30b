import {
  ActivityHandler, TeamsInfo, TurnContext,
  type AdaptiveCardInvokeResponse, type AdaptiveCardInvokeValue, type CloudAdapter, type ConversationReference,
} from 'botbuilder';
import type { AdaptiveCard } from '../cards/builders';
import type { Dispatcher } from '../core/dispatcher';
import type { ActionResult } from '../core/turn';
import type { ConversationMember, Notifier } from '../ports/notifier';
import type { Logger } from '../log';
import type { ConversationRef } from '../model/requests';
import { toCoreTurn } from './activity';
import { cardMessage } from './summary';

const adaptiveCardContentType = 'application/vnd.microsoft.card.adaptive';

/** Thin: turns activities into core calls and core answers into activities. */
export class SmtpGateBot extends ActivityHandler {
  /** Work that continues after a reply went out; awaited on shutdown. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly dispatcher: Dispatcher, private readonly logger: Logger, private readonly connectorTimeoutMs = 15_000) {
    super();
    this.onMessage(async (context, next) => {
      const activity = context.activity;
      const value = activity.value as Record<string, unknown> | undefined;
      if (value && typeof value.verb === 'string') {
        await this.handleSubmit(context, value).catch((error: unknown) => {
          if (!(error instanceof ConnectorTimeoutError)) throw error;
          this.logger.warn({ err: error.message }, 'a reply was given up');
        });
      } else {
        const turn = toCoreTurn(activity);
        const replies = await this.dispatcher.handleMessage({ ...turn, text: activity.text ?? '' });
        try {
          for (const reply of replies) {
            const sent = await withTimeout(context.sendActivity(cardMessage(reply.card)), this.connectorTimeoutMs, 'reply');
            if (sent?.id) await this.dispatcher.cardPosted(reply, sent.id, turn.conversation);
          }
        } catch (error) {
          if (!(error instanceof ConnectorTimeoutError)) throw error;
          this.logger.warn({ err: error.message }, 'a reply was given up');
        }
      }
      await next();
    });
    // Teams sends installationUpdate (action "add") when the app is added to a personal chat, a chat or a team.
    this.onInstallationUpdateAdd(async (context, next) => {
      const activity = context.activity;
      const scope = activity.conversation?.conversationType === 'personal' ? 'personal' : 'team';
      for (const reply of await this.dispatcher.welcome(toCoreTurn(activity), scope)) await withTimeout(context.sendActivity(cardMessage(reply.card)), this.connectorTimeoutMs, 'welcome');
      await next();
    });
  }

  /** Action.Execute: answered at once with the updated card; slow work follows the reply. */
  protected override async onAdaptiveCardInvoke(context: TurnContext, invokeValue: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    const result = await this.dispatcher.handleAction({
      ...toCoreTurn(context.activity),
      verb: invokeValue.action.verb ?? '',
      data: (invokeValue.action.data ?? {}) as Record<string, unknown>,
    });
    this.startFollowUp(result);
    return { statusCode: 200, type: adaptiveCardContentType, value: result.card as unknown as Record<string, unknown> };
  }

  /** Action.Submit (older clients): the same verbs arrive as a message whose value holds them. */
  private async handleSubmit(context: TurnContext, value: Record<string, unknown>): Promise<void> {
    const result = await this.dispatcher.handleAction({ ...toCoreTurn(context.activity), verb: String(value.verb), data: value });
    // A redelivered submit was answered the first time: posting again would repeat the card.
    if (result.replay) return;
    const replyToId = context.activity.replyToId;
    if (replyToId) await withTimeout(context.updateActivity({ ...cardMessage(result.card), id: replyToId }), this.connectorTimeoutMs, 'card update');
    else await withTimeout(context.sendActivity(cardMessage(result.card)), this.connectorTimeoutMs, 'reply');
    this.startFollowUp(result);
  }

  private startFollowUp(result: ActionResult): void {
    if (!result.followUp) return;
    const work = result.followUp().catch((error: unknown) => this.logger.error({ err: error }, 'follow-up work failed'));
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }
}

/** Proactive messages through the adapter, to conversations stored as references. */
export class BotNotifier implements Notifier {
  constructor(private readonly adapter: CloudAdapter, private readonly botAppId: string, private readonly timeoutMs = 15_000) {}

  async send(conversation: ConversationRef, card: AdaptiveCard): Promise<string | undefined> {
    return this.proactive(conversation, async (context) => (await context.sendActivity(cardMessage(card)))?.id);
  }

  async update(conversation: ConversationRef, activityId: string, card: AdaptiveCard): Promise<void> {
    await this.proactive(conversation, (context) => context.updateActivity({ ...cardMessage(card), id: activityId }));
  }

  async members(conversation: ConversationRef): Promise<ConversationMember[]> {
    return (await this.proactive(conversation, async (context) => {
      const members: ConversationMember[] = [];
      let continuationToken: string | undefined;
      do {
        const page = await TeamsInfo.getPagedMembers(context, 500, continuationToken);
        members.push(...page.members.map((m) => ({ id: m.id, ...(m.aadObjectId ? { aadObjectId: m.aadObjectId } : {}) })));
        continuationToken = page.continuationToken;
      } while (continuationToken);
      return members;
    })) ?? [];
  }

  /**
   * The adapter hands errors inside a proactive turn to its onTurnError, which would swallow a 403
   * from Teams (app removed for that user); the caller needs it, to log and audit the failure.
   */
  private async proactive<T>(conversation: ConversationRef, work: (context: TurnContext) => Promise<T>): Promise<T | undefined> {
    let result: T | undefined;
    let failure: unknown;
    await this.adapter.continueConversationAsync(this.botAppId, conversation as unknown as Partial<ConversationReference>, async (context) => {
      try {
        result = await withTimeout(work(context), this.timeoutMs, 'Bot Connector call');
      } catch (error) {
        failure = error;
      }
    });
    if (failure) throw failure;
    return result;
  }
}

/** A Bot Connector that never answers must not hold a turn or a follow-up open (issue #13, hole 3). */
export class ConnectorTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: the Bot Connector did not answer within ${ms} ms`);
    this.name = 'ConnectorTimeoutError';
  }
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new ConnectorTimeoutError(what, ms)), ms); });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
