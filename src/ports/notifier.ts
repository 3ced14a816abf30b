import type { AdaptiveCard } from '../cards/card';
import type { ConversationRef } from '../model/requests';

/**
 * Proactive messaging, implemented by the bot edge (src/bot/). Here, below the request services,
 * the exceptions register and the core, so each of them can post cards without importing the
 * layer above it.
 */
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
