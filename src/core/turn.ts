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

/** Proactive messaging, implemented by the bot edge. */
export interface Notifier {
  /** Posts a card; resolves with the new activity's id. */
  send(conversation: ConversationRef, card: AdaptiveCard): Promise<string | undefined>;
  update(conversation: ConversationRef, activityId: string, card: AdaptiveCard): Promise<void>;
  /** Who is in a conversation, by their Teams id (the MRI `refresh.userIds` wants) and Entra id. */
  members(conversation: ConversationRef): Promise<ConversationMember[]>;
}

export interface ConversationMember {
  id: string;
  aadObjectId?: string;
}
