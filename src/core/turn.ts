import type { AdaptiveCard, CardAudience } from '../cards/builders';
import type { Language } from '../i18n';
import type { ConversationRef } from '../model/requests';

/** What the core needs of an incoming activity, as plain data; the SDK stays in src/bot/. */
export interface TurnContext {
  activityId: string;
  /** `conversation.tenantId` or `channelData.tenant.id`. */
  tenantId: string | undefined;
  /** `from.aadObjectId`: the Entra object id. */
  userId: string | undefined;
  userName: string;
  locale: string | undefined;
  conversation: ConversationRef;
}

export interface MessageTurn extends TurnContext {
  text: string;
}

export interface ActionTurn extends TurnContext {
  verb: string;
  data: Record<string, unknown>;
}

export interface Reply {
  card: AdaptiveCard;
  /** Set when this is a copy of a request's card that must be updated as the request changes. */
  track?: { requestId: string; audience: CardAudience; language: Language };
}

export interface ActionResult {
  /** Replaces the card that was clicked; sent at once as the invoke response. */
  card: AdaptiveCard;
  /** Slow work that runs after the reply went out (Teams retries an invoke after ~15 s). */
  followUp?: () => Promise<void>;
  /** A redelivery of an activity already answered: nothing new is posted for it. */
  replay?: true;
}
